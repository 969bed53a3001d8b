"""Writing the roll-up tables (schema.py's ``ROLLUPS`` and the derived tables beside them):
the statements of the fold that keeps them current.

central/rollups.py decides what to fold and what each response adds (its effective answers);
these functions only read and write rows.  The fold runs over millions of records, so the
statements are few and batched: ``IN (...)`` lists of :data:`~.connection.IN_CHUNK` values,
one ``executemany`` per table and chunk, sums written in key order.  Reading the roll-ups for
the figures is central/db/rollups.py.

A ``folded`` condition (:func:`counted_up_to`, :data:`NOT_PENDING`) is SQL true for a
``records`` row ``r`` whose response is already in the roll-ups; the service passes the one
this module gave it back to :func:`folded_responses`.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .connection import Connection, chunks
from .schema import (COUNTERS, FOLDED_COUNTER, FOLDED_KINDS, ROLLUPS, VERSION_COUNTER,
                     rollup_drop_statements, rollup_statements)

__all__ = ["ANSWERS", "DAYS", "DECISION_COLUMNS", "MATCHED", "MATCHED_DAYS", "NOT_PENDING", "SUMMED",
           "WAITING", "add_decisions", "add_replaced", "add_sums", "analyze", "any_pending",
           "big_cache", "counted_up_to", "create_rollups", "decision_rows", "drop_rollups",
           "duplicates_among", "folded_responses", "folded_up_to", "forget_pending", "last_record_id",
           "pending_ids", "records_after", "records_by_id", "replace_duplicates", "replaced_among",
           "rollup_counters", "set_folded_up_to", "settled_decision_rows", "sqlite_state",
           "uncounted_created", "update_calls", "version_counter", "waiting_after"]

#: The keys of the other summed tables (``ROLLUPS`` holds the two with :data:`COUNTERS`).
ANSWERS = ("month", "office", "source", "question", "value")
WAITING = ("month", "office", "service", "value")
DAYS = ("day", "office", "source")
MATCHED_DAYS = ("day", "office", "service")
MATCHED = ("matched_n", "matched_yes", "matched_partly")
#: Every summed table: its keys, its counters, and when a row of it is empty (never kept).
SUMMED = {"analysis_by_desk": (ROLLUPS["analysis_by_desk"], COUNTERS, "responses = 0"),
          "analysis_by_service": (ROLLUPS["analysis_by_service"], COUNTERS, "responses = 0"),
          "analysis_answers": (ANSWERS, ("n", "pending"), "n = 0 AND pending = 0"),
          "analysis_waiting": (WAITING, ("n",), "n = 0"),
          "analysis_by_day": (DAYS, ("responses",), "responses = 0"),
          "analysis_matched_by_day": (MATCHED_DAYS, MATCHED, "matched_n = 0")}
#: The columns of an ``analysis_decisions`` row, in the order :func:`decision_rows` returns them.
DECISION_COLUMNS = "uuid, response, item, question, value, replaces, at"
_ANALYZED = (*ROLLUPS, "analysis_answers", "analysis_waiting", "analysis_by_day", "analysis_matched_by_day")
_FOLDED = FOLDED_COUNTER
_VERSION_KEY = VERSION_COUNTER


def _kinds_sql() -> str:
    return "(" + ", ".join(f"'{k}'" for k in FOLDED_KINDS) + ")"


# -- the roll-ups' state and shape ----------------------------------------------------------------


def sqlite_state(conn: Connection) -> tuple[Any, Any, Any]:
    """SQLite, in one query: ``(version, folded up to, records waiting)``."""
    return conn.one(
        f"SELECT (SELECT value FROM counters WHERE name = '{_VERSION_KEY}'),"
        f" (SELECT value FROM counters WHERE name = '{_FOLDED}'),"
        f" EXISTS (SELECT 1 FROM records WHERE id > COALESCE((SELECT value FROM counters"
        f" WHERE name = '{_FOLDED}'), 9223372036854775807) AND +kind IN {_kinds_sql()})")


def version_counter(conn: Connection) -> Any:
    """The roll-ups' version (``None``: none made)."""
    row = conn.one(f"SELECT value FROM counters WHERE name = '{_VERSION_KEY}'")
    return row[0] if row else None


def folded_up_to(conn: Connection) -> Any:
    """SQLite: the last record id folded (``None``: no roll-ups)."""
    row = conn.one(f"SELECT value FROM counters WHERE name = '{_FOLDED}'")
    return row[0] if row else None


def rollup_counters(conn: Connection) -> dict[str, Any]:
    """The counters rows of the roll-ups present: version and (SQLite) folded up to."""
    return dict(conn.all(f"SELECT name, value FROM counters WHERE name IN ('{_VERSION_KEY}', '{_FOLDED}')"))


def create_rollups(conn: Connection, dialect: str) -> None:
    for statement in rollup_statements(dialect):
        conn.script(statement)  # no placeholders: '$$' passes untouched


