""""Was it solved?": the citizen's word on an answer, and what "no" does.

Once a case is answered, whoever holds its tracking code (and the mobile's last four digits,
if one was given) may say once per answer whether it solved the problem, with a comment.
"No" reopens the case in its unit (status ``in_progress``) with a new deadline counted in
working days from now, as for a new case of its type, so it is back in the unit's inbox and
is escalated if it runs late again; the comment reaches the unit as an internal note (it may
name people, so it is never sent back out).  Every verdict is kept in ``case_feedback`` by
unit, which gives the share of answers citizens accepted, per unit (:func:`acceptance_by_unit`).
The kiosk's follow-up screen asks too: its ``case_verdict`` records (forms/case_verdicts.py)
reach the centre in batches and :func:`apply_office_verdicts` gives them the same effect.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from forms.case_verdicts import CASE_VERDICT
from forms.cases import normalize_tracking_code
from forms.persian import normalize_input

from sync.batch import format_time
from . import casework
from .casework import Casework, CaseworkError
from .db import cases as case_rows
from .messages import MESSAGES

__all__ = ["MAX_COMMENT", "acceptance_by_unit", "apply_office_verdicts", "record_verdict"]

MAX_COMMENT = 1000
CHANNELS = ("portal", "kiosk")


def record_verdict(store, case_uuid: str, *, solved: bool, comment: str = "",
                   channel: str = "portal") -> casework.Case:
    """Keep the citizen's verdict on the case's current answer; reopen the case on "no"."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    comment = _comment(comment)
    work = Casework(store)
    with work.transaction() as (db, now):
        case = work.locked_case(db, case_uuid)
        if case.status != "answered" or not case.answered_at:
            raise CaseworkError("verdict_no_answer")
        if not _keep(db, case, case.answered_at, now, solved, comment, channel):
            raise CaseworkError("verdict_already_recorded")
        return case if solved else _reopen(store, work, db, case, now)


def _comment(comment: str) -> str:
    comment = normalize_input(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise CaseworkError("verdict_comment_too_long", n=MAX_COMMENT)
    return comment


def _keep(db, case: casework.Case, answered_at: str, now: str, solved: bool, comment: str,
          channel: str) -> bool:
    """The verdict on the answer of ``answered_at`` in ``case_feedback`` and the case's
    history; False when that answer already has one (the first word stands)."""
    added = case_rows.insert_verdict(db, case.uuid, case.unit, now, solved, comment or None,
                                     channel, answered_at)
    if added:
        casework.record_event(db, case.uuid, now, "citizen", "citizen_verdict",
                        text=_verdict_note(solved, comment))
    return bool(added)


def _verdict_note(solved: bool, comment: str) -> str:
    """The citizen's verdict as the case's history keeps it: in Persian, the units' language,
    whatever language the citizen answered in."""
    word = MESSAGES.text("verdict_note_solved" if solved else "verdict_note_unsolved", "fa")
    return f"{word}: {comment}" if comment else word


def _reopen(store, work: Casework, db, case: casework.Case, now: str) -> casework.Case:
    """Back to the unit's inbox with a new deadline, as a new case of its type."""
    days = casework.deadline_days_in(db)
    moment = datetime.now(timezone.utc)
    calendar = casework.work_calendar(db, moment.astimezone(casework.TEHRAN).date())
    due = format_time(calendar.deadline(moment, int(days.get(case.case_type, 10))))
    updated = work.set_case(db, case, now, status="in_progress", answered_at=None,
                        due_at=due, escalated_at=None, closed_at=None)
    casework.record_event(db, case.uuid, now, "citizen", "reopened", status="in_progress",
                    unit=case.unit, public=True)
    casework.publish_update(db, updated, "in_progress", now)
    return updated


def apply_office_verdicts(store, db, records, now: str) -> int:
    """Give the ``case_verdict`` records of a batch (said at an office's kiosk) the portal's
    effect, inside the batch's transaction; returns how many were kept.

    The case is the one with the record's tracking code at the record's office.  A verdict
    on the case's current answer is kept and "no" reopens it; one on an answer since
    replaced (the case was answered again, or reopened from the portal) is kept for that
    answer and reopens nothing; a second verdict on one answer, a malformed body or an
    unknown case changes nothing (the record itself stays stored, like every record).
    """
    kept = 0
    work = Casework(store)
    for record in records:
        if record.kind != "case_verdict" or CASE_VERDICT.problems(record.body):
            continue
        body = record.body
        found = case_rows.case_row_for_code(db, record.office,
                                            normalize_tracking_code(body["tracking_code"]), lock=True)
        if found is None:
            continue
        case = work.locked_case(db, found)
        try:
            comment = _comment(body.get("comment") or "")
        except CaseworkError:
            continue
        current = case.status == "answered" and case.answered_at == body["answered_at"]
        if not current:
            if not case_rows.has_answer_at(db, case.uuid, body["answered_at"]):
                continue
        if not _keep(db, case, body["answered_at"], now, body["solved"], comment, "kiosk"):
            continue
        kept += 1
        if current and not body["solved"]:
            _reopen(store, work, db, case, now)
    return kept


def acceptance_by_unit(store, *, since: str | None = None,
                       until: str | None = None) -> dict[str, dict[str, Any]]:
    """Per unit: answers citizens judged, how many they accepted, and the share accepted
    (``None`` when none was judged); ``since``/``until`` bound when they judged (UTC text)."""
    with store.connect() as db:
        rows = case_rows.verdicts_by_unit(db, since, until)
    return {unit: {"judged": int(n), "accepted": int(ok or 0),
                   "share": round(int(ok or 0) / int(n), 4) if n else None}
            for unit, n, ok in rows}
