"""The SMS outbox (``notifications``, schema step 6) and the case events it reads.

The queries behind central/notify/outbox.py, which keeps every rule (who is texted, when a
message is too old, how often it is tried); rows come back in :data:`COLUMNS` order.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .connection import Connection

__all__ = ["COLUMNS", "claim", "count_by_status", "events_after", "fail_older", "insert",
           "recent", "sent_since", "set_outcome", "take_due"]

COLUMNS = ("id, case_uuid, event, event_key, mobile, message, status, tries, next_try_at,"
           " created_at, sent_at, gateway_id, last_error")


def events_after(conn: Connection, event_id: int, events: Sequence[str], limit: int) -> list[tuple]:
    """``(id, case_uuid, at, event, case_type, unit, tracking_code, body)`` of the case events
    after ``event_id`` of kinds ``events``, oldest first, at most ``limit``."""
    wanted = ",".join("?" * len(events))
    return conn.all(
        "SELECT e.id, e.case_uuid, e.at, e.event, c.case_type, c.unit, c.tracking_code, r.body"
        " FROM case_events e JOIN cases c ON c.uuid = e.case_uuid"
        " JOIN records r ON r.uuid = e.case_uuid"
        f" WHERE e.id > ? AND e.event IN ({wanted}) ORDER BY e.id LIMIT {int(limit)}",
        (event_id, *events))


def sent_since(conn: Connection, mobile: str, since: str) -> int:
    """Messages to ``mobile`` made at or after ``since`` that did not fail."""
    return conn.one("SELECT count(*) FROM notifications WHERE mobile = ? AND"
                    " created_at >= ? AND status <> 'failed'", (mobile, since))[0]


def insert(conn: Connection, case_uuid: str, event: str, event_key: str, mobile: str, message: str,
           status: str, now: str, last_error: str | None) -> int:
    """Queue one message; 0 when this case's event was queued already."""
    return conn.execute(
        "INSERT INTO notifications (case_uuid, event, event_key, mobile, message, status,"
        " next_try_at, created_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (case_uuid, event, event_key) DO NOTHING",
        (case_uuid, event, event_key, mobile, message, status, now, now, last_error)).rowcount


def fail_older(conn: Connection, status: str, column: str, before: str, error: str) -> None:
    """Mark every message in ``status`` whose ``column`` (``next_try_at`` or
    ``created_at``) is before ``before`` failed, with ``error``."""
    if column not in ("next_try_at", "created_at"):
        raise ValueError(f"not a time column of notifications: {column!r}")
    conn.execute(f"UPDATE notifications SET status = 'failed', last_error = ? WHERE status ="
                 f" ? AND {column} < ?", (error, status, before))


def take_due(conn: Connection, now: str, limit: int) -> list[tuple]:
    """The pending messages due at ``now``, oldest due first (PostgreSQL: locked, skipping
    rows another sender holds)."""
    skip = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    return conn.all(f"SELECT {COLUMNS} FROM notifications WHERE status = 'pending' AND"
                    f" next_try_at <= ? ORDER BY next_try_at, id LIMIT ?{skip}", (now, limit))


def claim(conn: Connection, notification_id: int, now: str) -> bool:
    """Mark a pending message ``sending`` (one more try); False if it is no longer pending."""
    return bool(conn.execute("UPDATE notifications SET status = 'sending', tries = tries + 1,"
                             " next_try_at = ? WHERE id = ? AND status = 'pending'",
                             (now, notification_id)).rowcount)


def set_outcome(conn: Connection, notification_id: int, status: str, next_try_at: str,
                sent_at: str | None, gateway_id: str | None, last_error: str | None) -> None:
    """Record how a try of a ``sending`` message went."""
    conn.execute("UPDATE notifications SET status = ?, next_try_at = ?, sent_at = ?,"
                 " gateway_id = ?, last_error = ? WHERE id = ? AND status = 'sending'",
                 (status, next_try_at, sent_at, gateway_id, last_error, notification_id))


def count_by_status(conn: Connection) -> dict[str, int]:
    return dict(conn.all("SELECT status, count(*) FROM notifications GROUP BY status"))


def recent(conn: Connection, statuses: Sequence[str], after: str, limit: int) -> list[tuple[Any, ...]]:
    """Messages in ``statuses`` last changed at or after ``after``, newest first."""
    marks = ",".join("?" * len(statuses))
    return conn.all(f"SELECT {COLUMNS} FROM notifications WHERE status IN ({marks})"
                    " AND next_try_at >= ? ORDER BY id DESC LIMIT ?", (*statuses, after, limit))
