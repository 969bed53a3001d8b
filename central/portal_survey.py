"""The satisfaction survey from a one-time link (forms/survey_tokens.py): the service behind
central/portal/survey_pages.py (its queries: central/db/survey_tokens.py).

A token names the office that handed it out and is signed by that office's sync key, so the
centre checks it against the office's registered public key; a revoked office's tokens are
refused.  Answering stores a ``survey_response`` record (``source: "portal"``) under that
office, so it counts in that office's figures, and marks the token used in the same
transaction: a token is good for exactly one response, even when two are sent at once.

A paper sheet's token (its second QR code) names the sheet: the survey shown is the sheet's
form and version, the record is ``source: "sheet_link"`` with the sheet's id and serial, and
the token is refused (``on_paper``) once the centre holds the scanned sheet.  A sheet scanned
after it was answered online is counted once all the same (central/rollups.py).
"""
from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from forms import builtin_catalog
from forms.definition import Form
from forms.persian import normalize_input
from forms.responses import form_for, portal_response, sheet_link_response
from forms.survey_tokens import SurveyToken, TokenRefused, read_survey_token, verify_survey_token

from sync.batch import BatchRecord, format_time
from forms.signatures import parse_public_key

from . import form_versions, ingest
from .db import survey_tokens

__all__ = ["SURVEY_FORM", "check_token", "read_answers", "survey_form", "token_form", "use_token"]

SURVEY_FORM = "satisfaction"
_MAX_TEXT = 1000


def survey_form() -> Form:
    return builtin_catalog().get(SURVEY_FORM)


def token_form(token: SurveyToken, store=None) -> Form:
    """The form a token's survey is given on: a sheet's form and version (what it was printed
    from, built-in or published by the centre when ``store`` is given), else the newest
    satisfaction survey."""
    if token.sheet is None:
        return survey_form()
    catalog = builtin_catalog() if store is None else form_versions.catalog(store)
    return form_for(catalog, token.sheet.form, token.sheet.form_version) or survey_form()


def check_token(store, text: str, *, today: date | None = None, max_age_days: int = 30) -> SurveyToken:
    """The token if it may still be answered; else :class:`TokenRefused` (``malformed``,
    ``forged``, ``stale``, ``used`` or, for a sheet's, ``on_paper``: the centre holds the
    scanned sheet)."""
    token = read_survey_token(text)
    office = store.office(token.office)
    if office is None or office.status != "active":
        raise TokenRefused("forged")
    verify_survey_token(token, parse_public_key(office.public_key),
                        today=today or datetime.now(timezone.utc).date(), max_age_days=max_age_days)
    with store.connect() as db:
        if survey_tokens.used(db, token.token_id):
            raise TokenRefused("used")
        if token.sheet is not None and store.holds_paper_sheet(token.office, token.sheet.sheet_id(token.office)):
            raise TokenRefused("on_paper")
    return token


def read_answers(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """The answers a submitted survey page holds: an offered option per choice question,
    checked values of a multi-choice one, trimmed text (digits: only digits) — anything else
    is left out, never stored as a wrong answer."""
    answers: dict[str, Any] = {}
    for question in form.questions:
        offered = {str(v): v for v in question.option_values()}
        if question.kind == "multi":
            picked = [offered[v] for v in values.getlist(question.id) if v in offered] \
                if hasattr(values, "getlist") else []
            answers[question.id] = picked or None
        elif offered:
            raw = str(values.get(question.id) or "")
            answers[question.id] = offered.get(raw)
        else:
            text = normalize_input(str(values.get(question.id) or "")).strip()[:_MAX_TEXT]
            if question.kind == "digits":
                text = text if text.isdigit() else ""
            answers[question.id] = text or None
    return answers


def use_token(store, token: SurveyToken, form: Form, answers: Mapping[str, Any]) -> str | None:
    """Store the response and spend the token together; the response's uuid, or None when
    the token was spent meanwhile (nothing stored)."""
    now = format_time(datetime.now(timezone.utc))
    if token.sheet is None:
        body = portal_response(form=form.id, form_version=form.version, answers=answers)
    else:
        body = sheet_link_response(form=form.id, form_version=form.version, answers=answers,
                                   sheet=token.sheet.sheet_id(token.office), serial=token.sheet.serial)
    record = BatchRecord(uuid=str(uuidlib.uuid4()), kind="survey_response", office=token.office,
                         created_at=now, body=body)
    with store.write() as db:
        if not survey_tokens.spend(db, token.token_id, token.office, record.uuid, now[:10]):
            return None
        ingest.insert_central_record(db, record, received_at=now)
    return record.uuid
