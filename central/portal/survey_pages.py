"""The satisfaction survey from a one-time link: ``GET|POST /s/<token>``.

central/portal_survey.py checks the token and stores the answers with the token spent.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from forms.survey_tokens import SurveyToken, TokenRefused

from ..portal_survey import check_token, read_answers, token_form, use_token
from ..web.i18n import current_lang, t
from . import state
from .common import address, message, page, too_many
from .offices import office_choices

__all__ = ["bp"]

bp = Blueprint("survey", __name__)


def refused(reason: str) -> Response:
    return message(t(f"portal_survey_refused_{reason}"), 410 if reason in ("used", "stale", "on_paper") else 400,
                   title=t("portal_survey_title"))


def office_name(checked: SurveyToken) -> str:
    """The name of the office that handed the link out, in the page's language."""
    return office_choices(state.store()).get(checked.office, {}).get(current_lang(), checked.office)


def checked_token(token: str) -> SurveyToken:
    return check_token(state.store(), token, max_age_days=state.settings().survey_link_days)


@bp.get("/s/<token>")
def survey_page(token: str) -> Response:
    try:
        checked = checked_token(token)
    except TokenRefused as exc:
        return refused(exc.reason)
    return page("survey.html", form=token_form(checked, state.store()), token=token, office=office_name(checked),
                error="")


@bp.post("/s/<token>")
def survey_post(token: str) -> Response:
    if request.form.get("website"):
        return message(t("portal_honeypot"), 400)
    try:
        checked = checked_token(token)
    except TokenRefused as exc:
        return refused(exc.reason)
    form = token_form(checked, state.store())
    answers = read_answers(form, request.form)
    if not any(v not in (None, [], "") for v in answers.values()):
        return page("survey.html", 400, form=form, token=token, office=office_name(checked),
                    error=t("portal_survey_no_answer"))
    verdict = state.limits().filing(address())
    if not verdict.allowed:
        return too_many(verdict)
    if use_token(state.store(), checked, form, answers) is None:
        return refused("used")
    return message(t("portal_survey_thanks"), 201, title=t("portal_survey_title"))
