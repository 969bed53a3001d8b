"""Every office's records exactly once, the batches they came in, conflicts, refusals, blobs.

The queries behind ingest (central/ingest.py): inserting records idempotently and reading
back which insert won, the batch log that answers a replay, the conflicts kept for an
operator, the refusal log, and attachments stored once by hash.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .connection import Connection, chunks

__all__ = ["RECORD_COLUMNS", "batch_log", "blob", "cases_with_code", "conflict", "conflicts",
           "created_between", "foreign_conflicts", "insert_batch", "insert_blob", "insert_conflicts", "insert_record",
           "insert_records",
           "log_refusal", "office_attachment", "open_conflict_count", "present_blobs", "put_setting",
           "put_setting_once", "settings_with_prefix", "comment_index_present", "comment_rows",
           "response_comment_crop",
           "record_body", "record_count", "records", "refusals", "seen_batch",
           "set_conflict_resolution", "setting", "stored_versions", "tracking_code_taken"]

#: The columns of one stored record, in the order :func:`insert_records` takes them.
RECORD_COLUMNS = ("uuid, office, kind, created_at, body, fingerprint, tracking_code, receipt,"
                  " received_at")


def insert_records(conn: Connection, rows: Iterable[Sequence[Any]]) -> int:
    """Insert record rows (:data:`RECORD_COLUMNS`) whose UUID is not stored yet; how many were."""
    return conn.executemany(f"INSERT INTO records ({RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                            " ON CONFLICT (uuid) DO NOTHING", rows)


def insert_record(conn: Connection, row: Sequence[Any]) -> None:
    """Insert one record row (:data:`RECORD_COLUMNS`) whose UUID is new (a record born at
    the centre); a stored UUID is an error, never skipped."""
    conn.execute(f"INSERT INTO records ({RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)


def stored_versions(conn: Connection, uuids: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """``(uuid, fingerprint, receipt, office)`` of the stored records among ``uuids``."""
    found: list[tuple[str, str, str, str]] = []
    for chunk in chunks(uuids):
        marks = ",".join("?" * len(chunk))
        found += conn.all(f"SELECT uuid, fingerprint, receipt, office FROM records WHERE uuid IN ({marks})",
                          chunk)
    return found


def record_body(conn: Connection, uuid: str) -> dict[str, Any] | None:
    row = conn.one("SELECT body FROM records WHERE uuid = ?", (uuid,))
    return None if row is None else json.loads(row[0])


def tracking_code_taken(conn: Connection, code: str) -> bool:
    return conn.one("SELECT 1 FROM records WHERE tracking_code = ? LIMIT 1", (code,)) is not None


def cases_with_code(conn: Connection, code: str, office: str | None = None) -> list[tuple[str, str]]:
    """``(office, uuid)`` of the case records with tracking code ``code`` (oldest first)."""
    if office:
        return conn.all("SELECT office, uuid FROM records WHERE kind = 'case' AND tracking_code = ?"
                        " AND office = ? ORDER BY id", (code, office))
    return conn.all("SELECT office, uuid FROM records WHERE kind = 'case' AND tracking_code = ?"
                    " ORDER BY id", (code,))


def created_between(conn: Connection, kind: str, start: str, end: str,
                    office: str | None = None) -> list[tuple]:
    """``(uuid, office, created_at, body)`` of the records of ``kind`` created in [start, end)
    (and ``office``), oldest first."""
    sql = ("SELECT uuid, office, created_at, body FROM records WHERE kind = ?"
           " AND created_at >= ? AND created_at < ?")
    params: list[Any] = [kind, start, end]
    if office:
        sql += " AND office = ?"
        params.append(office)
    return conn.all(sql + " ORDER BY created_at, id", params)


def record_count(conn: Connection, office: str | None = None) -> int:
    if office is None:
        return conn.one("SELECT count(*) FROM records")[0]
    return conn.one("SELECT count(*) FROM records WHERE office = ?", (office,))[0]


def records(conn: Connection, office: str | None = None) -> list[dict[str, Any]]:
    """Every stored record (oldest first) as ``{"uuid", "kind", "office", "created_at",
    "body"}``: the same shape that travelled in the batch."""
    sql = "SELECT uuid, kind, office, created_at, body FROM records"
    params: tuple = ()
    if office is not None:
        sql += " WHERE office = ?"
        params = (office,)
    return [{"uuid": u, "kind": k, "office": o, "created_at": c, "body": json.loads(b)}
            for u, k, o, c, b in conn.all(sql + " ORDER BY id", params)]


# -- batches -------------------------------------------------------------------------------------


def seen_batch(conn: Connection, office: str, content_sha256: str) -> tuple | None:
    """``(seq, count, new, duplicate, conflict)`` of a batch already applied, or None."""
    return conn.one("SELECT seq, count, new, duplicate, conflict FROM batches"
                    " WHERE office = ? AND content_sha256 = ?", (office, content_sha256))


def insert_batch(conn: Connection, office: str, content_sha256: str, seq: int, count: int, new: int,
                 duplicate: int, conflict: int, source: str, now: str) -> None:
    conn.execute(
        "INSERT INTO batches (office, content_sha256, seq, count, new, duplicate, conflict,"
        " source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (office, content_sha256) DO NOTHING",
        (office, content_sha256, seq, count, new, duplicate, conflict, source, now))


def batch_log(conn: Connection, office: str | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT office, seq, content_sha256, count, new, duplicate, conflict, source,"
           " received_at FROM batches")
    params: tuple = ()
    if office is not None:
        sql += " WHERE office = ?"
        params = (office,)
    names = ("office", "seq", "sha256", "count", "new", "duplicate", "conflict", "source",
             "received_at")
    return [dict(zip(names, row)) for row in conn.all(sql + " ORDER BY received_at", params)]


# -- conflicts -----------------------------------------------------------------------------------


def insert_conflicts(conn: Connection, rows: Iterable[Sequence[Any]]) -> None:
    """``(uuid, office, batch_seq, offered, offered_fingerprint, stored_fingerprint,
    received_at)`` rows, each kept once."""
    conn.executemany(
        "INSERT INTO conflicts (uuid, office, batch_seq, offered, offered_fingerprint,"
        " stored_fingerprint, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (uuid, offered_fingerprint) DO NOTHING", rows)


def conflicts(conn: Connection, *, include_resolved: bool = True) -> list[dict[str, Any]]:
    where = "" if include_resolved else " WHERE c.resolution IS NULL"
    rows = conn.all("SELECT c.id, c.uuid, c.office, c.batch_seq, c.offered, r.body,"
                    " c.received_at, c.resolution, c.resolved_by, c.resolved_at, c.stored_uuid"
                    " FROM conflicts c LEFT JOIN records r ON r.uuid = c.uuid"
                    f"{where} ORDER BY c.id")
    return [{"id": i, "uuid": u, "office": o, "batch_seq": s, "offered": json.loads(offered),
             "stored_body": json.loads(stored) if stored else None, "received_at": at,
             "resolution": resolution, "resolved_by": by, "resolved_at": when,
             "stored_uuid": stored_uuid}
            for i, u, o, s, offered, stored, at, resolution, by, when, stored_uuid in rows]


def open_conflict_count(conn: Connection) -> int:
    return int(conn.one("SELECT count(*) FROM conflicts WHERE resolution IS NULL")[0])


def conflict(conn: Connection, conflict_id: int) -> tuple | None:
    """``(uuid, office, offered, offered_fingerprint, resolution)`` of one conflict, or None."""
    return conn.one("SELECT uuid, office, offered, offered_fingerprint, resolution"
                    " FROM conflicts WHERE id = ?", (conflict_id,))


def foreign_conflicts(conn: Connection) -> list[tuple]:
    """Open conflicts whose UUID another office's record holds:
    ``(id, uuid, office, offered, offered_fingerprint)``."""
    return conn.all("SELECT c.id, c.uuid, c.office, c.offered, c.offered_fingerprint"
                    " FROM conflicts c JOIN records r ON r.uuid = c.uuid"
                    " WHERE c.resolution IS NULL AND r.office <> c.office ORDER BY c.id")


def set_conflict_resolution(conn: Connection, conflict_id: int, resolution: str, by: str, now: str,
                            stored_uuid: str | None) -> None:
    conn.execute("UPDATE conflicts SET resolution = ?, resolved_by = ?, resolved_at = ?,"
                 " stored_uuid = ? WHERE id = ?", (resolution, by, now, stored_uuid, conflict_id))


# -- refusals ------------------------------------------------------------------------------------


def log_refusal(conn: Connection, office: str | None, batch_seq: int | None, code: str, detail: str,
                source: str, now: str) -> None:
    conn.execute("INSERT INTO refusals (office, batch_seq, code, detail, source, received_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", (office, batch_seq, code, detail[:2000], source, now))


def refusals(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.all("SELECT id, office, batch_seq, code, detail, source, received_at"
                    " FROM refusals ORDER BY id DESC LIMIT ?", (limit,))
    names = ("id", "office", "batch_seq", "code", "detail", "source", "received_at")
    return [dict(zip(names, row)) for row in rows]


# -- blobs ---------------------------------------------------------------------------------------


def present_blobs(conn: Connection, hashes: Sequence[str]) -> set[str]:
    present: set[str] = set()
    for chunk in chunks(hashes):
        marks = ",".join("?" * len(chunk))
        present.update(h for (h,) in conn.all(f"SELECT sha256 FROM blobs WHERE sha256 IN ({marks})", chunk))
    return present


def insert_blob(conn: Connection, sha256: str, data: bytes, now: str) -> bool:
    """Store ``data`` under ``sha256`` (already checked); True if it was new."""
    return conn.execute("INSERT INTO blobs (sha256, size, data, received_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (sha256) DO NOTHING", (sha256, len(data), data, now)).rowcount == 1


def blob(conn: Connection, sha256: str) -> bytes | None:
    row = conn.one("SELECT data FROM blobs WHERE sha256 = ?", (sha256,))
    return None if row is None else bytes(row[0])


def office_attachment(conn: Connection, office: str, sha256: str) -> dict[str, Any] | None:
    """The body of an attachment record of ``office`` naming ``sha256`` (index of schema
    step 4), or None."""
    row = conn.one(f"SELECT body FROM records WHERE office = ? AND kind = 'attachment' AND"
                   f" {conn.json_text('body', 'sha256')} = ? LIMIT 1", (office, sha256))
    return None if row is None else json.loads(row[0])


# -- settings ------------------------------------------------------------------------------------


def setting(conn: Connection, key: str) -> str | None:
    """A raw ``settings`` value (JSON text by convention), or None."""
    row = conn.one("SELECT value FROM settings WHERE key = ?", (key,))
    return None if row is None else row[0]


def put_setting(conn: Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                 " SET value = excluded.value", (key, value))


def put_setting_once(conn: Connection, key: str, value: str) -> None:
    """Set ``key`` unless it is set already (the first writer wins)."""
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                 (key, value))


def settings_with_prefix(conn: Connection, prefix: str) -> list[tuple[str, str]]:
    """``(key, value)`` of every setting whose key starts with ``prefix`` (no ``%`` or ``_``)."""
    return conn.all("SELECT key, value FROM settings WHERE key LIKE ?", (prefix + "%",))


# -- comments of survey responses (schema.py's comment fields and index) -------------------------


def comment_index_present(conn: Connection) -> bool:
    if conn.dialect == "sqlite":
        return conn.one("SELECT 1 FROM sqlite_master WHERE type = 'index'"
                        " AND name = 'records_comments'") is not None
    return conn.one("SELECT 1 WHERE to_regclass('records_comments') IS NOT NULL") is not None


def comment_rows(conn: Connection, columns: Sequence[str], where: Sequence[str],
                 params: Sequence[Any], limit: int) -> list[tuple]:
    """``(id, uuid, office, created_at, *columns)`` of the records matching every condition of
    ``where``, newest first, at most ``limit``.  SQLite is told to use the comment index when
    it exists: its planner prefers (kind, created_at), which reads every response of the month
    to find the few with a comment; the partial index holds only those."""
    relation = "records"
    if conn.dialect == "sqlite" and comment_index_present(conn):
        relation = "records INDEXED BY records_comments"
    return conn.all(f"SELECT id, uuid, office, created_at, {', '.join(columns)} FROM {relation}"
                    f" WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC LIMIT ?",
                    [*params, limit])


def response_comment_crop(conn: Connection, uuid: str, crop_column: str) -> tuple | None:
    """``(office, crop sha256)`` of survey response ``uuid``, or None."""
    return conn.one(f"SELECT office, {crop_column} FROM records WHERE uuid = ?"
                    " AND kind = 'survey_response'", (uuid,))
