"""Misconduct reports filed on the portal, held sealed until their hour has ended (schema
step 9).  central/held_reports.py decides when they are released and how; these functions
only keep, find and remove the rows.
"""
from __future__ import annotations

from typing import Any

from .connection import Connection

__all__ = ["any_due", "delete", "due", "insert", "release_after_of"]


def insert(conn: Connection, uuid: str, office: str, release_after: str, hour: str, follow_up: str,
           body: str, blob: bytes | None, media_type: str | None) -> None:
    """Keep one sealed report (``body`` its JSON text; ``blob`` its sealed attachment)."""
    conn.execute("INSERT INTO held_reports (uuid, office, release_after, hour, follow_up, body, blob,"
                 " media_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (uuid, office, release_after, hour, follow_up, body, blob, media_type))


def release_after_of(conn: Connection, follow_up: str) -> str | None:
    """When the held report with follow-up locator ``follow_up`` is released (``None``: none held)."""
    row = conn.one("SELECT release_after FROM held_reports WHERE follow_up = ?", (follow_up,))
    return row[0] if row else None


def any_due(conn: Connection, moment: str) -> bool:
    """Whether a held report may be released at ``moment`` (one indexed probe)."""
    return conn.one("SELECT 1 FROM held_reports WHERE release_after <= ? LIMIT 1", (moment,)) is not None


def due(conn: Connection, moment: str) -> list[tuple[Any, ...]]:
    """``(uuid, office, hour, body, blob, media_type)`` of every report due at ``moment``, by uuid."""
    return conn.all("SELECT uuid, office, hour, body, blob, media_type FROM held_reports"
                    " WHERE release_after <= ? ORDER BY uuid", (moment,))


def delete(conn: Connection, uuid: str) -> None:
    conn.execute("DELETE FROM held_reports WHERE uuid = ?", (uuid,))
