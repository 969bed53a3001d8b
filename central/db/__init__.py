"""The central database: a connection object and one query module per aggregate.

- :mod:`.connection` — :class:`Database` (dialect, pool, write transactions) and
  :class:`Connection` (``?`` placeholders on both databases, named locks, JSON fields);
- :mod:`.locks` — every named lock and its PostgreSQL advisory number;
- :mod:`.schema` — the one schema source for SQLite and PostgreSQL, and its migrator;
- :mod:`.records`, :mod:`.feed`, :mod:`.offices`, :mod:`.public_cases` — the queries of one
  aggregate each.

Nothing here knows about casework, analysis or the web: services (central/ingest.py,
central/casework.py, ...) call these modules, never the reverse.
"""
from __future__ import annotations

from .connection import Connection, Database

__all__ = ["Connection", "Database"]
