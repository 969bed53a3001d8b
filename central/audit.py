"""The audit log: who saw or changed what, and when.

Every view of a citizen's personal data, every answer, status change, assignment and note,
every administrative change and every sign-in (good or bad) is one row in ``audit_log``.
The log is append-only from the web app: no page edits or deletes a row, and the auditor
reads it through :func:`entries`.  Failed sign-ins are counted from here too
(:func:`count_since`), so login throttling holds across every server process on one store.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from sync.batch import format_time
from .db import audit as audit_rows
from .db.connection import Connection, Database

__all__ = ["OVERSIGHT_TARGET", "AuditEntry", "case_target", "count_since", "entries",
           "hide_misconduct", "record", "record_case_in", "record_in"]

_MAX_FIELD = 2000
#: The target of every entry about a misconduct report: which report, and whether it is named,
#: is not the auditor's to know (Article 9 clause 1).  Who looked, when, is still logged.
OVERSIGHT_TARGET = "case:oversight"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    detail: str


def record(store: Database, actor: str, action: str, target: str, detail: str = "", *,
           now: datetime | None = None) -> None:
    """Append one entry.  ``target`` names the thing (``case:<uuid>``, ``user:<name>``, ...)."""
    at = format_time(now or datetime.now(timezone.utc))
    with store.write() as db:
        record_in(db, actor, action, target, detail, at=at)


def record_in(conn: Connection, actor: str, action: str, target: str, detail: str = "", *,
              at: str) -> None:
    """Append one entry inside the caller's transaction: the change (or the reading) and its
    entry commit together, or neither does."""
    audit_rows.append(conn, at, actor[:200], action[:100], target[:_MAX_FIELD], detail[:_MAX_FIELD])


def record_case_in(conn: Connection, actor: str, action: str, case_uuid: str, misconduct: bool,
                   detail: str = "", *, at: str) -> None:
    """An entry about one case; one about a misconduct report names no report and says
    nothing of it (:data:`OVERSIGHT_TARGET`)."""
    record_in(conn, actor, action, case_target(case_uuid, misconduct), "" if misconduct else detail,
              at=at)


def entries(store: Database, *, actor: str | None = None, action: str | None = None,
            target: str | None = None, since: datetime | None = None, until: datetime | None = None,
            limit: int = 100, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries newest first and how many match in total.

    ``target`` matches a prefix (``case:`` lists every case entry), the rest exactly;
    ``since``/``until`` bound ``at`` (inclusive, exclusive).
    """
    where, params = _filters(actor=actor, action=action, target=target, since=since, until=until)
    with store.connect() as db:
        rows, total = audit_rows.entries(db, where, params, max(1, int(limit)), max(0, int(offset)))
    return [AuditEntry(*row) for row in rows], total


def actions(store: Database) -> list[str]:
    """The distinct actions seen so far (for the auditor's filter list)."""
    with store.connect() as db:
        return audit_rows.actions(db)


def count_since(store: Database, action: str, target: str, since: datetime) -> tuple[int, str | None]:
    """How many ``action`` entries about ``target`` since ``since``, and the oldest one's time."""
    with store.connect() as db:
        return audit_rows.count_since(db, action, target, format_time(since))


def _filters(**given: Any) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if given["actor"]:
        where.append("actor = ?")
        params.append(given["actor"])
    if given["action"]:
        where.append("action = ?")
        params.append(given["action"])
    if given["target"]:
        where.append("target LIKE ? ESCAPE '!'")
        escaped = given["target"].replace("!", "!!").replace("%", "!%").replace("_", "!_")
        params.append(escaped + "%")
    if given["since"] is not None:
        where.append("at >= ?")
        params.append(format_time(given["since"]))
    if given["until"] is not None:
        where.append("at < ?")
        params.append(format_time(given["until"]))
    return where, params


def case_target(case_uuid: str, misconduct: bool) -> str:
    """The audit target naming a case: ``case:<uuid>``, or :data:`OVERSIGHT_TARGET`."""
    return OVERSIGHT_TARGET if misconduct else f"case:{case_uuid}"


def hide_misconduct(store: Database, found: list[AuditEntry]) -> list[AuditEntry]:
    """``found`` with entries about misconduct reports written before targets were hidden
    shown as :data:`OVERSIGHT_TARGET`, without their detail."""
    uuids = sorted({e.target[5:] for e in found if e.target.startswith("case:")} - {"oversight"})
    if not uuids:
        return found
    with store.connect() as db:
        hidden = audit_rows.misconduct_cases(db, uuids)
    return [replace(e, target=OVERSIGHT_TARGET, detail="") if e.target[5:] in hidden else e
            for e in found]
