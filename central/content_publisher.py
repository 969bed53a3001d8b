"""Publishing content to offices: every item signed by the central key (sync/content.py).

The aggregate modules (service_catalogue, office_register, contacts, announcements,
form_versions) save their rows and call :func:`publish_content` in the same breath; the CLI's
``seda central publish`` goes through it too, so no unsigned content item ever enters the feed.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sync.batch import format_time
from sync.content import CONTENT_FEEDS, signed_content

from . import audit
from .db import content, feed as feeds
from .db.connection import Connection, Database
from .keys import CentralKeys

__all__ = ["publish_content", "published_rows", "save_published_row", "withdraw_content",
           "withdraw_published_row"]


def publish_content(store: Database, keys: CentralKeys, feed: str, key: str, content: Mapping[str, Any],
                    *, office: str = "", db: Connection | None = None) -> int:
    """Sign ``content`` as item ``feed``/``key`` and put it on the feed; returns its cursor.
    ``office`` limits it to one office ('' = every office); ``db`` is a connection whose open
    transaction the item joins (so a saved row and its feed item commit together)."""
    if feed not in CONTENT_FEEDS:
        raise ValueError(f"{feed!r} is not a content feed")
    body = signed_content(keys.sign, feed, key, content)
    if db is not None:
        return feeds.publish(db, feed, key, body, office=office)
    with store.write() as conn:
        return feeds.publish(conn, feed, key, body, office=office)


def withdraw_content(store: Database, feed: str, key: str, *, office: str = "") -> int:
    """Withdraw an item: offices stop showing it at their next sync."""
    with store.write() as conn:
        return feeds.publish(conn, feed, key, {}, office=office, deleted=True)


def save_published_row(store: Database, keys: CentralKeys, feed: str, item_id: str, body: Mapping[str, Any],
                       *, actor: str, office: str = "") -> None:
    """Keep ``body`` as row ``item_id`` of the feed's table and publish it, audited as
    ``actor`` (``<feed>_add``), in one transaction."""
    now = _now()
    with store.write() as db:
        content.upsert_row(db, feed, item_id, dict(body), actor, now)
        publish_content(store, keys, feed, item_id, body, office=office, db=db)
        audit.record_in(db, actor, f"{feed}_add", f"{feed}:{item_id}", _added(feed, body, office), at=now)


def _added(feed: str, body: Mapping[str, Any], office: str) -> str:
    """What the audit log says of an added item: where it shows, and when for an announcement."""
    where = f"office={office or '*'}"
    if feed == "announcement":
        return f"{where} starts_on={body['starts_on']} ends_on={body['ends_on']}"
    if feed == "contact":
        return f"{where} province={body['province']}"
    return where


def withdraw_published_row(store: Database, feed: str, item_id: str, *, actor: str) -> bool:
    """Mark row ``item_id`` withdrawn and withdraw its feed item, audited as ``actor``
    (``<feed>_withdraw``); False if there was none."""
    now = _now()
    with store.write() as db:
        changed = content.withdraw_row(db, feed, item_id, actor, now)
        if changed:
            feeds.publish(db, feed, item_id, {}, deleted=True)
            audit.record_in(db, actor, f"{feed}_withdraw", f"{feed}:{item_id}", at=now)
    return changed


def published_rows(store: Database, feed: str) -> list[dict[str, Any]]:
    """The current (not withdrawn) rows of the feed's table: their bodies plus ``updated_*``."""
    with store.connect() as db:
        return content.row_bodies(db, feed)


def _now() -> str:
    return format_time(datetime.now(timezone.utc))
