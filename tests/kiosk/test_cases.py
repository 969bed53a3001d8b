"""Cases without a web request: checking input, filing to the ledger, reading the timeline."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from kiosk.cases import (case_timeline, check_case_form, file_case, find_case,
                         follow_up_matches)
from forms.tracking_codes import is_valid_tracking_code
from ledger import Ledger
from ledger.centre_sent import CentreSent

SERVICES = {"smart_id_card", "other"}
OFFICE = "LOR-01"


@pytest.fixture
def ledger(tmp_path):
    with Ledger.open(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def test_input_is_normalised_arabic_letters_and_digits(valid_mobile, valid_national_id):
    draft, errors = check_case_form(
        {"text": "كيفيت  خدمات  ٣ روز", "service": "smart_id_card",
         "national_id": "۰۴۹۹۳۷۰۸۹۹", "mobile": "٠٩١٢٣٤٥٦٧٨٩"}, "complaint", SERVICES)
    assert errors == []
    assert draft.text == "کیفیت خدمات 3 روز"
    assert draft.national_id == valid_national_id
    assert draft.mobile == valid_mobile


def test_a_wrong_national_id_check_digit_is_named():
    draft, errors = check_case_form({"text": "x", "national_id": "0499370898"}, "request", SERVICES)
    assert draft is None
    assert [e.field for e in errors] == ["national_id"]
    assert "رقم کنترل" in errors[0].message_fa


def test_every_problem_is_reported_at_once():
    draft, errors = check_case_form({"text": "", "mobile": "123", "service": "nope"}, "nope", SERVICES)
    assert draft is None
    assert {e.field for e in errors} == {"type", "service", "text", "mobile"}


def test_anonymous_cases_drop_identity_before_anything_is_stored(valid_mobile):
    draft, errors = check_case_form(
        {"text": "x", "anonymous": "1", "name": "Ali", "national_id": "bad", "mobile": valid_mobile},
        "complaint", SERVICES)
    assert errors == []
    assert (draft.name, draft.national_id, draft.mobile) == ("", "", "")
    assert "name" not in draft.body("123") and "mobile" not in draft.body("123")


def test_misconduct_reports_are_anonymous_unless_unticked():
    draft, _ = check_case_form({"text": "x", "name": "Ali"}, "misconduct", SERVICES)
    assert draft.anonymous and draft.route == "oversight"
    draft, _ = check_case_form({"text": "x", "name": "Ali", "anonymous": ""}, "misconduct", SERVICES)
    assert not draft.anonymous and draft.name == "Ali"


def test_filed_case_has_the_documented_body(ledger, valid_mobile):
    draft, _ = check_case_form({"text": "متن", "service": "smart_id_card", "name": "علی",
                                "mobile": valid_mobile}, "complaint", SERVICES)
    record = file_case(ledger, draft, office=OFFICE)
    body = record.body
    assert record.kind == "case" and record.office == OFFICE
    assert is_valid_tracking_code(body["tracking_code"])
    assert body == {"tracking_code": body["tracking_code"], "type": "complaint",
                    "service": "smart_id_card", "text": "متن", "anonymous": False,
                    "channel": "kiosk", "route": "office", "attachments": [],
                    "name": "علی", "mobile": valid_mobile}
    assert find_case(ledger, body["tracking_code"]).uuid == record.uuid


def test_recording_and_case_are_stored_together(ledger):
    draft, _ = check_case_form({"anonymous": "1"}, "voice", SERVICES, text_required=False)
    record = file_case(ledger, draft, office=OFFICE, attachment=(b"OggS fake", "audio/ogg"))
    (sha,) = record.body["attachments"]
    assert ledger.blob(sha) == b"OggS fake"
    assert ledger.count("attachment") == 1


def _centre_sends(ledger, *updates):
    """Case updates as the sync client stores them from the central server's feed."""
    CentreSent(ledger).store_items([{"feed": "case_update", "key": f"u{n}", "cursor": n, "body": body}
                                    for n, body in enumerate(updates, 1)])


