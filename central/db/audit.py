"""The audit log's queries: append an entry, read entries back by filter, count recent ones.

central/audit.py decides what is written (targets, the misconduct wall); this module only
stores and finds rows of ``audit_log``, which nothing ever updates or deletes.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .connection import Connection, chunks

__all__ = ["ENTRY_COLUMNS", "actions", "append", "count_since", "entries", "misconduct_cases"]

#: The columns of an entry, in the order :func:`entries` returns them.
ENTRY_COLUMNS = "id, at, actor, action, target, detail"


def append(conn: Connection, at: str, actor: str, action: str, target: str, detail: str) -> None:
    conn.execute("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                 (at, actor, action, target, detail))


def entries(conn: Connection, where: Sequence[str], params: Sequence[Any], limit: int,
            offset: int) -> tuple[list[tuple], int]:
    """Entries matching every condition of ``where`` (``?`` placeholders), newest first, and
    how many match in total."""
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    total = conn.one(f"SELECT COUNT(*) FROM audit_log{clause}", params)[0]
    rows = conn.all(f"SELECT {ENTRY_COLUMNS} FROM audit_log{clause} ORDER BY id DESC LIMIT ? OFFSET ?",
                    [*params, limit, offset])
    return rows, int(total)


def actions(conn: Connection) -> list[str]:
    return [row[0] for row in conn.all("SELECT DISTINCT action FROM audit_log ORDER BY action")]


def count_since(conn: Connection, action: str, target: str, since: str) -> tuple[int, str | None]:
    """How many ``action`` entries about ``target`` at or after ``since``, and the oldest's time."""
    row = conn.one("SELECT COUNT(*), MIN(at) FROM audit_log WHERE target = ? AND action = ?"
                   " AND at >= ?", (target, action, since))
    return int(row[0]), row[1]


def misconduct_cases(conn: Connection, uuids: Sequence[str]) -> set[str]:
    """Which of the case ``uuids`` are misconduct reports (or with the oversight unit)."""
    found: set[str] = set()
    for chunk in chunks(uuids):
        found.update(row[0] for row in conn.all(
            f"SELECT uuid FROM cases WHERE uuid IN ({','.join('?' * len(chunk))})"
            " AND (case_type = 'misconduct' OR unit = 'oversight')", chunk))
    return found
