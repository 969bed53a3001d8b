"""A misconduct report's time, order and follow-up at the office (issue 11, items 3 and 4).

- It carries no time finer than the hour: not in the record, not in its place among other
  records (it joins the ledger only after its hour has ended), not in the batch.
- The office holds neither its tracking code nor oversight's answer in plain: the reporter
  follows it up with the code, which alone opens the answer.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from kiosk import create_app
from kiosk.cases import CaseDraft, case_timeline, file_case, find_case
from central.casework import misconduct_update
from forms.follow_up import follow_up_locator, open_answer, seal_answer
from sync.office_state import OfficeSyncState
from ledger.report_key import report_key

AT = datetime(2026, 11, 30, 10, 47, 13, 123456, tzinfo=timezone.utc)
ANSWER = "گزارش شما بررسی شد و کارمند از باجه برکنار شد."


@pytest.fixture(scope="session")
def report(office_code, open_ledger):
    def report(home, *, now=AT, text="رشوه"):
        draft = CaseDraft(type="misconduct", service="other", text=text, anonymous=True)
        with open_ledger(home) as ledger:
            return file_case(ledger, draft, office=office_code, report_key=report_key(home, ledger), now=now)

    return report


@pytest.fixture(scope="session")
def survey(office_code):
    def survey(ledger, at):
        return ledger.append("survey_response", {"answers": {}}, office=office_code, created_at=at)

    return survey


# -- time and order -------------------------------------------------------------------------


def test_a_report_keeps_only_the_hour(sealed_office, report):
    filed = report(sealed_office)
    assert filed.created_at == datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    assert filed.held


def test_a_report_joins_the_ledger_only_after_its_hour_and_after_every_record_of_that_hour(sealed_office,
                                                                                           open_ledger,
                                                                                           report,
                                                                                           survey):
    with open_ledger(sealed_office) as ledger:
        before = survey(ledger, AT - timedelta(minutes=5))
    filed = report(sealed_office)
    with open_ledger(sealed_office) as ledger:
        after = survey(ledger, AT + timedelta(minutes=5))
        assert ledger.count("case") == 0  # not yet: its place would give its time away
        assert ledger.release_held(datetime(2026, 11, 30, 10, 59, tzinfo=timezone.utc)) == 0
        assert ledger.release_held(datetime(2026, 11, 30, 11, 0, 30, tzinfo=timezone.utc)) == 1
        (case,) = ledger.records("case")
    assert case.uuid == filed.uuid and before.seq < after.seq < case.seq
    assert case.created_at == datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


def test_reports_of_one_hour_join_in_an_order_that_is_not_the_order_they_were_filed(sealed_office,
                                                                                    open_ledger, report):
    filed = [report(sealed_office, now=AT + timedelta(minutes=i)) for i in range(6)]
    with open_ledger(sealed_office) as ledger:
        ledger.release_held(AT + timedelta(hours=1))
        order = [r.uuid for r in ledger.records("case")]
    assert order == sorted(f.uuid for f in filed)  # by random UUID, not by arrival


def test_held_reports_have_no_rowid_that_would_keep_their_arrival_order(sealed_office, open_ledger, report):
    report(sealed_office)
    with open_ledger(sealed_office) as ledger, pytest.raises(sqlite3.OperationalError):
        ledger._conn.execute("SELECT rowid FROM held_records").fetchall()


def test_the_sync_batch_releases_reports_whose_hour_is_over_and_carries_only_the_hour(sealed_office,
                                                                                      office_code,
                                                                                      open_ledger,
                                                                                      report):
    report(sealed_office, now=datetime.now(timezone.utc) - timedelta(hours=2))
    with open_ledger(sealed_office) as ledger:
        state = OfficeSyncState(ledger)
        batch = state.cut_batch(office_code)
        (record,) = [r for r in state.batch_records(batch) if r.kind == "case"]
    assert record.created_at.endswith(":00:00.000000Z")


def test_a_report_of_the_current_hour_waits_and_sync_status_says_so(sealed_office, office_code,
                                                                    open_ledger, report):
    from sync.cli import status_data

    report(sealed_office, now=datetime.now(timezone.utc))
    with open_ledger(sealed_office) as ledger:
        assert OfficeSyncState(ledger).cut_batch(office_code) is None
    assert status_data(sealed_office)["held_reports"] == 1


# -- follow-up --------------------------------------------------------------------------------


def test_the_office_never_stores_the_tracking_code_of_a_report(sealed_office, report):
    filed = report(sealed_office)
    raw = b"".join(p.read_bytes() for p in sealed_office.rglob("*") if p.is_file())
    assert filed.tracking_code.encode() not in raw
    assert "tracking_code" not in filed.body


def test_a_report_is_found_with_its_code_and_no_other(sealed_office, office_code, open_ledger, report):
    filed = report(sealed_office)
    with open_ledger(sealed_office) as ledger:
        assert find_case(ledger, filed.tracking_code, office_code).uuid == filed.uuid
        assert find_case(ledger, filed.tracking_code) is None  # without the office: no locator
        assert find_case(ledger, "123456789012", office_code) is None


@pytest.fixture(scope="session")
def pull_answer(open_ledger):
    def pull_answer(home, central_install, filed, status="answered", answer=ANSWER, cursor=1):
        update = misconduct_update(filed.body, status, "2026-12-01T09:41:07.123456Z", answer=answer,
                                   opener=central_install.keys.open_body)
        with open_ledger(home) as ledger:
            OfficeSyncState(ledger).store_central_items(
                [{"feed": "case_update", "key": update["uuid"], "cursor": cursor, "body": update}], cursor)
        return update

    return pull_answer


def test_oversights_answer_reaches_the_office_sealed_to_the_tracking_code(sealed_office,
                                                                          central_install, open_ledger,
                                                                          pull_answer, report):
    filed = report(sealed_office)
    update = pull_answer(sealed_office, central_install, filed)
    assert set(update) == {"uuid", "follow_up", "status", "at", "answer_sealed"}
    assert update["at"] == "2026-12-01T09:00:00.000000Z"
    with open_ledger(sealed_office) as ledger:
        stored = ledger._conn.execute("SELECT body FROM central_items WHERE feed = 'case_update'").fetchone()[0]
    assert ANSWER not in stored and filed.tracking_code not in stored
    assert open_answer(json.loads(stored)["answer_sealed"], filed.tracking_code, filed.body["follow_up"]) == ANSWER


def test_a_wrong_code_does_not_open_the_answer(sealed_office, central_install, pull_answer, report):
    filed = report(sealed_office)
    update = pull_answer(sealed_office, central_install, filed)
    wrong = str((int(filed.tracking_code) + 1) % 10 ** 12).zfill(12)
    assert open_answer(update["answer_sealed"], wrong, filed.body["follow_up"]) is None


def test_the_kiosk_follow_up_shows_status_and_answer_to_whoever_has_the_code(sealed_office,
                                                                             central_install,
                                                                             make_config, pull_answer,
                                                                             report, visit_token):
    filed = report(sealed_office)
    pull_answer(sealed_office, central_install, filed)
    client = create_app(make_config(sealed_office)).test_client()
    page = client.get("/follow-up").get_data(as_text=True)
    answer = client.post("/follow-up", data={"visit": visit_token(page), "code": filed.tracking_code})
    assert answer.status_code == 302
    html = client.get("/follow-up/status").get_data(as_text=True)
    assert ANSWER in html and "گزارش تخلف" in html


def test_the_timeline_of_a_report_is_received_at_the_hour_then_what_oversight_sent(sealed_office,
                                                                                  central_install, office_code, open_ledger, pull_answer, report):
    filed = report(sealed_office)
    pull_answer(sealed_office, central_install, filed)
    with open_ledger(sealed_office) as ledger:
        events = case_timeline(ledger, filed.tracking_code, office_code)
    assert [(e.status, e.answer) for e in events] == [("received", ""), ("answered", ANSWER)]
    assert events[0].at == datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


def test_an_answer_without_the_oversight_key_is_sent_as_status_only(sealed_office, report):
    filed = report(sealed_office)
    update = misconduct_update(filed.body, "answered", "2026-12-01T09:41:07Z", answer=ANSWER)
    assert set(update) == {"uuid", "follow_up", "status", "at"}


def test_a_report_that_reached_the_centre_unsealed_gets_its_status_only():
    body = {"tracking_code": "123456789012", "type": "misconduct", "text": "قدیمی"}
    update = misconduct_update(body, "answered", "2026-12-01T09:41:07Z", answer=ANSWER)
    assert set(update) == {"uuid", "tracking_code", "status", "at"}


def test_the_locator_is_argon2id_of_the_code_salted_with_the_office():
    code = "123456789012"
    assert follow_up_locator(code, "LOR-01") == follow_up_locator("1234 5678 9012", "LOR-01")
    assert follow_up_locator(code, "LOR-01") != follow_up_locator(code, "THR-012")


def test_an_answer_envelope_asking_for_an_absurd_cost_is_not_opened():
    envelope = seal_answer("x", "123456789012", "aa")
    assert open_answer({**envelope, "memory_cost": 4 * 1024 * 1024}, "123456789012", "aa") is None
    assert open_answer(envelope, "123456789012", "aa") == "x"
