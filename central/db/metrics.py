"""The whole-store counts ``GET /metrics`` exposes (central/metrics.py): ingest, refusals,
conflicts, escalations, deadlines, reopened cases, how far each office's pull lags the feed.

Counts only, grouped by office code, record kind, refusal code or unit: no case, no person.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .connection import Connection

__all__ = ["oldest_unpulled", "scrape_counts"]


def scrape_counts(conn: Connection, closed: Sequence[str], now: str) -> dict[str, Any]:
    """One scrape's counts: ``records`` (office, kind, n), ``batches`` (office, n),
    ``refusals`` (code, n), ``conflicts`` (open), ``escalated``, ``overdue`` (escalated and
    still open), ``feed_head`` {office: last cursor}, ``past_due`` (unit, n: open cases past
    their deadline at ``now``; ``closed`` are the statuses that are not open), ``reopened``
    (unit, n)."""
    marks = ", ".join("?" for _ in closed)
    return {
        "records": conn.all("SELECT office, kind, count(*) FROM records GROUP BY office, kind"
                            " ORDER BY office, kind"),
        "batches": conn.all("SELECT office, count(*) FROM batches GROUP BY office ORDER BY office"),
        "refusals": conn.all("SELECT code, count(*) FROM refusals GROUP BY code ORDER BY code"),
        "conflicts": conn.one("SELECT count(*) FROM conflicts WHERE resolution IS NULL")[0],
        "escalated": conn.one("SELECT count(*) FROM cases WHERE escalated_at IS NOT NULL")[0],
        "overdue": conn.one("SELECT count(*) FROM cases WHERE escalated_at IS NOT NULL AND"
                            " status NOT IN ('answered', 'closed', 'rejected', 'rejected_duplicate',"
                            " 'rejected_not_ours')")[0],
        "feed_head": dict(conn.all("SELECT office, max(cursor) FROM feed GROUP BY office")),
        "past_due": conn.all(f"SELECT unit, count(*) FROM cases WHERE status NOT IN ({marks}) AND due_at < ?"
                             " GROUP BY unit ORDER BY unit", (*closed, now)),
        "reopened": conn.all("SELECT unit, count(*) FROM case_feedback WHERE solved = 0"
                             " GROUP BY unit ORDER BY unit"),
    }


def oldest_unpulled(conn: Connection, office: str, pull_cursor: int) -> str | None:
    """When the first feed item ``office`` has not pulled was published, or None.

    Items for every office (``office = ''``) and for this one count; the cursor index finds the
    first such item without reading the rest."""
    row = conn.one("SELECT updated_at FROM feed WHERE cursor > ? AND office IN ('', ?)"
                   " ORDER BY cursor LIMIT 1", (pull_cursor, office))
    return None if row is None else row[0]
