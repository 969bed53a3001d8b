"""Publishing content to offices: every item signed by the central key (sync/content.py).

The aggregate modules (service_catalogue, office_register, contacts, announcements,
form_versions) save their rows and call :func:`publish_content` in the same breath; the CLI's
``seda central publish`` goes through it too, so no unsigned content item ever enters the feed.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sync.batch import format_time
from sync.content import CONTENT_FEEDS, signed_content

from .keys import CentralKeys
from .store import Store

__all__ = ["publish_content", "published_rows", "save_published_row", "withdraw_content",
           "withdraw_published_row"]


def publish_content(store: Store, keys: CentralKeys, feed: str, key: str, content: Mapping[str, Any],
                    *, office: str = "", db: Any = None) -> int:
    """Sign ``content`` as item ``feed``/``key`` and put it on the feed; returns its cursor.
    ``office`` limits it to one office ('' = every office); ``db`` is a connection whose open
    transaction the item joins (so a saved row and its feed item commit together)."""
    if feed not in CONTENT_FEEDS:
        raise ValueError(f"{feed!r} is not a content feed")
    body = signed_content(keys.sign, feed, key, content)
    if db is not None:
        return store._publish(db, feed, key, body, office=office)  # noqa: SLF001 - the caller's transaction
    return store.publish(feed, key, body, office=office)


def withdraw_content(store: Store, feed: str, key: str, *, office: str = "") -> int:
    """Withdraw an item: offices stop showing it at their next sync."""
    return store.publish(feed, key, {}, office=office, deleted=True)


#: Tables of content kept as one JSON body per id (contacts, announcements), by feed.
_ROW_TABLES = {"contact": "contacts", "announcement": "announcements"}


def save_published_row(store: Store, keys: CentralKeys, feed: str, item_id: str, body: Mapping[str, Any],
                       *, actor: str, office: str = "") -> None:
    """Keep ``body`` as row ``item_id`` of the feed's table and publish it, in one transaction."""
    now = format_time(datetime.now(timezone.utc))
    table = _ROW_TABLES[feed]
    with store._writing(), store.connect() as db, db.transaction():  # noqa: SLF001 - the write lock
        db.execute(f"INSERT INTO {table} (id, body, withdrawn, updated_by, updated_at) VALUES (?, ?, 0, ?, ?)"
                   " ON CONFLICT (id) DO UPDATE SET body = excluded.body, withdrawn = 0,"
                   " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                   (item_id, json.dumps(dict(body), ensure_ascii=False), actor, now))
        publish_content(store, keys, feed, item_id, body, office=office, db=db)


def withdraw_published_row(store: Store, feed: str, item_id: str, *, actor: str) -> bool:
    """Mark row ``item_id`` withdrawn and withdraw its feed item; False if there was none."""
    table = _ROW_TABLES[feed]
    with store._writing(), store.connect() as db, db.transaction():  # noqa: SLF001
        changed = db.execute(f"UPDATE {table} SET withdrawn = 1, updated_by = ?, updated_at = ?"
                             " WHERE id = ? AND withdrawn = 0",
                             (actor, format_time(datetime.now(timezone.utc)), item_id)).rowcount
        if changed:
            store._publish(db, feed, item_id, {}, deleted=True)  # noqa: SLF001
    return bool(changed)


def published_rows(store: Store, feed: str) -> list[dict[str, Any]]:
    """The current (not withdrawn) rows of the feed's table: their bodies plus ``updated_*``."""
    with store.connect() as db:
        rows = db.all(f"SELECT id, body, updated_by, updated_at FROM {_ROW_TABLES[feed]}"
                      " WHERE withdrawn = 0 ORDER BY id")
    return [{**json.loads(body), "id": item_id, "updated_by": by, "updated_at": at}
            for item_id, body, by, at in rows]
