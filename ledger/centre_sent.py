"""What the central office sent back to this office, kept in the ledger file (schema step 5).

The office's sync client pulls items from the centre's feed and stores them here
(:meth:`CentreSent.store_items`, in the same transaction that advances its pull cursor); the
kiosk and the scanner only read them, so they never need the sync package:

- case statuses and answers (the kiosk's follow-up screen: :meth:`CentreSent.pulled_case_updates`,
  and :meth:`CentreSent.pulled_misconduct_updates` for sealed reports, found by locator);
- revoked sheet codes (the scanner refuses them: :meth:`CentreSent.is_sheet_revoked`);
- the service catalogue, contact directory, form definitions, office keys, conflict notes
  (:meth:`CentreSent.central_items`);
- the oversight key statement the kiosk seals misconduct reports to
  (:meth:`CentreSent.oversight_statement`; check its signature before use: ledger/report_key.py).

A newer item of the same (feed, key) replaces the older one (a catalogue entry edited centrally).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from forms.cases import normalize_tracking_code

from .ledger import Ledger, _format_time

__all__ = ["CentreSent"]

#: Canonical JSON, the same text as the wire's (sync/batch.py ``canonical_json``).
_canonical_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                                   allow_nan=False).encode


class CentreSent:
    """The ``central_items`` of one open :class:`Ledger` (same thread rules as the ledger)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._conn = ledger._conn  # same package: the ledger file is ours to extend

    # -- reading -------------------------------------------------------------------

    def central_items(self, feed: str) -> dict[str, dict[str, Any]]:
        """The current items of one feed (``catalogue``, ``contact``, ``form_definition``,
        ``revoked_sheet``, ``office_key``, ``oversight_key``, ``record_conflict``), by key;
        deleted ones left out."""
        rows = self._conn.execute(
            "SELECT key, body FROM central_items WHERE feed = ? AND deleted = 0 ORDER BY key", (feed,)
        ).fetchall()
        return {key: json.loads(body) for key, body in rows}

    def item_cursor(self, feed: str, key: str) -> int | None:
        """The feed cursor of the item kept for (feed, key), withdrawn or not; None if none."""
        row = self._conn.execute("SELECT cursor FROM central_items WHERE feed = ? AND key = ?",
                                 (feed, key)).fetchone()
        return None if row is None else int(row[0])

    def pulled_case_updates(self, tracking_code: str) -> list[dict[str, Any]]:
        """Statuses and answers the central office gave the case ``tracking_code``, oldest first.

        Each is ``{"status", "answer", "at", "uuid", "tracking_code", ...}`` as the central
        server recorded it; an empty list means nothing has come back (yet).
        """
        rows = self._conn.execute(
            "SELECT body FROM central_items WHERE feed = 'case_update' AND deleted = 0"
            " AND json_extract(body, '$.tracking_code') = ? ORDER BY cursor",
            (normalize_tracking_code(tracking_code),),
        ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def pulled_misconduct_updates(self, locator: str) -> list[dict[str, Any]]:
        """What the central office sent for the sealed misconduct report with this follow-up
        locator (forms/follow_up.py): statuses, and answers sealed to its tracking code."""
        rows = self._conn.execute(
            "SELECT body FROM central_items WHERE feed = 'case_update' AND deleted = 0"
            " AND json_extract(body, '$.follow_up') = ? ORDER BY cursor", (locator,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def oversight_statement(self) -> dict[str, Any] | None:
        """The signed oversight key statement last received (check it before use:
        ledger/report_key.py ``report_key``)."""
        row = self._conn.execute(
            "SELECT body FROM central_items WHERE feed = 'oversight_key' AND key = 'current'"
            " AND deleted = 0").fetchone()
        return None if row is None else json.loads(row[0])

    def is_sheet_revoked(self, sheet_code: str) -> bool:
        """Whether the central office revoked this sheet code (the scanner refuses it)."""
        return self._conn.execute(
            "SELECT 1 FROM central_items WHERE feed = 'revoked_sheet' AND key = ? AND deleted = 0",
            (sheet_code,),
        ).fetchone() is not None

    # -- writing (the sync client, and the oversight key from setup or a USB file) ------

    def store_items(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Save pulled items in one transaction; returns how many were given.

        Items carry ``feed``, ``key``, ``cursor``, ``deleted`` and ``body``; an item older than
        the one kept for its (feed, key) changes nothing.
        """
        received = _format_time(datetime.now(timezone.utc))
        count = 0
        with self.ledger.transaction():
            for item in items:
                self._conn.execute(
                    "INSERT INTO central_items (feed, key, cursor, deleted, body, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (feed, key) DO UPDATE SET"
                    " cursor = excluded.cursor, deleted = excluded.deleted, body = excluded.body,"
                    " received_at = excluded.received_at WHERE excluded.cursor > central_items.cursor",
                    (item["feed"], item["key"], int(item["cursor"]), 1 if item.get("deleted") else 0,
                     _canonical_json(item.get("body") or {}), received),
                )
                count += 1
        return count

    def keep_oversight_statement(self, statement: Mapping[str, Any]) -> None:
        """Keep an oversight key statement that came by setup or a USB acknowledgement file
        (pulled ones arrive through :meth:`store_items`); a newer one replaces it."""
        with self.ledger.transaction():
            current = self.oversight_statement()
            if current is not None and str(current.get("created_at", "")) > str(statement.get("created_at", "")):
                return
            self._conn.execute(
                "INSERT INTO central_items (feed, key, cursor, deleted, body, received_at)"
                " VALUES ('oversight_key', 'current', 0, 0, ?, ?) ON CONFLICT (feed, key) DO UPDATE"
                " SET body = excluded.body, deleted = 0, received_at = excluded.received_at",
                (_canonical_json(dict(statement)), _format_time(datetime.now(timezone.utc))))
