"""Reading the roll-up tables (schema.py's ``ROLLUPS``) and the call list kept beside them.

central/rollups.py keeps them up to date (the folding); central/analysis.py,
central/figures.py and central/calls.py read them through these functions.  A month is its
``YYYY-MM`` label; ``office=None`` means every office.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .connection import Connection

__all__ = ["answer_totals", "answered_twice", "call_rows", "day_counts", "desk_totals", "grouped_totals",
           "matched_days",
           "on_call_list", "set_call_mark", "source_totals", "waiting_counts"]


def _office(office: str | None, params: list[Any], column: str = "office") -> str:
    if office is None:
        return ""
    params.append(office)
    return f" AND {column} = ?"


def _total(column: str) -> str:
    """``sum(column)`` as a whole number: PostgreSQL sums BIGINT into NUMERIC, which arrives in
    Python as Decimal (a third of a big grouped query's time goes into making them)."""
    return f"CAST(sum({column}) AS BIGINT)"


def grouped_totals(conn: Connection, table: str, by: Sequence[str], counters: Sequence[str],
                   where: Sequence[str], params: Sequence[Any]) -> list[tuple]:
    """``(*by, *sum(counter))`` rows of roll-up ``table`` matching every condition of ``where``.
    ``table``, ``by`` and ``counters`` are names the caller checked against ``ROLLUPS``."""
    sql = (f"SELECT {''.join(k + ', ' for k in by)}" + ", ".join(_total(c) for c in counters)
           + f" FROM {table} WHERE {' AND '.join(where)}")
    if by:
        sql += " GROUP BY " + ", ".join(by)
    return conn.all(sql, params)


def source_totals(conn: Connection, month: str, office: str | None) -> list[tuple]:
    """``(source, responses, incomplete)`` of the month."""
    params: list[Any] = [month]
    scope = _office(office, params)
    return conn.all(f"SELECT source, {_total('responses')}, {_total('incomplete')} FROM analysis_by_service"
                    f" WHERE month = ?{scope} GROUP BY source", params)


def answer_totals(conn: Connection, month: str, office: str | None) -> list[tuple]:
    """``(question, value, n, pending)`` of the month (``value`` '' = answered at all)."""
    params: list[Any] = [month]
    scope = _office(office, params)
    return conn.all(f"SELECT question, value, {_total('n')}, {_total('pending')} FROM analysis_answers"
                    f" WHERE month = ?{scope} GROUP BY question, value", params)


def answered_twice(conn: Connection, month: str, office: str | None) -> int:
    """Paper sheets of the month answered twice (scanned and from the sheet's link)."""
    params: list[Any] = [month]
    scope = _office(office, params)
    return int(conn.one(f"SELECT count(*) FROM analysis_duplicates WHERE month = ?{scope}", params)[0])


def desk_totals(conn: Connection, month: str, office: str | None) -> list[tuple]:
    """``(office, names_a_desk, responses)`` of the month."""
    params: list[Any] = [month]
    scope = _office(office, params)
    return conn.all(f"SELECT office, CASE WHEN desk = '' THEN 0 ELSE 1 END, {_total('responses')}"
                    f" FROM analysis_by_desk WHERE month = ?{scope} GROUP BY 1, 2", params)


def waiting_counts(conn: Connection, month: str, office: str | None) -> list[tuple]:
    """``(office, service, value, n)`` of the waiting-time question in the month."""
    params: list[Any] = [month]
    scope = _office(office, params)
    return conn.all(f"SELECT office, service, value, n FROM analysis_waiting WHERE month = ?{scope}",
                    params)


def day_counts(conn: Connection, first: str, last: str, office: str | None) -> list[tuple]:
    """``(day, office, source, responses)`` from ``first`` to ``last`` (local days, inclusive)."""
    params: list[Any] = [first, last]
    scope = _office(office, params)
    return conn.all("SELECT day, office, source, responses FROM analysis_by_day"
                    f" WHERE day >= ? AND day <= ?{scope}", params)


# -- the call list (responses whose visitor asked to be called) -----------------------------------


def matched_days(conn: Connection, first: str, last: str, *, office: str | None = None,
                 service: str | None = None, services: Sequence[str] | None = None) -> list[tuple]:
    """``(day, office, service, matched_n, matched_yes, matched_partly)`` of question (2) per
    visit day from ``first`` to ``last`` (ISO days), optionally one office, one service or some."""
    params: list[Any] = [first, last]
    scope = _office(office, params) + _office(service, params, "service")
    if services is not None:
        scope += f" AND service IN ({', '.join('?' * len(services))})"
        params.extend(services)
    return conn.all("SELECT day, office, service, matched_n, matched_yes, matched_partly"
                    f" FROM analysis_matched_by_day WHERE day >= ? AND day <= ?{scope}", params)


def call_rows(conn: Connection, month: str, office: str | None, *, include_done: bool) -> list[tuple]:
    """``(response, office, created_at, body, status, updated_at, updated_by)`` of the
    month's call list, newest first."""
    where, params = ["c.month = ?"], [month]
    if office:
        where.append("c.office = ?")
        params.append(office)
    if not include_done:
        where.append("(m.status IS NULL OR m.status <> 'done')")
    return conn.all("SELECT c.response, c.office, c.created_at, r.body, m.status, m.updated_at, m.updated_by"
                    " FROM analysis_calls c JOIN records r ON r.uuid = c.response"
                    " LEFT JOIN call_marks m ON m.response = c.response"
                    f" WHERE {' AND '.join(where)} ORDER BY c.created_at DESC, c.response", params)


def on_call_list(conn: Connection, response: str) -> bool:
    return conn.one("SELECT 1 FROM analysis_calls WHERE response = ?", (response,)) is not None


def set_call_mark(conn: Connection, response: str, status: str, now: str, actor: str) -> None:
    conn.execute("INSERT INTO call_marks (response, status, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (response) DO UPDATE SET status = excluded.status,"
                 " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                 (response, status, now, actor))
