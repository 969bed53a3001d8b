"""What the office knows about syncing, kept inside the ledger file (schema step 5).

Two things, each with one small API:

- the **outbox**: every batch the office has cut, frozen as a range of ledger ``seq`` numbers.
  Records are append-only, so a range rebuilds to the same signed bytes forever; the client
  re-sends a batch until the central server acknowledges it (at-least-once), and the server's
  idempotent apply makes the repeats harmless.
- **state**: small named values: the pull cursor, the last success, the last refusal.

What a pull brings is saved by :meth:`OfficeSyncState.store_central_items` (with the cursor, in
one transaction) into the ledger's ``central_items``, which :class:`ledger.centre_sent.CentreSent`
owns: the kiosk and the scanner read what the centre sent there, never through sync.

Everything runs inside :meth:`Ledger.transaction`, so a client killed at any instant leaves
either the whole change or none of it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .batch import BatchRecord, canonical_json, format_time, sign_content
from ledger.centre_sent import CentreSent
from ledger.ledger import Ledger, LedgerError

__all__ = ["OfficeSyncState", "OutboxBatch"]


@dataclass(frozen=True)
class OutboxBatch:
    """One batch the office cut: which ledger records it holds and whether it arrived."""

    batch_seq: int
    office: str
    first_seq: int
    last_seq: int
    count: int
    created_at: str
    content_sha256: str
    acknowledged_at: str | None
    result: dict[str, Any] | None


#: Bytes a line adds around its body: keys, uuid, time, kind, office (an upper bound).
_LINE_OVERHEAD = 160

_OUTBOX_COLUMNS = ("batch_seq, office, first_seq, last_seq, count, created_at, content_sha256,"
                   " acknowledged_at, result")


def _to_batch(row: tuple) -> OutboxBatch:
    *fields, result = row
    return OutboxBatch(*fields, result=None if result is None else json.loads(result))


class OfficeSyncState:
    """Sync bookkeeping on one open :class:`Ledger` (same thread rules as the ledger)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._conn = ledger._conn  # same package: the ledger file is ours to extend

    # -- outbox ----------------------------------------------------------------

    def cut_batch(self, office: str, *, max_records: int = 1000,
                  max_raw_bytes: int = 4 * 1024 * 1024) -> OutboxBatch | None:
        """Freeze the next records of ``office`` into a new batch; None when nothing is new.

        Records another office code wrote into this ledger are stepped over (never sent: the
        central server only accepts an office's own records under its signature).  Sealed
        reports whose hour has ended join the ledger first (:meth:`Ledger.release_held`).
        """
        with self.ledger.transaction():
            self.ledger.release_held()
            last_batch, last_seq = self._conn.execute(
                "SELECT coalesce(max(batch_seq), 0), coalesce(max(last_seq), 0) FROM sync_outbox"
            ).fetchone()
            rows = self._conn.execute(
                "SELECT seq, office, length(CAST(body AS BLOB)) FROM records WHERE seq > ?"
                " ORDER BY seq LIMIT ?", (last_seq, max_records)).fetchall()
            if not rows:
                return None
            size = 0
            first, last = rows[0][0], rows[0][0]
            for seq, record_office, body_size in rows:
                if record_office == office:
                    item_size = body_size + _LINE_OVERHEAD
                    if size and size + item_size > max_raw_bytes:
                        break
                    size += item_size
                last = seq
            lines = self._lines(office, first, last)
            created = format_time(datetime.now(timezone.utc))
            digest = hashlib.sha256(b"".join(lines)).hexdigest()
            acknowledged = created if not lines else None
            result = canonical_json({"status": "empty"}) if not lines else None
            self._conn.execute(
                f"INSERT INTO sync_outbox ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (last_batch + 1, office, first, last, len(lines), created, digest,
                 acknowledged, result),
            )
            return self.batch(last_batch + 1)

    def _lines(self, office: str, first_seq: int, last_seq: int) -> list[bytes]:
        """The batch content, one canonical JSON line per record, straight from stored text.

        The ledger keeps bodies as canonical JSON and times in the wire's own spelling, so
        SQLite can build each line by concatenation; no record is parsed and re-serialised
        in Python.  (Should an odd office or kind string ever be quoted differently than
        Python would, nothing breaks: the server re-derives every fingerprint itself.)
        """
        rows = self._conn.execute(
            "SELECT '{\"body\":' || body || ',\"created_at\":' || json_quote(created_at)"
            " || ',\"kind\":' || json_quote(kind) || ',\"office\":' || json_quote(office)"
            " || ',\"uuid\":' || json_quote(uuid) || '}' || char(10)"
            " FROM records WHERE seq BETWEEN ? AND ? AND office = ? ORDER BY seq",
            (first_seq, last_seq, office)).fetchall()
        return [line.encode("utf-8") for (line,) in rows]

    def batch(self, batch_seq: int) -> OutboxBatch | None:
        row = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM sync_outbox WHERE batch_seq = ?", (batch_seq,)
        ).fetchone()
        return None if row is None else _to_batch(row)

    def pending_batches(self) -> list[OutboxBatch]:
        """Batches cut but not yet acknowledged, oldest first."""
        rows = self._conn.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM sync_outbox WHERE acknowledged_at IS NULL"
            " ORDER BY batch_seq"
        ).fetchall()
        return [_to_batch(row) for row in rows]

    def batch_records(self, batch: OutboxBatch) -> list[BatchRecord]:
        """The records of ``batch``, read back from the ledger range it froze."""
        count = batch.last_seq - batch.first_seq + 1
        return [_batch_record(r) for r in self.ledger.records(after_seq=batch.first_seq - 1, limit=count)
                if r.office == batch.office]

    def batch_bytes(self, batch: OutboxBatch, key) -> bytes:
        """The signed batch, rebuilt byte for byte from its range (see :func:`sign_content`)."""
        lines = self._lines(batch.office, batch.first_seq, batch.last_seq)
        content = b"".join(lines)
        if hashlib.sha256(content).hexdigest() != batch.content_sha256:
            raise LedgerError(f"Batch {batch.batch_seq} no longer matches the ledger it was cut from; "
                              "the ledger file was changed outside Seda.")
        return sign_content(office=batch.office, seq=batch.batch_seq, content=content,
                            count=len(lines), key=key, created_at=batch.created_at,
                            first_seq=batch.first_seq, last_seq=batch.last_seq)

    def attachment_hashes(self, batch: OutboxBatch) -> list[str]:
        """SHA-256 of every blob the batch's attachment records name, in record order."""
        rows = self._conn.execute(
            "SELECT lower(json_extract(body, '$.sha256')) FROM records WHERE seq BETWEEN ? AND ?"
            " AND office = ? AND kind = 'attachment' ORDER BY seq",
            (batch.first_seq, batch.last_seq, batch.office)).fetchall()
        return list(dict.fromkeys(sha for (sha,) in rows if sha))

    def mark_acknowledged(self, batch_seq: int, result: Mapping[str, Any]) -> bool:
        """Record the central server's acknowledgement; False if it was already recorded."""
        with self.ledger.transaction():
            cursor = self._conn.execute(
                "UPDATE sync_outbox SET acknowledged_at = ?, result = ?"
                " WHERE batch_seq = ? AND acknowledged_at IS NULL",
                (format_time(datetime.now(timezone.utc)), canonical_json(dict(result)), batch_seq),
            )
            refusals = self.get("batch_refusals", {})
            if refusals.pop(str(batch_seq), None) is not None:
                self.set("batch_refusals", refusals)
            return cursor.rowcount == 1

    # -- what needs a person ------------------------------------------------------
    # A refused batch stays in the outbox; these notes say why, so `seda sync status` can show
    # every waiting refusal (not only the last one) and exit non-zero until it is resolved.

    def remember_batch_refusal(self, batch_seq: int, note: Mapping[str, Any]) -> None:
        refusals = self.get("batch_refusals", {})
        refusals[str(batch_seq)] = {**dict(note), "batch": batch_seq}
        self.set("batch_refusals", refusals)

    def batch_refusals(self) -> dict[int, dict[str, Any]]:
        """Why each still-pending batch was last refused, by batch number."""
        pending = {b.batch_seq for b in self.pending_batches()}
        return {int(seq): note for seq, note in self.get("batch_refusals", {}).items()
                if int(seq) in pending}

    def remember_refused_blob(self, sha256: str, note: Mapping[str, Any]) -> None:
        blobs = self.get("refused_blobs", {})
        blobs[sha256] = dict(note)
        self.set("refused_blobs", blobs)

    def forget_refused_blob(self, sha256: str) -> None:
        blobs = self.get("refused_blobs", {})
        if blobs.pop(sha256, None) is not None:
            self.set("refused_blobs", blobs)

    def refused_blobs(self) -> dict[str, dict[str, Any]]:
        """Attachments the central server cannot take (too large), by SHA-256."""
        return self.get("refused_blobs", {})

    def open_conflicts(self) -> list[dict[str, Any]]:
        """Records the central server kept aside as conflicts (same UUID, other content) and
        has not resolved yet (``record_conflict`` items it sends back say when it has)."""
        resolved = {str(body.get("uuid")) for body in
                    CentreSent(self.ledger).central_items("record_conflict").values()
                    if body.get("status") in ("accepted", "dismissed")}
        found: list[dict[str, Any]] = []
        rows = self._conn.execute(
            "SELECT batch_seq, result FROM sync_outbox WHERE acknowledged_at IS NOT NULL"
            " AND result IS NOT NULL AND coalesce(json_extract(result, '$.conflict'), 0) > 0"
            " ORDER BY batch_seq").fetchall()
        for batch_seq, result in rows:
            for item in json.loads(result).get("conflicts") or []:
                uuid = str(item.get("uuid", ""))
                if uuid and uuid not in resolved:
                    found.append({"uuid": uuid, "batch": batch_seq,
                                  "reason": item.get("reason", "conflict")})
        return found

    def waiting_count(self, office: str) -> int:
        """Records of ``office`` the central server has not acknowledged yet."""
        in_batches = self._conn.execute(
            "SELECT coalesce(sum(count), 0) FROM sync_outbox WHERE acknowledged_at IS NULL"
        ).fetchone()[0]
        last_seq = self._conn.execute("SELECT coalesce(max(last_seq), 0) FROM sync_outbox").fetchone()[0]
        not_cut = self._conn.execute(
            "SELECT count(*) FROM records WHERE seq > ? AND office = ?", (last_seq, office)
        ).fetchone()[0]
        return in_batches + not_cut

    def foreign_count(self, office: str) -> int:
        """Records in this ledger written under another office code (never sent)."""
        return self._conn.execute(
            "SELECT count(*) FROM records WHERE office != ?", (office,)
        ).fetchone()[0]

    # -- state -----------------------------------------------------------------

    def get(self, name: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM sync_state WHERE name = ?", (name,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, name: str, value: Any) -> None:
        with self.ledger.transaction():
            self._conn.execute(
                "INSERT INTO sync_state (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, canonical_json(value)),
            )

    # -- reading the central server's feed ------------------------------------------

    def pull_cursor(self) -> int:
        return int(self.get("pull_cursor", 0))

    def store_central_items(self, items: Iterable[Mapping[str, Any]], cursor: int, *,
                            content_refusals: list[Mapping[str, Any]] | None = None) -> int:
        """Save pulled items (ledger/centre_sent.py) and advance the cursor in one transaction;
        returns how many.  ``content_refusals`` (content items the client refused: not signed
        by the centre, or malformed; sync/content.py) are remembered for ``seda sync status``
        and the staff pages (ledger/published_content.py ``content_refusals``), newest 50."""
        with self.ledger.transaction():
            count = CentreSent(self.ledger).store_items(items)
            if content_refusals:
                kept = [*self.get("content_refusals", []), *map(dict, content_refusals)]
                self.set("content_refusals", kept[-50:])
            if cursor > self.pull_cursor():
                self.set("pull_cursor", cursor)
        return count

    def content_refusals(self) -> list[dict[str, Any]]:
        """Content items the office refused (not the centre's signature, or malformed)."""
        return list(self.get("content_refusals", []))


def _batch_record(record) -> BatchRecord:
    return BatchRecord(record.uuid, record.kind, record.office, format_time(record.created_at),
                       record.body)
