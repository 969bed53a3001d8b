"""Misconduct reports filed on the portal wait, sealed, until their hour has ended.

A report carries only the hour it was filed in (``casework.hour_of``), as at the kiosk; but
if it reached ``records`` and ``cases`` the moment it was filed, the row's position (the
records' ``id``, the case list's order) and the moment it appeared on the oversight inbox
would still tell who filed it to anyone holding the web server's access log or watching the
inbox.  So, as the kiosk's ledger does (``Ledger.hold``), the portal keeps a report in
``held_reports`` (already sealed to the oversight key: body and attachment alike) until the
hour stamped on it has ended, then releases every report of that hour at once, in shuffled
order, attachments first.

Release happens on the central server's timer (central/server.py) and before each read that
would show the reports (the oversight inbox, the portal's follow-up), so nobody waits for the
timer.  Releasing is idempotent and safe from several processes (one named lock).  The
queries are in central/db/held_reports.py.
"""
from __future__ import annotations

import hashlib
import json
import random
import uuid as uuidlib
from datetime import datetime, timedelta, timezone
from typing import Any

from sync.batch import BatchRecord, format_time

from . import casework, ingest
from .db import held_reports as held_rows, records as record_rows

__all__ = ["HOLD", "follow_up_taken", "held_until", "hold", "release_due"]

#: How long after the start of its hour a report waits.
HOLD = timedelta(hours=1)
_shuffler = random.SystemRandom()


def hold(db, record: BatchRecord, *, follow_up: str, attachment: tuple[bytes, str] | None = None) -> None:
    """Keep a sealed report (``record.created_at`` is its hour) inside the caller's transaction."""
    hour = record.created_at
    release_after = format_time(datetime.fromisoformat(hour.replace("Z", "+00:00")) + HOLD)
    held_rows.insert(db, record.uuid, record.office, release_after, hour, follow_up,
                     json.dumps(record.body, ensure_ascii=False, sort_keys=True),
                     attachment[0] if attachment else None, attachment[1] if attachment else None)


def held_until(db, follow_up: str) -> str | None:
    """When a held report with this locator will be released (``None``: no such report held)."""
    return held_rows.release_after_of(db, follow_up)


def follow_up_taken(db, follow_up: str) -> bool:
    return held_rows.release_after_of(db, follow_up) is not None


def release_due(store, now: datetime | None = None, rng: random.Random | None = None) -> int:
    """Move every report whose hour has ended into records and cases (routed, with a deadline),
    in shuffled order; returns how many.  ``rng`` is for tests; by default the order is drawn
    from the system's random source."""
    moment = format_time(now or datetime.now(timezone.utc))
    with store.connect() as db:  # the common case, nothing due: one indexed probe, no write lock
        if not held_rows.any_due(db, moment):
            return 0
    with store.write() as db:
        db.lock("held_reports")
        rows = held_rows.due(db, moment)
        (rng or _shuffler).shuffle(rows)
        for _, office, hour, _, blob, media_type in rows:  # attachments first, as the kiosk's ledger
            if blob is not None:
                _store_attachment(db, bytes(blob), media_type, office, hour)
        records = []
        for record_uuid, office, hour, body, _, _ in rows:
            record = BatchRecord(uuid=record_uuid, kind="case", office=office, created_at=hour,
                                 body=json.loads(body))
            ingest.insert_central_record(db, record, received_at=hour)
            records.append(record)
            held_rows.delete(db, record_uuid)
        for hour in sorted({r.created_at for r in records}):
            casework.intake(db, [r for r in records if r.created_at == hour], hour)
    return len(rows)


def _store_attachment(db, data: bytes, media_type: str, office: str, hour: str) -> None:
    sha256 = hashlib.sha256(data).hexdigest()
    record_rows.insert_blob(db, sha256, data, hour)
    body: dict[str, Any] = {"sha256": sha256, "media_type": media_type, "size": len(data), "purpose": "case"}
    ingest.insert_central_record(db, BatchRecord(uuid=str(uuidlib.uuid4()), kind="attachment",
                                                 office=office, created_at=hour, body=body),
                                 received_at=hour)
