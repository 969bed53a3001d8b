"""The office ledger: the one place kiosk and scanner write what citizens told us.

Every office keeps its records in a single SQLite file under ``$SEDA_HOME``.
Records are append-only (the database itself refuses UPDATE and DELETE), so
the sync client can ship them later by walking ``seq`` upwards, and nothing a
citizen said can be quietly changed at the office.  Corrections are new
records (e.g. a ``review_decision``) that refer to older ones.

Several programs write to the same file at once (the kiosk's web server, the
scanner watching a folder), so every write runs in a ``BEGIN IMMEDIATE``
transaction: SQLite then hands out the write lock one writer at a time and
each waits (up to :data:`BUSY_TIMEOUT_SECONDS`) instead of failing halfway.

A :class:`Ledger` wraps one SQLite connection, which belongs to the thread that
opened it; open one ledger per thread (or per request) on the same file.
Keep the file on a local disk: WAL mode does not work on network shares.

Typical use::

    with Ledger.open(home / "ledger.sqlite3") as ledger:
        record = ledger.append("survey_response", {"answers": {...}}, office="THR-012")
        with ledger.transaction():          # several writes, all or nothing
            ledger.append("survey_response", {...}, office="THR-012")
            ledger.add_attachment(png_bytes, "image/png", office="THR-012")
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid as uuidlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from forms.messages import MessageError

from forms.private_files import prepare_private_database

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "MIGRATIONS",
    "RECORD_KINDS",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "LedgerRefusal",
    "Record",
    "StrandedRecord",
    "default_ledger_path",
]

RECORD_KINDS: frozenset[str] = frozenset(
    {"survey_response", "case", "attachment", "sheet_issuance", "review_item",
     "review_decision", "audit", "case_verdict"}
)

#: How long a writer waits for another program's transaction before giving up.
BUSY_TIMEOUT_SECONDS = 10.0

# Schema history, oldest first.  Never edit a step that has shipped: offices
# already ran it.  Change the schema by appending a new (version, SQL) step.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE records (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid       TEXT NOT NULL UNIQUE,
            kind       TEXT NOT NULL,
            office     TEXT NOT NULL,
            created_at TEXT NOT NULL
                CHECK (substr(created_at, -1) = 'Z' OR substr(created_at, -6) = '+00:00'),
            body       TEXT NOT NULL
        );
        CREATE INDEX records_kind_seq ON records (kind, seq);
        CREATE TRIGGER records_refuse_update BEFORE UPDATE ON records
        BEGIN
            SELECT RAISE(ABORT, 'ledger records are append-only: UPDATE is not allowed');
        END;
        CREATE TRIGGER records_refuse_delete BEFORE DELETE ON records
        BEGIN
            SELECT RAISE(ABORT, 'ledger records are append-only: DELETE is not allowed');
        END;
        """,
    ),
    (
        2,
        """
        CREATE TABLE blobs (
            sha256     TEXT PRIMARY KEY,
            media_type TEXT NOT NULL,
            size       INTEGER NOT NULL,
            data       BLOB NOT NULL
        );
        CREATE TRIGGER blobs_refuse_update BEFORE UPDATE ON blobs
        BEGIN
            SELECT RAISE(ABORT, 'blobs are content-addressed: UPDATE is not allowed');
        END;
        """,
    ),
    (
        3,
        """
        CREATE TABLE sheet_counters (
            office      TEXT NOT NULL,
            form        TEXT NOT NULL,
            next_serial INTEGER NOT NULL CHECK (next_serial >= 1),
            PRIMARY KEY (office, form)
        );
        CREATE TABLE issued_ranges (
            office       TEXT NOT NULL,
            form         TEXT NOT NULL,
            form_version INTEGER NOT NULL,
            first_serial INTEGER NOT NULL,
            last_serial  INTEGER NOT NULL,
            record_uuid  TEXT NOT NULL REFERENCES records (uuid),
            CHECK (1 <= first_serial AND first_serial <= last_serial)
        );
        CREATE INDEX issued_ranges_lookup
            ON issued_ranges (office, form, form_version, first_serial);
        CREATE TRIGGER issued_ranges_refuse_update BEFORE UPDATE ON issued_ranges
        BEGIN
            SELECT RAISE(ABORT, 'issued sheet ranges are permanent: UPDATE is not allowed');
        END;
        CREATE TRIGGER issued_ranges_refuse_delete BEFORE DELETE ON issued_ranges
        BEGIN
            SELECT RAISE(ABORT, 'issued sheet ranges are permanent: DELETE is not allowed');
        END;
        """,
    ),
    (
        4,
        # Records are found by a field of their body (the scanner asks "was this paper sheet
        # stored already?", the review queue "which decisions name this item?").
        """
        CREATE INDEX records_body_sheet ON records (json_extract(body, '$.sheet'))
            WHERE json_extract(body, '$.sheet') IS NOT NULL;
        CREATE INDEX records_body_item ON records (json_extract(body, '$.item'))
            WHERE json_extract(body, '$.item') IS NOT NULL;
        """,
    ),
    (
        5,
        # Sync state lives in the ledger file so one backup holds it and one transaction can
        # cover "records written" and "batch cut".  See sync/office_state.py.
        #  - sync_outbox: every batch the office has cut, frozen as a range of record seqs
        #    (records are append-only, so a range always rebuilds to the same bytes).
        #  - sync_state: small named values (pull cursor, last success, last refusal).
        #  - central_items: what the central server sent back (case updates, catalogue, ...).
        """
        CREATE TABLE sync_outbox (
            batch_seq       INTEGER PRIMARY KEY CHECK (batch_seq >= 1),
            office          TEXT NOT NULL,
            first_seq       INTEGER NOT NULL,
            last_seq        INTEGER NOT NULL,
            count           INTEGER NOT NULL CHECK (count >= 0),
            created_at      TEXT NOT NULL,
            content_sha256  TEXT NOT NULL,
            acknowledged_at TEXT,
            result          TEXT,
            CHECK (first_seq <= last_seq)
        );
        CREATE INDEX sync_outbox_pending ON sync_outbox (batch_seq) WHERE acknowledged_at IS NULL;
        CREATE TABLE sync_state (
            name  TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE central_items (
            feed        TEXT NOT NULL,
            key         TEXT NOT NULL,
            cursor      INTEGER NOT NULL,
            deleted     INTEGER NOT NULL DEFAULT 0,
            body        TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (feed, key)
        );
        CREATE INDEX central_items_tracking
            ON central_items (json_extract(body, '$.tracking_code'))
            WHERE feed = 'case_update';
        """,
    ),
    (
        6,
        # The kiosk's follow-up screen finds a case's records by tracking code; without an
        # index every wrong code a visitor types would read the whole ledger.
        """
        CREATE INDEX records_body_tracking ON records (json_extract(body, '$.tracking_code'))
            WHERE json_extract(body, '$.tracking_code') IS NOT NULL;
        """,
    ),
    (
        7,
        # Sealed misconduct reports wait in held_records until the hour they were filed in has
        # ended, then join `records` (see Ledger.hold): a record's position among exactly timed
        # neighbours would otherwise give its time to the second.  WITHOUT ROWID and keyed by
        # a random UUID, so not even a rowid keeps the order they came in.  They (and the
        # answers pulled for them) are found by their follow-up locator, not a tracking code.
        """
        CREATE TABLE held_records (
            uuid          TEXT PRIMARY KEY,
            release_after TEXT NOT NULL,
            kind          TEXT NOT NULL,
            office        TEXT NOT NULL,
            created_at    TEXT NOT NULL,
            body          TEXT NOT NULL,
            blob          BLOB
        ) WITHOUT ROWID;
        CREATE INDEX held_records_follow_up ON held_records (json_extract(body, '$.follow_up'))
            WHERE json_extract(body, '$.follow_up') IS NOT NULL;
        CREATE INDEX records_body_follow_up ON records (json_extract(body, '$.follow_up'))
            WHERE json_extract(body, '$.follow_up') IS NOT NULL;
        CREATE INDEX central_items_follow_up
            ON central_items (json_extract(body, '$.follow_up'))
            WHERE feed = 'case_update';
        """,
    ),
    (
        8,
        # The office this ledger belongs to (`seda office setup`, Ledger.bind_office).  Once it
        # is set, the database itself refuses a record under any other office code: sync sends
        # only the office's own records, so such a record would be stranded here for good.
        """
        CREATE TABLE office_binding (
            only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
            office   TEXT NOT NULL
        );
        CREATE TRIGGER records_refuse_other_office BEFORE INSERT ON records
        WHEN EXISTS (SELECT 1 FROM office_binding WHERE office != NEW.office)
        BEGIN
            SELECT RAISE(ABORT, 'stranded record: this ledger belongs to another office');
        END;
        CREATE TRIGGER held_records_refuse_other_office BEFORE INSERT ON held_records
        WHEN EXISTS (SELECT 1 FROM office_binding WHERE office != NEW.office)
        BEGIN
            SELECT RAISE(ABORT, 'stranded record: this ledger belongs to another office');
        END;
        CREATE TRIGGER sheet_counters_refuse_other_office BEFORE INSERT ON sheet_counters
        WHEN EXISTS (SELECT 1 FROM office_binding WHERE office != NEW.office)
        BEGIN
            SELECT RAISE(ABORT, 'stranded record: this ledger belongs to another office');
        END;
        """,
    ),
)

