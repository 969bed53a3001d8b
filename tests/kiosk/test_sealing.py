"""Misconduct reports are sealed at the kiosk before anything touches disk (issue 11, item 1).

Every test files through the real kiosk app (or ``file_case``) at an office set up against a
real central installation (the central_install fixture in tests/conftest.py), then looks at every byte under $SEDA_HOME.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from kiosk import create_app
from kiosk.cases import CaseDraft, NoReportKey, file_case
from ledger import Ledger
from forms.sealing import (SealingError, key_id, seal, unseal, x25519_private_from_ed25519,
                           x25519_public_from_ed25519)
from ledger.report_key import report_key

TEXT = "مدیر شعبه برای امضا رشوه می‌گیرد"
NAME = "زینب رضایی"


def everything_under(home) -> bytes:
    """Every byte of every file under ``home`` (ledger, its WAL and SHM, keys, settings...)."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


@pytest.fixture(scope="session")
def post_report(visit_token):
    def post_report(client, **fields):
        html = client.get("/report").get_data(as_text=True)
        return client.post("/report", data={"visit": visit_token(html), "service": "other",
                                            "text": TEXT, **fields})

    return post_report


@pytest.fixture(scope="session")
def held_case(open_ledger):
    def held_case(home):
        with open_ledger(home) as ledger:
            (case,) = ledger.held("type", "misconduct")
        return case

    return held_case


def test_a_named_report_leaves_no_text_or_identity_anywhere_under_seda_home(sealed_office, make_config,
                                                                            post_report, valid_mobile,
                                                                            valid_national_id):
    client = create_app(make_config(sealed_office)).test_client()
    answer = post_report(client, anonymous="", name=NAME, national_id=valid_national_id,
                         mobile=valid_mobile)
    assert answer.status_code == 302
    raw = everything_under(sealed_office)
    for secret in (TEXT, NAME, valid_national_id, valid_mobile):
        assert secret.encode("utf-8") not in raw, secret


def test_the_report_opens_with_the_oversight_key_the_centre_made(sealed_office, central_install,
                                                                 held_case, make_config, post_report,
                                                                 valid_mobile):
    client = create_app(make_config(sealed_office)).test_client()
    post_report(client, anonymous="", name=NAME, mobile=valid_mobile)
    case = held_case(sealed_office)
    assert set(case.body) == {"type", "route", "channel", "follow_up", "sealed"}
    opened = central_install.keys.open_body(case.body)
    assert (opened["text"], opened["name"], opened["mobile"]) == (TEXT, NAME, valid_mobile)
    assert opened["service"] == "other" and len(opened["tracking_code"]) == 12
    assert case.body["sealed"]["key_id"] == key_id(central_install.keys.oversight_private().public_key())


def test_the_misconduct_screen_says_only_oversight_can_open_it(sealed_office, make_config):
    html = create_app(make_config(sealed_office)).test_client().get("/report").get_data(as_text=True)
    assert "فقط واحد نظارت و بازرسی می‌تواند آن را باز کند" in html


def test_before_the_oversight_key_arrives_reports_are_sealed_to_the_central_key(central_key_office,
                                                                               central_install, held_case, make_config, post_report):
    client = create_app(make_config(central_key_office)).test_client()
    html = client.get("/report").get_data(as_text=True)
    assert "از راه ادارهٔ مرکزی به واحد نظارت و بازرسی می‌رسد" in html
    post_report(client)
    case = held_case(central_key_office)
    central = x25519_public_from_ed25519(central_install.keys.signing.public_key())
    assert case.body["sealed"]["key_id"] == key_id(central)
    assert central_install.keys.open_body(case.body)["text"] == TEXT
    assert TEXT.encode() not in everything_under(central_key_office)


def test_an_office_never_set_up_refuses_misconduct_reports_and_stores_nothing(kiosk_home, make_config,
                                                                              open_ledger, visit_token):
    client = create_app(make_config(kiosk_home)).test_client()
    page = client.get("/report").get_data(as_text=True)
    assert "اینجا فعلاً گزارش تخلف پذیرفته نمی‌شود" in page and 'name="text"' not in page
    answer = client.post("/report", data={"visit": visit_token(client.get("/").get_data(as_text=True)),
                                          "service": "other", "text": TEXT})
    assert answer.status_code == 503
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("case") == 0 and ledger.held_count() == 0
    assert TEXT.encode() not in everything_under(kiosk_home)


def test_file_case_without_a_key_raises_and_stores_nothing(kiosk_home, office_code, open_ledger):
    draft = CaseDraft(type="misconduct", service="other", text=TEXT, anonymous=True)
    with open_ledger(kiosk_home) as ledger:
        with pytest.raises(NoReportKey):
            file_case(ledger, draft, office=office_code)
        assert ledger.count() == 0 and ledger.held_count() == 0


