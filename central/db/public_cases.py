"""The cases anyone holding a tracking code may follow (Open311, the portal), and the privacy rule.

The rule is written twice on purpose — once as SQL (:func:`public_case_sql`) so private cases
never leave the database, once in Python (:func:`is_public_case`) as a second lock on the
door — and both live here, side by side, so they cannot drift apart unnoticed.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from forms.cases import normalize_tracking_code

from .connection import IN_CHUNK, Connection

__all__ = ["CLOSED_STATUSES", "case_progress", "case_with_locator", "cases_to_follow", "is_public_case",
           "locator_taken", "not_with_oversight", "public_case_sql", "public_cases"]

#: Statuses that make a case "closed" for Open311; every other status is "open".
CLOSED_STATUSES = ("answered", "closed", "rejected", "rejected_duplicate", "rejected_not_ours")


def public_case_sql(conn: Connection, column: str) -> str:
    """SQL that is true only for a case body Open311 may show: routed to the office, not a
    misconduct report, not anonymous, not sealed.  Anything unexpected counts as private."""
    j = conn.json_text
    if conn.dialect == "sqlite":
        anonymous = f"COALESCE({j(column, 'anonymous')}, 0) IN (0, '0', 'false', '')"
        sealed = f"json_type({column}, '$.sealed') IS NULL"
    else:
        anonymous = f"COALESCE({j(column, 'anonymous')}, 'false') IN ('false', '0', '')"
        sealed = f"(({column})::jsonb -> 'sealed') IS NULL"
    return (f"COALESCE({j(column, 'route')}, 'office') = 'office'"
            f" AND COALESCE({j(column, 'type')}, '') <> 'misconduct' AND {anonymous} AND {sealed}")


def not_with_oversight(record_uuid: str) -> str:
    """SQL true unless the central office moved the case to the oversight unit (a
    complaint that turned out to be misconduct): from then on it is as private as one."""
    return f"NOT EXISTS (SELECT 1 FROM cases oc WHERE oc.uuid = {record_uuid} AND oc.unit = 'oversight')"


def is_public_case(body: dict[str, Any]) -> bool:
    """Python twin of :func:`public_case_sql`."""
    return (body.get("route", "office") == "office" and body.get("type") != "misconduct"
            and body.get("anonymous", False) in (False, None, 0, "0", "false", "")
            and "sealed" not in body)


def public_cases(conn: Connection, *, tracking_codes: Sequence[str] | None = None,
                 services: Sequence[str] | None = None, start: str | None = None,
                 end: str | None = None, status: str | None = None,
                 office: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Cases anyone with the tracking code may follow, newest first, each with its latest
    status: ``{"office", "tracking_code", "type", "service", "text", "created_at", "status",
    "unit", "answer", "updated_at", "mobile_last4"}``.

    Never returns anonymous cases, misconduct reports (type ``misconduct``, route
    ``oversight``) or sealed bodies, and never a name, national ID or mobile number
    (``mobile_last4`` is for the caller's follow-up check, not for display).  ``start`` /
    ``end`` bound ``created_at`` (ledger spelling, inclusive); ``status`` is ``open`` or
    ``closed`` (:data:`CLOSED_STATUSES`; anything else is a ValueError); ``office`` limits to
    one office.
    """
    j = conn.json_text
    # SQLite: unary + drops the column's TEXT affinity, which would keep the planner from
    # the feed_case_update_tracking index (an expression has none).
    code = "+r.tracking_code" if conn.dialect == "sqlite" else "r.tracking_code"
    update_of_case = (f"FROM feed f WHERE f.feed = 'case_update' AND f.deleted = 0"
                      f" AND f.office = r.office AND {j('f.body', 'tracking_code')} = {code}")
    answer = j("f.body", "answer")
    where = ["r.kind = 'case'", "r.tracking_code IS NOT NULL", public_case_sql(conn, "r.body"),
             not_with_oversight("r.uuid")]
    params: list[Any] = []
    if tracking_codes is not None:
        codes = [normalize_tracking_code(c) for c in tracking_codes][:IN_CHUNK]
        if not codes:
            return []
        where.append(f"r.tracking_code IN ({','.join('?' * len(codes))})")
        params += codes
    if services is not None:
        if not services:
            return []
        where.append(f"{j('r.body', 'service')} IN ({','.join('?' * len(services))})")
        params += list(services)
    if start is not None:
        where.append("r.created_at >= ?")
        params.append(start)
    if end is not None:
        where.append("r.created_at <= ?")
        params.append(end)
    if office is not None:
        where.append("r.office = ?")
        params.append(office)
    outer = ""
    if status is not None:
        if status not in ("open", "closed"):
            raise ValueError(f"Unknown Open311 status {status!r}; expected open or closed.")
        marks = ",".join("?" * len(CLOSED_STATUSES))
        latest_status = j("c.latest", "status")
        outer = (f"WHERE c.latest IS NOT NULL AND {latest_status} IN ({marks})" if status == "closed"
                 else f"WHERE c.latest IS NULL OR {latest_status} NOT IN ({marks})")
        params += list(CLOSED_STATUSES)
    sql = (f"SELECT c.id, c.office, c.tracking_code, c.created_at, c.body, c.latest, c.answer FROM ("
           f"SELECT r.id, r.office, r.tracking_code, r.created_at, r.body,"
           f" (SELECT f.body {update_of_case} ORDER BY f.cursor DESC LIMIT 1) AS latest,"
           f" (SELECT {answer} {update_of_case} AND {answer} IS NOT NULL AND {answer} <> ''"
           f"  ORDER BY f.cursor DESC LIMIT 1) AS answer"
           f" FROM records r WHERE {' AND '.join(where)}) c {outer} ORDER BY c.id DESC LIMIT ?")
    params.append(max(1, int(limit)))
    cases = []
    for _id, case_office, code, created_at, body_text, latest_text, latest_answer in conn.all(sql, params):
        body = json.loads(body_text)
        if not is_public_case(body):  # the SQL already said so; a second lock on the door
            continue
        latest = json.loads(latest_text) if latest_text else {}
        mobile = str(body.get("mobile") or "")
        cases.append({
            "office": case_office, "tracking_code": code, "type": body.get("type"),
            "service": body.get("service"), "text": body.get("text") or "",
            "created_at": created_at, "status": latest.get("status") or "received",
            "unit": latest.get("unit"), "answer": latest_answer,
            "updated_at": latest.get("at") or created_at,
            "mobile_last4": mobile[-4:] if mobile else None,
        })
    return cases


