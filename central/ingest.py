"""Ingest: an office's verified batch stored exactly once, its cases taken into casework.

Applying a batch is one transaction that is safe against itself: records are inserted with
``ON CONFLICT (uuid) DO NOTHING`` and tagged with a per-attempt ``receipt``, then read back.
A row with our receipt is new, one with the same fingerprint but another receipt is a
duplicate, a different fingerprint is a conflict.  Two copies of the same batch racing each
other (a retried request whose first copy is still running) therefore both succeed, one as
"new" and one as "duplicate", and no record is ever stored twice.

A record's identity at the centre is (office, UUID): two offices can make the same UUID (a
case's UUID comes from its tracking code, which each office draws on its own), so the second
one is stored under :func:`office_record_uuid`.
"""
from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from forms.cases import normalize_tracking_code
from sync.batch import BatchRecord, VerifiedBatch, canonical_json, format_time, record_fingerprint
from sync.refusals import BlobsMissing, Refusal

from . import casework, verdicts
from .db import feed, offices, records
from .db.connection import Connection, Database
from .errors import StoreError

__all__ = ["OFFICE_RECORD_NAMESPACE", "add_central_case", "apply_batch", "insert_central_record", "log_refusal",
           "office_record_uuid", "put_blob", "resolve_conflict", "settle_foreign_conflicts"]

#: Namespace of the central key of a record whose UUID another office's record already holds.
OFFICE_RECORD_NAMESPACE = uuidlib.UUID("5eda0000-0000-4000-8000-0000000ff1ce")


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def office_record_uuid(office: str, record_uuid: str) -> str:
    """The central key of office ``office``'s record ``record_uuid`` when another office's
    record holds that UUID: a record's identity at the centre is (office, UUID).
    (:func:`_accept_offered` spells the same name as ``uuid5(ns, office + "/" + uuid)``.)"""
    return str(uuidlib.uuid5(OFFICE_RECORD_NAMESPACE, f"{office}/{record_uuid}"))


def _case_code(record: BatchRecord) -> str | None:
    tracking = record.body.get("tracking_code") if record.kind == "case" else None
    return normalize_tracking_code(tracking) if tracking is not None else None


def _ack(status: str, batch: VerifiedBatch, count: int, new: int, duplicate: int,
         conflict: int, *, conflicts: list[dict[str, str]]) -> dict[str, Any]:
    return {"status": status, "office": batch.office, "seq": batch.seq,
            "sha256": batch.content_sha256, "count": count, "new": new,
            "duplicate": duplicate, "conflict": conflict, "conflicts": conflicts}


def apply_batch(database: Database, batch: VerifiedBatch, *, source: str = "http") -> dict[str, Any]:
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
    with database.write() as conn:
        status = offices.office_status(conn, batch.office)
        if status is None:
            raise Refusal("unknown_office", f"office {batch.office} is not registered")
        if status != "active":  # re-checked inside the transaction: revocation wins races
            raise Refusal("revoked_office", f"office {batch.office} is revoked")
        seen = records.seen_batch(conn, batch.office, batch.content_sha256)
        if seen is not None:
            return _ack("duplicate_batch", batch, *seen[1:], conflicts=[])
        if needed:
            present = records.present_blobs(conn, needed)
            missing = [h for h in needed if h not in present]
            if missing:
                raise BlobsMissing(missing)
        inserted = records.insert_records(conn, rows)
        new = duplicate = 0
        conflicts = []
        # Every row inserted (the common case): all new, nothing to read back.
        uuids = [] if inserted == len(rows) else list(fingerprints)
        if not uuids:
            new = inserted
            fresh = list(batch.records)
        else:
            fresh = []
        foreign = []
        for uuid, stored_fp, stored_receipt, stored_office in records.stored_versions(conn, uuids):
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
            added, repeated, clashes = _store_rekeyed(conn, batch.office, foreign, fingerprints,
                                                      receipt, now)
            new, duplicate = new + len(added), duplicate + repeated
            fresh += added
            conflicts += clashes
        records.insert_conflicts(conn, [
            (r.uuid, batch.office, batch.seq, canonical_json(r.to_json()), ofp, sfp, now)
            for r, ofp, sfp in conflicts])
        casework.intake(conn, fresh, now)  # every new case gets its unit, in this transaction
        verdicts.apply_office_verdicts(database, conn, fresh, now)  # "was it solved?" from kiosks
        records.insert_batch(conn, batch.office, batch.content_sha256, batch.seq, len(batch.records),
                             new, duplicate, len(conflicts), source, now)
    return _ack("applied", batch, len(batch.records), new, duplicate, len(conflicts),
                conflicts=[{"uuid": r.uuid, "reason": "conflict"} for r, _, _ in conflicts])


