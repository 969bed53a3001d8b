"""What a kiosk receipt carries home: the portal's follow-up address of the case (its QR
code) with a one-time survey link, the office's name and the answer deadline.

The follow-up address is ``{portal_url}/f/{code}?o={office}`` (the office is needed to find
a sealed misconduct report by its locator); an ordinary case's adds ``&s={token}``, a survey
token signed with this office's sync key (forms/survey_tokens.py) that is good for one
response.  A misconduct report's receipt carries no survey token, so nothing on it ties the
report to a survey answer.  Without a portal address the QR code is the bare tracking code.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote

from forms.cases import ANSWER_DEADLINE_DAYS
from forms.survey_tokens import make_survey_token
from forms.identity_keys import IdentityError, load_office_key

__all__ = ["deadline_days", "follow_up_url", "survey_token"]


def survey_token(home: Path, office: str, today: date | None = None) -> str | None:
    """A fresh one-time survey token of ``office``, or None before the office has its sync
    key (``seda sync setup`` makes it)."""
    try:
        key = load_office_key(home)
    except IdentityError:
        return None
    if key is None:
        return None
    return make_survey_token(office, key, today=today or datetime.now(timezone.utc).date())


def follow_up_url(portal_url: str, office: str, tracking_code: str,
                  token: str | None = None) -> str:
    url = f"{portal_url.rstrip('/')}/f/{tracking_code}?o={quote(office)}"
    return url + (f"&s={token}" if token else "")


def deadline_days(case_type: str) -> int:
    """The working days the receipt promises (the centre's defaults; docs/portal.md)."""
    return ANSWER_DEADLINE_DAYS.get(case_type, 10)
