"""The ``throttles`` table (schema step 4): one row per limited key, counted atomically.

The queries behind central/throttle.py, which keeps every rule (what a count means, how long
a key waits); rows come back as raw text times, the service parses them.
"""
from __future__ import annotations

from .connection import Connection

__all__ = ["delete", "locked_row", "next_at", "set_count", "set_row", "sweep", "try_row"]

_LONG_AGO = "1970-01-01T00:00:00.000000Z"


def locked_row(conn: Connection, key: str, now: str) -> tuple[int, str, str]:
    """``(count, since, next_at)`` of ``key`` (created empty if missing), held until the
    transaction ends (PostgreSQL ``FOR UPDATE``; SQLite's write transaction excludes others)."""
    conn.execute("INSERT INTO throttles (key, count, since, next_at) VALUES (?, 0, ?, ?)"
                 " ON CONFLICT (key) DO NOTHING", (key, now, _LONG_AGO))
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    return conn.one(f"SELECT count, since, next_at FROM throttles WHERE key = ?{lock}", (key,))


def try_row(conn: Connection, key: str) -> tuple[int, str] | None:
    """``(count, since)`` of ``key``, or None."""
    return conn.one("SELECT count, since FROM throttles WHERE key = ?", (key,))


def next_at(conn: Connection, key: str) -> str | None:
    """When ``key`` may next try, or None for a key never counted."""
    row = conn.one("SELECT next_at FROM throttles WHERE key = ?", (key,))
    return None if row is None else row[0]


def set_row(conn: Connection, key: str, count: int, since: str, next_at: str) -> None:
    conn.execute("UPDATE throttles SET count = ?, since = ?, next_at = ? WHERE key = ?",
                 (count, since, next_at, key))


def set_count(conn: Connection, key: str, count: int, next_at: str) -> None:
    conn.execute("UPDATE throttles SET count = ?, next_at = ? WHERE key = ?", (count, next_at, key))


def delete(conn: Connection, key: str) -> None:
    conn.execute("DELETE FROM throttles WHERE key = ?", (key,))


def sweep(conn: Connection, before: str) -> None:
    """Forget every key quiet since before ``before``."""
    conn.execute("DELETE FROM throttles WHERE since < ? AND next_at < ?", (before, before))