def _store_rekeyed(conn: Connection, office: str, foreign: Sequence[BatchRecord],
                   fingerprints: dict[str, tuple[str, BatchRecord]], receipt: str, now: str
                   ) -> tuple[list[BatchRecord], int, list[tuple[BatchRecord, str, str]]]:
    """Store records whose UUID another office's record already holds under
    :func:`office_record_uuid`; returns (new records as stored, duplicates, conflicts).

    Neither office is wrong: each record is stored, routed and answered.  The fingerprint
    keeps the office's own UUID, so a re-sent copy is recognised as a duplicate.
    """
    moved = [replace(r, uuid=office_record_uuid(office, r.uuid)) for r in foreign]
    records.insert_records(conn, sorted(
        (m.uuid, office, m.kind, m.created_at, m.body_json or canonical_json(m.body),
         fingerprints[r.uuid][0], _case_code(m), receipt, now) for m, r in zip(moved, foreign)))
    by_uuid = {m.uuid: (m, fingerprints[r.uuid][0], r) for m, r in zip(moved, foreign)}
    added, duplicate, clashes = [], 0, []
    for uuid, stored_fp, stored_receipt, _office in records.stored_versions(conn, list(by_uuid)):
        moved_record, offered_fp, original = by_uuid[uuid]
        if stored_receipt == receipt:
            added.append(moved_record)
        elif stored_fp == offered_fp:
            duplicate += 1
        else:
            clashes.append((original, offered_fp, stored_fp))
    return added, duplicate, clashes


def put_blob(database: Database, sha256: str, data: bytes) -> bool:
    """Store ``data`` under its hash after checking it; True if it was new."""
    sha256 = sha256.lower()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise Refusal("bad_blob", f"bytes hash to {actual}, not {sha256}")
    with database.write() as conn:
        return records.insert_blob(conn, sha256, data, _now())


def log_refusal(database: Database, refusal: Refusal, *, office: str | None = None,
                batch_seq: int | None = None, source: str = "http") -> None:
    """Write a refusal to the central log (its own transaction: the batch changed nothing)."""
    with database.write() as conn:
        records.log_refusal(conn, office, batch_seq, refusal.code, refusal.detail, source, _now())


def resolve_conflict(database: Database, conflict_id: int, *, accept: bool, by: str) -> dict[str, Any]:
    """Settle conflict ``conflict_id``: ``accept`` stores the offered record as a record of
    its own (under a key of its office, UUID and content; a case is routed like any other),
    otherwise it is dismissed.  Either way the office is told (feed ``record_conflict``),
    so its `seda sync status` stops reporting it."""
    now = _now()
    with database.write() as conn:
        row = records.conflict(conn, conflict_id)
        if row is None:
            raise StoreError("store_no_conflict", id=str(conflict_id))
        uuid, office, offered_text, offered_fp, resolution = row
        if resolution is not None:
            raise StoreError("store_conflict_settled", id=str(conflict_id), resolution=str(resolution))
        stored_uuid = None
        if accept:
            stored_uuid = _accept_offered(conn, office, json.loads(offered_text), offered_fp,
                                          f"{office}/{uuid}/{offered_fp}", now)
        status = "accepted" if accept else "dismissed"
        records.set_conflict_resolution(conn, conflict_id, status, by, now, stored_uuid)
        feed.publish(conn, "record_conflict", f"{office}/{uuid}",
                     {"uuid": uuid, "status": status, "at": now}, office=office)
    return {"id": conflict_id, "uuid": uuid, "office": office, "resolution": status,
            "stored_uuid": stored_uuid}


