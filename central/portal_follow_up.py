"""Reading a case on the portal: tracking code, plus the mobile's last four digits if one
was given, as the kiosk's follow-up screen asks (the service behind
central/portal/follow_pages.py; its queries are in central/db/public_cases.py and cases.py).

Any office's case can be followed here (a kiosk receipt's QR code leads here), not only the
portal's own.  What is shown is what the citizen may know: the status, the public steps and
answers the central office wrote (``case_events.public``), the deadline.  Never a name,
national ID or mobile number, never an internal note or the person who handled it.

A sealed misconduct report has no readable tracking code: it is found by its follow-up
locator (sync/follow_up.py: an Argon2id hash of the code salted with the office that took it),
which costs ~0.2 s, so only a code that names no ordinary case pays it, and the per-address
limits keep anyone from making the server pay it often.  Its history carries hours only and
no unit, like the kiosk's.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from forms.cases import normalize_tracking_code
from forms.tracking_codes import is_valid_tracking_code

from forms.follow_up import follow_up_locator
from . import casework, held_reports
from .db import cases, public_cases
from .portal_intake import PORTAL_OFFICE

__all__ = ["CaseView", "Step", "find_case"]


@dataclass(frozen=True)
class Step:
    at: str
    status: str
    text: str = ""


@dataclass(frozen=True)
class CaseView:
    case_uuid: str
    tracking_code: str
    office: str
    case_type: str
    status: str
    received_at: str
    due_at: str
    answered_at: str | None
    unit_fa: str | None
    unit_en: str | None
    sealed: bool
    steps: tuple[Step, ...] = field(default_factory=tuple)
    #: The citizen may say whether the current answer solved the problem.
    asks_verdict: bool = False
    #: What the citizen said about the current answer (True solved, False not), if anything.
    verdict: bool | None = None


@dataclass(frozen=True)
class Lookup:
    """``outcome`` is ``found``, ``unknown`` (no such case), ``wrong_digits`` or ``held`` (a
    misconduct report still waiting for its hour to end; ``held_until`` says when)."""

    outcome: str
    case: CaseView | None = None
    held_until: str | None = None


def _mobile_matches(body: dict, last4: str) -> bool:
    mobile = str(body.get("mobile") or "")
    if not mobile:
        return True
    given = normalize_tracking_code(last4 or "")
    return len(given) == 4 and mobile.endswith(given)


def _view(db, uuid: str, code: str, office: str, sealed: bool) -> CaseView | None:
    row = public_cases.case_progress(db, uuid)
    if row is None:
        return None
    case_type, status, received_at, due_at, answered_at, unit = row
    oversight = sealed or unit == casework.OVERSIGHT or case_type == "misconduct"
    events = cases.public_events(db, uuid)
    steps = [Step(received_at, "received")]
    for at, event, step_status, text in events:
        if event == "received":
            continue
        steps.append(Step(casework.hour_of(at) if oversight else at,
                          step_status or event, text or ""))
    names = None if oversight or not unit else cases.unit_names(db, unit).get(unit)
    verdict = cases.verdict_on(db, uuid, answered_at or "")
    return CaseView(
        case_uuid=uuid, tracking_code=code, office=office, case_type=case_type, status=status,
        received_at=received_at, due_at=due_at, answered_at=answered_at,
        unit_fa=names[0] if names and unit != casework.TRIAGE else None,
        unit_en=names[1] if names and unit != casework.TRIAGE else None,
        sealed=sealed, steps=tuple(steps),
        asks_verdict=status == "answered" and verdict is None and not oversight,
        verdict=verdict)


def find_case(store, tracking_code: str, last4: str, *, office: str | None = None) -> Lookup:
    """The case with this code (of ``office``, when the link names one)."""
    code = normalize_tracking_code(tracking_code or "")
    if not is_valid_tracking_code(code):
        return Lookup("unknown")
    with store.connect() as db:
        rows = public_cases.cases_to_follow(db, code, office)
        for uuid, case_office, body_text in rows:
            body = json.loads(body_text)
            if "sealed" in body:
                continue
            if not _mobile_matches(body, last4):
                continue
            view = _view(db, uuid, code, case_office, sealed=False)
            if view is not None:
                return Lookup("found", view)
        if rows:
            return Lookup("wrong_digits")
    locator_office = office or PORTAL_OFFICE
    locator = follow_up_locator(code, locator_office)
    held_reports.release_due(store)
    with store.connect() as db:
        until = held_reports.held_until(db, locator) if locator_office == PORTAL_OFFICE else None
        if until is not None:
            return Lookup("held", held_until=until)
        uuid = public_cases.case_with_locator(db, locator_office, locator)
        view = _view(db, uuid, code, locator_office, sealed=True) if uuid else None
    return Lookup("found", view) if view else Lookup("unknown")
