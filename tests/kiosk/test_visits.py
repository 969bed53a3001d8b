"""The kiosk visit lifecycle: one visitor, one response, and nothing of them left for the next.

A visit ends by finishing the survey, «صفحه اصلی», «شروع دوباره», the page's idle timer or the
server's own expiry; in every case the survey answers given are stored (complete or not) and
every draft is gone.  Answers in progress live in a private file under $SEDA_HOME, so a kiosk
restart stores them instead of losing them.
"""
from __future__ import annotations

import json
import re
import stat
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from forms import builtin_catalog
from kiosk import create_app
from kiosk.survey_flow import survey_order

FORM = builtin_catalog().get("satisfaction")
NUMBER = {q.id: n for n, q in enumerate(survey_order(FORM).questions, start=1)}
ARTICLE_9 = {"workflow": "4", "matched_announcement": "partly", "staff_behaviour": "5"}


def page(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture(scope="session")
def answer(visit_token):
    def answer(client, question_id, value=None, action=None):
        number = NUMBER[question_id]
        data = {"visit": visit_token(page(client, f"/survey/{number}"))}
        if value is not None:
            data["answer"] = value
        if action is not None:
            data["action"] = action
        return client.post(f"/survey/{number}", data=data)

    return answer


def home_link(html: str) -> str:
    """Where the bottom bar's «صفحه اصلی» button goes (what a visitor taps)."""
    match = re.search(r'<div class="bottombar".*?<a class="button secondary" href="([^"]+)">صفحه اصلی</a>',
                      html, re.S)
    assert match, "no home button on this page"
    return match.group(1)


def tap_home(client, from_path="/survey/2"):
    return client.get(home_link(page(client, from_path)))


@pytest.fixture(scope="session")
def responses(open_ledger):
    def responses(home):
        with open_ledger(home) as ledger:
            return list(ledger.records("survey_response"))

    return responses


def drafts_file(home):
    return home / "kiosk" / "survey_drafts.json"


@pytest.fixture(scope="session")
def refused_complaint(valid_mobile, visit_token):
    def refused_complaint(client):
        """A complaint refused for a wrong national-ID check digit: text and identity stay drafted."""
        html = page(client, "/case")
        response = client.post("/case", data={
            "visit": visit_token(html), "type": "complaint", "service": "smart_id_card",
            "text": "راز نفر قبلی", "name": "مریم رضایی", "national_id": "0499370898",
            "mobile": valid_mobile})
        assert "رقم کنترل کد ملی درست نیست" in response.get_data(as_text=True)

    return refused_complaint


# -- the next visitor starts empty -------------------------------------------------------------


def test_home_after_a_refused_complaint_leaves_nothing_for_the_next_visitor(client, refused_complaint,
                                                                            valid_mobile):
    refused_complaint(client)
    tap_home(client, "/case")
    html = page(client, "/case")
    for trace in ("راز نفر قبلی", "مریم رضایی", "0499370898", valid_mobile):
        assert trace not in html


def test_home_after_a_refused_misconduct_report_leaves_nothing_for_the_next_visitor(client, visit_token):
    html = page(client, "/report")
    client.post("/report", data={"visit": visit_token(html), "service": "other",
                                 "text": "رشوه در باجه ۳", "national_id": "0499370898"})
    tap_home(client, "/report")
    assert "رشوه در باجه ۳" not in page(client, "/report")


def test_home_mid_survey_leaves_no_answer_selected_for_the_next_visitor(client, answer):
    answer(client, "workflow", "1")
    tap_home(client)
    choices = page(client, "/survey/2").split('class="choices')[1].split("</div>")[0]
    assert "selected" not in choices


def test_home_forgets_a_follow_up_that_was_open(client, kiosk_home, visit_token):
    html = page(client, "/case")
    client.post("/case", data={"visit": visit_token(html), "type": "request",
                               "service": "other", "text": "درخواست"})
    code = re.search(r'data-code="(\d+)"', page(client, "/receipt")).group(1)
    client.get("/reset")
    token = visit_token(page(client, "/follow-up"))
    client.post("/follow-up", data={"visit": token, "code": code})
    assert client.get("/follow-up/status").status_code == 200
    tap_home(client, "/follow-up/status")
    assert client.get("/follow-up/status").headers["Location"] == "/follow-up"


def test_home_keeps_the_display_choices_of_the_same_person(client):
    client.get("/prefs/large-text")
    tap_home(client)
    assert 'class="large-text' in page(client, "/")


# -- answers are kept however the visit ends ----------------------------------------------------


def test_answers_are_kept_when_the_visitor_taps_home(client, kiosk_home, answer, responses):
    answer(client, "service", "smart_id_card")
    answer(client, "workflow", "2")
    tap_home(client)
    (record,) = responses(kiosk_home)
    assert record.body["answers"]["service"] == "smart_id_card"
    assert record.body["answers"]["workflow"] == 2
    assert record.body["complete"] is False


def test_answers_are_kept_when_the_visitor_starts_again(client, kiosk_home, answer, responses):
    answer(client, "staff_behaviour", "1")
    client.get("/reset")
    (record,) = responses(kiosk_home)
    assert record.body["answers"]["staff_behaviour"] == 1 and record.body["complete"] is False


def test_answers_are_kept_when_the_server_expires_an_untouched_visit(app, client, kiosk_home, answer,
                                                                     responses):
    state = app.extensions["seda_kiosk"]
    for question_id, value in ARTICLE_9.items():
        answer(client, question_id, value)
    state.visits.sweep(now=time.monotonic() + state.visits.expire_after + 1)
    (record,) = responses(kiosk_home)
    assert record.body["complete"] is False
    assert record.body["answers"]["matched_announcement"] == "partly"
    # The same browser carries on: it is a new visit, with nothing of the old one.
    choices = page(client, "/survey/2").split('class="choices')[1].split("</div>")[0]
    assert "selected" not in choices


def test_an_expired_visit_found_by_its_cookie_is_stored_too(app, client, kiosk_home, answer, responses):
    state = app.extensions["seda_kiosk"]
    answer(client, "workflow", "3")
    clock = state.visits._clock
    state.visits._clock = lambda: clock() + state.visits.expire_after + 1
    page(client, "/")
    (record,) = responses(kiosk_home)
    assert record.body["answers"]["workflow"] == 3


def test_a_visit_with_no_answer_stores_nothing_however_it_ends(app, client, kiosk_home, responses):
    page(client, "/survey/1")
    tap_home(client)
    page(client, "/survey/3")
    client.get("/reset")
    page(client, "/case")
    state = app.extensions["seda_kiosk"]
    state.visits.sweep(now=time.monotonic() + state.visits.expire_after + 1)
    assert responses(kiosk_home) == []


def test_finishing_is_stored_once_and_the_visit_ends_with_it(client, kiosk_home, answer, responses):
    answer(client, "workflow", "5")
    answer(client, "matched_announcement", action="finish")
    client.get("/reset")
    tap_home(client)
    (record,) = responses(kiosk_home)
    assert record.body["answers"]["workflow"] == 5


def test_two_visitors_are_never_stored_as_one_response(client, kiosk_home, answer, responses):
    answer(client, "workflow", "1")
    answer(client, "comment", "نفر اول")
    tap_home(client)
    answer(client, "workflow", "5")
    answer(client, "overall", action="finish")
    first, second = responses(kiosk_home)
    assert first.body["answers"]["comment"] == "نفر اول" and first.body["answers"]["workflow"] == 1
    assert second.body["answers"]["comment"] is None and second.body["answers"]["workflow"] == 5
    assert first.body["visit"] != second.body["visit"] and first.uuid != second.uuid


def test_finish_on_a_choice_question_keeps_its_earlier_answer(client, kiosk_home, answer, responses):
    answer(client, "workflow", "2")
    answer(client, "matched_announcement", "no")
    answer(client, "workflow", action="finish")  # back on question 2, tapped finish
    (record,) = responses(kiosk_home)
    assert record.body["answers"]["workflow"] == 2


def test_the_response_is_dated_when_it_was_answered(app, client, kiosk_home, answer, responses):
    answer(client, "workflow", "4")
    answered = datetime.now(timezone.utc)
    state = app.extensions["seda_kiosk"]
    state.visits.sweep(now=time.monotonic() + state.visits.expire_after + 1)
    (record,) = responses(kiosk_home)
    assert abs(record.created_at - answered) < timedelta(seconds=5)


# -- complete or incomplete ---------------------------------------------------------------------


def test_a_submitted_survey_with_the_article_9_questions_is_complete(client, kiosk_home, answer, responses):
    for question_id, value in ARTICLE_9.items():
        answer(client, question_id, value)
    answer(client, "waiting_time", action="finish")
    (record,) = responses(kiosk_home)
    assert record.body["complete"] is True


def test_a_submitted_survey_missing_an_article_9_question_is_incomplete(client, kiosk_home, answer,
                                                                        responses):
    answer(client, "workflow", "4")
    answer(client, "matched_announcement", "yes")
    answer(client, "comment", "")  # the last question: sends the survey
    (record,) = responses(kiosk_home)
    assert record.body["complete"] is False


def test_every_answer_but_not_submitted_is_incomplete(client, kiosk_home, answer, responses):
    for question in FORM.questions[:6]:
        answer(client, question.id, str(question.options[0].value))
    client.get("/reset")
    (record,) = responses(kiosk_home)
    assert record.body["complete"] is False


def test_completeness_is_the_forms_required_questions_and_a_submit():
    from kiosk.survey import is_complete
    answers = {"workflow": 4, "matched_announcement": "yes", "staff_behaviour": 5}
    assert is_complete(FORM, answers, submitted=True)
    assert not is_complete(FORM, answers, submitted=False)
    assert not is_complete(FORM, {**answers, "staff_behaviour": None}, submitted=True)


# -- finishing with nothing ---------------------------------------------------------------------


def test_finishing_with_no_answer_stores_nothing_and_thanks_nobody(client, kiosk_home, answer, responses):
    response = answer(client, "service", action="finish")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "هنوز به هیچ پرسشی پاسخ نداده‌اید" in html and "چیزی ثبت نشد" in html
    assert "سپاسگزاریم" not in html
    assert responses(kiosk_home) == []


def test_sending_an_empty_last_question_with_no_answer_stores_nothing(client, kiosk_home, answer, responses):
    response = answer(client, "comment", "")
    assert "چیزی ثبت نشد" in response.get_data(as_text=True)
    assert responses(kiosk_home) == []


def test_after_finishing_with_nothing_one_answer_can_still_be_sent(client, kiosk_home, answer, responses):
    answer(client, "service", action="finish")
    answer(client, "workflow", "3")
    assert answer(client, "matched_announcement", action="finish").headers["Location"] == "/survey/thanks"
    (record,) = responses(kiosk_home)
    assert record.body["answers"]["workflow"] == 3


# -- the private draft file and a restart --------------------------------------------------------


def test_answers_in_progress_are_in_a_private_file_with_survey_answers_only(client, kiosk_home, answer,
                                                                            refused_complaint,
                                                                            valid_mobile):
    refused_complaint(client)  # case-form text and identity in the same visit
    answer(client, "workflow", "2")
    answer(client, "comment", "کند بود", action="back")
    answer(client, "mobile", valid_mobile)
    path = drafts_file(kiosk_home)
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    (entry,) = json.loads(text)["visits"].values()
    assert entry["answers"] == {"workflow": 2, "comment": "کند بود", "mobile": valid_mobile}
    for trace in ("راز نفر قبلی", "مریم رضایی", "0499370898", "test-secret"):
        assert trace not in text


def test_the_draft_file_forgets_a_visit_once_it_is_stored(client, kiosk_home, answer):
    answer(client, "workflow", "2")
    client.get("/reset")
    assert json.loads(drafts_file(kiosk_home).read_text(encoding="utf-8"))["visits"] == {}


def test_a_restart_stores_an_abandoned_visit_as_incomplete_exactly_once(client, kiosk_home, answer,
                                                                        make_config, responses):
    for question_id, value in ARTICLE_9.items():
        answer(client, question_id, value)
    answered = datetime.now(timezone.utc)
    assert responses(kiosk_home) == []
    create_app(make_config(kiosk_home))  # the kiosk server restarts
    (record,) = responses(kiosk_home)
    assert record.body["complete"] is False
    assert record.body["answers"]["workflow"] == 4
    assert record.body["answers"]["staff_behaviour"] == 5
    assert abs(record.created_at - answered) < timedelta(seconds=5)
    assert json.loads(drafts_file(kiosk_home).read_text(encoding="utf-8"))["visits"] == {}
    create_app(make_config(kiosk_home))  # and again
    assert len(responses(kiosk_home)) == 1


def test_a_visit_stored_before_a_crash_is_not_stored_again(client, kiosk_home, answer, make_config,
                                                           responses):
    answer(client, "workflow", "2")
    saved = drafts_file(kiosk_home).read_bytes()
    client.get("/reset")
    drafts_file(kiosk_home).write_bytes(saved)  # as if the crash came before the file was updated
    create_app(make_config(kiosk_home))
    assert len(responses(kiosk_home)) == 1
    assert json.loads(drafts_file(kiosk_home).read_text(encoding="utf-8"))["visits"] == {}


def test_a_damaged_draft_file_is_kept_aside_and_the_kiosk_starts(kiosk_home, make_config):
    path = drafts_file(kiosk_home)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    client = create_app(make_config(kiosk_home)).test_client()
    assert client.get("/").status_code == 200
    kept = list(path.parent.glob("survey_drafts.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{not json"


@pytest.mark.parametrize("ending", ["/reset", "home"])
def test_ending_a_visit_signs_the_next_visitor_into_a_new_visit(client, ending, visit_token):
    old_token = visit_token(page(client, "/case"))
    if ending == "home":
        tap_home(client, "/case")
    else:
        client.get(ending)
    assert visit_token(page(client, "/case")) != old_token


def test_a_screen_whose_idle_timer_never_ran_is_swept_without_any_request(kiosk_home, responses):
    from kiosk.lifecycle import VisitLifecycle
    from kiosk.writer import LedgerWriter
    from ledger import default_ledger_path
    writer = LedgerWriter(default_ledger_path(kiosk_home))
    lifecycle = VisitLifecycle(form=FORM, forms=builtin_catalog().get, writer=writer,
                               office="LOR-01", kiosk_id="k", expire_after=0.2,
                               drafts_path=drafts_file(kiosk_home))
    try:
        visit = lifecycle.begin()
        lifecycle.record_answer(visit, "workflow", 4)
        deadline = time.monotonic() + 10
        while not responses(kiosk_home) and time.monotonic() < deadline:
            time.sleep(0.2)
        (record,) = responses(kiosk_home)
        assert record.body["answers"]["workflow"] == 4 and record.body["complete"] is False
    finally:
        lifecycle.close()
        writer.close()
