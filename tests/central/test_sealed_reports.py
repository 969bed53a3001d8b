"""The central side of sealed misconduct reports (issue 11, items 1, 3, 4, 5 and 13).

The oversight key pair is made with the store and published signed; a report sealed at an
office reaches oversight (and nobody else) open, its "received" time is the hour, what goes
back to the office is the status and an answer sealed to the tracking code; the auditor never
sees which reports exist; analyst exports carry a count of them and no tracking code at all.
"""
from __future__ import annotations

import csv
import io
import json
import stat
import uuid as uuidlib
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.cases import CaseDraft, seal_report
from sync.batch import BatchRecord, encode_batch, format_time
from central import Store, create_app
from central.casework import Casework
from central.exports import CASE_COLUMNS, MISCONDUCT_COUNT, case_rows
from central.keys import oversight_key_path
from forms.follow_up import open_answer
from sync.request_auth import PULL_PREFIX
from forms.signatures import verify_answer
from forms.sealing import SEALED_MEDIA_TYPE, verify_key_statement
from ledger.report_key import ReportKey

TEXT = "کارمند باجهٔ سه برای جابه‌جا کردن نوبت پول خواست"
NAME = "مهدی کاظمی"
ANSWER = "گزارش شما بررسی شد؛ با کارمند برخورد انضباطی شد."


def keys_of(client):
    return client.application.extensions["seda.central_keys"]


@pytest.fixture
def desk(store: Store, case_office, login, make_user, web_client):
    make_user(store, "bazras", "oversight")
    make_user(store, "hesab", "auditor")
    make_user(store, "sara", "responder", unit="licences")
    make_user(store, "tahlil", "analyst")

    class Desk:
        pass

    d = Desk()
    for name in ("bazras", "hesab", "sara", "tahlil"):
        setattr(d, name, login(web_client(store), name))
    d.office = case_office(store, d.bazras)
    d.keys = keys_of(d.bazras)
    return d


def file_sealed(desk, *, attachment: tuple[bytes, str] | None = None, created_at: datetime | None = None):
    """A report sealed at an office exactly as the kiosk seals it, sent in a signed batch."""
    draft = CaseDraft(type="misconduct", service="smart_id_card", text=TEXT, anonymous=False, name=NAME)
    target = ReportKey(desk.keys.oversight_private().public_key(), "oversight")
    sealed = seal_report(draft, office=desk.office.code, report_key=target, attachment=attachment,
                         now=created_at or datetime.now(timezone.utc) - timedelta(hours=1))
    at = format_time(sealed.created_at)
    records = []
    if sealed.blob is not None:
        import hashlib
        sha = hashlib.sha256(sealed.blob).hexdigest()
        desk.office.store.put_blob(sha, sealed.blob)
        records.append(BatchRecord(str(uuidlib.uuid4()), "attachment", desk.office.code, at,
                                   {"sha256": sha, "media_type": SEALED_MEDIA_TYPE, "size": len(sealed.blob)}))
    case = BatchRecord(str(uuidlib.uuid4()), "case", desk.office.code, at, sealed.body)
    records.append(case)
    desk.office.seq += 1
    data = encode_batch(office=desk.office.code, seq=desk.office.seq, records=records,
                        key=desk.office.key, created_at=format_time(datetime.now(timezone.utc)))
    assert desk.bazras.post("/v1/batches", data=data).status_code == 200
    return case.uuid, sealed


def feed_for(store: Store, office: str) -> list[dict]:
    return [item["body"] for item in store.pull(office, 0, 2000)["items"] if item["feed"] == "case_update"]


# -- the oversight key pair ---------------------------------------------------------------------