def drop_rollups(conn: Connection, dialect: str) -> None:
    """Remove the derived tables; the call list's marks (``call_marks``) are kept."""
    for statement in rollup_drop_statements(dialect):
        conn.script(statement)


def analyze(conn: Connection) -> None:
    """Fresh planner statistics for the summed tables (after a rebuild)."""
    for table in _ANALYZED:
        conn.script(f"ANALYZE {table}")


@contextmanager
def big_cache(conn: Connection, kib: int) -> Iterator[None]:
    """SQLite: a page cache of ``kib`` KiB while the block runs."""
    before = conn.one("PRAGMA cache_size")[0]
    conn.script(f"PRAGMA cache_size = -{kib}")
    try:
        yield
    finally:
        conn.script(f"PRAGMA cache_size = {int(before)}")


# -- what waits to be folded ----------------------------------------------------------------------


def waiting_after(conn: Connection, start: Any) -> bool:
    """SQLite: whether a record to fold was stored after id ``start``."""
    return conn.one(f"SELECT 1 FROM records WHERE id > ? AND +kind IN {_kinds_sql()} LIMIT 1",
                    (start,)) is not None


def any_pending(conn: Connection) -> bool:
    """PostgreSQL: whether ``analysis_pending`` lists a record to fold."""
    return conn.one("SELECT 1 FROM analysis_pending LIMIT 1") is not None


def records_after(conn: Connection, start: int, limit: int) -> list[tuple]:
    """SQLite: ``(id, uuid, office, kind, created_at, body)`` of the next ``limit`` records to
    fold after id ``start``, ids ascending."""
    return conn.all("SELECT id, uuid, office, kind, created_at, body FROM records"
                    f" WHERE id > ? AND +kind IN {_kinds_sql()} ORDER BY id LIMIT ?", (start, limit))


def last_record_id(conn: Connection) -> int:
    return conn.one("SELECT COALESCE(max(id), 0) FROM records")[0]


def set_folded_up_to(conn: Connection, end: int) -> None:
    conn.execute(f"UPDATE counters SET value = ? WHERE name = '{_FOLDED}'", (end,))


def counted_up_to(start: int) -> str:
    """SQLite's ``folded`` condition: records up to id ``start`` are folded."""
    return f"r.id <= {int(start)}"


#: PostgreSQL's ``folded`` condition: stored and no longer waiting (a chunk's own ids are
#: still in ``analysis_pending`` while it is folded).
NOT_PENDING = "NOT EXISTS (SELECT 1 FROM analysis_pending p WHERE p.record_id = r.id)"


def pending_ids(conn: Connection, limit: int) -> list[int]:
    """PostgreSQL: the first ``limit`` record ids waiting to be folded."""
    return [row[0] for row in conn.all("SELECT record_id FROM analysis_pending ORDER BY record_id LIMIT ?",
                                       (limit,))]


def records_by_id(conn: Connection, ids: list[int]) -> list[tuple]:
    """PostgreSQL: :func:`records_after`'s rows of the records ``ids``."""
    return conn.all("SELECT id, uuid, office, kind, created_at, body FROM records WHERE id = ANY(?)"
                    " ORDER BY id", (ids,))


def forget_pending(conn: Connection, ids: list[int]) -> None:
    conn.execute("DELETE FROM analysis_pending WHERE record_id = ANY(?)", (ids,))


# -- what a chunk reads and writes ----------------------------------------------------------------


def folded_responses(conn: Connection, uuids: Iterable[str], folded: str, *,
                     uncounted_too: bool = False) -> list[tuple]:
    """``(uuid, office, created_at, body)`` of the responses among ``uuids`` whose facts are in
    the roll-ups now (``uncounted_too``: every one folded already, counted or not)."""
    out: list[tuple] = []
    counted = ("" if uncounted_too else
               " AND NOT EXISTS (SELECT 1 FROM analysis_replaced x WHERE x.uuid = r.uuid)"
               " AND NOT EXISTS (SELECT 1 FROM analysis_duplicates x WHERE x.uuid = r.uuid)")
    for chunk in chunks(sorted(uuids)):
        marks = ",".join("?" * len(chunk))
        out += conn.all(
            f"SELECT r.uuid, r.office, r.created_at, r.body FROM records r WHERE r.uuid IN ({marks})"
            f" AND r.kind = 'survey_response' AND {folded}{counted}", chunk)
    return out


def decision_rows(conn: Connection, responses: Iterable[str]) -> list[tuple]:
    """The folded review decisions (:data:`DECISION_COLUMNS`) on ``responses``."""
    out: list[tuple] = []
    for chunk in chunks(sorted(responses)):
        marks = ",".join("?" * len(chunk))
        out += conn.all(f"SELECT {DECISION_COLUMNS} FROM analysis_decisions WHERE response IN ({marks})", chunk)
    return out


