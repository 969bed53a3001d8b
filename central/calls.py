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
from . import audit
from .db import rollups as rollup_rows
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
              include_done: bool = False, viewer: str | None = None) -> list[CallEntry]:
    """The month's entries (newest first), without the ones marked done unless asked.

    They carry visitors' mobile numbers: a list shown to a person (``viewer``) is an audit
    entry ``view_call_list`` saying what was asked and how many were shown."""
    A.refreshed(store)
    year, number = A.month_key(month)
    label = f"{year:04d}-{number:02d}"
    with store.connect() as db:
        rows = rollup_rows.call_rows(db, label, office, include_done=include_done)
    if viewer is not None:
        shown = [f"office={office}" if office else "", "done=1" if include_done else "",
                 f"shown={len(rows)}"]
        audit.record(store, viewer, "view_call_list", f"calls:{label}", " ".join(f for f in shown if f))
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
    """Mark one entry, audited as ``call_mark`` by ``actor``."""
    if status not in MARKS:
        raise CallListError(f"unknown call status {status!r}; choose from {', '.join(MARKS)}")
    A.refreshed(store)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.write() as db:
        if not rollup_rows.on_call_list(db, response):
            raise CallListError(f"response {response} is not on the call list")
        rollup_rows.set_call_mark(db, response, status, now, actor)
        audit.record_in(db, actor, "call_mark", f"survey_response:{response}", f"status={status}", at=now)