_PAGE_SIZE = 500  # records() reads in pages so no read statement stays open long
_APPEND_MANY_KEYS = frozenset({"kind", "body", "office", "uuid", "created_at"})
_ATTACHMENT_KEYS = frozenset({"sha256", "media_type", "size"})


class LedgerError(Exception):
    """A ledger operation was refused; the message is one plain sentence for the CLI."""


class LedgerRefusal(MessageError, LedgerError):
    """A ledger refusal an operator meets and acts on (forms/translations ``ledger_*``);
    the other :class:`LedgerError` s are a caller's mistake, said in English for its author."""


class LedgerConflict(LedgerError):
    """A UUID was re-used for a record with different content."""


class StrandedRecord(LedgerRefusal):
    """A record under another office code than the one this ledger is bound to.

    Sync sends only the office's own records, so it would never leave this machine."""

    def __init__(self, office: str, bound: str) -> None:
        super().__init__("ledger_stranded_record", office=office, bound=bound)
        self.office = office
        self.bound = bound


@dataclass(frozen=True)
class Record:
    """One ledger record as stored: ``seq`` is the local order, ``uuid`` the global name."""

    seq: int
    uuid: str
    kind: str
    office: str
    created_at: datetime
    body: dict[str, Any]


def default_ledger_path(home: Path) -> Path:
    """Where an installation keeps its ledger: all state lives under ``$SEDA_HOME``."""
    return Path(home) / "ledger.sqlite3"


