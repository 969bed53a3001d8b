"""The central store: every office's records, exactly once, on SQLite or PostgreSQL.

``open_store("central.sqlite3")`` or ``open_store("postgresql://...")`` gives a :class:`Store`
with the same methods on both.  The SQL is written once with ``?`` placeholders; the only
per-database parts are the schema's type names (schema.py) and how a connection is opened.

The store holds everything the server knows (offices, records, cursors, the refusal log), and
a :class:`Store` object holds nothing but a pool of idle connections, so any number of server
processes can share one PostgreSQL database behind a load balancer.

Applying a batch is one transaction that is safe against itself: records are inserted with
``ON CONFLICT (uuid) DO NOTHING`` and tagged with a per-attempt ``receipt``, then read back.
A row with our receipt is new, one with the same fingerprint but another receipt is a
duplicate, a different fingerprint is a conflict.  Two copies of the same batch racing each
other (a retried request whose first copy is still running) therefore both succeed, one as
"new" and one as "duplicate", and no record is ever stored twice.
"""
from __future__ import annotations

import hashlib
import json
import queue
import re
import secrets
import sqlite3
import threading
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from forms.private_files import prepare_private_database

from sync.batch import BatchRecord, VerifiedBatch, canonical_json, format_time, record_fingerprint
from forms.cases import CASE_STATUSES, normalize_tracking_code
from forms.signatures import parse_public_key, public_key_hex
from sync.refusals import BlobsMissing, Refusal
from . import casework, verdicts
from .schema import POSTGRES_STEPS, SQLITE_STEPS

__all__ = ["CLOSED_STATUSES", "FEEDS", "ApiKey", "Store", "StoreError", "open_store"]

#: What offices pull.  ``office_key`` and ``revoked_sheet`` let every office refuse a
#: revoked office's sheets; ``case_update`` items go only to the office that owns the case;
#: ``oversight_key`` is the signed key misconduct reports are sealed to (central/keys.py).
FEEDS = frozenset({"case_update", "catalogue", "contact", "form_definition", "revoked_sheet",
                   "office_key", "oversight_key", "record_conflict",
                   "office_profile", "announcement"})  # content kinds: sync/content.py

_IN_CHUNK = 500
#: The schema step from which a record's identity is (office, UUID) (schema.py step 4).
IDENTITY_STEP = 4
_SQLITE_BUSY_SECONDS = 60.0
_SQLITE_CACHE_KIB = 64 * 1024


class StoreError(Exception):
    """An operator-level failure (unknown case, bad URL, ...); one plain sentence."""


@dataclass(frozen=True)
class Office:
    code: str
    public_key: str
    status: str
    added_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class ApiKey:
    """An Open311 client's key as the store knows it: never the key itself, only its hash."""

    name: str
    office: str | None
    status: str
    added_at: str
    revoked_at: str | None


#: Statuses that make a case "closed" for Open311; every other status is "open".
CLOSED_STATUSES = ("answered", "closed", "rejected", "rejected_duplicate", "rejected_not_ours")
_API_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


class _Db:
    """One connection with ``?`` placeholders on both databases and explicit transactions."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run ``sql`` for every row; returns the number of rows changed in total."""
        rows = list(rows)
        if not rows:
            return 0
        if self.dialect == "sqlite":
            return self.raw.executemany(sql, rows).rowcount
        with self.raw.cursor() as cursor:
            cursor.executemany(self._sql(sql), rows)
            return cursor.rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[_Db]:
        if self.dialect == "sqlite":
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self
                self.raw.execute("COMMIT")
            except BaseException:
                if self.raw.in_transaction:
                    self.raw.execute("ROLLBACK")
                raise
        else:
            with self.raw.transaction():
                yield self