# -- following one case on the portal (central/portal_follow_up.py) ------------------------------


def cases_to_follow(conn: Connection, code: str, office: str | None = None) -> list[tuple[str, str, str]]:
    """``(uuid, office, body)`` of the case records with tracking code ``code`` that have a
    case row (of ``office`` alone when given), oldest first.  The caller checks the body."""
    sql = ("SELECT r.uuid, r.office, r.body FROM records r JOIN cases c ON c.uuid = r.uuid"
           " WHERE r.kind = 'case' AND r.tracking_code = ?")
    params: list[Any] = [code]
    if office:
        sql += " AND r.office = ?"
        params.append(office)
    return conn.all(sql + " ORDER BY r.id", params)


def case_with_locator(conn: Connection, office: str, locator: str) -> str | None:
    """The UUID of ``office``'s sealed case filed with follow-up ``locator``, or None."""
    row = conn.one(f"SELECT uuid FROM records WHERE kind = 'case' AND office = ? AND "
                   f"{conn.json_text('body', 'follow_up')} = ?", (office, locator))
    return None if row is None else row[0]


def locator_taken(conn: Connection, locator: str) -> bool:
    """Whether any stored case carries follow-up ``locator`` (a drawn code is in use)."""
    return conn.one(f"SELECT 1 FROM records WHERE kind = 'case' AND "
                    f"{conn.json_text('body', 'follow_up')} = ?", (locator,)) is not None


def case_progress(conn: Connection, uuid: str) -> tuple[str, str, str, str, str | None, str] | None:
    """``(case_type, status, received_at, due_at, answered_at, unit)`` of a case, or None."""
    return conn.one("SELECT case_type, status, received_at, due_at, answered_at, unit FROM cases"
                    " WHERE uuid = ?", (uuid,))
