""""Was it solved?" at the kiosk's follow-up screen: which answer may be judged, and keeping
the visitor's word as a ``case_verdict`` record (forms/case_verdicts.py) for the centre.

Only the answer the centre sent last is asked about, once: a second verdict on it (the same
visitor coming back, or someone else holding the code) is refused here, and the centre keeps
the first one anyway.  A sealed misconduct report is never asked (as on the portal).
"""
from __future__ import annotations

from ledger import Ledger, Record
from ledger.centre_sent import CentreSent
from forms.case_verdicts import case_verdict

__all__ = ["judged", "judgeable_answer", "keep_verdict"]


def judgeable_answer(ledger: Ledger, case: Record) -> str | None:
    """The centre's time of the case's current answer (its last update is ``answered``), or None."""
    if case is None or "follow_up" in case.body or "sealed" in case.body:
        return None
    updates = CentreSent(ledger).pulled_case_updates(case.body["tracking_code"])
    if not updates:
        return None
    last = max(updates, key=lambda body: str(body.get("at") or ""))
    at = last.get("at")
    return at if last.get("status") == "answered" and isinstance(at, str) and at else None


def judged(ledger: Ledger, tracking_code: str, answered_at: str) -> bool | None:
    """What was said here about that answer (True solved, False not), or None."""
    for record in reversed(ledger.find("case_verdict", "tracking_code", tracking_code)):
        if record.body.get("answered_at") == answered_at:
            return bool(record.body.get("solved"))
    return None


def keep_verdict(ledger: Ledger, case: Record, *, office: str, answered_at: str, solved: bool,
                 comment: str = "") -> Record | None:
    """Append the verdict (None when that answer was already judged here)."""
    code = case.body["tracking_code"]
    body = case_verdict(tracking_code=code, answered_at=answered_at, solved=solved, comment=comment)
    with ledger.transaction():
        if judged(ledger, code, answered_at) is not None:
            return None
        return ledger.append("case_verdict", body, office=office)