def test_the_centre_makes_the_oversight_key_pair_when_it_first_serves_its_store(store: Store, tmp_path):
    home = tmp_path / "central"
    app = create_app(store, home=home)
    path = oversight_key_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    statement = app.extensions["seda.central_keys"].oversight_statement()
    central = app.extensions["seda.central_keys"].signing.public_key()
    public = verify_key_statement(statement, central)
    assert public.public_bytes_raw() == app.extensions["seda.central_keys"].oversight_private().public_key().public_bytes_raw()
    again = create_app(store, home=home).extensions["seda.central_keys"].oversight_statement()
    assert again == statement  # made once, with the store
    (item,) = [i for i in store.pull("ANY-01", 0)["items"] if i["feed"] == "oversight_key"]
    assert item["body"] == statement


def test_the_private_key_is_not_in_the_store(store: Store, tmp_path):
    keys = create_app(store, home=tmp_path / "central").extensions["seda.central_keys"]
    private_pem = oversight_key_path(tmp_path / "central").read_text()
    body = "".join(private_pem.splitlines()[1:-1])
    with store.connect() as db:
        for table in ("settings", "feed"):
            assert all(body not in str(row) for row in db.all(f"SELECT * FROM {table}"))
    assert keys.oversight_private() is not None


def test_setup_answers_the_central_key_and_the_signed_oversight_key(store: Store, web_client):
    client = web_client(store)
    document = client.get("/v1/setup").get_json()
    keys = keys_of(client)
    assert document["central_key"] == keys.central_key_hex
    assert verify_key_statement(document["oversight_key"], keys.signing.public_key())


def test_pulled_pages_are_signed_by_the_central_key(store: Store, web_client):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from forms.signatures import public_key_hex
    from sync.request_auth import sign_request

    office_key = Ed25519PrivateKey.generate()
    store.add_office("THR-012", public_key_hex(office_key))
    client = web_client(store)
    target = "/v1/pull?after=0&limit=10"
    headers = sign_request(office_key, "THR-012", "GET", target)
    page = client.get(target, headers=headers).get_json()
    assert verify_answer(PULL_PREFIX, page, keys_of(client).signing.public_key())
    assert page["office"] == "THR-012" and page["request"] == headers["Seda-Signature"]


# -- reports at the centre ------------------------------------------------------------------------


def test_oversight_reads_the_sealed_report_and_its_tracking_code(store: Store, desk):
    uuid, sealed = file_sealed(desk)
    html = desk.bazras.get(f"/cases/{uuid}").get_data(as_text=True)
    assert TEXT in html and NAME in html
    from forms.persian import to_persian_digits
    from forms.cases import format_tracking_code
    assert to_persian_digits(format_tracking_code(sealed.tracking_code)) in html


def test_nobody_else_sees_the_report(store: Store, desk):
    uuid, _ = file_sealed(desk)
    for client in (desk.hesab, desk.sara, desk.tahlil):
        assert client.get(f"/cases/{uuid}").status_code in (403, 404)


def test_a_sealed_recording_is_served_opened_to_oversight_only(store: Store, desk):
    recording = b"OggS" + b"voice" * 50
    uuid, _ = file_sealed(desk, attachment=(recording, "audio/ogg"))
    body = desk.keys.open_body(Casework(store).case_body(uuid))
    (sha,) = body["attachments"]
    answer = desk.bazras.get(f"/cases/{uuid}/attachments/{sha}")
    assert answer.status_code == 200 and answer.data == recording and answer.mimetype == "audio/ogg"
    assert desk.hesab.get(f"/cases/{uuid}/attachments/{sha}").status_code == 404


def test_the_received_event_and_the_case_carry_only_the_hour(store: Store, desk):
    uuid, _ = file_sealed(desk)
    cw = Casework(store)
    case = cw.case(uuid)
    for moment in [case.received_at, case.updated_at] + [e.at for e in cw.events(uuid)]:
        assert moment.endswith(":00:00.000000Z"), moment


def test_the_office_is_told_routed_under_the_locator_at_the_hour(store: Store, desk):
    _, sealed = file_sealed(desk)
    (update,) = feed_for(store, desk.office.code)
    assert set(update) == {"uuid", "follow_up", "status", "at"}
    assert update["follow_up"] == sealed.locator and update["status"] == "routed"
    assert update["at"].endswith(":00:00.000000Z")


