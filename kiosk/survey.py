"""What a kiosk survey response says: its answers and whether it is complete.

Pure functions, so the rule is tested without a request; the body itself is the shared
survey-response record (``forms.responses.kiosk_response``).

**Complete** means the visitor sent the survey themselves («پایان و ارسال», or «ارسال نظرسنجی»
on the last question) *and* answered every question the form marks ``required`` (for the
satisfaction form: the three Article 9 questions -- workflow, matched_announcement,
staff_behaviour).  Every other stored response is **incomplete**: the visitor left by
«صفحه اصلی» or «شروع دوباره», walked away (the page's idle timer or the server's expiry), the
kiosk restarted mid-survey, or they sent it without all required answers.  Incomplete responses
keep every answer given; figures count them apart.  Records written before this field existed
carry no ``complete`` and count as complete (:func:`response_is_complete`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms import Form
from forms.responses import kiosk_response

__all__ = ["is_complete", "response_is_complete", "survey_response_body"]


def is_complete(form: Form, answers: Mapping[str, Any], *, submitted: bool) -> bool:
    """Sent by the visitor, with every required question of ``form`` answered."""
    return submitted and all(answers.get(q.id) not in (None, "", []) for q in form.questions
                             if q.required)


def response_is_complete(body: Mapping[str, Any]) -> bool:
    """How figures read a stored response: older records without the field count as complete."""
    return body.get("complete", True) is not False


def survey_response_body(form: Form, answers: Mapping[str, Any], *, submitted: bool,
                         kiosk_id: str, visit: str) -> dict[str, Any]:
    """The ``survey_response`` record body for one kiosk visit; every question id is present,
    ``None`` where the visitor gave no answer."""
    return kiosk_response(form=form.id, form_version=form.version,
                          answers={q.id: answers.get(q.id) for q in form.questions},
                          complete=is_complete(form, answers, submitted=submitted),
                          kiosk_id=kiosk_id, visit=visit)