def test_timeline_is_the_case_then_status_updates_in_time_order(ledger):
    draft, _ = check_case_form({"text": "x"}, "request", SERVICES)
    code = file_case(ledger, draft, office=OFFICE).body["tracking_code"]
    later = datetime.now(timezone.utc) + timedelta(days=2)
    _centre_sends(ledger,
                  {"tracking_code": code, "status": "answered", "answer": "پاسخ شما",
                   "at": later.isoformat()},
                  {"tracking_code": code, "status": "routed", "at": (later - timedelta(days=1)).isoformat()},
                  {"tracking_code": "000000000000", "status": "closed", "at": later.isoformat()})
    events = case_timeline(ledger, code)
    assert [e.status for e in events] == ["received", "routed", "answered"]
    assert events[-1].answer == "پاسخ شما"


def test_unknown_status_from_a_newer_server_is_still_shown(ledger):
    draft, _ = check_case_form({"text": "x"}, "request", SERVICES)
    code = file_case(ledger, draft, office=OFFICE).body["tracking_code"]
    _centre_sends(ledger, {"tracking_code": code, "status": "escalated", "answer": "a",
                           "at": "2030-01-01T00:00:00Z"})
    assert [e.status for e in case_timeline(ledger, code)] == ["received", "updated"]


def test_a_status_record_in_the_ledger_itself_is_not_an_update(ledger):
    """Only the central office sets a case's status; nothing at the office writes one."""
    draft, _ = check_case_form({"text": "x"}, "request", SERVICES)
    code = file_case(ledger, draft, office=OFFICE).body["tracking_code"]
    ledger.append("audit", {"event": "case_status", "tracking_code": code, "status": "closed",
                            "at": "2030-01-01T00:00:00Z"}, office=OFFICE)
    assert [e.status for e in case_timeline(ledger, code)] == ["received"]


def test_unknown_code_has_an_empty_timeline(ledger):
    assert case_timeline(ledger, "123456789012") == []


def test_follow_up_needs_the_mobiles_last_four_digits_only_when_one_was_given(ledger, valid_mobile):
    with_mobile, _ = check_case_form({"text": "x", "mobile": valid_mobile}, "request", SERVICES)
    without, _ = check_case_form({"text": "x"}, "request", SERVICES)
    a = file_case(ledger, with_mobile, office=OFFICE)
    b = file_case(ledger, without, office=OFFICE)
    assert follow_up_matches(a, "6789") and follow_up_matches(a, "۶۷۸۹")
    assert not follow_up_matches(a, "") and not follow_up_matches(a, "1234")
    assert follow_up_matches(b, "")


def test_timeline_reads_the_case_updates_sync_pulled_from_the_central_server(ledger):
    draft, _ = check_case_form({"text": "x"}, "request", SERVICES)
    code = file_case(ledger, draft, office=OFFICE).body["tracking_code"]
    _centre_sends(ledger, {"tracking_code": code, "status": "answered", "answer": "از مرکز",
                           "at": "2030-01-02T00:00:00+00:00", "uuid": "u1"})
    events = case_timeline(ledger, code)
    assert [(e.status, e.answer) for e in events] == [("received", ""), ("answered", "از مرکز")]


def test_kiosk_knows_every_status_the_central_server_can_set():
    from forms.cases import CASE_STATUSES
    from kiosk.cases import STATUSES
    from kiosk.i18n import MESSAGES
    assert set(CASE_STATUSES) <= set(STATUSES)
    for status in STATUSES:
        assert MESSAGES.has(f"status_{status}", "fa") and MESSAGES.has(f"status_{status}", "en")


@given(st.dictionaries(st.sampled_from(["text", "service", "name", "national_id", "mobile",
                                        "anonymous"]), st.text(max_size=60)),
       st.sampled_from(["request", "complaint", "misconduct", "voice", "bogus"]))
def test_any_input_gives_a_draft_or_field_errors_never_a_crash(form, case_type):
    draft, errors = check_case_form(form, case_type, SERVICES)
    assert (draft is None) == bool(errors)
    if draft is not None:
        again, _ = check_case_form(draft.body("0") | {"anonymous": "1" if draft.anonymous else ""},
                                   case_type, SERVICES)
        assert again is not None and again.text == draft.text  # normalising twice changes nothing
