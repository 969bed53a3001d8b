"""The central store: the central database plus what the server and the CLI do with it.

``open_store("central.sqlite3")`` or ``open_store("postgresql://...")`` gives a :class:`Store`,
the same on both databases.  A :class:`Store` *is* a :class:`~central.db.Database` (a pool of
connections and nothing else, so any number of server processes can share one PostgreSQL
database); its methods are the operations the sync endpoints, the CLI and the tests call,
each a thin door to the service or query module that holds it:

- ingest (central/ingest.py): batches, blobs, refusals, conflicts;
- feed (central/db/feed.py): what offices pull;
- offices and Open311 keys (central/db/offices.py);
- the public view of cases and its privacy rule (central/db/public_cases.py);
- the operator's case update (central/casework.py).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.batch import VerifiedBatch, format_time
from forms.signatures import parse_public_key, public_key_hex
from sync.refusals import Refusal

from . import analysis, casework, ingest
from .db import feed as feeds, offices, public_cases as public, records, sheets
from .db.connection import Database
from .db.offices import ApiKey, Office
from .db.public_cases import CLOSED_STATUSES
from .db.schema import migrate as migrate_schema
from .errors import StoreError
from .ingest import office_record_uuid

__all__ = ["CLOSED_STATUSES", "FEEDS", "ApiKey", "Office", "Store", "StoreError", "office_record_uuid",
           "open_store"]

FEEDS = feeds.FEEDS
#: The schema step from which a record's identity is (office, UUID) (schema step 4).
IDENTITY_STEP = 4
_API_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


class Store(Database):
    """The central store behind ``url``; see the module docstring."""

    def __repr__(self) -> str:
        return f"<Store {self.dialect}>"

    def migrate(self) -> None:
        """Create or upgrade the tables, then fill what is derived from the records: the
        case rows of cases stored before casework existed, the satisfaction roll-ups, the
        comment index, and conflicts kept before (office, UUID) identity.  Several processes
        may call it at once."""
        step = migrate_schema(self)
        if step >= casework.SCHEMA_STEP:
            casework.backfill(self)  # once: it marks itself done
            analysis.ensure_analysis_indexes(self)
            analysis.ensure_comment_index(self)
        if step >= IDENTITY_STEP:
            ingest.settle_foreign_conflicts(self)  # once: it marks itself done

    # -- offices -----------------------------------------------------------------

    def add_office(self, code: str, public_key: str | Ed25519PublicKey) -> Office:
        """Register ``code`` with its public key (re-adding replaces the key and re-activates)."""
        key_hex = public_key_hex(public_key if isinstance(public_key, Ed25519PublicKey)
                                 else parse_public_key(public_key))
        with self.write() as conn:
            offices.upsert_office(conn, code, key_hex, _now())
            feeds.publish(conn, "office_key", code, {"office": code, "public_key": key_hex,
                                                    "status": "active"})
        return self.office(code)

    def revoke_office(self, code: str) -> Office:
        """Refuse everything signed by ``code`` from now on, and tell every office."""
        with self.write() as conn:
            key_hex = offices.revoke_office(conn, code, _now())
            if key_hex is None:
                raise StoreError("store_no_office", office=code)
            feeds.publish(conn, "office_key", code, {"office": code, "public_key": key_hex,
                                                    "status": "revoked"})
        return self.office(code)

    def office(self, code: str) -> Office | None:
        with self.connect() as conn:
            return offices.office(conn, code)

    def offices(self) -> list[Office]:
        with self.connect() as conn:
            return offices.offices(conn)

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
        with self.connect() as conn:
            present = records.present_blobs(conn, wanted)
        return [h for h in wanted if h not in present]

    def put_blob(self, sha256: str, data: bytes) -> bool:
        """Store ``data`` under its hash after checking it; True if it was new."""
        return ingest.put_blob(self, sha256, data)

    def office_sent_blob(self, office: str, sha256: str) -> dict[str, Any] | None:
        """The body of an attachment record of ``office`` naming ``sha256``, or None.

        Blobs are stored once by hash for all offices; a record refers to one only through an
        attachment record of its own office, so an office that names a hash it never sent (one
        it learnt of another office's file) gets nothing served.
        """
        with self.connect() as conn:
            return records.office_attachment(conn, office, sha256.lower())

    def blob(self, sha256: str) -> bytes | None:
        with self.connect() as conn:
            return records.blob(conn, sha256.lower())

    # -- batches, refusals, conflicts (ingest.py) ------------------------------------

    def apply_batch(self, batch: VerifiedBatch, *, source: str = "http") -> dict[str, Any]:
        """Apply a verified batch atomically; see :func:`central.ingest.apply_batch`."""
        return ingest.apply_batch(self, batch, source=source)

    def log_refusal(self, refusal: Refusal, *, office: str | None = None,
                    batch_seq: int | None = None, source: str = "http") -> None:
        ingest.log_refusal(self, refusal, office=office, batch_seq=batch_seq, source=source)

    def refusals(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return records.refusals(conn, limit)

    def conflicts(self, *, include_resolved: bool = True) -> list[dict[str, Any]]:
        """Records kept aside as conflicts (an office sent a UUID it had sent before, with
        other content), for an operator: each with ``resolution`` None while it is open."""
        with self.connect() as conn:
            return records.conflicts(conn, include_resolved=include_resolved)

    def open_conflict_count(self) -> int:
        with self.connect() as conn:
            return records.open_conflict_count(conn)

    def resolve_conflict(self, conflict_id: int, *, accept: bool, by: str) -> dict[str, Any]:
        """Accept or dismiss a conflict; see :func:`central.ingest.resolve_conflict`."""
        return ingest.resolve_conflict(self, conflict_id, accept=accept, by=by)

    def settle_foreign_conflicts(self) -> int:
        return ingest.settle_foreign_conflicts(self)

    # -- reading records (reports, tests) ---------------------------------------------

    def record_count(self, office: str | None = None) -> int:
        with self.connect() as conn:
            return records.record_count(conn, office)

    def records(self, office: str | None = None) -> list[dict[str, Any]]:
        """Every stored record (oldest first) in the shape that travelled in the batch."""
        with self.connect() as conn:
            return records.records(conn, office)

    def batch_log(self, office: str | None = None) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return records.batch_log(conn, office)

    # -- what offices pull --------------------------------------------------------

    def publish(self, feed: str, key: str, body: dict[str, Any], *, office: str = "",
                deleted: bool = False) -> int:
        """Put (or replace) one item offices pull; returns its cursor.

        ``office`` limits it to one office ('' = every office).  Replacing moves the item to a
        new cursor, so offices that already had the old version receive the new one.
        """
        if feed not in FEEDS:
            raise StoreError("store_unknown_feed", feed=str(feed), expected=", ".join(sorted(FEEDS)))
        with self.connect() as conn, conn.transaction():
            return feeds.publish(conn, feed, key, body, office=office, deleted=deleted)

    def holds_paper_sheet(self, office: str, sheet: str) -> bool:
        """Whether a scanned response of ``sheet`` (``office/form/serial``) has arrived."""
        with self.connect() as conn:
            return sheets.holds_paper(conn, office, sheet)

    def shared_setting(self, key: str, candidate: str) -> str:
        """The value of setting ``key``, set to ``candidate`` by the first process that asks:
        a secret every server process on this store shares (the web app's cookie key)."""
        with self.write() as conn:
            records.put_setting_once(conn, key, candidate)
            return records.setting(conn, key)

    def published(self, feed: str, *, office: str | None = None) -> list[tuple[str, str]]:
        """``(key, body JSON)`` of the current items of ``feed`` (``office`` '' = those for
        every office only), in key order: what the portal shows of the catalogue and contacts."""
        with self.connect() as conn:
            return feeds.current_items(conn, feed, office=office)

    def published_head(self, feed: str) -> int:
        """The newest cursor of ``feed``: what a page showing it may be kept by."""
        with self.connect() as conn:
            return feeds.head(conn, feed)

    def pull(self, office: str, after: int, limit: int = 500) -> dict[str, Any]:
        """Items for ``office`` past cursor ``after``: ``{"items", "next", "more"}``."""
        with self.connect() as conn:
            return feeds.pull(conn, office, after, limit)

    def record_case_update(self, tracking_code: str, status: str, *, answer: str | None = None,
                           unit: str | None = None, actor: str = "operator",
                           office: str | None = None) -> dict[str, Any]:
        """The operator's case update; see :func:`central.casework.operator_update`."""
        return casework.operator_update(self, tracking_code, status, answer=answer, unit=unit,
                                        actor=actor, office=office)

    # -- Open311 (open311.py): API keys, centrally filed cases, the public view of cases ----

    def add_api_key(self, name: str, *, office: str | None = None) -> tuple[str, ApiKey]:
        """Make a new Open311 API key called ``name``; returns ``(key, ApiKey)``.

        The key is shown once: only its SHA-256 is stored.  ``office`` is the office code the
        key's cases are filed under (None: ``OPEN311``) and the only office it may list.
        """
        if not _API_KEY_NAME.fullmatch(name or ""):
            raise StoreError("store_api_key_name_invalid", name=str(name))
        key = secrets.token_urlsafe(32)
        with self.write() as conn:
            if offices.api_key_exists(conn, name):
                raise StoreError("store_api_key_exists", name=name)
            offices.add_api_key(conn, name, key, office, _now())
            return key, offices.api_key_named(conn, name)

    def revoke_api_key(self, name: str) -> ApiKey:
        """Refuse the key called ``name`` from now on."""
        with self.write() as conn:
            if not offices.revoke_api_key(conn, name, _now()) and not offices.api_key_exists(conn, name):
                raise StoreError("store_no_api_key", name=name)
            return offices.api_key_named(conn, name)

    def api_keys(self) -> list[ApiKey]:
        with self.connect() as conn:
            return offices.api_keys(conn)

    def api_key_for(self, key: str) -> ApiKey | None:
        """The active key whose secret is ``key``, or None (unknown or revoked)."""
        if not key:
            return None
        with self.connect() as conn:
            return offices.api_key_by_secret(conn, key)

    def add_central_case(self, body: dict[str, Any], *, office: str,
                         draw_code: Callable[[Callable[[str], bool]], str]) -> dict[str, Any]:
        """File a case at the central server; see :func:`central.ingest.add_central_case`."""
        return ingest.add_central_case(self, body, office=office, draw_code=draw_code)

    def public_cases(self, *, tracking_codes: Sequence[str] | None = None,
                     services: Sequence[str] | None = None, start: str | None = None,
                     end: str | None = None, status: str | None = None,
                     office: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Cases anyone with the tracking code may follow; see
        :func:`central.db.public_cases.public_cases`."""
        if status not in (None, "open", "closed"):
            raise StoreError("store_unknown_open311_status", status=str(status))
        with self.connect() as conn:
            return public.public_cases(conn, tracking_codes=tracking_codes, services=services,
                                       start=start, end=end, status=status, office=office,
                                       limit=limit)


def open_store(url: str | Path, *, migrate: bool = True, pool_size: int = 8) -> Store:
    """The store at ``url`` (a file path or ``postgresql://``), its tables brought up to date."""
    store = Store(str(url), pool_size=pool_size)
    if migrate:
        store.migrate()
    return store
