"""The survey-response record format (forms/responses.py) and the figures it adds up to
(forms/figures.py): one shape for kiosk and paper, effective answers with people's decisions
applied whatever order they arrive in, pending answers counted apart."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms import builtin_catalog
from forms.figures import Tally
from forms.responses import (
    SURVEY_RESPONSE,
    Decision,
    RecordShapeError,
    effective_answers,
    kiosk_response,
    latest_decisions,
    paper_response,
    response_facts,
    review_decision,
)

FORM = builtin_catalog().get("satisfaction")


def paper(**overrides):
    fields = dict(form="satisfaction", form_version=1, sheet="LOR-01/satisfaction/1/7", serial=7,
                  status="review", answers={"service": "smart_id_card", "workflow": None, "overall": 4},
                  flags={"workflow": "multiple"}, candidates={"workflow": [2, 3]})
    fields.update(overrides)
    return paper_response(**fields)


def decision(value, *, uuid="d1", at="2026-12-01T08:00:00.000000Z", question="workflow", item="i1",
             replaces=None):
    return Decision(uuid=uuid, at=at, item=item, response="r1", question=question, value=value,
                    replaces=replaces)


def test_a_kiosk_body_has_the_survey_response_shape() -> None:
    body = kiosk_response(form="satisfaction", form_version=1, answers={"overall": 5},
                          kiosk_id="kiosk-1", visit="v", complete=False)
    assert SURVEY_RESPONSE.problems(body) == []
    assert body["complete"] is False and body["source"] == "kiosk"


def test_a_paper_field_on_a_kiosk_body_is_refused() -> None:
    body = kiosk_response(form="satisfaction", form_version=1, answers={}, kiosk_id="k", visit="v",
                          complete=True)
    assert SURVEY_RESPONSE.problems({**body, "sheet": "x"}) == ["sheet is not a field of a kiosk survey_response"]


def test_a_sheet_in_review_must_flag_a_question() -> None:
    with pytest.raises(RecordShapeError):
        paper(flags={})


def test_a_decision_body_is_checked() -> None:
    with pytest.raises(RecordShapeError, match="by is missing|by must be"):
        review_decision(item="i", response="r", sheet_id="s", question="q", value=3,
                        machine_value=None, reason="faint", by=None)


def test_a_flagged_answer_is_pending_until_a_person_decides() -> None:
    answers = effective_answers(paper())
    assert answers["workflow"] is None and answers.pending == {"workflow"}
    assert answers["overall"] == 4


def test_a_decision_settles_the_flagged_answer() -> None:
    answers = effective_answers(paper(), [decision(3)])
    assert answers["workflow"] == 3 and answers.pending == frozenset()


def test_a_changed_decision_wins_over_the_one_it_replaces_whatever_the_clocks_say() -> None:
    first = decision(3, uuid="d1", at="2026-12-02T00:00:00.000000Z")
    again = decision(2, uuid="d2", at="2026-12-01T00:00:00.000000Z", replaces="d1")
    assert effective_answers(paper(), [again, first])["workflow"] == 2
    assert effective_answers(paper(), [first, again])["workflow"] == 2


def test_the_same_decision_twice_counts_once() -> None:
    assert latest_decisions([decision(3), decision(3)]) == {"workflow": decision(3)}


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(5)))
def test_effective_answers_do_not_depend_on_the_order_decisions_arrive_in(order) -> None:
    chain = [decision(1, uuid="d0", at="2026-12-01T00:00:00.000000Z")]
    for i in range(1, 4):
        chain.append(decision(i + 1, uuid=f"d{i}", at=f"2026-12-0{i + 1}T00:00:00.000000Z",
                              replaces=f"d{i - 1}"))
    other = decision(5, uuid="x", question="service", item="i2", at="2026-12-01T00:00:00.000000Z")
    decisions = [*chain, other]
    shuffled = [decisions[i] for i in order]
    answers = effective_answers(paper(flags={"workflow": "faint", "service": "faint"}), shuffled)
    assert answers["workflow"] == 4 and answers["service"] == 5 and not answers.pending


def test_a_blank_response_adds_nothing() -> None:
    body = paper(status="accepted", answers={q.id: None for q in FORM.questions}, flags={}, candidates={})
    assert response_facts(body, form=FORM) is None


def test_handwriting_alone_makes_a_response_with_a_comment() -> None:
    body = paper(status="accepted", answers={q.id: None for q in FORM.questions}, flags={},
                 candidates={}, writing={"comment": True})
    facts = response_facts(body, form=FORM)
    assert facts is not None and facts.answered == {"comment"}


def test_a_pending_answer_is_counted_as_pending_and_nowhere_else() -> None:
    facts = response_facts(paper(), form=FORM)
    assert facts.pending == {"workflow"} and "workflow" not in facts.answered
    assert ("workflow", "2") not in facts.values and facts.rating("workflow") is None
    assert facts.rating("overall") == 4 and facts.service == "smart_id_card"


def test_a_settled_answer_counts_like_an_accepted_one() -> None:
    facts = response_facts(paper(), [decision(3)], form=FORM)
    assert facts.rating("workflow") == 3 and ("workflow", "3") in facts.values and not facts.pending


def test_a_kiosk_response_without_complete_is_complete() -> None:
    body = {"source": "kiosk", "form": "satisfaction", "form_version": 1, "answers": {"overall": 3}}
    assert response_facts(body, form=FORM).complete is True


def test_a_value_the_form_does_not_offer_is_answered_but_in_no_option_count() -> None:
    body = {"source": "kiosk", "form": "satisfaction", "form_version": 1, "answers": {"workflow": 9}}
    facts = response_facts(body, form=FORM)
    assert "workflow" in facts.answered and facts.values == () and facts.rating("workflow") is None


def test_consent_with_a_mobile_number_asks_for_a_call() -> None:
    body = {"source": "kiosk", "form": "satisfaction", "form_version": 1,
            "answers": {"follow_up_consent": "yes", "mobile": "09123456789"}}
    assert response_facts(body, form=FORM).call_back is True
    body["answers"]["mobile"] = None
    assert response_facts(body, form=FORM).call_back is False


def test_figures_count_every_option_and_the_mean_of_a_scale() -> None:
    bodies = [{"source": "kiosk", "form": "satisfaction", "form_version": 1, "complete": i != 0,
               "answers": {"overall": v, "mobile": "09123456789"}} for i, v in enumerate((1, 5, 5))]
    bodies.append(paper())
    figures = Tally.of(response_facts(b, form=FORM) for b in bodies).to_json(FORM.questions)
    assert figures["responses"] == {"total": 4, "paper": 1, "kiosk": 3, "portal": 0, "sheet_link": 0,
                                   "complete": 3, "incomplete": 1}
    overall = figures["questions"]["overall"]
    assert overall["counts"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2}
    assert (overall["answered"], overall["mean"]) == (4, 3.75)
    assert figures["questions"]["workflow"] == {"answered": 0, "pending_review": 1,
                                               "counts": dict.fromkeys("12345", 0), "mean": None}
    assert figures["questions"]["mobile"] == {"answered": 3, "pending_review": 0, "counts": {}, "mean": None}


def test_taking_facts_away_undoes_adding_them() -> None:
    rng = random.Random(4)
    bodies = [{"source": rng.choice(("kiosk", "paper")), "form": "satisfaction", "form_version": 1,
               "answers": {"overall": rng.randint(1, 5), "service": "other"}} for _ in range(20)]
    tally = Tally.of(response_facts(b, form=FORM) for b in bodies)
    for body in bodies[5:]:
        tally.add(response_facts(body, form=FORM), -1)
    assert tally.to_json(FORM.questions) == Tally.of(
        response_facts(b, form=FORM) for b in bodies[:5]).to_json(FORM.questions)


@pytest.mark.parametrize("utc, day", [
    ("2026-12-01T20:29:59.999999Z", "2026-12-01"),   # 23:59:59 in Tehran (+3:30)
    ("2026-12-01T20:30:00.000000Z", "2026-12-02"),   # midnight in Tehran
    ("2020-06-01T19:29:59.000000Z", "2020-06-01"),   # summer time (+4:30) before 1401
    ("2020-06-01T19:30:00.000000Z", "2020-06-02"),
])
def test_a_records_day_is_its_tehran_calendar_day(utc: str, day: str) -> None:
    from datetime import date, datetime

    from forms.responses import local_day

    assert local_day(utc) == date.fromisoformat(day)
    assert local_day(datetime.fromisoformat(utc.replace("Z", "+00:00"))) == date.fromisoformat(day)
