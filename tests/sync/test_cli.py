"""`seda sync ...` and `seda central ...` as an office admin and the central operator use them,
including the USB-stick round trip (export -> import -> acknowledgement)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from seda.cli import main
from sync.office_state import OfficeSyncState
from central import open_store
from ledger.ledger import Ledger, default_ledger_path

CODE = "THR-012"


@pytest.fixture
def homes(tmp_path: Path) -> dict[str, Path]:
    homes = {"office": tmp_path / "office", "central": tmp_path / "central"}
    homes["central"].mkdir()
    seda(homes["central"], "central", "init")  # the central store exists before anything is registered
    return homes


def seda(home: Path, *args: str, ok: bool = True):
    result = CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home), "SEDA_CENTRAL_STORE": ""},
                                catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def set_up(homes: dict[str, Path], central_url: str = "http://127.0.0.1:9") -> None:
    seda(homes["office"], "sync", "setup", "--office", CODE, "--central", central_url)
    key = seda(homes["office"], "sync", "key").output.strip()
    seda(homes["central"], "central", "office", "add", CODE, "--public-key", key)
    central_key = seda(homes["central"], "central", "key").output.strip()
    seda(homes["office"], "sync", "setup", "--office", CODE, "--central-key", central_key)


def add_records(home: Path, count: int, attachments: int = 0) -> None:
    with Ledger.open(default_ledger_path(home)) as ledger, ledger.transaction():
        for i in range(count):
            ledger.append("survey_response", {"answers": {"q1": i}}, office=CODE)
        for i in range(attachments):
            ledger.add_attachment(f"crop {i}".encode(), "image/png", office=CODE)


def test_setup_writes_a_readable_settings_file_and_prints_the_registration_command(homes) -> None:
    result = seda(homes["office"], "sync", "setup", "--office", CODE, "--central", "https://seda.example.ir")
    text = (homes["office"] / "sync.toml").read_text(encoding="utf-8")
    assert 'office = "THR-012"' in text and 'central_url = "https://seda.example.ir"' in text
    assert "seda central office add THR-012 --public-key" in result.output
    assert (homes["office"] / "keys" / "sync-office.key").is_file()


def test_setup_twice_keeps_the_key(homes) -> None:
    seda(homes["office"], "sync", "setup", "--office", CODE, "--central", "https://a.example")
    first = seda(homes["office"], "sync", "key").output
    seda(homes["office"], "sync", "setup", "--office", CODE, "--central", "https://b.example")
    assert seda(homes["office"], "sync", "key").output == first


def test_setup_refuses_a_bad_office_code_or_url(homes) -> None:
    assert seda(homes["office"], "sync", "setup", "--office", "x", "--central", "https://a", ok=False).exit_code
    assert seda(homes["office"], "sync", "setup", "--office", CODE, "--central", "ftp://a", ok=False).exit_code


def test_commands_before_setup_say_what_to_run(homes) -> None:
    result = seda(homes["office"], "sync", "status", ok=False)
    assert result.exit_code != 0 and "seda sync setup" in result.output


def test_status_shows_waiting_records_and_never_synced_in_persian_and_english(homes) -> None:
    set_up(homes)
    add_records(homes["office"], 7)
    output = seda(homes["office"], "sync", "status").output
    assert "Waiting to send: 7 record(s)" in output and "در انتظار ارسال" in output
    assert "آخرین همگام‌سازی موفق: هرگز / Last success: never" in output


def test_sync_once_against_the_live_server_then_status(homes, serve_central) -> None:
    set_up(homes)
    store = open_store(homes["central"] / "central.sqlite3")
    server = serve_central(store, homes["central"])
    try:
        seda(homes["office"], "sync", "setup", "--office", CODE, "--central", server.url)
        add_records(homes["office"], 12, attachments=2)
        output = seda(homes["office"], "sync", "once").output
        assert "14 new" in output and "2 attachment(s)" in output
        status = json.loads(seda(homes["office"], "sync", "status", "--json").output)
        assert status["waiting_records"] == 0 and status["last_success_at"]
    finally:
        server.stop()
    assert store.record_count() == 14


def test_refusal_shows_in_status_with_its_reason(homes, serve_central) -> None:
    seda(homes["office"], "sync", "setup", "--office", CODE, "--central", "http://127.0.0.1:9")
    store = open_store(homes["central"] / "central.sqlite3")
    server = serve_central(store, homes["central"])  # the office was never registered
    try:
        seda(homes["office"], "sync", "setup", "--office", CODE, "--central", server.url)
        add_records(homes["office"], 1)
        failed = seda(homes["office"], "sync", "once", ok=False)
        assert failed.exit_code == 1 and "unknown_office" in failed.output
    finally:
        server.stop()
    status = seda(homes["office"], "sync", "status", ok=False)
    assert status.exit_code == 1  # a refused office needs a person: scripts see it
    output = status.output
    assert "[unknown_office]" in output and "این دفتر در سرور مرکزی ثبت نشده است" in output
    assert "not registered" in output


def test_usb_round_trip_export_import_ack(homes, tmp_path: Path, assert_exactly_the_union,
                                          office_install) -> None:
    set_up(homes)
    add_records(homes["office"], 30, attachments=3)
    stick = tmp_path / "stick"
    stick.mkdir()
    export = stick / "THR-012.batches"
    assert "3 attachment(s)" in seda(homes["office"], "sync", "export", "--out", str(export)).output
    ack = stick / "THR-012.ack.json"
    imported = seda(homes["central"], "central", "import", str(export), "--ack-out", str(ack)).output
    assert "33 new" in imported
    store = open_store(homes["central"] / "central.sqlite3")
    assert_exactly_the_union(store, [office_install(CODE, homes["office"])])
    assert "1 batch(es) now marked delivered" in seda(homes["office"], "sync", "ack", str(ack)).output
    status = json.loads(seda(homes["office"], "sync", "status", "--json").output)
    assert status["waiting_records"] == 0 and status["pending_batches"] == []


def test_importing_the_same_stick_twice_changes_nothing(homes, tmp_path: Path) -> None:
    set_up(homes)
    add_records(homes["office"], 5, attachments=1)
    export = tmp_path / "e.batches"
    seda(homes["office"], "sync", "export", "--out", str(export))
    seda(homes["central"], "central", "import", str(export))
    again = seda(homes["central"], "central", "import", str(export)).output
    assert "duplicate_batch" in again
    assert open_store(homes["central"] / "central.sqlite3").record_count() == 6


def test_exporting_again_before_an_ack_includes_the_earlier_batches(homes, tmp_path: Path) -> None:
    set_up(homes)
    add_records(homes["office"], 4)
    seda(homes["office"], "sync", "export", "--out", str(tmp_path / "one"))
    add_records(homes["office"], 3)
    output = seda(homes["office"], "sync", "export", "--out", str(tmp_path / "two")).output
    assert "2 batch(es), 7 record(s)" in output


def test_cut_short_export_file_applies_nothing_and_is_logged(homes, tmp_path: Path) -> None:
    set_up(homes)
    add_records(homes["office"], 20)
    export = tmp_path / "e.batches"
    seda(homes["office"], "sync", "export", "--out", str(export))
    export.write_bytes(export.read_bytes()[:-200])
    result = seda(homes["central"], "central", "import", str(export), ok=False)
    assert result.exit_code == 1 and "REFUSED" in result.output
    store = open_store(homes["central"] / "central.sqlite3")
    assert store.record_count() == 0
    assert store.refusals()[0]["source"] == "import"


def test_export_signed_by_a_revoked_office_is_refused(homes, tmp_path: Path) -> None:
    set_up(homes)
    add_records(homes["office"], 2)
    export = tmp_path / "e.batches"
    seda(homes["office"], "sync", "export", "--out", str(export))
    seda(homes["central"], "central", "office", "revoke", CODE)
    ack = tmp_path / "ack.json"
    result = seda(homes["central"], "central", "import", str(export), "--ack-out", str(ack), ok=False)
    assert "revoked_office" in result.output
    seda(homes["office"], "sync", "ack", str(ack))
    status = seda(homes["office"], "sync", "status", ok=False)
    assert status.exit_code == 1 and "[revoked_office]" in status.output


def test_office_list_and_revoke(homes) -> None:
    set_up(homes)
    assert "active" in seda(homes["central"], "central", "office", "list").output
    seda(homes["central"], "central", "office", "revoke", CODE)
    assert "revoked" in seda(homes["central"], "central", "office", "list").output
    assert seda(homes["central"], "central", "office", "revoke", "NOPE-1", ok=False).exit_code == 1


def test_office_add_reads_the_key_from_a_file(homes, tmp_path: Path) -> None:
    seda(homes["office"], "sync", "setup", "--office", CODE, "--central", "http://127.0.0.1:9")
    key_file = tmp_path / "thr012.pub"
    seda(homes["office"], "sync", "key", "--out", str(key_file))
    seda(homes["central"], "central", "office", "add", CODE, "--public-key", str(key_file))
    assert "active" in seda(homes["central"], "central", "office", "list").output


def test_office_add_refuses_a_broken_key(homes) -> None:
    result = seda(homes["central"], "central", "office", "add", CODE, "--public-key", "abcd", ok=False)
    assert result.exit_code == 1 and "64 hex digits" in result.output


def test_case_update_and_publish_commands_feed_the_pull(homes, tmp_path: Path) -> None:
    set_up(homes)
    with Ledger.open(default_ledger_path(homes["office"])) as ledger:
        ledger.append("case", {"tracking_code": "2718"}, office=CODE)
    export = tmp_path / "e.batches"
    seda(homes["office"], "sync", "export", "--out", str(export))
    seda(homes["central"], "central", "import", str(export))
    seda(homes["central"], "central", "case-update", "2718", "--status", "answered", "--answer", "انجام شد")
    entry = tmp_path / "entry.json"
    entry.write_text(json.dumps({"id": "certificate", "name": {"fa": "گواهی", "en": "Certificate"},
                                 "documents": [], "fee_rials": 0, "time": {"fa": "همان روز", "en": "Same day"},
                                 "legal_basis": {"fa": "قانون", "en": "Act"}, "version": 1,
                                 "effective_from": "2026-01-01"}), encoding="utf-8")
    seda(homes["central"], "central", "publish", "catalogue", "certificate@1", "--json", str(entry))
    store = open_store(homes["central"] / "central.sqlite3")
    feeds = {(i["feed"], i["body"].get("status")) for i in store.pull(CODE, 0)["items"]}
    assert ("case_update", "answered") in feeds and ("catalogue", None) in feeds


def test_updates_command_shows_the_pulled_answer(homes) -> None:
    set_up(homes)
    with Ledger.open(default_ledger_path(homes["office"])) as ledger:
        OfficeSyncState(ledger).store_central_items([{
            "feed": "case_update", "key": "u1", "cursor": 3, "deleted": False,
            "body": {"tracking_code": "99", "status": "answered", "answer": "پاسخ", "at": "2026-11-30T10:00:00Z"}}], 3)
    output = seda(homes["office"], "sync", "updates", "99").output
    assert "پاسخ داده شد / Answered" in output and "پاسخ" in output
    assert "No update" in seda(homes["office"], "sync", "updates", "100").output


def test_seda_help_lists_sync_and_central(homes) -> None:
    output = seda(homes["office"], "--help").output
    assert "sync" in output and "central" in output


def test_office_without_network_is_set_up_for_usb_only(homes, tmp_path: Path) -> None:
    seda(homes["office"], "sync", "setup", "--office", CODE)
    add_records(homes["office"], 2)
    failed = seda(homes["office"], "sync", "once", ok=False)
    assert failed.exit_code == 1 and "seda sync export" in failed.output
    assert "USB" in seda(homes["office"], "sync", "status").output
    assert "1 batch(es)" in seda(homes["office"], "sync", "export", "--out", str(tmp_path / "e")).output


def test_central_refusals_and_conflicts_commands_show_the_log(homes, tmp_path: Path) -> None:
    set_up(homes)
    add_records(homes["office"], 1)
    export = tmp_path / "e.batches"
    seda(homes["office"], "sync", "export", "--out", str(export))
    export.write_bytes(export.read_bytes().replace(b"SEDA-BATCH/1", b"SEDA-BATCH/9"))
    seda(homes["central"], "central", "import", str(export), ok=False)
    output = seda(homes["central"], "central", "refusals").output
    assert "[not_a_batch]" in output and "(import)" in output
    assert seda(homes["central"], "central", "conflicts").output == ""


def test_setup_without_central_keeps_the_address_already_set(homes) -> None:
    set_up(homes, "https://seda.example.ir")
    status = json.loads(seda(homes["office"], "sync", "status", "--json").output)
    assert status["central_url"] == "https://seda.example.ir"


def test_forged_or_altered_acknowledgement_is_refused(homes, tmp_path: Path) -> None:
    set_up(homes)
    add_records(homes["office"], 3)
    export, ack = tmp_path / "e.batches", tmp_path / "ack.json"
    seda(homes["office"], "sync", "export", "--out", str(export))
    seda(homes["central"], "central", "import", str(export), "--ack-out", str(ack))
    payload = json.loads(ack.read_text(encoding="utf-8"))
    payload["acks"][0]["new"] = 99
    ack.write_text(json.dumps(payload), encoding="utf-8")
    result = seda(homes["office"], "sync", "ack", str(ack), ok=False)
    assert result.exit_code == 1 and "not signed by this office's central server" in result.output
    status = json.loads(seda(homes["office"], "sync", "status", "--json").output)
    assert status["waiting_records"] == 3


def test_acknowledgement_needs_the_central_key_configured(homes, tmp_path: Path) -> None:
    seda(homes["office"], "sync", "setup", "--office", CODE)
    (tmp_path / "ack.json").write_text("{}", encoding="utf-8")
    result = seda(homes["office"], "sync", "ack", str(tmp_path / "ack.json"), ok=False)
    assert "--central-key" in result.output