class Store:
    """The central store behind ``url``; see the module docstring."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.dialect = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
        self._idle: queue.LifoQueue[_Db] = queue.LifoQueue(maxsize=pool_size)
        # SQLite has one writer at a time; threads of this process queue here instead of in
        # SQLite's busy handler, which sleeps in steps of up to 100 ms and leaves the lock idle.
        # (A speed measure only: other processes are still kept out by SQLite's own lock.)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None

    def __repr__(self) -> str:
        return f"<Store {self.dialect}>"

    # -- connections -------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    def _open(self) -> _Db:
        if self.dialect == "sqlite":
            path = Path(self.url.removeprefix("sqlite:///"))
            prepare_private_database(path)  # 0600, and so its WAL and SHM
            raw = sqlite3.connect(path, timeout=_SQLITE_BUSY_SECONDS, isolation_level=None,
                                  check_same_thread=False)
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA synchronous = FULL")  # an acknowledged batch survives power loss
            # Record UUIDs are random, so their index is written all over; a bigger page cache
            # than SQLite's 2 MB default keeps ingest fast once the store holds millions.
            raw.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            return _Db(raw, "sqlite")
        import psycopg  # only central servers on PostgreSQL need it loaded

        return _Db(psycopg.connect(self.url, autocommit=True), "postgresql")

    @contextmanager
    def connect(self) -> Iterator[_Db]:
        """A pooled connection.  One that saw a database error is closed, not reused; a
        :class:`Refusal` is an answer, not a fault, so its connection goes back to the pool
        (its transaction has already been rolled back)."""
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = self._open()
        try:
            yield db
        except Refusal:
            self._release(db)
            raise
        except BaseException:
            _close_quietly(db)
            raise
        self._release(db)

    def _release(self, db: _Db) -> None:
        try:
            self._idle.put_nowait(db)
        except queue.Full:
            _close_quietly(db)

    def close(self) -> None:
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                return

    def migrate(self) -> None:
        """Create or upgrade the tables; several processes may call it at once."""
        steps = SQLITE_STEPS if self.dialect == "sqlite" else POSTGRES_STEPS
        with self.connect() as db:
            for version, script in steps:
                with db.transaction():
                    if self.dialect == "postgresql":
                        db.execute("SELECT pg_advisory_xact_lock(5150501)")
                    db.execute("CREATE TABLE IF NOT EXISTS schema_version"
                               " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
                    if db.one("SELECT 1 FROM schema_version WHERE version = ?", (version,)):
                        continue
                    for statement in _statements(script):
                        db.execute(statement)
                    db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                               (version, _now()))
        # Derived tables that are filled from the records, not only created: the case rows of
        # cases stored before casework existed, and the satisfaction roll-ups (analysis.py).
        from .analysis import ensure_analysis_indexes, ensure_comment_index

        if max(version for version, _ in steps) >= casework.SCHEMA_STEP:
            casework.backfill(self)  # once: it marks itself done
            ensure_analysis_indexes(self)
            ensure_comment_index(self)
        if max(version for version, _ in steps) >= IDENTITY_STEP:
            self.settle_foreign_conflicts()  # once: it marks itself done

    # -- offices -----------------------------------------------------------------

    def add_office(self, code: str, public_key: str | Ed25519PublicKey) -> Office:
        """Register ``code`` with its public key (re-adding replaces the key and re-activates)."""
        key_hex = public_key_hex(public_key if isinstance(public_key, Ed25519PublicKey)
                                 else parse_public_key(public_key))
        now = _now()
        with self.connect() as db, db.transaction():
            db.execute(
                "INSERT INTO offices (code, public_key, status, added_at) VALUES (?, ?, 'active', ?)"
                " ON CONFLICT (code) DO UPDATE SET public_key = excluded.public_key,"
                " status = 'active', added_at = excluded.added_at, revoked_at = NULL",
                (code, key_hex, now))
            self._publish(db, "office_key", code, {"office": code, "public_key": key_hex,
                                                    "status": "active"})
        return self.office(code)

    def revoke_office(self, code: str) -> Office:
        """Refuse everything signed by ``code`` from now on, and tell every office."""
        with self.connect() as db, db.transaction():
            row = db.one("SELECT public_key FROM offices WHERE code = ?", (code,))
            if row is None:
                raise StoreError(f"No office {code} is registered.")
            db.execute("UPDATE offices SET status = 'revoked', revoked_at = ? WHERE code = ?",
                       (_now(), code))
            self._publish(db, "office_key", code, {"office": code, "public_key": row[0],
                                                    "status": "revoked"})
        return self.office(code)

    def office(self, code: str) -> Office | None:
        with self.connect() as db:
            row = db.one("SELECT code, public_key, status, added_at, revoked_at FROM offices"
                         " WHERE code = ?", (code,))
        return None if row is None else Office(*row)

    def offices(self) -> list[Office]:
        with self.connect() as db:
            rows = db.all("SELECT code, public_key, status, added_at, revoked_at FROM offices"
                          " ORDER BY code")
        return [Office(*row) for row in rows]

    def office_public_key(self, code: str) -> Ed25519PublicKey:
        """The key to verify ``code``'s signatures; a Refusal if unknown or revoked."""
        office = self.office(code)
        if office is None:
            raise Refusal("unknown_office", f"office {code} is not registered")
        if office.status != "active":
            raise Refusal("revoked_office", f"office {code} was revoked at {office.revoked_at}")
        return parse_public_key(office.public_key)

    # -- blobs -------------------------------------------------------------------

    def missing_blobs(self, hashes: Iterable[str]) -> list[str]:
        """Which of ``hashes`` the store lacks, in the order asked."""
        wanted = list(dict.fromkeys(h.lower() for h in hashes))
        with self.connect() as db:
            present = self._present_blobs(db, wanted)
        return [h for h in wanted if h not in present]

    def _present_blobs(self, db: _Db, hashes: Sequence[str]) -> set[str]:
        present: set[str] = set()
        for chunk in _chunks(hashes):
            marks = ",".join("?" * len(chunk))
            present.update(h for (h,) in db.all(f"SELECT sha256 FROM blobs WHERE sha256 IN ({marks})", chunk))
        return present

    def put_blob(self, sha256: str, data: bytes) -> bool:
        """Store ``data`` under its hash after checking it; True if it was new."""
        sha256 = sha256.lower()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise Refusal("bad_blob", f"bytes hash to {actual}, not {sha256}")
        with self._writing(), self.connect() as db, db.transaction():
            cursor = db.execute("INSERT INTO blobs (sha256, size, data, received_at) VALUES (?, ?, ?, ?)"
                                " ON CONFLICT (sha256) DO NOTHING", (sha256, len(data), data, _now()))
            return cursor.rowcount == 1

    def office_sent_blob(self, office: str, sha256: str) -> dict[str, Any] | None:
        """The body of an attachment record of ``office`` naming ``sha256``, or None.

        Blobs are stored once by hash for all offices; a record refers to one only through an
        attachment record of its own office, so an office that names a hash it never sent (one
        it learnt of another office's file) gets nothing served (index of schema step 4).
        """
        with self.connect() as db:
            row = db.one(f"SELECT body FROM records WHERE office = ? AND kind = 'attachment' AND"
                         f" {self._json_text('body', 'sha256')} = ? LIMIT 1", (office, sha256.lower()))
        return None if row is None else _json(row[0])

    def blob(self, sha256: str) -> bytes | None:
        with self.connect() as db:
            row = db.one("SELECT data FROM blobs WHERE sha256 = ?", (sha256.lower(),))
        return None if row is None else bytes(row[0])

    # -- batches -----------------------------------------------------------------

    def apply_batch(self, batch: VerifiedBatch, *, source: str = "http") -> dict[str, Any]:
        """Apply a verified batch atomically and return the acknowledgement.

        ``{"status": "applied" | "duplicate_batch", "office", "seq", "sha256", "count",
        "new", "duplicate", "conflict", "conflicts": [{"uuid", "reason"}]}``.
        Raises :class:`Refusal` (revoked office) or :class:`BlobsMissing`; then nothing changed.
        """
        now = _now()
        receipt = uuidlib.uuid4().hex
        # Everything that needs no database happens before the write transaction starts,
        # so the (SQLite: single) write lock is held only for the SQL itself.
        rows = []
        fingerprints = {}
        for record in batch.records:
            fingerprint = record_fingerprint(record)
            fingerprints[record.uuid] = (fingerprint, record)
            rows.append((record.uuid, record.office, record.kind, record.created_at,
                         record.body_json or canonical_json(record.body), fingerprint,
                         _case_code(record), receipt, now))
        rows.sort()  # one lock order for every transaction: concurrent batches cannot deadlock
        needed = list(dict.fromkeys(r.body["sha256"].lower() for r in batch.records
                                    if r.kind == "attachment"))
        with self._writing(), self.connect() as db, db.transaction():
            status = db.one("SELECT status FROM offices WHERE code = ?", (batch.office,))
            if status is None:
                raise Refusal("unknown_office", f"office {batch.office} is not registered")
            if status[0] != "active":  # re-checked inside the transaction: revocation wins races
                raise Refusal("revoked_office", f"office {batch.office} is revoked")
            seen = db.one("SELECT seq, count, new, duplicate, conflict FROM batches"
                          " WHERE office = ? AND content_sha256 = ?",
                          (batch.office, batch.content_sha256))
            if seen is not None:
                return self._ack("duplicate_batch", batch, *seen[1:], conflicts=[])
            if needed:
                present = self._present_blobs(db, needed)
                missing = [h for h in needed if h not in present]
                if missing:
                    raise BlobsMissing(missing)
            inserted = db.executemany(
                "INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (uuid) DO NOTHING", rows)
            new = duplicate = 0
            conflicts = []
            # Every row inserted (the common case): all new, nothing to read back.
            uuids = [] if inserted == len(rows) else list(fingerprints)
            if not uuids:
                new = inserted
                fresh = batch.records
            else:
                fresh = []
            foreign = []
            for chunk in _chunks(uuids):
                marks = ",".join("?" * len(chunk))
                for uuid, stored_fp, stored_receipt, stored_office in db.all(
                        f"SELECT uuid, fingerprint, receipt, office FROM records WHERE uuid IN ({marks})",
                        chunk):
                    offered_fp, record = fingerprints[uuid]
                    if stored_receipt == receipt:
                        new += 1
                        fresh.append(record)
                    elif stored_office != batch.office:
                        foreign.append(record)  # another office's record holds this UUID
                    elif stored_fp == offered_fp:
                        duplicate += 1
                    else:
                        conflicts.append((record, offered_fp, stored_fp))
            if foreign:  # stored under the office's own key: (office, UUID) is the identity
                added, repeated, clashes = self._store_rekeyed(db, batch.office, foreign,
                                                               fingerprints, receipt, now)
                new, duplicate = new + len(added), duplicate + repeated
                fresh += added
                conflicts += clashes
            db.executemany(
                "INSERT INTO conflicts (uuid, office, batch_seq, offered, offered_fingerprint,"
                " stored_fingerprint, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (uuid, offered_fingerprint) DO NOTHING",
                [(r.uuid, batch.office, batch.seq, canonical_json(r.to_json()), ofp, sfp, now)
                 for r, ofp, sfp in conflicts])
            casework.intake(self, db, fresh, now)  # every new case gets its unit, in this transaction
            verdicts.apply_office_verdicts(self, db, fresh, now)  # "was it solved?" from kiosks
            db.execute(
                "INSERT INTO batches (office, content_sha256, seq, count, new, duplicate, conflict,"
                " source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (office, content_sha256) DO NOTHING",
                (batch.office, batch.content_sha256, batch.seq, len(batch.records), new, duplicate,
                 len(conflicts), source, now))
        return self._ack("applied", batch, len(batch.records), new, duplicate, len(conflicts),
                         conflicts=[{"uuid": r.uuid, "reason": "conflict"} for r, _, _ in conflicts])

    def _store_rekeyed(self, db: _Db, office: str, records: Sequence[BatchRecord],
                       fingerprints: dict[str, tuple[str, BatchRecord]], receipt: str, now: str
                       ) -> tuple[list[BatchRecord], int, list[tuple[BatchRecord, str, str]]]:
        """Store records whose UUID another office's record already holds under
        :func:`office_record_uuid`; returns (new records as stored, duplicates, conflicts).

        Two offices can make the same UUID (a case's UUID comes from its tracking code, which
        each office draws on its own), and neither is wrong: each is stored, routed and
        answered.  The fingerprint keeps the office's own UUID, so a re-sent copy is
        recognised as a duplicate.
        """
        moved = [replace(r, uuid=office_record_uuid(office, r.uuid)) for r in records]
        db.executemany(
            "INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
            " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (uuid) DO NOTHING",
            sorted((m.uuid, office, m.kind, m.created_at, m.body_json or canonical_json(m.body),
                    fingerprints[r.uuid][0], _case_code(m), receipt, now)
                   for m, r in zip(moved, records)))
        by_uuid = {m.uuid: (m, fingerprints[r.uuid][0], r) for m, r in zip(moved, records)}
        added, duplicate, clashes = [], 0, []
        for chunk in _chunks(list(by_uuid)):
            marks = ",".join("?" * len(chunk))
            for uuid, stored_fp, stored_receipt in db.all(
                    f"SELECT uuid, fingerprint, receipt FROM records WHERE uuid IN ({marks})", chunk):
                moved_record, offered_fp, original = by_uuid[uuid]
                if stored_receipt == receipt:
                    added.append(moved_record)
                elif stored_fp == offered_fp:
                    duplicate += 1
                else:
                    clashes.append((original, offered_fp, stored_fp))
        return added, duplicate, clashes

    @staticmethod
    def _ack(status: str, batch: VerifiedBatch, count: int, new: int, duplicate: int,
             conflict: int, *, conflicts: list[dict[str, str]]) -> dict[str, Any]:
        return {"status": status, "office": batch.office, "seq": batch.seq,
                "sha256": batch.content_sha256, "count": count, "new": new,
                "duplicate": duplicate, "conflict": conflict, "conflicts": conflicts}

    def log_refusal(self, refusal: Refusal, *, office: str | None = None,
                    batch_seq: int | None = None, source: str = "http") -> None:
        """Write a refusal to the central log (its own transaction: the batch changed nothing)."""
        with self._writing(), self.connect() as db, db.transaction():
            db.execute("INSERT INTO refusals (office, batch_seq, code, detail, source, received_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
                       (office, batch_seq, refusal.code, refusal.detail[:2000], source, _now()))

    def refusals(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.connect() as db:
            rows = db.all("SELECT id, office, batch_seq, code, detail, source, received_at"
                          " FROM refusals ORDER BY id DESC LIMIT ?", (limit,))
        names = ("id", "office", "batch_seq", "code", "detail", "source", "received_at")
        return [dict(zip(names, row)) for row in rows]

    def conflicts(self, *, include_resolved: bool = True) -> list[dict[str, Any]]:
        """Records kept aside as conflicts (an office sent a UUID it had sent before, with
        other content), for an operator: each with ``resolution`` None while it is open."""
        where = "" if include_resolved else " WHERE c.resolution IS NULL"
        with self.connect() as db:
            rows = db.all("SELECT c.id, c.uuid, c.office, c.batch_seq, c.offered, r.body,"
                          " c.received_at, c.resolution, c.resolved_by, c.resolved_at, c.stored_uuid"
                          " FROM conflicts c LEFT JOIN records r ON r.uuid = c.uuid"
                          f"{where} ORDER BY c.id")
        return [{"id": i, "uuid": u, "office": o, "batch_seq": s, "offered": _json(offered),
                 "stored_body": _json(stored) if stored else None, "received_at": at,
                 "resolution": resolution, "resolved_by": by, "resolved_at": when,
                 "stored_uuid": stored_uuid}
                for i, u, o, s, offered, stored, at, resolution, by, when, stored_uuid in rows]

    def open_conflict_count(self) -> int:
        with self.connect() as db:
            return int(db.one("SELECT count(*) FROM conflicts WHERE resolution IS NULL")[0])

    def resolve_conflict(self, conflict_id: int, *, accept: bool, by: str) -> dict[str, Any]:
        """Settle conflict ``conflict_id``: ``accept`` stores the offered record as a record of
        its own (under a key of its office, UUID and content; a case is routed like any other),
        otherwise it is dismissed.  Either way the office is told (feed ``record_conflict``),
        so its `seda sync status` stops reporting it."""
        now = _now()
        with self._writing(), self.connect() as db, db.transaction():
            row = db.one("SELECT uuid, office, offered, offered_fingerprint, resolution"
                         " FROM conflicts WHERE id = ?", (conflict_id,))
            if row is None:
                raise StoreError(f"No conflict number {conflict_id}.")
            uuid, office, offered_text, offered_fp, resolution = row
            if resolution is not None:
                raise StoreError(f"Conflict {conflict_id} was already {resolution}.")
            stored_uuid = None
            if accept:
                stored_uuid = self._accept_offered(db, office, _json(offered_text), offered_fp,
                                                   f"{office}/{uuid}/{offered_fp}", now)
            status = "accepted" if accept else "dismissed"
            db.execute("UPDATE conflicts SET resolution = ?, resolved_by = ?, resolved_at = ?,"
                       " stored_uuid = ? WHERE id = ?", (status, by, now, stored_uuid, conflict_id))
            self._publish(db, "record_conflict", f"{office}/{uuid}",
                          {"uuid": uuid, "status": status, "at": now}, office=office)
        return {"id": conflict_id, "uuid": uuid, "office": office, "resolution": status,
                "stored_uuid": stored_uuid}

    def _accept_offered(self, db: _Db, office: str, offered: dict[str, Any], fingerprint: str,
                        key: str, now: str) -> str:
        """Store an offered record under ``uuid5(key)`` and take its case in; its new UUID."""
        record = BatchRecord(uuid=str(uuidlib.uuid5(OFFICE_RECORD_NAMESPACE, key)),
                             kind=offered["kind"], office=office,
                             created_at=offered["created_at"], body=offered["body"])
        inserted = db.execute(
            "INSERT INTO records (uuid, office, kind, created_at, body, fingerprint, tracking_code,"
            " receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING",
            (record.uuid, office, record.kind, record.created_at, canonical_json(record.body),
             fingerprint, _case_code(record), uuidlib.uuid4().hex, now)).rowcount
        if inserted:
            casework.intake(self, db, [record], now)
        return record.uuid

    def settle_foreign_conflicts(self) -> int:
        """Conflicts kept before a record's identity was (office, UUID): a case of one office
        parked because another office's case had the same tracking code (and so the same
        UUID).  Each is stored now under :func:`office_record_uuid`, routed, and its office
        told; run once by :meth:`migrate`.  Returns how many were settled."""
        with self.connect() as db:
            if db.one("SELECT value FROM settings WHERE key = 'foreign_conflicts_settled'"):
                return 0
        settled = 0
        with self._writing(), self.connect() as db, db.transaction():
            if self.dialect == "postgresql":
                db.execute("SELECT pg_advisory_xact_lock(5150504)")
            rows = db.all("SELECT c.id, c.uuid, c.office, c.offered, c.offered_fingerprint"
                          " FROM conflicts c JOIN records r ON r.uuid = c.uuid"
                          " WHERE c.resolution IS NULL AND r.office <> c.office ORDER BY c.id")
            now = _now()
            for conflict_id, uuid, office, offered_text, offered_fp in rows:
                # the key batches use for such a record from now on (office_record_uuid)
                stored = self._accept_offered(db, office, _json(offered_text), offered_fp,
                                              f"{office}/{uuid}", now)
                db.execute("UPDATE conflicts SET resolution = 'accepted', resolved_by = 'system',"
                           " resolved_at = ?, stored_uuid = ? WHERE id = ?", (now, stored, conflict_id))
                self._publish(db, "record_conflict", f"{office}/{uuid}",
                              {"uuid": uuid, "status": "accepted", "at": now}, office=office)
                settled += 1
            db.execute("INSERT INTO settings (key, value) VALUES ('foreign_conflicts_settled', 'true')"
                       " ON CONFLICT (key) DO NOTHING")
        return settled

    # -- reading records (reports, tests) ---------------------------------------------

    def record_count(self, office: str | None = None) -> int:
        with self.connect() as db:
            if office is None:
                return db.one("SELECT count(*) FROM records")[0]
            return db.one("SELECT count(*) FROM records WHERE office = ?", (office,))[0]

    def records(self, office: str | None = None) -> list[dict[str, Any]]:
        """Every stored record (oldest first) as ``{"uuid", "kind", "office", "created_at",
        "body"}``: the same shape that travelled in the batch."""
        sql = "SELECT uuid, kind, office, created_at, body FROM records"
        params: tuple = ()
        if office is not None:
            sql += " WHERE office = ?"
            params = (office,)
        with self.connect() as db:
            rows = db.all(sql + " ORDER BY id", params)
        return [{"uuid": u, "kind": k, "office": o, "created_at": c, "body": _json(b)}
                for u, k, o, c, b in rows]

    def batch_log(self, office: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT office, seq, content_sha256, count, new, duplicate, conflict, source,"
               " received_at FROM batches")
        params: tuple = ()
        if office is not None:
            sql += " WHERE office = ?"
            params = (office,)
        names = ("office", "seq", "sha256", "count", "new", "duplicate", "conflict", "source",
                 "received_at")
        with self.connect() as db:
            return [dict(zip(names, row)) for row in db.all(sql + " ORDER BY received_at", params)]

    # -- what offices pull --------------------------------------------------------

    def publish(self, feed: str, key: str, body: dict[str, Any], *, office: str = "",
                deleted: bool = False) -> int:
        """Put (or replace) one item offices pull; returns its cursor.

        ``office`` limits it to one office ('' = every office).  Replacing moves the item to a
        new cursor, so offices that already had the old version receive the new one.
        """
        if feed not in FEEDS:
            raise StoreError(f"Unknown feed {feed!r}; expected one of {', '.join(sorted(FEEDS))}.")
        with self.connect() as db, db.transaction():
            return self._publish(db, feed, key, body, office=office, deleted=deleted)

    def _publish(self, db: _Db, feed: str, key: str, body: dict[str, Any], *, office: str = "",
                 deleted: bool = False) -> int:
        return self._publish_many(db, feed, [(key, body, office)], deleted=deleted)[-1]

    def _publish_many(self, db: _Db, feed: str, items: Sequence[tuple[str, dict[str, Any], str]],
                      *, deleted: bool = False) -> list[int]:
        """Publish ``(key, body, office)`` items inside the caller's transaction; their cursors."""
        if not items:
            return []
        # The counter row is locked until commit, so cursors commit in the order handed out.
        last = db.one("UPDATE counters SET value = value + ? WHERE name = 'feed' RETURNING value",
                      (len(items),))[0]
        cursors = list(range(last - len(items) + 1, last + 1))
        now = _now()
        db.executemany(
            "INSERT INTO feed (cursor, feed, key, office, deleted, body, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed, key) DO UPDATE SET"
            " cursor = excluded.cursor, office = excluded.office, deleted = excluded.deleted,"
            " body = excluded.body, updated_at = excluded.updated_at",
            [(cursor, feed, key, office, 1 if deleted else 0, canonical_json(body), now)
             for cursor, (key, body, office) in zip(cursors, items)])
        return cursors

    def record_case_update(self, tracking_code: str, status: str, *, answer: str | None = None,
                           unit: str | None = None, actor: str = "operator",
                           office: str | None = None) -> dict[str, Any]:
        """Record a new status (and answer) for a case; its office pulls it at next contact.

        The operator's override (``seda central case-update``): no lifecycle check, unlike the
        central web app's :class:`~central.casework.Casework`; the case row and its history
        follow, with ``actor`` as the one who did it.  A misconduct report's office is sent the
        status only (:func:`~central.casework.misconduct_update`); the answer stays here.
        Returns the update sent to the office, with its ``cursor``, the ``case_uuid`` it
        applies to and whether that case is a ``misconduct`` report.

        A case is (office, tracking code): when two offices drew the same code, ``office``
        must say which case is meant (a :class:`StoreError` names the offices otherwise).
        """
        if status not in CASE_STATUSES:
            raise StoreError(f"Unknown case status {status!r}; expected one of "
                             f"{', '.join(CASE_STATUSES)}.")
        tracking_code = normalize_tracking_code(tracking_code)
        with self._writing(), self.connect() as db, db.transaction():
            found = db.all("SELECT office, uuid FROM records WHERE kind = 'case' AND tracking_code = ?"
                           + (" AND office = ?" if office else "") + " ORDER BY id",
                           (str(tracking_code), office) if office else (str(tracking_code),))
            if not found:
                raise StoreError(f"No case with tracking code {tracking_code}"
                                 + (f" of office {office}" if office else "")
                                 + " has reached the central server.")
            if len(found) > 1:
                offices = ", ".join(sorted({o for o, _ in found}))
                raise StoreError(f"Tracking code {tracking_code} belongs to {len(found)} cases "
                                 f"(offices {offices}); say which with --office, or answer the "
                                 "case on the central web app.")
            row = found[0]
            if self.dialect == "postgresql":  # the case row before the feed counter, as casework does
                db.execute("SELECT 1 FROM cases WHERE uuid = ? FOR UPDATE", (row[1],))
            now = _now()
            oversight = db.one("SELECT 1 FROM cases WHERE uuid = ? AND (case_type = 'misconduct'"
                               " OR unit = 'oversight')", (row[1],))
            if oversight:  # a misconduct report: its office learns the status only
                body = _json(db.one("SELECT body FROM records WHERE uuid = ?", (row[1],))[0])
                update = casework.misconduct_update(body, status, now)
            else:
                update = {"uuid": str(uuidlib.uuid4()), "tracking_code": str(tracking_code),
                          "status": status, "answer": answer, "unit": unit, "at": now}
            update["cursor"] = self._publish(db, "case_update", update["uuid"], update, office=row[0])
            done = now if status in casework.CLOSED else None
            db.execute("UPDATE cases SET status = ?, updated_at = ?, answered_at = ?,"
                       " closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END WHERE uuid = ?",
                       (status, now, done, status, now, row[1]))
            db.execute("INSERT INTO case_events (case_uuid, at, actor, event, status, text, public)"
                       " SELECT uuid, ?, ?, 'status', ?, ?, 1 FROM cases WHERE uuid = ?",
                       (now, actor, status, answer, row[1]))
        return {**update, "case_uuid": row[1], "misconduct": bool(oversight)}

    # -- Open311 (open311.py): API keys, centrally filed cases, the public view of cases ----

    def add_api_key(self, name: str, *, office: str | None = None) -> tuple[str, ApiKey]:
        """Make a new Open311 API key called ``name``; returns ``(key, ApiKey)``.

        The key is shown once: only its SHA-256 is stored.  ``office`` is the office code the
        key's cases are filed under (None: ``OPEN311``) and the only office it may list.
        """
        if not _API_KEY_NAME.fullmatch(name or ""):
            raise StoreError(f"Invalid API key name {name!r}: use up to 64 letters, digits, '.', '_' or '-'.")
        key = secrets.token_urlsafe(32)
        with self.connect() as db, db.transaction():
            if db.one("SELECT 1 FROM api_keys WHERE name = ?", (name,)):
                raise StoreError(f"An API key named {name} already exists; choose another name.")
            db.execute("INSERT INTO api_keys (name, key_sha256, office, status, added_at)"
                       " VALUES (?, ?, ?, 'active', ?)", (name, _key_hash(key), office, _now()))
        return key, self._api_key_named(name)

    def revoke_api_key(self, name: str) -> ApiKey:
        """Refuse the key called ``name`` from now on."""
        with self.connect() as db, db.transaction():
            changed = db.execute("UPDATE api_keys SET status = 'revoked', revoked_at = ?"
                                 " WHERE name = ? AND status = 'active'", (_now(), name)).rowcount
            if not changed and not db.one("SELECT 1 FROM api_keys WHERE name = ?", (name,)):
                raise StoreError(f"No API key named {name}.")
        return self._api_key_named(name)

    def api_keys(self) -> list[ApiKey]:
        with self.connect() as db:
            rows = db.all("SELECT name, office, status, added_at, revoked_at FROM api_keys ORDER BY name")
        return [ApiKey(*row) for row in rows]

    def api_key_for(self, key: str) -> ApiKey | None:
        """The active key whose secret is ``key``, or None (unknown or revoked)."""
        if not key:
            return None
        with self.connect() as db:
            row = db.one("SELECT name, office, status, added_at, revoked_at FROM api_keys"
                         " WHERE key_sha256 = ? AND status = 'active'", (_key_hash(key),))
        return None if row is None else ApiKey(*row)

    def _api_key_named(self, name: str) -> ApiKey:
        with self.connect() as db:
            row = db.one("SELECT name, office, status, added_at, revoked_at FROM api_keys"
                         " WHERE name = ?", (name,))
        return ApiKey(*row)

    def add_central_case(self, body: dict[str, Any], *, office: str,
                         draw_code: Callable[[Callable[[str], bool]], str]) -> dict[str, Any]:
        """Store a case filed at the central server (not at an office) as a record of kind
        ``case``; returns it in the shape of :meth:`records`.

        ``draw_code(exists)`` returns a fresh tracking code (``forms.tracking_codes.new_tracking_code``);
        it is called inside the write transaction with ``exists`` asking this store, so the
        check and the insert cannot be separated by another writer.
        """
        now = _now()
        with self._writing(), self.connect() as db, db.transaction():
            if self.dialect == "postgresql":  # one code drawer at a time, across processes
                db.execute("SELECT pg_advisory_xact_lock(5150502)")
            code = draw_code(lambda c: db.one("SELECT 1 FROM records WHERE tracking_code = ? LIMIT 1",
                                              (normalize_tracking_code(c),)) is not None)
            code = normalize_tracking_code(code)
            record = BatchRecord(uuid=str(uuidlib.uuid4()), kind="case", office=office,
                                 created_at=now, body={**body, "tracking_code": code})
            self._insert_central_record(db, record, received_at=now)
            casework.intake(self, db, [record], now)
        return {"uuid": record.uuid, "kind": "case", "office": office, "created_at": now,
                "body": record.body}

    def _insert_central_record(self, db: _Db, record: BatchRecord, *, received_at: str) -> None:
        """Insert one record born at the centre (Open311, the portal) inside the caller's
        transaction; its tracking code column is filled from a case body."""
        db.execute("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                   " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (record.uuid, record.office, record.kind, record.created_at,
                    canonical_json(record.body), record_fingerprint(record), _case_code(record),
                    uuidlib.uuid4().hex, received_at))

    def public_cases(self, *, tracking_codes: Sequence[str] | None = None,
                     services: Sequence[str] | None = None, start: str | None = None,
                     end: str | None = None, status: str | None = None,
                     office: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Cases anyone with the tracking code may follow (Open311), newest first, each with
        its latest status: ``{"office", "tracking_code", "type", "service", "text",
        "created_at", "status", "unit", "answer", "updated_at", "mobile_last4"}``.

        Never returns anonymous cases, misconduct reports (type ``misconduct``, route
        ``oversight``) or sealed bodies, and never a name, national ID or mobile number
        (``mobile_last4`` is for the caller's follow-up check, not for display).  ``start`` /
        ``end`` bound ``created_at`` (ledger spelling, inclusive); ``status`` is ``open`` or
        ``closed`` (:data:`CLOSED_STATUSES`); ``office`` limits to one office.
        """
        j = self._json_text
        # SQLite: unary + drops the column's TEXT affinity, which would keep the planner from
        # the feed_case_update_tracking index (an expression has none).
        code = "+r.tracking_code" if self.dialect == "sqlite" else "r.tracking_code"
        update_of_case = (f"FROM feed f WHERE f.feed = 'case_update' AND f.deleted = 0"
                          f" AND f.office = r.office AND {j('f.body', 'tracking_code')} = {code}")
        answer = j("f.body", "answer")
        where = ["r.kind = 'case'", "r.tracking_code IS NOT NULL", self._public_case_sql("r.body"),
                 self._not_with_oversight("r.uuid")]
        params: list[Any] = []
        if tracking_codes is not None:
            codes = [normalize_tracking_code(c) for c in tracking_codes][:_IN_CHUNK]
            if not codes:
                return []
            where.append(f"r.tracking_code IN ({','.join('?' * len(codes))})")
            params += codes
        if services is not None:
            if not services:
                return []
            where.append(f"{j('r.body', 'service')} IN ({','.join('?' * len(services))})")
            params += list(services)
        if start is not None:
            where.append("r.created_at >= ?")
            params.append(start)
        if end is not None:
            where.append("r.created_at <= ?")
            params.append(end)
        if office is not None:
            where.append("r.office = ?")
            params.append(office)
        outer = ""
        if status is not None:
            if status not in ("open", "closed"):
                raise StoreError(f"Unknown Open311 status {status!r}; expected open or closed.")
            marks = ",".join("?" * len(CLOSED_STATUSES))
            latest_status = j("c.latest", "status")
            outer = (f"WHERE c.latest IS NOT NULL AND {latest_status} IN ({marks})" if status == "closed"
                     else f"WHERE c.latest IS NULL OR {latest_status} NOT IN ({marks})")
            params += list(CLOSED_STATUSES)
        sql = (f"SELECT c.id, c.office, c.tracking_code, c.created_at, c.body, c.latest, c.answer FROM ("
               f"SELECT r.id, r.office, r.tracking_code, r.created_at, r.body,"
               f" (SELECT f.body {update_of_case} ORDER BY f.cursor DESC LIMIT 1) AS latest,"
               f" (SELECT {answer} {update_of_case} AND {answer} IS NOT NULL AND {answer} <> ''"
               f"  ORDER BY f.cursor DESC LIMIT 1) AS answer"
               f" FROM records r WHERE {' AND '.join(where)}) c {outer} ORDER BY c.id DESC LIMIT ?")
        params.append(max(1, int(limit)))
        with self.connect() as db:
            rows = db.all(sql, params)
        cases = []
        for _id, case_office, code, created_at, body_text, latest_text, latest_answer in rows:
            body = _json(body_text)
            if not _is_public_case(body):  # the SQL already said so; a second lock on the door
                continue
            latest = _json(latest_text) if latest_text else {}
            mobile = str(body.get("mobile") or "")
            cases.append({
                "office": case_office, "tracking_code": code, "type": body.get("type"),
                "service": body.get("service"), "text": body.get("text") or "",
                "created_at": created_at, "status": latest.get("status") or "received",
                "unit": latest.get("unit"), "answer": latest_answer,
                "updated_at": latest.get("at") or created_at,
                "mobile_last4": mobile[-4:] if mobile else None,
            })
        return cases

    def _json_text(self, column: str, key: str) -> str:
        """SQL for the text of ``column``'s JSON field ``key`` (SQLite and PostgreSQL spell it
        differently; the feed index in schema step 2 is on exactly this expression)."""
        if self.dialect == "sqlite":
            return f"json_extract({column}, '$.{key}')"
        return f"(({column})::jsonb ->> '{key}')"

    def _public_case_sql(self, column: str) -> str:
        """SQL that is true only for a case body Open311 may show: routed to the office, not a
        misconduct report, not anonymous, not sealed.  Anything unexpected counts as private."""
        j = self._json_text
        if self.dialect == "sqlite":
            anonymous = f"COALESCE({j(column, 'anonymous')}, 0) IN (0, '0', 'false', '')"
            sealed = f"json_type({column}, '$.sealed') IS NULL"
        else:
            anonymous = f"COALESCE({j(column, 'anonymous')}, 'false') IN ('false', '0', '')"
            sealed = f"(({column})::jsonb -> 'sealed') IS NULL"
        return (f"COALESCE({j(column, 'route')}, 'office') = 'office'"
                f" AND COALESCE({j(column, 'type')}, '') <> 'misconduct' AND {anonymous} AND {sealed}")

    @staticmethod
    def _not_with_oversight(record_uuid: str) -> str:
        """SQL true unless the central office moved the case to the oversight unit (a
        complaint that turned out to be misconduct): from then on it is as private as one."""
        return f"NOT EXISTS (SELECT 1 FROM cases oc WHERE oc.uuid = {record_uuid} AND oc.unit = 'oversight')"

    def pull(self, office: str, after: int, limit: int = 500) -> dict[str, Any]:
        """Items for ``office`` past cursor ``after``: ``{"items", "next", "more"}``."""
        limit = max(1, min(int(limit), 2000))
        with self.connect() as db:
            rows = db.all("SELECT cursor, feed, key, deleted, body FROM feed WHERE cursor > ?"
                          " AND (office = '' OR office = ?) ORDER BY cursor LIMIT ?",
                          (int(after), office, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [{"cursor": c, "feed": f, "key": k, "deleted": bool(d), "body": _json(b)}
                 for c, f, k, d, b in rows]
        return {"items": items, "next": items[-1]["cursor"] if items else int(after), "more": more}


def open_store(url: str | Path, *, migrate: bool = True, pool_size: int = 8) -> Store:
    """The store at ``url`` (a file path or ``postgresql://``), its tables brought up to date."""
    store = Store(str(url), pool_size=pool_size)
    if migrate:
        store.migrate()
    return store


def _statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement.strip()


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start:start + _IN_CHUNK]


def _json(text: str) -> Any:
    return json.loads(text)


#: Namespace of the central key of a record whose UUID another office's record already holds.
OFFICE_RECORD_NAMESPACE = uuidlib.UUID("5eda0000-0000-4000-8000-0000000ff1ce")


def office_record_uuid(office: str, record_uuid: str) -> str:
    """The central key of office ``office``'s record ``record_uuid`` when another office's
    record holds that UUID: a record's identity at the centre is (office, UUID).
    (:meth:`Store._accept_offered` spells the same name as ``uuid5(ns, office + "/" + uuid)``.)"""
    return str(uuidlib.uuid5(OFFICE_RECORD_NAMESPACE, f"{office}/{record_uuid}"))


def _case_code(record: BatchRecord) -> str | None:
    tracking = record.body.get("tracking_code") if record.kind == "case" else None
    return normalize_tracking_code(tracking) if tracking is not None else None


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _is_public_case(body: dict[str, Any]) -> bool:
    """Python twin of :meth:`Store._public_case_sql`."""
    return (body.get("route", "office") == "office" and body.get("type") != "misconduct"
            and body.get("anonymous", False) in (False, None, 0, "0", "false", "")
            and "sealed" not in body)


def _close_quietly(db: _Db) -> None:
    try:
        db.raw.close()
    except Exception:  # noqa: BLE001 - closing a broken connection must never mask the real error
        pass