def add_decisions(conn: Connection, rows: Sequence[tuple]) -> None:
    """Keep review decisions (:data:`DECISION_COLUMNS`, value as JSON); one already kept stays."""
    conn.executemany("INSERT INTO analysis_decisions (uuid, response, item, question, value, replaces, at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING", rows)


def add_replaced(conn: Connection, rows: Sequence[tuple[str, str]]) -> None:
    """Keep ``(uuid, by_uuid)``: the response ``uuid`` a rescan ``by_uuid`` replaced."""
    conn.executemany("INSERT INTO analysis_replaced (uuid, by_uuid) VALUES (?, ?) ON CONFLICT (uuid) DO NOTHING",
                     rows)


def _uuids_in(conn: Connection, table: str, uuids: Iterable[str]) -> set[str]:
    """Those of ``uuids`` that ``table`` (keyed by ``uuid``) holds."""
    out: set[str] = set()
    for chunk in chunks(sorted(uuids)):
        marks = ",".join("?" * len(chunk))
        out.update(row[0] for row in conn.all(f"SELECT uuid FROM {table} WHERE uuid IN ({marks})", chunk))
    return out


def replaced_among(conn: Connection, uuids: Iterable[str]) -> set[str]:
    """Those of ``uuids`` a rescan replaced."""
    return _uuids_in(conn, "analysis_replaced", uuids)


def duplicates_among(conn: Connection, uuids: Sequence[str]) -> set[str]:
    """Those of ``uuids`` not counted: their sheet was answered first another way."""
    return _uuids_in(conn, "analysis_duplicates", uuids)


def replace_duplicates(conn: Connection, member_ids: Sequence[str], rows: Sequence[tuple]) -> None:
    """Replace what ``analysis_duplicates`` says of the responses ``member_ids`` with ``rows``
    ``(uuid, office, sheet, month, counted)``."""
    for chunk in chunks(sorted(member_ids)):
        conn.execute(f"DELETE FROM analysis_duplicates WHERE uuid IN ({','.join('?' * len(chunk))})", chunk)
    conn.executemany("INSERT INTO analysis_duplicates (uuid, office, sheet, month, counted) VALUES (?, ?, ?, ?, ?)",
                     rows)


def add_sums(conn: Connection, table: str, changed: Sequence[tuple], lowered: Sequence[tuple]) -> None:
    """Add ``changed`` rows ``(*keys, *counters)`` to summed ``table`` (:data:`SUMMED`), then
    remove the groups among ``lowered`` (keys) left empty: no empty groups are kept."""
    keys, counters, empty = SUMMED[table]
    names = ", ".join((*keys, *counters))
    marks = ", ".join("?" * (len(keys) + len(counters)))
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})"
                     f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}", changed)
    if lowered:
        where = " AND ".join(f"{k} = ?" for k in keys)
        conn.executemany(f"DELETE FROM {table} WHERE {where} AND {empty}", lowered)


def update_calls(conn: Connection, eligible: Sequence[tuple], gone: Sequence[tuple[str]]) -> None:
    """Put ``(response, office, month, created_at)`` on the call list, take ``(response,)`` off."""
    conn.executemany("INSERT INTO analysis_calls (response, office, month, created_at) VALUES (?, ?, ?, ?)"
                     " ON CONFLICT (response) DO NOTHING", eligible)
    conn.executemany("DELETE FROM analysis_calls WHERE response = ?", gone)


# -- what exports read beside the records ----------------------------------------------------------


def _created_in(start: str, end: str, office: str | None) -> tuple[str, list[Any]]:
    where = "r.kind = 'survey_response' AND r.created_at >= ? AND r.created_at < ?"
    params: list[Any] = [start, end]
    if office:
        where += " AND r.office = ?"
        params.append(office)
    return where, params


def settled_decision_rows(conn: Connection, start: str, end: str, office: str | None) -> list[tuple]:
    """The folded review decisions (:data:`DECISION_COLUMNS`) on the survey responses created in
    [start, end) (and ``office``)."""
    where, params = _created_in(start, end, office)
    columns = ", ".join(f"d.{c}" for c in DECISION_COLUMNS.split(", "))
    return conn.all(f"SELECT {columns} FROM analysis_decisions d JOIN records r ON r.uuid = d.response"
                    f" WHERE {where}", params)


def uncounted_created(conn: Connection, start: str, end: str, office: str | None) -> set[str]:
    """The survey responses created in [start, end) (and ``office``) not counted: replaced by a
    rescan, or a sheet's second answer."""
    where, params = _created_in(start, end, office)
    replaced = {row[0] for row in conn.all(
        f"SELECT x.uuid FROM analysis_replaced x JOIN records r ON r.uuid = x.uuid WHERE {where}", params)}
    replaced |= {row[0] for row in conn.all(
        f"SELECT x.uuid FROM analysis_duplicates x JOIN records r ON r.uuid = x.uuid WHERE {where}", params)}
    return replaced
