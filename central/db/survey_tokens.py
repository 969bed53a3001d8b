"""One-time survey links spent (``survey_tokens_used``): a token answers exactly once
(central/survey_links.py)."""
from __future__ import annotations

from .connection import Connection

__all__ = ["spend", "used"]


def used(conn: Connection, token_id: str) -> bool:
    return conn.one("SELECT 1 FROM survey_tokens_used WHERE token_id = ?", (token_id,)) is not None


def spend(conn: Connection, token_id: str, office: str, response: str, used_on: str) -> bool:
    """Mark ``token_id`` used by ``response``; False when it was spent meanwhile."""
    return conn.execute("INSERT INTO survey_tokens_used (token_id, office, response, used_on)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (token_id) DO NOTHING",
                        (token_id, office, response, used_on)).rowcount == 1
