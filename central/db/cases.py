"""Cases and what hangs on them: units, routing rules, holidays, case events, citizens' verdicts.

The queries behind casework (central/casework.py) and the citizens' verdicts
(central/verdicts.py).  Rows come back as tuples in :data:`CASE_COLUMNS` order; the
services turn them into their own types and keep every rule (what may change when, who is
told): nothing here decides.  Functions that hold a row until the transaction ends say so
(``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already excludes other writers).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .connection import Connection, chunks

__all__ = [
    "CASE_COLUMNS", "CaseFilter", "active_unit_codes", "add_holiday", "add_rule", "answered_times", "case",
    "case_body_text", "case_count", "cases_by_type", "month_outcomes",
    "case_duplicate_keys", "case_events", "case_row_for_code", "cases", "cases_by_person",
    "cases_with_similar_text", "delete_holiday", "delete_rule", "escalate", "has_answer_at",
    "holiday_days", "holidays_between", "insert_case_events", "insert_cases", "insert_event",
    "insert_verdict", "is_oversight_case", "known_case_uuids", "last_event_id", "lock_case",
    "open_case_in_unit", "overdue_cases", "public_events", "rule_exists", "rules",
    "set_case_columns", "set_operator_status", "set_sent_status", "set_unit_active",
    "unit_heads", "unit_kind", "unit_names", "unit_state", "units", "unknown_case_records",
    "upsert_unit", "user_unit", "uuids_in_unit", "verdict_on", "verdicts_by_unit",
]

#: The columns of a case row, in the order :func:`case` and friends return them.
CASE_COLUMNS = ("uuid, office, tracking_code, case_type, service, unit, status, assignee, received_at,"
                " due_at, answered_at, closed_at, escalated_at, updated_at, duplicate_of")
_CASE_NAMES = tuple(CASE_COLUMNS.replace(" ", "").split(","))
_EVENT_COLUMNS = "id, case_uuid, at, actor, event, status, unit, assignee, text, public"


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _for_update(conn: Connection, *, skip_locked: bool = False) -> str:
    if conn.dialect != "postgresql":
        return ""
    return " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"


# -- units ---------------------------------------------------------------------------------------


def units(conn: Connection, *, include_inactive: bool = False) -> list[tuple]:
    """``(code, name_fa, name_en, kind, head, active)``: specialist units first, then by code."""
    sql = "SELECT code, name_fa, name_en, kind, head, active FROM units"
    if not include_inactive:
        sql += " WHERE active = 1"
    return conn.all(sql + " ORDER BY kind DESC, code")


def active_unit_codes(conn: Connection) -> set[str]:
    """The active specialist units (what routing may send a case to)."""
    return {row[0] for row in conn.all("SELECT code FROM units WHERE active = 1 AND kind = 'unit'")}


def unit_kind(conn: Connection, code: str) -> str | None:
    row = conn.one("SELECT kind FROM units WHERE code = ?", (code,))
    return None if row is None else row[0]


def unit_state(conn: Connection, code: str) -> tuple[str, bool] | None:
    """``(kind, active)`` of unit ``code``, or None."""
    row = conn.one("SELECT kind, active FROM units WHERE code = ?", (code,))
    return None if row is None else (row[0], bool(row[1]))


def unit_names(conn: Connection, code: str | None = None) -> dict[str, tuple[str, str]]:
    """``{code: (name_fa, name_en)}`` of every unit (or of ``code`` alone)."""
    if code is None:
        rows = conn.all("SELECT code, name_fa, name_en FROM units")
    else:
        rows = conn.all("SELECT code, name_fa, name_en FROM units WHERE code = ?", (code,))
    return {c: (fa, en) for c, fa, en in rows}


def unit_heads(conn: Connection) -> dict[str, str | None]:
    return dict(conn.all("SELECT code, head FROM units"))


def upsert_unit(conn: Connection, code: str, name_fa: str, name_en: str, head: str | None,
                now: str) -> None:
    """Create an ordinary unit, or rename it and set its head."""
    conn.execute("INSERT INTO units (code, name_fa, name_en, kind, head, active, created_at)"
                 " VALUES (?, ?, ?, 'unit', ?, 1, ?) ON CONFLICT (code) DO UPDATE SET"
                 " name_fa = excluded.name_fa, name_en = excluded.name_en, head = excluded.head",
                 (code, name_fa, name_en, head, now))


def set_unit_active(conn: Connection, code: str, active: bool) -> None:
    conn.execute("UPDATE units SET active = ? WHERE code = ?", (1 if active else 0, code))


def open_case_in_unit(conn: Connection, unit: str, closed: Sequence[str]) -> bool:
    """Whether ``unit`` holds a case whose status is not in ``closed``."""
    return conn.one(f"SELECT 1 FROM cases WHERE unit = ? AND status NOT IN ({_marks(closed)})"
                    " LIMIT 1", (unit, *closed)) is not None


def user_unit(conn: Connection, name: str) -> tuple[str | None, bool] | None:
    """``(unit, disabled)`` of user ``name``, or None."""
    row = conn.one("SELECT unit, disabled FROM users WHERE name = ?", (name,))
    return None if row is None else (row[0], bool(row[1]))


# -- routing rules ---------------------------------------------------------------------------------


def rules(conn: Connection) -> list[tuple]:
    """``(id, case_type, service, office, unit)`` in the order they were made."""
    return conn.all("SELECT id, case_type, service, office, unit FROM routing_rules ORDER BY id")


def rule_exists(conn: Connection, case_type: str | None, service: str | None,
                office: str | None) -> bool:
    return conn.one("SELECT 1 FROM routing_rules WHERE case_type IS NOT DISTINCT FROM ? AND"
                    " service IS NOT DISTINCT FROM ? AND office IS NOT DISTINCT FROM ?",
                    (case_type, service, office)) is not None


def add_rule(conn: Connection, case_type: str | None, service: str | None, office: str | None,
             unit: str, actor: str, now: str) -> int:
    """The new rule's id."""
    return conn.one("INSERT INTO routing_rules (case_type, service, office, unit, created_by,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (case_type, service, office, unit, actor, now))[0]


def delete_rule(conn: Connection, rule_id: int) -> bool:
    """False when there was no such rule."""
    return bool(conn.execute("DELETE FROM routing_rules WHERE id = ?", (int(rule_id),)).rowcount)


# -- holidays ------------------------------------------------------------------------------------


def holiday_days(conn: Connection, first: str | None = None, last: str | None = None) -> list[str]:
    """The added holidays (ISO dates), all or those from ``first`` to ``last`` inclusive."""
    if first is None or last is None:
        return [row[0] for row in conn.all("SELECT day FROM holidays")]
    return [row[0] for row in conn.all("SELECT day FROM holidays WHERE day >= ? AND day <= ?",
                                       (first, last))]


def holidays_between(conn: Connection, start: str, end: str) -> list[tuple[str, str]]:
    """``(day, name)`` of the added holidays from ``start`` up to (not including) ``end``."""
    return conn.all("SELECT day, name FROM holidays WHERE day >= ? AND day < ?", (start, end))


def add_holiday(conn: Connection, day: str, name: str, actor: str, now: str) -> None:
    conn.execute("INSERT INTO holidays (day, name, added_by, added_at) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (day) DO UPDATE SET name = excluded.name", (day, name, actor, now))


def delete_holiday(conn: Connection, day: str) -> None:
    conn.execute("DELETE FROM holidays WHERE day = ?", (day,))


# -- cases -----------------------------------------------------------------------------------------


def known_case_uuids(conn: Connection, uuids: Sequence[str]) -> set[str]:
    """Which of ``uuids`` already have their case row."""
    known: set[str] = set()
    for chunk in chunks(uuids):
        known.update(row[0] for row in conn.all(
            f"SELECT uuid FROM cases WHERE uuid IN ({_marks(chunk)})", chunk))
    return known


def insert_cases(conn: Connection, rows: Iterable[Sequence[Any]]) -> int:
    """Insert new case rows: ``(uuid, office, tracking_code, case_type, service, unit, status,
    received_at, due_at, updated_at, person_key, text_key)``; how many were new."""
    return conn.executemany(
        f"INSERT INTO cases ({CASE_COLUMNS}, person_key, text_key) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, NULL, ?, NULL, ?, ?)"
        " ON CONFLICT (uuid) DO NOTHING", rows)


def unknown_case_records(conn: Connection, limit: int = 1000) -> list[tuple]:
    """``(uuid, office, kind, created_at, body)`` of case records without a case row yet."""
    return conn.all("SELECT r.uuid, r.office, r.kind, r.created_at, r.body FROM records r"
                    " WHERE r.kind = 'case' AND NOT EXISTS"
                    " (SELECT 1 FROM cases c WHERE c.uuid = r.uuid) ORDER BY r.id LIMIT ?", (limit,))


def case(conn: Connection, uuid: str, *, lock: bool = False) -> tuple | None:
    """The case row of ``uuid``; ``lock`` holds it until the transaction ends."""
    tail = _for_update(conn) if lock else ""
    return conn.one(f"SELECT {CASE_COLUMNS} FROM cases WHERE uuid = ?{tail}", (str(uuid),))


def lock_case(conn: Connection, uuid: str) -> None:
    """Hold the case row of ``uuid`` until the transaction ends (PostgreSQL)."""
    if conn.dialect == "postgresql":
        conn.execute("SELECT 1 FROM cases WHERE uuid = ? FOR UPDATE", (uuid,))


def case_row_for_code(conn: Connection, office: str, tracking_code: str, *,
                      lock: bool = False) -> str | None:
    """The UUID of ``office``'s case with ``tracking_code`` that is no misconduct report."""
    tail = _for_update(conn) if lock else ""
    row = conn.one("SELECT uuid FROM cases WHERE office = ? AND tracking_code = ?"
                   " AND case_type <> 'misconduct' AND unit <> 'oversight'" + tail,
                   (office, tracking_code))
    return None if row is None else row[0]


def is_oversight_case(conn: Connection, uuid: str) -> bool:
    return conn.one("SELECT 1 FROM cases WHERE uuid = ? AND (case_type = 'misconduct'"
                    " OR unit = 'oversight')", (uuid,)) is not None


@dataclass(frozen=True)
class CaseFilter:
    """Which cases an inbox lists; the service fills it in (what counts as closed, the moment
    a deadline passes, a tracking code normalised).

    ``units``: ``None`` every unit, empty none.  ``status``: ``None`` or ``"open"`` (not in
    ``closed``), ``"overdue"`` (open and due before ``now``), ``"escalated"`` (open and
    escalated), ``"all"``, or one status.  The other fields, when given (``tracking_code``:
    when not ``None``), must equal."""

    closed: Sequence[str]
    units: Sequence[str] | None = None
    status: str | None = None
    now: str | None = None
    assignee: str | None = None
    office: str | None = None
    case_type: str | None = None
    service: str | None = None
    tracking_code: str | None = None


def _where(found: CaseFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if found.units is not None:
        if not found.units:
            return "1 = 0", []
        where.append(f"unit IN ({','.join('?' * len(found.units))})")
        params += list(found.units)
    closed = ",".join("?" * len(found.closed))
    if found.status in (None, "open"):
        where.append(f"status NOT IN ({closed})")
        params += list(found.closed)
    elif found.status == "overdue":
        where.append(f"status NOT IN ({closed}) AND due_at < ?")
        params += [*found.closed, found.now]
    elif found.status == "escalated":
        where.append(f"status NOT IN ({closed}) AND escalated_at IS NOT NULL")
        params += list(found.closed)
    elif found.status != "all":
        where.append("status = ?")
        params.append(found.status)
    for column, value in (("assignee", found.assignee), ("office", found.office),
                          ("case_type", found.case_type), ("service", found.service)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if found.tracking_code is not None:
        where.append("tracking_code = ?")
        params.append(found.tracking_code)
    return " AND ".join(where) or "1 = 1", params


def cases(conn: Connection, found: CaseFilter, limit: int, offset: int) -> list[tuple]:
    """Case rows matching ``found``, earliest deadline first."""
    where, params = _where(found)
    return conn.all(f"SELECT {CASE_COLUMNS} FROM cases WHERE {where} ORDER BY due_at, uuid"
                    " LIMIT ? OFFSET ?", [*params, limit, offset])


def uuids_in_unit(conn: Connection, unit: str) -> set[str]:
    """Every case now in ``unit``, open or closed."""
    return {row[0] for row in conn.all("SELECT uuid FROM cases WHERE unit = ?", (unit,))}


def case_count(conn: Connection, found: CaseFilter) -> int:
    where, params = _where(found)
    return conn.one(f"SELECT count(*) FROM cases WHERE {where}", params)[0]


def set_case_columns(conn: Connection, uuid: str, changes: Mapping[str, Any]) -> None:
    """Set the given columns (names from :data:`CASE_COLUMNS`) of one case."""
    unknown = set(changes) - set(_CASE_NAMES)
    if unknown:
        raise ValueError(f"not a case column: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = ?" for column in changes)
    conn.execute(f"UPDATE cases SET {assignments} WHERE uuid = ?", (*changes.values(), uuid))


def set_sent_status(conn: Connection, uuid: str, status: str, at: str, answered_at: str | None,
                    closed_at: str | None, now: str) -> None:
    """A backfilled case takes the status its office was sent, escalated (``now``) only when
    its deadline had passed already."""
    conn.execute("UPDATE cases SET status = ?, updated_at = ?, answered_at = ?, closed_at = ?,"
                 " escalated_at = CASE WHEN due_at < ? THEN ? ELSE NULL END WHERE uuid = ?",
                 (status, at, answered_at, closed_at, now, now, uuid))


def set_operator_status(conn: Connection, uuid: str, status: str, now: str,
                        answered_at: str | None) -> None:
    """The operator's override: a new status, closed now when it is ``closed``."""
    conn.execute("UPDATE cases SET status = ?, updated_at = ?, answered_at = ?,"
                 " closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END WHERE uuid = ?",
                 (status, now, answered_at, status, now, uuid))


def overdue_cases(conn: Connection, moment: str, closed: Sequence[str], limit: int = 1000) -> list[tuple]:
    """Open cases past their deadline not yet escalated, held until the transaction ends
    (PostgreSQL skips rows another process holds)."""
    return conn.all(f"SELECT {CASE_COLUMNS} FROM cases WHERE due_at < ? AND escalated_at IS NULL"
                    f" AND status NOT IN ({_marks(closed)}) ORDER BY due_at LIMIT ?"
                    f"{_for_update(conn, skip_locked=True)}", (moment, *closed, limit))


def escalate(conn: Connection, uuid: str, stamp: str) -> bool:
    """Mark the case escalated; False when another transaction did first."""
    return bool(conn.execute("UPDATE cases SET escalated_at = ?, updated_at = ? WHERE uuid = ?"
                             " AND escalated_at IS NULL", (stamp, stamp, uuid)).rowcount)


def case_duplicate_keys(conn: Connection, uuid: str) -> tuple | None:
    """``(person_key, text_key, service, received_at, case_type, unit)`` of one case."""
    return conn.one("SELECT person_key, text_key, service, received_at, case_type, unit"
                    " FROM cases WHERE uuid = ?", (str(uuid),))


def _wall(misconduct: bool) -> str:
    return ("(case_type = 'misconduct' OR unit = 'oversight')" if misconduct
            else "(case_type <> 'misconduct' AND unit <> 'oversight')")


def _scope(units: Sequence[str] | None) -> tuple[str, list[str]]:
    if units is None:
        return "", []
    return f" AND unit IN ({_marks(units)})", list(units)


def cases_by_person(conn: Connection, person_key: str, uuid: str, *, misconduct: bool,
                    units: Sequence[str] | None, limit: int) -> list[tuple]:
    """Other cases of the same person on the same side of the misconduct wall, newest first."""
    scope, scope_params = _scope(units)
    return conn.all(f"SELECT {CASE_COLUMNS} FROM cases WHERE person_key = ? AND uuid <> ?"
                    f" AND {_wall(misconduct)}{scope} ORDER BY received_at DESC LIMIT ?",
                    (person_key, uuid, *scope_params, limit))


def cases_with_similar_text(conn: Connection, uuid: str, service: str | None, case_type: str,
                            window: tuple[str, str], *, misconduct: bool,
                            units: Sequence[str] | None, limit: int) -> list[tuple]:
    """Candidates for a near-identical text: case rows plus their ``text_key``, of the same
    service (or, without one, the same type) received within ``window``."""
    scope, scope_params = _scope(units)
    same_service = "service = ?" if service else "service IS NULL AND case_type = ?"
    return conn.all(f"SELECT {CASE_COLUMNS}, text_key FROM cases WHERE {same_service}"
                    f" AND uuid <> ? AND received_at BETWEEN ? AND ? AND text_key <> ''"
                    f" AND {_wall(misconduct)}{scope} ORDER BY received_at DESC LIMIT ?",
                    (service or case_type, uuid, *window, *scope_params, limit))


# -- case events ---------------------------------------------------------------------------------


def insert_event(conn: Connection, case_uuid: str, at: str, actor: str, event: str, *,
                 status: str | None = None, unit: str | None = None, assignee: str | None = None,
                 text: str | None = None, public: bool = False) -> None:
    conn.execute("INSERT INTO case_events (case_uuid, at, actor, event, status, unit, assignee, text,"
                 " public) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (case_uuid, at, actor, event, status, unit, assignee, text, 1 if public else 0))


def insert_case_events(conn: Connection, rows: Iterable[Sequence[Any]]) -> None:
    """``(case_uuid, at, actor, event, status, unit, public)`` rows."""
    conn.executemany("INSERT INTO case_events (case_uuid, at, actor, event, status, unit, public)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def last_event_id(conn: Connection, case_uuid: str) -> int:
    return conn.one("SELECT max(id) FROM case_events WHERE case_uuid = ?", (case_uuid,))[0]


def case_events(conn: Connection, case_uuid: str) -> list[tuple]:
    """Every event of the case (:data:`_EVENT_COLUMNS`), oldest first."""
    return conn.all(f"SELECT {_EVENT_COLUMNS} FROM case_events WHERE case_uuid = ? ORDER BY id",
                    (str(case_uuid),))


def public_events(conn: Connection, case_uuid: str) -> list[tuple]:
    """``(at, event, status, text)`` of the events the citizen may see, oldest first."""
    return conn.all("SELECT at, event, status, text FROM case_events WHERE case_uuid = ?"
                    " AND public = 1 ORDER BY id", (case_uuid,))


def has_answer_at(conn: Connection, case_uuid: str, at: str) -> bool:
    return conn.one("SELECT 1 FROM case_events WHERE case_uuid = ? AND event = 'answer'"
                    " AND at = ?", (case_uuid, at)) is not None


# -- citizens' verdicts --------------------------------------------------------------------------


def insert_verdict(conn: Connection, case_uuid: str, unit: str, at: str, solved: bool,
                   comment: str | None, channel: str, answered_at: str) -> bool:
    """Keep the verdict on the answer of ``answered_at``; False when it has one already."""
    return bool(conn.execute(
        "INSERT INTO case_feedback (case_uuid, unit, at, solved, comment, channel,"
        " answered_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
        " (case_uuid, answered_at) DO NOTHING",
        (case_uuid, unit, at, 1 if solved else 0, comment, channel, answered_at)).rowcount)


def verdict_on(conn: Connection, case_uuid: str, answered_at: str) -> bool | None:
    """Whether the citizen found the answer of ``answered_at`` solved it; None: not said."""
    row = conn.one("SELECT solved FROM case_feedback WHERE case_uuid = ? AND answered_at = ?",
                   (case_uuid, answered_at))
    return None if row is None else bool(row[0])


def verdicts_by_unit(conn: Connection, since: str | None = None,
                     until: str | None = None) -> list[tuple[str, int, int | None]]:
    """``(unit, judged, solved)`` of the verdicts given from ``since`` until ``until``."""
    where, params = [], []
    if since:
        where.append("at >= ?")
        params.append(since)
    if until:
        where.append("at < ?")
        params.append(until)
    sql = "SELECT unit, count(*), sum(solved) FROM case_feedback"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return conn.all(sql + " GROUP BY unit ORDER BY unit", params)


def case_body_text(conn: Connection, uuid: str) -> str | None:
    """The stored body (JSON text) of the case record ``uuid``, or None."""
    row = conn.one("SELECT body FROM records WHERE uuid = ? AND kind = 'case'", (str(uuid),))
    return None if row is None else row[0]


# -- monthly figures -----------------------------------------------------------------------------


def _office_scope(office: str | None, params: list[Any]) -> str:
    if office is None:
        return ""
    params.append(office)
    return " AND office = ?"


def cases_by_type(conn: Connection, start: str, end: str, office: str | None) -> dict[str, int]:
    """How many cases of each type were received from ``start`` until ``end``."""
    params: list[Any] = [start, end]
    scope = _office_scope(office, params)
    return {k or "": n for k, n in conn.all(
        f"SELECT case_type, count(*) FROM cases WHERE received_at >= ? AND received_at < ?{scope}"
        " GROUP BY 1", params)}


def month_outcomes(conn: Connection, start: str, end: str, office: str | None,
                   closed: Sequence[str], now: str) -> list[tuple]:
    """Per (unit, office, case type) of the cases received from ``start`` until ``end``:
    ``(unit, office, case_type, received, answered_on_time, answered_late,
    closed_unanswered, open, open_overdue)``."""
    marks = _marks(closed)
    params: list[Any] = [*closed, *closed, *closed, now, start, end]
    scope = _office_scope(office, params)
    return conn.all(
        "SELECT unit, office, case_type, count(*),"
        " sum(CASE WHEN answered_at IS NOT NULL AND answered_at <= due_at THEN 1 ELSE 0 END),"
        " sum(CASE WHEN answered_at IS NOT NULL AND answered_at > due_at THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN answered_at IS NULL AND status IN ({marks}) THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN answered_at IS NULL AND status NOT IN ({marks}) THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN answered_at IS NULL AND status NOT IN ({marks}) AND due_at < ? THEN 1 ELSE 0 END)"
        f" FROM cases WHERE received_at >= ? AND received_at < ?{scope} GROUP BY unit, office, case_type",
        params)


def answered_times(conn: Connection, start: str, end: str, office: str | None) -> list[tuple]:
    """``(unit, office, received_at, answered_at)`` of the answered cases received from
    ``start`` until ``end``."""
    params: list[Any] = [start, end]
    scope = _office_scope(office, params)
    return conn.all("SELECT unit, office, received_at, answered_at FROM cases WHERE received_at >= ?"
                    f" AND received_at < ? AND answered_at IS NOT NULL{scope}", params)