def _accept_offered(conn: Connection, office: str, offered: dict[str, Any], fingerprint: str,
                    key: str, now: str) -> str:
    """Store an offered record under ``uuid5(key)`` and take its case in; its new UUID."""
    record = BatchRecord(uuid=str(uuidlib.uuid5(OFFICE_RECORD_NAMESPACE, key)),
                         kind=offered["kind"], office=office,
                         created_at=offered["created_at"], body=offered["body"])
    inserted = records.insert_records(conn, [(
        record.uuid, office, record.kind, record.created_at, canonical_json(record.body),
        fingerprint, _case_code(record), uuidlib.uuid4().hex, now)])
    if inserted:
        casework.intake(conn, [record], now)
    return record.uuid


def settle_foreign_conflicts(database: Database) -> int:
    """Conflicts kept before a record's identity was (office, UUID): a case of one office
    parked because another office's case had the same tracking code (and so the same
    UUID).  Each is stored now under :func:`office_record_uuid`, routed, and its office
    told; run once by the store's migration.  Returns how many were settled."""
    with database.connect() as conn:
        if records.setting(conn, "foreign_conflicts_settled"):
            return 0
    settled = 0
    with database.write() as conn:
        conn.lock("settle_foreign_conflicts")
        now = _now()
        for conflict_id, uuid, office, offered_text, offered_fp in records.foreign_conflicts(conn):
            # the key batches use for such a record from now on (office_record_uuid)
            stored = _accept_offered(conn, office, json.loads(offered_text), offered_fp,
                                     f"{office}/{uuid}", now)
            records.set_conflict_resolution(conn, conflict_id, "accepted", "system", now, stored)
            feed.publish(conn, "record_conflict", f"{office}/{uuid}",
                         {"uuid": uuid, "status": "accepted", "at": now}, office=office)
            settled += 1
        records.put_setting_once(conn, "foreign_conflicts_settled", "true")
    return settled


def insert_central_record(conn: Connection, record: BatchRecord, *, received_at: str) -> None:
    """Insert one record born at the centre (Open311, the portal) inside the caller's
    transaction; its tracking code column is filled from a case body."""
    records.insert_record(conn, (record.uuid, record.office, record.kind, record.created_at,
                                 canonical_json(record.body), record_fingerprint(record),
                                 _case_code(record), uuidlib.uuid4().hex, received_at))


def add_central_case(database: Database, body: dict[str, Any], *, office: str,
                     draw_code: Callable[[Callable[[str], bool]], str]) -> dict[str, Any]:
    """Store a case filed at the central server (not at an office) as a record of kind
    ``case``; returns it in the shape of :func:`central.db.records.records`.

    ``draw_code(exists)`` returns a fresh tracking code (``forms.tracking_codes.new_tracking_code``);
    it is called inside the write transaction with ``exists`` asking this database, so the
    check and the insert cannot be separated by another writer.
    """
    now = _now()
    with database.write() as conn:
        conn.lock("draw_tracking_code")  # one code drawer at a time, across processes
        code = draw_code(lambda c: records.tracking_code_taken(conn, normalize_tracking_code(c)))
        code = normalize_tracking_code(code)
        record = BatchRecord(uuid=str(uuidlib.uuid4()), kind="case", office=office,
                             created_at=now, body={**body, "tracking_code": code})
        insert_central_record(conn, record, received_at=now)
        casework.intake(conn, [record], now)
    return {"uuid": record.uuid, "kind": "case", "office": office, "created_at": now,
            "body": record.body}