def test_oversights_answer_goes_back_sealed_to_the_tracking_code(store: Store, desk, post):
    uuid, sealed = file_sealed(desk)
    assert post(desk.bazras, f"/cases/{uuid}/answer", {"text": ANSWER}).status_code == 302
    answered = feed_for(store, desk.office.code)[-1]
    assert answered["status"] == "answered" and "answer" not in answered
    assert ANSWER not in json.dumps(answered, ensure_ascii=False)
    assert open_answer(answered["answer_sealed"], sealed.tracking_code, sealed.locator) == ANSWER


def test_a_status_note_to_the_reporter_is_sealed_too(store: Store, desk, post):
    uuid, sealed = file_sealed(desk)
    note = "در حال بررسی اسناد هستیم."
    assert post(desk.bazras, f"/cases/{uuid}/status", {"status": "in_progress", "note": note}).status_code == 302
    update = feed_for(store, desk.office.code)[-1]
    assert note not in json.dumps(update, ensure_ascii=False)
    assert open_answer(update["answer_sealed"], sealed.tracking_code, sealed.locator) == note


# -- the auditor (item 13) --------------------------------------------------------------------------


def test_the_audit_log_never_names_a_misconduct_report(store: Store, desk, post):
    uuid, _ = file_sealed(desk)
    desk.bazras.get(f"/cases/{uuid}")
    post(desk.bazras, f"/cases/{uuid}/answer", {"text": ANSWER})
    html = desk.hesab.get("/audit/?target=case:").get_data(as_text=True)
    assert uuid not in html and "case:oversight" in html  # who looked, when, is still there
    with store.connect() as db:
        assert not db.one("SELECT 1 FROM audit_log WHERE target LIKE ? OR detail LIKE ?",
                          (f"%{uuid}%", f"%{uuid}%"))
        details = {row[0] for row in db.all("SELECT detail FROM audit_log WHERE target = 'case:oversight'")}
    assert details == {""}  # not even "text,name": whether it is named is not the auditor's


def test_old_audit_entries_naming_a_report_are_hidden_from_the_auditor(store: Store, desk):
    from central import audit

    uuid, _ = file_sealed(desk)
    audit.record(store, "bazras", "case_view", f"case:{uuid}", "text,name,mobile")
    html = desk.hesab.get("/audit/").get_data(as_text=True)
    assert uuid not in html and "text,name,mobile" not in html


# -- analyst exports (item 5) ------------------------------------------------------------------------


def _month() -> str:
    import jdatetime
    today = jdatetime.date.fromgregorian(date=datetime.now(timezone.utc).date())
    return f"{today.year:04d}-{today.month:02d}"


def test_analyst_exports_count_misconduct_reports_and_show_none(store: Store, desk):
    file_sealed(desk, created_at=datetime.now(timezone.utc))
    file_sealed(desk, created_at=datetime.now(timezone.utc))
    desk.office.file(case_type="complaint", text="صف طولانی بود")
    desk.office.file(case_type="misconduct", text="گزارش قدیمی بی‌مهر")  # an office before sealing
    rows = list(csv.DictReader(io.StringIO(
        desk.tahlil.get(f"/analysis/export/cases.csv?month={_month()}").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["type"] for r in rows] == ["complaint", "misconduct"]
    summary = rows[-1]
    assert (summary["count"], summary["text"], summary["uuid"]) == ("3", MISCONDUCT_COUNT, "")
    assert "گزارش قدیمی" not in json.dumps(rows, ensure_ascii=False)


def test_no_export_carries_a_tracking_code(store: Store, desk):
    _, code = desk.office.file(case_type="complaint", text="صف طولانی بود")
    assert "tracking_code" not in CASE_COLUMNS
    for flag in (False, True):
        for row in case_rows(store, _month(), include_oversight=flag):
            assert code not in json.dumps(row, ensure_ascii=False)
