""""Was it solved?" at the kiosk: asked on the follow-up screen once an answer is back, kept as
a ``case_verdict`` record, and given the portal's effect at the centre when its batch arrives."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest

from central.casework import Casework
from central.verdicts import acceptance_by_unit, record_verdict
from forms.case_verdicts import CASE_VERDICT, case_verdict
from ledger.centre_sent import CentreSent
from sync.batch import BatchRecord, format_time

ANSWERED_AT = "2026-12-01T08:00:00.000000Z"


def _page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture(scope="session")
def _filed_and_answered(open_ledger, valid_mobile, visit_token):
    def _filed_and_answered(client, kiosk_home, *, status: str = "answered") -> str:
        html = _page(client, "/case")
        client.post("/case", data={"visit": visit_token(html), "type": "complaint",
                                   "service": "smart_id_card", "text": "صف طولانی بود",
                                   "mobile": valid_mobile})
        code = re.search(r'data-code="(\d+)"', _page(client, "/receipt")).group(1)
        with open_ledger(kiosk_home) as ledger:
            CentreSent(ledger).store_items([{"feed": "case_update", "key": "u1", "cursor": 1, "body": {
                "tracking_code": code, "status": status, "answer": "کارت صادر شد", "at": ANSWERED_AT}}])
        client.get("/reset")
        token = visit_token(_page(client, "/follow-up"))
        client.post("/follow-up", data={"visit": token, "code": code, "last4": valid_mobile[-4:]})
        return code

    return _filed_and_answered


@pytest.fixture(scope="session")
def _verdicts(open_ledger):
    def _verdicts(kiosk_home):
        with open_ledger(kiosk_home) as ledger:
            return [r.body for r in ledger.find("case_verdict", "channel", "kiosk")]

    return _verdicts


def test_the_kiosk_asks_whether_the_answer_solved_the_problem(client, kiosk_home, _filed_and_answered):
    _filed_and_answered(client, kiosk_home)
    html = _page(client, "/follow-up/status")
    assert "آیا این پاسخ مشکل شما را حل کرد؟" in html and 'value="no"' in html


def test_no_question_before_an_answer(client, kiosk_home, _filed_and_answered):
    _filed_and_answered(client, kiosk_home, status="in_progress")
    assert "آیا این پاسخ مشکل شما را حل کرد؟" not in _page(client, "/follow-up/status")


def test_not_solved_is_kept_once_for_the_centre_with_the_answer_it_judges(client, kiosk_home,
                                                                          _filed_and_answered,
                                                                          _verdicts, visit_token):
    code = _filed_and_answered(client, kiosk_home)
    token = visit_token(_page(client, "/follow-up/status"))
    data = {"visit": token, "solved": "no", "comment": "هنوز كارت نرسيده"}
    assert client.post("/follow-up/verdict", data=data).status_code == 302
    client.post("/follow-up/verdict", data=data)  # a second tap
    (body,) = _verdicts(kiosk_home)
    assert body == {"tracking_code": code, "answered_at": ANSWERED_AT, "solved": False,
                    "comment": "هنوز کارت نرسیده", "channel": "kiosk"}
    html = _page(client, "/follow-up/status")
    assert "آیا این پاسخ" not in html and "حل نکرد" in html


def test_a_verdict_without_a_choice_is_refused_in_persian_and_nothing_kept(client, kiosk_home,
                                                                           _filed_and_answered,
                                                                           _verdicts, visit_token):
    _filed_and_answered(client, kiosk_home)
    token = visit_token(_page(client, "/follow-up/status"))
    answer = client.post("/follow-up/verdict", data={"visit": token, "solved": "maybe"})
    assert answer.status_code == 400 and "«بله» یا «نه»" in answer.get_data(as_text=True)
    assert _verdicts(kiosk_home) == []


def test_the_record_shape_refuses_a_body_without_its_answer():
    assert CASE_VERDICT.problems({"tracking_code": "1", "solved": True, "channel": "kiosk"}) == [
        "answered_at is missing"]
    with pytest.raises(ValueError):
        case_verdict(tracking_code="1", answered_at=ANSWERED_AT, solved=True, comment="x" * 1001)


# -- at the centre --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _answered_case(case_sender):
    def _answered_case(store):
        sender = case_sender(store)
        record = sender.file(identity=True)
        work = Casework(store)
        work.save_unit("cards", "واحد کارت", "Cards", actor="admin")
        work.refer(record.uuid, "cards", actor="admin")
        case = work.answer(record.uuid, "کارت صادر شد", actor="admin")
        return sender, record, case

    return _answered_case


def _verdict_record(record, answered_at: str, solved: bool) -> BatchRecord:
    import uuid

    return BatchRecord(uuid=str(uuid.uuid4()), kind="case_verdict", office=record.office,
                       created_at=format_time(datetime.now(timezone.utc)),
                       body=case_verdict(tracking_code=record.body["tracking_code"],
                                         answered_at=answered_at, solved=solved, comment="نه"))


def test_a_kiosk_not_solved_reopens_the_case_in_its_unit_like_the_portal(store, _answered_case):
    sender, record, case = _answered_case(store)
    sender.send(_verdict_record(record, case.answered_at, False))
    reopened = Casework(store).case(record.uuid)
    assert (reopened.status, reopened.unit, reopened.answered_at) == ("in_progress", "cards", None)
    assert reopened.due_at > case.answered_at
    assert acceptance_by_unit(store)["cards"] == {"judged": 1, "accepted": 0, "share": 0.0}
    with store.connect() as db:
        assert db.one("SELECT channel FROM case_feedback") == ("kiosk",)


def test_the_verdict_is_noted_in_the_case_history_in_persian_with_the_comment(store, _answered_case):
    sender, record, case = _answered_case(store)
    record_verdict(store, record.uuid, solved=False, comment="هنوز کارت نرسیده")
    notes = [e.text for e in Casework(store).events(record.uuid) if e.event == "citizen_verdict"]
    assert notes == ["حل نشد: هنوز کارت نرسیده"]


def test_a_kiosk_verdict_on_a_replaced_answer_is_counted_and_reopens_nothing(store, _answered_case):
    sender, record, case = _answered_case(store)
    record_verdict(store, record.uuid, solved=False)  # said first on the portal: reopened
    time.sleep(0.01)
    again = Casework(store).answer(record.uuid, "دوباره بررسی شد", actor="admin")
    sender.send(_verdict_record(record, case.answered_at, False))  # the kiosk's, on the first
    assert Casework(store).case(record.uuid).status == "answered"
    assert acceptance_by_unit(store)["cards"]["judged"] == 1  # the first answer had its verdict
    sender.send(_verdict_record(record, again.answered_at, True))
    assert acceptance_by_unit(store)["cards"] == {"judged": 2, "accepted": 1, "share": 0.5}


def test_a_verdict_naming_another_offices_case_changes_nothing(store, _answered_case):
    sender, record, case = _answered_case(store)
    foreign = _verdict_record(record, case.answered_at, False)
    foreign = BatchRecord(foreign.uuid, foreign.kind, "ISF-001", foreign.created_at, foreign.body)
    sender.send(foreign, office="ISF-001")
    assert Casework(store).case(record.uuid).status == "answered"
    assert acceptance_by_unit(store) == {}
