"""The office trusts its central office by one pinned key (issue 11, item 1 and Info).

`seda sync setup` pins the central key (from the server, a file or the admin) and keeps the
signed oversight key; answers, acknowledgements and pulled pages not signed with the pinned
key are refused and change nothing; plain http:// to another machine needs --insecure-http.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from seda.cli import main
from ledger.centre_sent import CentreSent
from sync.office_state import OfficeSyncState
from central import open_store
from sync.client import SyncError, sync_once
from ledger.ledger import Ledger, default_ledger_path
from ledger.sync_settings import SettingsError, SyncSettings, load_settings, write_settings
from ledger.report_key import report_key

CODE = "THR-012"


def seda(home: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home), "SEDA_CENTRAL_STORE": ""},
                              catch_exceptions=False)


@pytest.fixture
def central(tmp_path: Path, serve_central):
    store = open_store(tmp_path / "central" / "central.sqlite3")
    server = serve_central(store, tmp_path / "central")
    yield server
    server.stop()
    store.close()


def oversight_key_of(home: Path):
    with Ledger.open(default_ledger_path(home)) as ledger:
        return report_key(home, ledger)


# -- setup pins the central key ---------------------------------------------------------------


def test_setup_pins_the_central_key_and_keeps_the_oversight_key(tmp_path, central):
    home = tmp_path / "office"
    result = seda(home, "sync", "setup", "--office", CODE, "--central", central.url)
    assert result.exit_code == 0, result.output
    assert load_settings(home).central_key == central.keys.central_key_hex
    assert f"Central key pinned: {central.keys.central_key_hex}" in result.output
    target = oversight_key_of(home)
    assert target.holder == "oversight"
    assert target.key_id == central.keys.oversight_statement()["key_id"]
    assert "sealed to the oversight key" in result.output


def test_setup_refuses_a_server_whose_key_is_not_the_one_given(tmp_path, central):
    home = tmp_path / "office"
    result = seda(home, "sync", "setup", "--office", CODE, "--central", central.url,
                  "--central-key", "ab" * 32)
    assert result.exit_code != 0 and "کلید سرور مرکزی" in result.output and "not the key" in result.output
    assert oversight_key_of(home) is None


def test_setup_from_the_central_file_for_an_office_without_network(tmp_path, central):
    setup_file = tmp_path / "seda-central.json"
    assert seda(tmp_path / "central", "central", "key", "--out", str(setup_file),
                "--store", str(tmp_path / "central" / "central.sqlite3")).exit_code == 0
    home = tmp_path / "office"
    result = seda(home, "sync", "setup", "--office", CODE, "--central-file", str(setup_file))
    assert result.exit_code == 0, result.output
    assert oversight_key_of(home).holder == "oversight"


def test_a_setup_file_with_a_forged_oversight_key_is_refused(tmp_path, central):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from forms.sealing import public_key_b64
    document = central.keys.setup_document()
    document["oversight_key"] = {**document["oversight_key"],
                                 "public_key": public_key_b64(X25519PrivateKey.generate().public_key())}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    result = seda(tmp_path / "office", "sync", "setup", "--office", CODE, "--central-file", str(forged))
    assert result.exit_code != 0 and "not signed by the central office" in result.output


@pytest.mark.parametrize("url", ["http://seda.example.ir", "http://10.0.0.5:8750"])
def test_plain_http_to_another_machine_is_refused_in_persian_and_english(tmp_path, url):
    result = seda(tmp_path / "office", "sync", "setup", "--office", CODE, "--central", url)
    assert result.exit_code != 0
    assert "نشانی سرور مرکزی باید https:// باشد" in result.output and "--insecure-http" in result.output
    assert not (tmp_path / "office" / "sync.toml").exists()


def test_plain_http_is_accepted_with_the_flag_and_remembered(tmp_path):
    home = tmp_path / "office"
    result = seda(home, "sync", "setup", "--office", CODE, "--central", "http://10.0.0.5:9",
                  "--insecure-http")
    assert result.exit_code == 0, result.output
    assert load_settings(home).insecure_http is True


@pytest.mark.parametrize("url", ["http://127.0.0.1:8750", "http://localhost:8750", "http://[::1]:8750"])
def test_plain_http_to_this_machine_is_allowed(url):
    assert SyncSettings(office=CODE, central_url=url).central_url == url


def test_a_hand_edited_http_url_is_refused_when_the_settings_are_read(tmp_path):
    home = tmp_path / "office"
    write_settings(home, SyncSettings(office=CODE, central_url="http://10.0.0.5", insecure_http=True))
    path = home / "sync.toml"
    path.write_text(path.read_text().replace("insecure_http = true", "insecure_http = false"))
    with pytest.raises(SettingsError, match="insecure-http"):
        load_settings(home)


# -- answers must be signed ----------------------------------------------------------------------


def test_an_office_set_up_before_pinning_pins_the_key_at_its_first_sync(tmp_path, central, make_office):
    office = make_office(tmp_path, CODE, central.url, central.store)
    assert load_settings(office.home).central_key == ""
    sync_once(office.home)
    assert load_settings(office.home).central_key == central.keys.central_key_hex
    assert oversight_key_of(office.home).holder == "oversight"  # pulled on the feed


def _pin_another_key(home: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from forms.signatures import public_key_hex
    settings = load_settings(home)
    write_settings(home, SyncSettings(**{**settings.__dict__,
                                         "central_key": public_key_hex(Ed25519PrivateKey.generate())}))


def test_answers_signed_by_another_key_are_refused_and_change_nothing(tmp_path, central, make_office):
    office = make_office(tmp_path, CODE, central.url, central.store)
    office.add_records(3)
    sync_once(office.home)
    central.store.publish("revoked_sheet", "passport", {"name": "گذرنامه"})
    office.add_records(2)
    _pin_another_key(office.home)
    with Ledger.open(office.ledger_path) as ledger:
        cursor, pending = OfficeSyncState(ledger).pull_cursor(), OfficeSyncState(ledger).waiting_count(CODE)
    with pytest.raises(SyncError, match="not signed with the central key"):
        sync_once(office.home)
    with Ledger.open(office.ledger_path) as ledger:
        state = OfficeSyncState(ledger)
        assert state.pull_cursor() == cursor and "passport" not in CentreSent(ledger).central_items("revoked_sheet")
        assert state.waiting_count(CODE) == pending  # the refused ack marked nothing delivered
        assert "not signed" in state.get("last_error")["detail"]


def test_a_pulled_page_altered_on_the_way_is_refused_and_the_last_good_state_kept(tmp_path, central,
                                                                                   monkeypatch, make_office):
    office = make_office(tmp_path, CODE, central.url, central.store)
    central.store.publish("revoked_sheet", "passport", {"name": "گذرنامه"})
    sync_once(office.home)
    central.store.publish("revoked_sheet", "passport", {"name": "تغییر داده شده"})
    real_sign = central.keys.sign

    def sign_then_alter(prefix, payload):
        signed = real_sign(prefix, payload)
        for item in signed.get("items", []):
            item["body"] = {"name": "جعلی"}
        return signed

    monkeypatch.setattr(central.keys, "sign", sign_then_alter)
    with pytest.raises(SyncError):
        sync_once(office.home)
    with Ledger.open(office.ledger_path) as ledger:
        assert CentreSent(ledger).central_items("revoked_sheet")["passport"] == {"name": "گذرنامه"}


def test_an_unsigned_acknowledgement_leaves_the_batch_waiting(tmp_path, central, monkeypatch, make_office):
    office = make_office(tmp_path, CODE, central.url, central.store)
    sync_once(office.home)  # pins the key
    office.add_records(4)
    monkeypatch.setattr(central.keys, "sign", lambda prefix, payload: dict(payload))
    with pytest.raises(SyncError):
        sync_once(office.home)
    with Ledger.open(office.ledger_path) as ledger:
        assert OfficeSyncState(ledger).waiting_count(CODE) == 4
    monkeypatch.undo()
    assert sync_once(office.home).waiting == 0  # the centre answers "duplicate", signed


def test_a_page_replayed_for_another_request_is_refused(tmp_path, central, monkeypatch, make_office):
    office = make_office(tmp_path, CODE, central.url, central.store)
    sync_once(office.home)
    real_sign = central.keys.sign
    monkeypatch.setattr(central.keys, "sign",
                        lambda prefix, payload: real_sign(prefix, {**payload, "request": "00" * 64}))
    with pytest.raises(SyncError):
        sync_once(office.home)


def test_usb_acknowledgement_files_bring_the_oversight_key(tmp_path):
    central_home = tmp_path / "central"
    store_path = central_home / "central.sqlite3"
    office_home = tmp_path / "office"
    seda(office_home, "sync", "setup", "--office", CODE)
    key = seda(office_home, "sync", "key").output.strip()
    central_home.mkdir()
    assert seda(central_home, "central", "init", "--store", str(store_path)).exit_code == 0
    assert seda(central_home, "central", "office", "add", CODE, "--public-key", key,
                "--store", str(store_path)).exit_code == 0
    central_key = seda(central_home, "central", "key").output.strip()
    seda(office_home, "sync", "setup", "--office", CODE, "--central-key", central_key)
    assert oversight_key_of(office_home).holder == "central"  # sealed to the centre until then
    export, ack = tmp_path / "e.batches", tmp_path / "e.ack.json"
    assert seda(office_home, "sync", "export", "--out", str(export)).exit_code == 0
    assert seda(central_home, "central", "import", str(export), "--ack-out", str(ack),
                "--store", str(store_path)).exit_code == 0
    assert seda(office_home, "sync", "ack", str(ack)).exit_code == 0
    assert oversight_key_of(office_home).holder == "oversight"


# -- refusals in the catalogue's words -----------------------------------------------------------


def test_a_bad_central_key_in_the_settings_says_why_in_persian_then_english():
    with pytest.raises(SettingsError) as caught:
        SyncSettings(office=CODE, central_url="https://seda.example.ir", central_key="ab12")
    fa, en = caught.value.message_fa, caught.value.message_en
    assert "central_key" in fa and "۶۴" in fa and "۴ نویسه" in fa  # the key's own reason, in Persian
    assert en == "central_key in the sync settings cannot be read: A public key is 64 hex digits; got 4 characters."


def test_a_changed_central_key_is_refused_naming_the_trusted_one_persian_then_english(tmp_path):
    from sync.trust import TrustError, pin_central

    settings = SyncSettings(office=CODE, central_url="", central_key="11" * 32)
    with pytest.raises(TrustError) as caught:
        pin_central(tmp_path, settings, {"central_key": "22" * 32})
    fa, en = caught.value.line().split(" / ", 1)
    assert fa.startswith("کلید سرور مرکزی (2222222222222222...)")
    assert en.startswith("The central server's key 2222222222222222... is not the key this office trusts "
                         "(1111111111111111...)")
