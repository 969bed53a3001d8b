"""Named locks that keep concurrent central servers from doing one job twice.

PostgreSQL advisory locks are numbers; a number nobody can read is how two jobs end up
sharing a lock by accident.  Every lock the central office takes is named here, and its
number is a stable hash of the name, so a new lock is one line and cannot collide by typo.
On SQLite a write transaction already holds the one database-wide write lock
(``BEGIN IMMEDIATE``), so naming a lock there costs nothing and means nothing more.
"""
from __future__ import annotations

import hashlib

__all__ = ["LOCKS", "advisory_key"]

#: Every named lock, with why it exists.
LOCKS: dict[str, str] = {
    "migrate": "one server applies a schema step at a time",
    "draw_tracking_code": "a centrally drawn tracking code is checked and stored by one writer at a time",
    "casework_backfill": "cases stored before casework existed are taken in once",
    "settle_foreign_conflicts": "conflicts kept before (office, UUID) identity are settled once",
    "rollups": "one process builds or folds the satisfaction roll-ups at a time",
    "comment_index": "the comment index is created once",
    "notify_outbox": "one process turns case events into SMS notifications at a time",
    "held_reports": "one process releases the portal's held misconduct reports at a time",
}


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock number of lock ``name``: a signed 32-bit hash of it.

    PostgreSQL's advisory locks belong to the whole database, while a central store may be one
    schema of it (the tests' and benchmarks' stores are): the lock is taken as the pair
    (hash of the store's schema, this number), so two stores in one database never wait for
    each other's jobs (:meth:`central.db.connection.Connection.lock`)."""
    if name not in LOCKS:
        raise KeyError(f"unknown lock {name!r}; name it in central.db.locks.LOCKS")
    digest = hashlib.sha256(f"seda.central.{name}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big", signed=True)
