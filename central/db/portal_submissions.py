"""The portal's filing forms already stored (``portal_submissions``): one row per one-time
submission id, so a form sent twice files one case (central/portal_intake.py).

The tracking code is kept only sealed to the submission id; nothing here opens it.
"""
from __future__ import annotations

from .connection import Connection

__all__ = ["remember", "submission"]


def submission(conn: Connection, submission_id: str) -> tuple[str, str] | None:
    """``(case_uuid, code_sealed)`` stored for ``submission_id``, or None."""
    return conn.one("SELECT case_uuid, code_sealed FROM portal_submissions WHERE submission = ?",
                    (submission_id,))


def remember(conn: Connection, submission_id: str, case_uuid: str, code_sealed: str, at: str) -> bool:
    """Keep what ``submission_id`` filed; False when another request stored it first."""
    return conn.execute("INSERT INTO portal_submissions (submission, case_uuid, code_sealed, created_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (submission) DO NOTHING",
                        (submission_id, case_uuid, code_sealed, at)).rowcount == 1