class Ledger:
    """An office's append-only record store; create it with :meth:`Ledger.open`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path

    # -- opening and closing -------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Ledger:
        """Open (creating if needed) the ledger at ``path`` and bring its schema up to date.

        A ledger written by a newer Seda is refused before anything is changed,
        so an old install can never damage data it does not understand.
        """
        path = Path(path)
        # 0600 before SQLite opens it: its -wal and -shm files take the same mode.
        prepare_private_database(path)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so Python's
        # sqlite3 module never opens a deferred transaction behind our back.
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise LedgerRefusal("ledger_unopenable", path=str(path), error=str(exc)) from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")  # a committed record survives power loss
            ledger = cls(conn, path)
            ledger._refuse_newer_schema()
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise LedgerRefusal("ledger_no_wal", path=str(path), mode=str(mode))
            ledger._migrate()
        except BaseException:
            conn.close()
            raise
        return ledger

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Ledger {self.path}>"

    # -- schema --------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file (0 for a brand-new file)."""
        has_table = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if not has_table:
            return 0
        return self._conn.execute(
            "SELECT coalesce(max(version), 0) FROM schema_migrations"
        ).fetchone()[0]

    def _refuse_newer_schema(self) -> None:
        known = MIGRATIONS[-1][0]
        found = self.schema_version
        if found > known:
            raise LedgerRefusal("ledger_newer_schema", path=str(self.path), found=found, known=known)

    def _migrate(self) -> None:
        """Apply missing steps, each in its own transaction.

        The version is re-read inside each transaction because two programs may
        open a new ledger at the same moment; the second then finds the step done.
        """
        if self.schema_version >= MIGRATIONS[-1][0]:
            return
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        for version, script in MIGRATIONS:
            with self.transaction():
                if self.schema_version >= version:
                    continue
                try:
                    for statement in _split_statements(script):
                        self._conn.execute(statement)
                except sqlite3.Error as exc:
                    raise LedgerRefusal("ledger_migration_failed", version=version, error=str(exc)) from exc
                self._conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, _format_time(_utc_now())),
                )

    # -- the office this ledger belongs to -----------------------------------

    @property
    def bound_office(self) -> str | None:
        """The office code every record must carry (``seda office setup``), or None if unbound."""
        row = self._conn.execute("SELECT office FROM office_binding").fetchone()
        return None if row is None else row[0]

    def bind_office(self, office: str) -> None:
        """From now on refuse records of any other office code (see :class:`StrandedRecord`)."""
        _check_text("office", office)
        with self.transaction():
            self._conn.execute(
                "INSERT INTO office_binding (only_row, office) VALUES (1, ?)"
                " ON CONFLICT (only_row) DO UPDATE SET office = excluded.office", (office,))

    def office_counts(self, *, except_kinds: Iterable[str] = ()) -> dict[str, int]:
        """Records per office code (sealed reports still held included): what an operator needs
        to see stranded records, those under a code other than :attr:`bound_office`."""
        skip = sorted(except_kinds)
        where = f" WHERE kind NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        counts: dict[str, int] = {}
        for table in ("records", "held_records"):
            for office, count in self._conn.execute(
                    f"SELECT office, count(*) FROM {table}{where} GROUP BY office", skip):
                counts[office] = counts.get(office, 0) + count
        return counts

    def adopted_counts(self) -> dict[str, int]:
        """Records written again under this office, per the office code they were first filed
        under (``adopted_from``, see ledger/office_binding.py)."""
        return dict(self._conn.execute(
            "SELECT json_extract(body, '$.adopted_from.office'), count(*) FROM records"
            " WHERE json_extract(body, '$.adopted_from.office') IS NOT NULL GROUP BY 1").fetchall())

    @contextmanager
    def _refusing_stranded(self, office: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            if "stranded record" in str(exc):
                raise StrandedRecord(office, self.bound_office or "?") from None
            raise

    # -- writing -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """Group writes so they land together or not at all.

        Starts ``BEGIN IMMEDIATE`` (taking the write lock up front, so a second
        writer waits rather than failing at commit).  Inside an open transaction
        it simply joins it, which is how every write method composes.
        """
        if self._conn.in_transaction:
            yield self
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LedgerRefusal("ledger_busy", path=str(self.path), error=str(exc)) from exc
        try:
            yield self
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # SQLite may already have rolled back
                self._conn.execute("ROLLBACK")
            raise

    def append(
        self,
        kind: str,
        body: Mapping[str, Any],
        *,
        office: str,
        uuid: str | uuidlib.UUID | None = None,
        created_at: datetime | None = None,
    ) -> Record:
        """Append one record and return it as stored.

        Giving a ``uuid`` that already exists with the same kind, office and body
        returns the existing record, so a program that crashed after writing can
        safely retry; the same uuid with different content is a :class:`LedgerConflict`.
        """
        _check_kind(kind)
        _check_text("office", office)
        body_json = _canonical_json(body)
        record_uuid = str(uuidlib.uuid4()) if uuid is None else _normalise_uuid(uuid)
        created_text = _format_time(_utc_now() if created_at is None else created_at)
        with self.transaction():
            existing = self._row_for_uuid(record_uuid)
            if existing is not None:
                if (existing[2], existing[3], existing[5]) != (kind, office, body_json):
                    raise LedgerConflict(
                        f"Record {record_uuid} already exists with different content; "
                        "a UUID must name exactly one record."
                    )
                return _to_record(existing)
            with self._refusing_stranded(office):
                cursor = self._conn.execute(
                    "INSERT INTO records (uuid, kind, office, created_at, body) VALUES (?, ?, ?, ?, ?)",
                    (record_uuid, kind, office, created_text, body_json),
                )
            return _to_record(
                (cursor.lastrowid, record_uuid, kind, office, created_text, body_json)
            )

    def append_many(self, items: Iterable[Mapping[str, Any]]) -> list[Record]:
        """Append several records in one transaction: all of them, or none.

        Each item is a mapping of :meth:`append`'s arguments: required ``kind``,
        ``body`` and ``office``; optional ``uuid`` and ``created_at``.  For records
        that carry blobs, use ``with ledger.transaction():`` around
        :meth:`append` and :meth:`add_attachment` calls instead.
        """
        records = []
        with self.transaction():
            for position, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise LedgerError(f"append_many item {position} is not a mapping.")
                missing = {"kind", "body", "office"} - item.keys()
                unknown = item.keys() - _APPEND_MANY_KEYS
                if missing or unknown:
                    raise LedgerError(
                        f"append_many item {position} has missing keys {sorted(missing)} "
                        f"or unknown keys {sorted(unknown)}."
                    )
                records.append(self.append(**item))
        return records

    def add_attachment(
        self,
        data: bytes,
        media_type: str,
        *,
        office: str,
        meta: Mapping[str, Any] | None = None,
        uuid: str | uuidlib.UUID | None = None,
        created_at: datetime | None = None,
    ) -> Record:
        """Store ``data`` once by its SHA-256 and append an "attachment" record naming it.

        The same bytes sent twice (a re-scanned crop, a retried upload) share one
        blob row.  The record body is ``{"sha256", "media_type", "size", **meta}``;
        the blob's own ``media_type`` column keeps whatever was stored first.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise LedgerError("Attachment data must be bytes.")
        data = bytes(data)
        _check_text("media_type", media_type)
        meta = dict(meta or {})
        clashing = _ATTACHMENT_KEYS & meta.keys()
        if clashing:
            raise LedgerError(f"Attachment meta may not set {sorted(clashing)}; they come from the data.")
        sha256 = hashlib.sha256(data).hexdigest()
        body = {**meta, "sha256": sha256, "media_type": media_type, "size": len(data)}
        with self.transaction():
            self._conn.execute(
                "INSERT OR IGNORE INTO blobs (sha256, media_type, size, data) VALUES (?, ?, ?, ?)",
                (sha256, media_type, len(data), data),
            )
            return self.append("attachment", body, office=office, uuid=uuid, created_at=created_at)

    # -- records held back until their hour has ended ------------------------------------

    def hold(
        self,
        kind: str,
        body: Mapping[str, Any],
        *,
        office: str,
        created_at: datetime,
        release_after: datetime,
        uuid: str | uuidlib.UUID | None = None,
        blob: bytes | None = None,
    ) -> Record:
        """Keep a record out of ``records`` until ``release_after`` (:meth:`release_held`).

        For sealed misconduct reports: their ``created_at`` is rounded to the hour, and their
        place among other records must not tell the time either, so they are appended only
        once their hour is over, all of that hour's together, in random order.  The returned
        record has ``seq`` 0 (it has no place yet).  ``blob`` is an attachment's (sealed)
        bytes, stored in :data:`blobs` on release too.
        """
        _check_kind(kind)
        _check_text("office", office)
        body_json = _canonical_json(body)
        record_uuid = str(uuidlib.uuid4()) if uuid is None else _normalise_uuid(uuid)
        created_text = _format_time(created_at)
        with self.transaction():
            if self._row_for_uuid(record_uuid) is not None or self._conn.execute(
                    "SELECT 1 FROM held_records WHERE uuid = ?", (record_uuid,)).fetchone():
                raise LedgerConflict(f"Record {record_uuid} already exists; a UUID must name exactly one record.")
            with self._refusing_stranded(office):
                self._conn.execute(
                    "INSERT INTO held_records (uuid, release_after, kind, office, created_at, body, blob)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (record_uuid, _format_time(release_after), kind, office, created_text, body_json,
                     None if blob is None else bytes(blob)))
        return _to_record((0, record_uuid, kind, office, created_text, body_json))

    def hold_attachment(self, data: bytes, media_type: str, *, office: str, created_at: datetime,
                        release_after: datetime, meta: Mapping[str, Any] | None = None) -> Record:
        """:meth:`add_attachment`, held back like :meth:`hold` (bytes included)."""
        data = bytes(data)
        meta = dict(meta or {})
        if _ATTACHMENT_KEYS & meta.keys():
            raise LedgerError(f"Attachment meta may not set {sorted(_ATTACHMENT_KEYS & meta.keys())}.")
        body = {**meta, "sha256": hashlib.sha256(data).hexdigest(), "media_type": media_type,
                "size": len(data)}
        return self.hold("attachment", body, office=office, created_at=created_at,
                         release_after=release_after, blob=data)

    def held(self, field: str, value: Any) -> list[Record]:
        """Held records whose body has ``field`` == ``value`` (``follow_up`` is indexed)."""
        if not field.isidentifier():
            raise LedgerError(f"cannot search by field {field!r}.")
        rows = self._conn.execute(
            "SELECT 0, uuid, kind, office, created_at, body FROM held_records"
            f" WHERE json_extract(body, '$.{field}') = ?", (value,)).fetchall()
        return [_to_record(row) for row in rows]

    def held_count(self, office: str | None = None) -> int:
        """How many records wait for their hour to end (``seda sync status`` shows it)."""
        if office is None:
            return self._conn.execute("SELECT count(*) FROM held_records").fetchone()[0]
        return self._conn.execute("SELECT count(*) FROM held_records WHERE office = ?",
                                  (office,)).fetchone()[0]

    def release_held(self, now: datetime | None = None) -> int:
        """Append every held record whose time has come (attachments first, then the rest,
        each group in UUID order, i.e. random); returns how many."""
        with self.transaction():
            # a record held under another office than the bound one waits for `seda office adopt`
            # (move_held) rather than being refused by the records table and stopping the rest
            rows = self._conn.execute(
                "SELECT uuid, kind, office, created_at, body, blob FROM held_records"
                " WHERE release_after <= ? AND NOT EXISTS"
                " (SELECT 1 FROM office_binding b WHERE b.office != held_records.office)"
                " ORDER BY kind <> 'attachment', uuid",
                (_format_time(_utc_now() if now is None else now),)).fetchall()
            for record_uuid, kind, office, created_at, body, blob in rows:
                if blob is not None:
                    self._conn.execute(
                        "INSERT OR IGNORE INTO blobs (sha256, media_type, size, data) VALUES (?, ?, ?, ?)",
                        (hashlib.sha256(blob).hexdigest(), json.loads(body).get("media_type", ""),
                         len(blob), blob))
                self._conn.execute(
                    "INSERT INTO records (uuid, kind, office, created_at, body) VALUES (?, ?, ?, ?, ?)",
                    (record_uuid, kind, office, created_at, body))
                self._conn.execute("DELETE FROM held_records WHERE uuid = ?", (record_uuid,))
        return len(rows)

    def move_held(self, old_office: str, new_office: str) -> int:
        """File sealed reports still held under ``old_office`` under ``new_office`` instead.

        Held records are not in the append-only table yet (nothing was sent or counted), so
        they can change office before they are released; returns how many moved."""
        _check_text("office", new_office)
        with self.transaction():
            return self._conn.execute("UPDATE held_records SET office = ? WHERE office = ?",
                                      (new_office, old_office)).rowcount

    def issue_sheets(self, office: str, form: str, form_version: int, count: int) -> range:
        """Reserve the next ``count`` serials for paper sheets of ``form`` at ``office``.

        Serials count from 1 per (office, form) and are shared by all versions of
        the form, so a serial names one sheet forever.  There is deliberately no
        way to give serials back: if printing fails after this call the serials
        are burned, because a sheet that did reach paper must never have a twin.
        """
        _check_text("office", office)
        _check_text("form", form)
        _check_positive_int("form_version", form_version)
        _check_positive_int("count", count)
        with self.transaction():
            row = self._conn.execute(
                "SELECT next_serial FROM sheet_counters WHERE office = ? AND form = ?",
                (office, form),
            ).fetchone()
            first = row[0] if row else 1
            last = first + count - 1
            with self._refusing_stranded(office):
                self._conn.execute(
                    "INSERT INTO sheet_counters (office, form, next_serial) VALUES (?, ?, ?)"
                    " ON CONFLICT (office, form) DO UPDATE SET next_serial = excluded.next_serial",
                    (office, form, last + 1),
                )
            record = self.append(
                "sheet_issuance",
                {
                    "form": form,
                    "form_version": form_version,
                    "first_serial": first,
                    "last_serial": last,
                    "count": count,
                },
                office=office,
            )
            self._conn.execute(
                "INSERT INTO issued_ranges"
                " (office, form, form_version, first_serial, last_serial, record_uuid)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (office, form, form_version, first, last, record.uuid),
            )
        return range(first, last + 1)

    # -- reading -------------------------------------------------------------

    def get(self, uuid: str | uuidlib.UUID) -> Record | None:
        """The record named ``uuid``, or None if this office never wrote it."""
        try:
            record_uuid = _normalise_uuid(uuid)
        except LedgerError:
            return None
        row = self._row_for_uuid(record_uuid)
        return None if row is None else _to_record(row)

    def records(
        self, kind: str | None = None, *, after_seq: int = 0, limit: int | None = None
    ) -> Iterator[Record]:
        """Records in ``seq`` order after ``after_seq``: the sync client's cursor.

        Reads in pages, so iterating a large ledger neither loads it all nor
        keeps a read statement open while the caller works.
        """
        if kind is not None:
            _check_kind(kind)
        if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
            raise LedgerError("after_seq must be a whole number, 0 or more.")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise LedgerError("limit must be a whole number, 0 or more.")
        return self._iter_records(kind, after_seq, limit)

    def _iter_records(self, kind: str | None, after_seq: int, limit: int | None) -> Iterator[Record]:
        where = "seq > ?" + (" AND kind = ?" if kind is not None else "")
        sql = f"SELECT {_COLUMNS} FROM records WHERE {where} ORDER BY seq LIMIT ?"
        remaining = limit
        while remaining is None or remaining > 0:
            page = _PAGE_SIZE if remaining is None else min(_PAGE_SIZE, remaining)
            params = (after_seq, kind, page) if kind is not None else (after_seq, page)
            rows = self._conn.execute(sql, params).fetchall()
            yield from (_to_record(row) for row in rows)
            if len(rows) < page:
                return
            after_seq = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)

    def find(self, kind: str, field: str, value: Any) -> list[Record]:
        """Records of ``kind`` whose body has ``field`` == ``value``, oldest first.

        ``sheet`` and ``item`` are indexed; other fields scan the kind.
        """
        _check_kind(kind)
        if not field.isidentifier():
            raise LedgerError(f"cannot search by field {field!r}.")
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE json_extract(body, '$.{field}') = ?"
            " AND kind = ? ORDER BY seq",
            (value, kind),
        ).fetchall()
        return [_to_record(row) for row in rows]

    def count(self, kind: str | None = None) -> int:
        """How many records (of ``kind``, if given) the ledger holds."""
        if kind is None:
            return self._conn.execute("SELECT count(*) FROM records").fetchone()[0]
        _check_kind(kind)
        return self._conn.execute("SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0]

    def blob(self, sha256: str) -> bytes:
        """The attachment bytes with this SHA-256; KeyError if the ledger lacks them."""
        row = self._conn.execute(
            "SELECT data FROM blobs WHERE sha256 = ?", (str(sha256).lower(),)
        ).fetchone()
        if row is None:
            raise KeyError(sha256)
        return bytes(row[0])

    def has_blob(self, sha256: str) -> bool:
        """Whether the blob is here, e.g. before the sync client asks the server for it."""
        return (
            self._conn.execute(
                "SELECT 1 FROM blobs WHERE sha256 = ?", (str(sha256).lower(),)
            ).fetchone()
            is not None
        )

    def sheet_issued(self, office: str, form: str, form_version: int, serial: int) -> bool:
        """Whether this office issued sheet ``serial`` of this form version (the scanner's check).

        Ranges never overlap, so only the range starting at or just before
        ``serial`` can contain it: one index probe, however many ranges exist.
        """
        row = self._conn.execute(
            "SELECT last_serial FROM issued_ranges"
            " WHERE office = ? AND form = ? AND form_version = ? AND first_serial <= ?"
            " ORDER BY first_serial DESC LIMIT 1",
            (office, form, form_version, serial),
        ).fetchone()
        return row is not None and serial <= row[0]

    def _row_for_uuid(self, record_uuid: str) -> tuple | None:
        return self._conn.execute(
            f"SELECT {_COLUMNS} FROM records WHERE uuid = ?", (record_uuid,)
        ).fetchone()


# -- helpers -----------------------------------------------------------------

_COLUMNS = "seq, uuid, kind, office, created_at, body"


def _to_record(row: tuple) -> Record:
    seq, record_uuid, kind, office, created_at, body = row
    return Record(
        seq=seq,
        uuid=record_uuid,
        kind=kind,
        office=office,
        created_at=datetime.fromisoformat(created_at),
        body=json.loads(body),
    )


def _split_statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (trigger bodies contain ';').

    ``executescript`` would do this, but it commits any open transaction first,
    which would break "each step in its own transaction".
    """
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \t\r\n;"):
                yield statement.strip()
            statement = ""
    if statement.strip(" \t\r\n;"):
        raise LedgerError("A ledger migration script ends with an incomplete statement.")


def _canonical_json(body: Mapping[str, Any]) -> str:
    """One stable text per body, so equal bodies compare equal and hash equal later."""
    if not isinstance(body, Mapping):
        raise LedgerError(f"A record body must be a JSON object (a dict), not {type(body).__name__}.")
    try:
        return json.dumps(
            dict(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"The record body cannot be stored as JSON: {exc}") from exc


def _check_kind(kind: str) -> None:
    if kind not in RECORD_KINDS:
        raise LedgerError(
            f"Unknown record kind {kind!r}; expected one of {', '.join(sorted(RECORD_KINDS))}."
        )


def _check_text(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(f"{name} must be a non-empty string.")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LedgerError(f"{name} must be a whole number, 1 or more.")


def _normalise_uuid(value: str | uuidlib.UUID) -> str:
    try:
        return str(value if isinstance(value, uuidlib.UUID) else uuidlib.UUID(str(value)))
    except ValueError as exc:
        raise LedgerError(f"{value!r} is not a valid UUID.") from exc


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _format_time(moment: datetime) -> str:
    """ISO-8601 in UTC with a 'Z', microseconds kept, so text order is time order."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise LedgerError("created_at must be a timezone-aware datetime.")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
