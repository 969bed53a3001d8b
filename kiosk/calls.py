"""The office manager's call list: visitors who agreed in the survey to be called back.

Who is on it follows from the effective answers (:func:`forms.responses.response_facts`:
consent "yes" and a mobile number, a person's review decision applied), exactly as the central
office's list.  What the manager did about it is an ``audit`` record in the ledger
(``{"event": "call_mark", "response", "status", "by"}``), as is every look at the list
(``call_list_view``): the ledger is append-only, so the history of marks is the audit trail.
Pure functions over ledger records; the staff page (kiosk/staff.py) writes the records.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from forms.responses import Decision, effective_answers
from ledger.ledger import Record

from .dashboard import counted_responses

__all__ = ["MARKS", "CallEntry", "call_entries", "marks_from"]

MARKS = ("called", "unreachable", "done")


@dataclass(frozen=True)
class CallEntry:
    response: str
    created_at: datetime
    mobile: str
    comment: str | None         # typed at the kiosk
    handwritten: str | None     # SHA-256 of the sheet's comment crop
    status: str                 # new | called | unreachable | done
    marked_by: str | None


def marks_from(audits: Iterable[Record]) -> dict[str, tuple[str, str]]:
    """Response uuid -> (status, by) of its latest call mark."""
    found: dict[str, tuple[str, str]] = {}
    for record in audits:
        body = record.body
        if body.get("event") == "call_mark" and body.get("status") in MARKS:
            found[str(body.get("response"))] = (body["status"], str(body.get("by") or ""))
    return found


def call_entries(responses: Iterable[Record], decisions: Iterable[Record], audits: Iterable[Record], *,
                 include_done: bool = False) -> list[CallEntry]:
    """Everyone to call back, newest first (those marked done only if asked)."""
    decisions = list(decisions)
    by_response: dict[str, list[Decision]] = {}
    for record in decisions:
        decision = Decision.from_record(record.uuid, record.created_at, record.body)
        by_response.setdefault(decision.response, []).append(decision)
    marks = marks_from(audits)
    out = []
    for record, facts in counted_responses(responses, decisions):
        if not facts.call_back:
            continue
        status, by = marks.get(record.uuid, ("new", None))
        if status == "done" and not include_done:
            continue
        answers = effective_answers(record.body, by_response.get(record.uuid, ()))
        comment = answers.get("comment")
        body = record.body
        crop = ((body.get("attachments") or {}).get("comment")
                if (body.get("writing") or {}).get("comment") else None)
        out.append(CallEntry(record.uuid, record.created_at, str(answers.get("mobile")),
                             comment if isinstance(comment, str) and comment else None,
                             crop, status, by))
    out.sort(key=lambda e: e.created_at, reverse=True)
    return out
