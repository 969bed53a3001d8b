"""What offices pull: case updates, the catalogue, office keys, ... in cursor order.

Every writer publishes inside its own transaction (a case's new status and the item telling
its office commit together).  Cursors come from a counter row that stays locked until
commit, so cursor order is commit order and no pull ever skips an item that commits late.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sync.batch import canonical_json, format_time

from .connection import Connection

__all__ = ["FEEDS", "current_items", "head", "item_body", "latest_case_update", "publish", "publish_many", "pull"]

#: What offices pull.  ``office_key`` and ``revoked_sheet`` let every office refuse a
#: revoked office's sheets; ``case_update`` items go only to the office that owns the case;
#: ``oversight_key`` is the signed key misconduct reports are sealed to (central/keys.py).
FEEDS = frozenset({"case_update", "catalogue", "contact", "form_definition", "revoked_sheet",
                   "office_key", "oversight_key", "record_conflict",
                   "office_profile", "announcement"})  # content kinds: sync/content.py


def publish(conn: Connection, feed: str, key: str, body: dict[str, Any], *, office: str = "",
            deleted: bool = False) -> int:
    """Put (or replace) one item inside the caller's transaction; returns its cursor.

    ``office`` limits it to one office ('' = every office).  Replacing moves the item to a
    new cursor, so offices that already had the old version receive the new one.
    """
    return publish_many(conn, feed, [(key, body, office)], deleted=deleted)[-1]


def publish_many(conn: Connection, feed: str, items: Sequence[tuple[str, dict[str, Any], str]],
                 *, deleted: bool = False) -> list[int]:
    """Publish ``(key, body, office)`` items inside the caller's transaction; their cursors."""
    if not items:
        return []
    # The counter row is locked until commit, so cursors commit in the order handed out.
    last = conn.one("UPDATE counters SET value = value + ? WHERE name = 'feed' RETURNING value",
                    (len(items),))[0]
    cursors = list(range(last - len(items) + 1, last + 1))
    now = format_time(datetime.now(timezone.utc))
    conn.executemany(
        "INSERT INTO feed (cursor, feed, key, office, deleted, body, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed, key) DO UPDATE SET"
        " cursor = excluded.cursor, office = excluded.office, deleted = excluded.deleted,"
        " body = excluded.body, updated_at = excluded.updated_at",
        [(cursor, feed, key, office, 1 if deleted else 0, canonical_json(body), now)
         for cursor, (key, body, office) in zip(cursors, items)])
    return cursors


def pull(conn: Connection, office: str, after: int, limit: int = 500) -> dict[str, Any]:
    """Items for ``office`` past cursor ``after``: ``{"items", "next", "more"}``."""
    limit = max(1, min(int(limit), 2000))
    rows = conn.all("SELECT cursor, feed, key, deleted, body FROM feed WHERE cursor > ?"
                    " AND (office = '' OR office = ?) ORDER BY cursor LIMIT ?",
                    (int(after), office, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"cursor": c, "feed": f, "key": k, "deleted": bool(d), "body": json.loads(b)}
             for c, f, k, d, b in rows]
    return {"items": items, "next": items[-1]["cursor"] if items else int(after), "more": more}


def latest_case_update(conn: Connection, office: str, tracking_code: str) -> dict[str, Any] | None:
    """The last ``case_update`` item sent to ``office`` about ``tracking_code`` (feed index of
    schema step 2), or None."""
    row = conn.one(f"SELECT body FROM feed WHERE feed = 'case_update'"
                   f" AND {conn.json_text('body', 'tracking_code')} = ?"
                   " AND office = ? AND deleted = 0 ORDER BY cursor DESC LIMIT 1",
                   (tracking_code, office))
    return None if row is None else json.loads(row[0])


def current_items(conn: Connection, feed: str, *, office: str | None = None) -> list[tuple[str, str]]:
    """``(key, body)`` of the items of ``feed`` not deleted (``office`` '' = the items for
    every office only; None = all), in key order."""
    if office is None:
        return conn.all("SELECT key, body FROM feed WHERE feed = ? AND deleted = 0 ORDER BY key", (feed,))
    return conn.all("SELECT key, body FROM feed WHERE feed = ? AND office = ? AND deleted = 0"
                    " ORDER BY key", (feed, office))


def item_body(conn: Connection, feed: str, key: str) -> str | None:
    """The body (JSON text) of item ``key`` of ``feed`` as last published, or None."""
    row = conn.one("SELECT body FROM feed WHERE feed = ? AND key = ?", (feed, key))
    return None if row is None else row[0]


def head(conn: Connection, feed: str) -> int:
    """The newest cursor of ``feed`` (0 if none): changes whenever one of its items does."""
    return int(conn.one("SELECT coalesce(max(cursor), 0) FROM feed WHERE feed = ?", (feed,))[0])
