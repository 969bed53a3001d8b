"""The order the kiosk asks the survey in, and what it offers after a low score.

The paper sheet follows the form's order; the kiosk does not.  A visitor at an entrance gives
a survey a few seconds, so the kiosk asks the three Article 9 questions (the form's
``required`` ones: workflow, matched_announcement, staff_behaviour) first, then offers
«پایان و ارسال» on a screen of its own; every other question comes after it, for those who
want to say more.  Screens are numbered in this order (``/survey/1`` is the first Article 9
question); what is stored is the same record whatever the order (:mod:`kiosk.survey`).

Pure functions of the form and the answers, so the order and the offer are tested without a
browser.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms import Form, Question

__all__ = ["ComplaintOffer", "SurveyOrder", "complaint_offer", "kiosk_label", "survey_order"]

#: «۱- », «2. », «۳) » at the start of a label: the paper's numbering, not the kiosk's.  A pattern
#: matched in the form's text (digits of three scripts, the Arabic comma), not UI text.
_NUMBERING = re.compile(r"^\s*[0-9۰-۹٠-٩]+\s*[-.)،]\s*")
#: A rating this low on one of these questions offers a complaint about the service.
LOW_SCORE = 1
COMPLAINT_QUESTIONS = ("staff_behaviour", "workflow")


@dataclass(frozen=True)
class SurveyOrder:
    """The kiosk's order: ``questions[:essential]`` are the Article 9 ones, then the end screen."""

    questions: tuple[Question, ...]
    essential: int

    def __len__(self) -> int:
        return len(self.questions)

    def number_of(self, question_id: str) -> int:
        """The screen number (1-based) of ``question_id``."""
        for number, question in enumerate(self.questions, start=1):
            if question.id == question_id:
                return number
        raise KeyError(question_id)

    def is_essential(self, number: int) -> bool:
        return number <= self.essential

    def progress(self, number: int) -> tuple[int, int]:
        """(n, total) within the screen's part: "question 2 of 3", "more question 1 of 7"."""
        if self.is_essential(number):
            return number, self.essential
        return number - self.essential, len(self.questions) - self.essential

    def next_after(self, number: int) -> str | int:
        """The screen after ``number``: a number, ``"end"`` (the end screen) or ``"last"``."""
        if number == self.essential and number < len(self.questions):
            return "end"
        if number >= len(self.questions):
            return "last"
        return number + 1


def survey_order(form: Form) -> SurveyOrder:
    """Required questions first (in the form's order), then the others (in the form's order).

    A form with no required question keeps its order and has no end screen in the middle."""
    required = tuple(q for q in form.questions if q.required)
    others = tuple(q for q in form.questions if not q.required)
    return SurveyOrder(questions=required + others, essential=len(required))


def kiosk_label(text: str) -> str:
    """A question's label without the paper's leading number (the screen shows its own)."""
    return _NUMBERING.sub("", text, count=1)


@dataclass(frozen=True)
class ComplaintOffer:
    """What a complaint form is prefilled with after a «خیلی بد»: the service (if the visitor
    named it) and which question got the low score (the text's first line names it)."""

    question_id: str
    service: str | None


def complaint_offer(form: Form, answers: Mapping[str, Any]) -> ComplaintOffer | None:
    """A complaint offer if staff behaviour or the workflow got the lowest score, else None."""
    for question_id in COMPLAINT_QUESTIONS:
        if answers.get(question_id) == LOW_SCORE:
            service = answers.get("service")
            known = {q.id: q for q in form.questions}.get("service")
            valid = known is not None and any(o.value == service for o in known.options)
            return ComplaintOffer(question_id=question_id, service=service if valid else None)
    return None
