"""The call list: visitors who agreed in the survey to be called about their comment.

The survey asks «موافقم برای پیگیری نظرم با من تماس گرفته شود» next to an optional mobile
number; a promise made on the form is only kept if someone sees the answer.  Who is on the
list follows from the effective answers (``analysis_calls``, kept by the roll-ups: consent
"yes" and a mobile number, a person's review decision applied); what the central analyst did
about it is ``call_marks`` (schema step 5): called, not reachable, or done.  The web page
audits every view and every change (web/insight.py); nothing here is shown to any other role.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from forms.responses import effective_answers

from . import analysis as A
from .rollups import settled_in

__all__ = ["MARKS", "CallEntry", "CallListError", "call_list", "mark_call"]

#: What a call can be marked; an entry nobody marked yet is "new".
MARKS = ("called", "unreachable", "done")


class CallListError(ValueError):
    """A mark that cannot be made (unknown entry or status)."""


@dataclass(frozen=True)
class CallEntry:
    response: str
    office: str
    created_at: str
    mobile: str
    comment: str | None          # typed at a kiosk
    handwritten: str | None      # SHA-256 of a paper sheet's comment crop
    service: str | None
    status: str                  # new | called | unreachable | done
    updated_at: str | None
    updated_by: str | None


def call_list(store, month: str | tuple[int, int], *, office: str | None = None,
              include_done: bool = False) -> list[CallEntry]:
    """The month's entries (newest first), without the ones marked done unless asked."""
    A.refreshed(store)
    year, number = A.month_key(month)
    label = f"{year:04d}-{number:02d}"
    where, params = ["c.month = ?"], [label]
    if office:
        where.append("c.office = ?")
        params.append(office)
    if not include_done:
        where.append("(m.status IS NULL OR m.status <> 'done')")
    with store.connect() as db:
        rows = db.all("SELECT c.response, c.office, c.created_at, r.body, m.status, m.updated_at, m.updated_by"
                      " FROM analysis_calls c JOIN records r ON r.uuid = c.response"
                      " LEFT JOIN call_marks m ON m.response = c.response"
                      f" WHERE {' AND '.join(where)} ORDER BY c.created_at DESC, c.response", params)
    if not rows:
        return []
    import json

    decisions, _ = settled_in(store, *A.month_bounds(label), office)
    out = []
    for uuid, code, created_at, text, status, updated_at, updated_by in rows:
        body: dict[str, Any] = json.loads(text)
        answers = effective_answers(body, decisions.get(uuid, ()))
        comment = answers.get("comment")
        out.append(CallEntry(uuid, code, created_at, str(answers.get("mobile") or ""),
                             comment if isinstance(comment, str) and comment else None,
                             (body.get("attachments") or {}).get("comment")
                             if (body.get("writing") or {}).get("comment") else None,
                             answers.get("service") if isinstance(answers.get("service"), str) else None,
                             status or "new", updated_at, updated_by))
    return out


def mark_call(store, response: str, status: str, *, actor: str) -> None:
    """Mark one entry (the caller audits it)."""
    if status not in MARKS:
        raise CallListError(f"unknown call status {status!r}; choose from {', '.join(MARKS)}")
    A.refreshed(store)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.write() as db:
        if db.one("SELECT 1 FROM analysis_calls WHERE response = ?", (response,)) is None:
            raise CallListError(f"response {response} is not on the call list")
        db.execute("INSERT INTO call_marks (response, status, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT (response) DO UPDATE SET status = excluded.status,"
                   " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                   (response, status, now, actor))