def test_a_recording_attached_to_a_report_is_sealed_too(sealed_office, central_install, office_code,
                                                        open_ledger):
    draft = CaseDraft(type="misconduct", service="other", text=TEXT, anonymous=True)
    recording = b"OggS" + "صدای گزارش‌دهنده".encode() * 20
    with open_ledger(sealed_office) as ledger:
        filed = file_case(ledger, draft, office=office_code, attachment=(recording, "audio/ogg"),
                          report_key=report_key(sealed_office, ledger))
        ledger.release_held(datetime(2100, 1, 1, tzinfo=timezone.utc))
        (attachment,) = ledger.records("attachment")
        blob = ledger.blob(attachment.body["sha256"])
    assert recording not in everything_under(sealed_office)
    assert attachment.body["media_type"] == "application/vnd.seda.sealed"
    assert central_install.keys.open_blob(blob) == (recording, "audio/ogg")
    opened = central_install.keys.open_body(filed.body)
    assert opened["attachments"] == [attachment.body["sha256"]]


def test_usb_export_files_hold_no_report_text(sealed_office, tmp_path, office_code, open_ledger):
    from sync.offline import export_batches
    from ledger.sync_settings import load_settings

    draft = CaseDraft(type="misconduct", service="other", text=TEXT, anonymous=False, name=NAME)
    with open_ledger(sealed_office) as ledger:
        file_case(ledger, draft, office=office_code, report_key=report_key(sealed_office, ledger),
                  now=datetime(2020, 1, 1, 10, 5, tzinfo=timezone.utc))  # long over: released
    from forms.identity_keys import ensure_office_key
    ensure_office_key(sealed_office)
    out = tmp_path / "stick" / "export.batches"
    out.parent.mkdir()
    summary = export_batches(sealed_office, load_settings(sealed_office), out)
    assert summary.records == 1
    import gzip
    data = out.read_bytes()
    payload = gzip.decompress(data[data.index(b"\x1f\x8b"):data.rindex(b"\nend ")])
    assert b'"kind":"case"' in payload
    for secret in (TEXT, NAME):
        assert secret.encode() not in payload and secret.encode() not in data


def test_a_failed_write_puts_no_report_text_in_the_logs(sealed_office, caplog, capsys, monkeypatch,
                                                        make_config, post_report, valid_mobile):
    app = create_app(make_config(sealed_office, testing=False))
    client = app.test_client()

    def disk_full(self, *args, **kwargs):
        import sqlite3
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Ledger, "hold", disk_full)
    with caplog.at_level(logging.DEBUG):
        answer = post_report(client, anonymous="", name=NAME, mobile=valid_mobile)
    assert answer.status_code == 500
    logged = caplog.text + "".join(capsys.readouterr())
    assert "disk is full" in logged  # the failure itself is told ...
    for secret in (TEXT, NAME, valid_mobile):  # ... and nothing of what the visitor typed
        assert secret not in logged and secret not in answer.get_data(as_text=True)


def test_other_cases_are_not_sealed(sealed_office, make_config, open_ledger, visit_token):
    client = create_app(make_config(sealed_office)).test_client()
    html = client.get("/case").get_data(as_text=True)
    client.post("/case", data={"visit": visit_token(html), "type": "request", "text": "درخواست"})
    with open_ledger(sealed_office) as ledger:
        (case,) = ledger.records("case")
    assert case.body["text"] == "درخواست" and "sealed" not in case.body


def test_a_sealed_body_cannot_be_moved_to_another_report(central_install):
    key = central_install.keys.oversight_private()
    sealed = seal({"type": "misconduct", "follow_up": "aa", "text": "a"}, key.public_key(),
                  keep=("type", "follow_up"))
    assert unseal(sealed, key)["text"] == "a"
    with pytest.raises(SealingError):
        unseal({**sealed, "follow_up": "bb"}, key)


def test_the_central_key_converted_to_x25519_opens_what_was_sealed_to_it(central_install):
    signing = central_install.keys.signing
    sealed = seal({"type": "misconduct", "text": "x"}, x25519_public_from_ed25519(signing.public_key()),
                  keep=("type",))
    assert unseal(sealed, x25519_private_from_ed25519(signing))["text"] == "x"


def test_a_manually_installed_key_file_setting_is_refused_with_a_reason(kiosk_home, make_config):
    from kiosk.config import ConfigError

    with pytest.raises(ConfigError, match="oversight_key_file is no longer used"):
        make_config(kiosk_home, oversight_key_file="keys/oversight.pub")
