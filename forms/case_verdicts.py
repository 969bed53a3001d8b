""""Was it solved?" said at an office's kiosk: the ``case_verdict`` record, declared once.

The kiosk's follow-up screen asks, once an answer has come back, whether it solved the
problem; the answer travels to the centre as a ``case_verdict`` record (like any other
record: ledger, signed batch), and the centre gives it the same effect as the portal's
(central/verdicts.py): kept per unit, and "no" reopens the case with a new deadline.

The record names the case by its tracking code under the record's office (the pair is unique
at the centre) and the answer it judges by the time the centre stamped on it (``answered_at``,
the ``at`` of the ``answered`` case update), so a verdict that arrives after the case was
answered again is counted for the answer it was about and reopens nothing.
"""
from __future__ import annotations

from typing import Any

from .persian import normalize_input
from .responses import Field, RecordShape

__all__ = ["CASE_VERDICT", "MAX_COMMENT", "case_verdict"]

MAX_COMMENT = 1000

CASE_VERDICT = RecordShape("case_verdict", fields=(
    Field("tracking_code", (str,), True, "the case's tracking code (12 digits) at the record's office"),
    Field("answered_at", (str,), True, "the centre's time of the answer judged (its case update's at)"),
    Field("solved", (bool,), True, "true: the answer solved the problem; false: it did not (reopens)"),
    Field("comment", (str,), False, "what the citizen added (reaches the unit as an internal note)"),
    Field("channel", (str,), True, "where it was said", choices=("kiosk",)),
))


def case_verdict(*, tracking_code: str, answered_at: str, solved: bool,
                 comment: str = "") -> dict[str, Any]:
    """A checked ``case_verdict`` body; the comment in the one spelling, trimmed, bounded."""
    comment = normalize_input(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"a verdict's comment is at most {MAX_COMMENT} characters")
    body: dict[str, Any] = {"tracking_code": tracking_code, "answered_at": answered_at,
                            "solved": bool(solved), "channel": "kiosk"}
    if comment:
        body["comment"] = comment
    return CASE_VERDICT.check(body)
