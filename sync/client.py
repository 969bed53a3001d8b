"""The office's sync client: push batches, pull updates, and keep at it for days if needed.

:func:`sync_once` is one complete contact: send every waiting batch (attachments first, each
at most once), then pull what the central server has for this office.  :func:`run_forever`
repeats it, waiting ``interval_seconds`` after a success and backing off with jitter after a
failure.  Both open their own ledger, so they can run beside the kiosk and the scanner.

Every step is safe to interrupt.  A batch is cut in one ledger transaction and marked
delivered in another only after the server acknowledged it; a client killed in between
sends the batch again, and the server answers "duplicate".  Pulled items and the pull
cursor are stored in one transaction, so nothing pulled is lost or skipped.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .backoff import backoff_delay
from .content import CONTENT_FEEDS, KNOWN_FEEDS, ContentRefused, check_content_item
from .batch import format_time
from .health_report import health_report
from forms.identity_keys import load_office_key
from forms.messages import MessageError
from forms.signatures import parse_public_key
from ledger.ledger import Ledger, LedgerError, default_ledger_path
from .office_state import OfficeSyncState, OutboxBatch
from .refusals import BlobsMissing, Refusal, message_for
from ledger.sync_settings import SettingsError, SyncSettings, load_settings
from .transport import CentralClient, TransportError, UntrustedAnswer
from .trust import TrustError, fetch_setup_document, pin_central

__all__ = ["SyncError", "SyncReport", "run_forever", "sync_once"]

log = logging.getLogger("seda.sync")

PULL_PAGE = 500


class SyncError(MessageError):
    """This office cannot sync until a person fixes something (no key, missing blob, ...);
    sync/translations ``sync_*``, or the ``trust_*`` / ``untrusted_answer`` it passes on."""

    catalogue = "sync"


@dataclass
class SyncReport:
    """What one contact achieved, for the CLI and the run loop's log."""

    batches_sent: int = 0
    records_new: int = 0
    records_duplicate: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    blobs_sent: int = 0
    items_pulled: int = 0
    waiting: int = 0


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def sync_once(home: Path, settings: SyncSettings | None = None, *,
              client: CentralClient | None = None,
              should_stop: Callable[[], bool] = lambda: False) -> SyncReport:
    """One contact with the central server: push everything waiting, then pull.

    Raises :class:`TransportError` (try later), :class:`Refusal` (the server said no; the
    reason is saved for ``seda sync status``) or :class:`SyncError`.
    """
    home = Path(home)
    settings = settings or load_settings(home)
    key = load_office_key(home)
    if key is None:
        raise SyncError("sync_no_office_key")
    if not settings.central_url and client is None:
        raise SyncError("sync_no_central_url")
    report = SyncReport()
    with Ledger.open(default_ledger_path(home)) as ledger:
        state = OfficeSyncState(ledger)
        state.set("last_attempt_at", _now())
        try:
            if client is None:
                settings = _pinned(home, settings)
                client = CentralClient(settings.central_url, settings.office, key,
                                       timeout=settings.timeout_seconds,
                                       central_key=parse_public_key(settings.central_key))
            refused = _push(state, ledger, client, key, settings, report, should_stop)
            if not should_stop():
                _pull(state, client, report)
                _report_health(home, state, client, settings.office)
        except Refusal as refusal:
            _remember_refusal(state, refusal)
            raise
        except (UntrustedAnswer, TrustError) as error:
            state.set("last_error", {"at": _now(), "detail": error.line()})
            raise SyncError.passing_on(error) from None
        except (TransportError, SyncError) as error:
            state.set("last_error", {"at": _now(), "detail": str(error)})
            raise
        if refused:  # later batches went through; the refused ones wait for a person
            raise refused[0]
        state.set("last_success_at", _now())
        state.set("last_error", None)
        report.waiting = state.waiting_count(settings.office)
    return report


def _pinned(home: Path, settings: SyncSettings) -> SyncSettings:
    """Settings with the central key pinned: an office set up before keys were pinned takes
    it from the central server on this first contact (like ``seda sync setup`` does)."""
    if settings.central_key:
        return settings

    settings = pin_central(home, settings, fetch_setup_document(settings.central_url,
                                                                settings.timeout_seconds))
    log.warning("pinned the central server's key %s (compare it with `seda central key` at the "
                "central office)", settings.central_key)
    return settings


#: Refusals about the office itself: no later batch can fare better, so pushing stops.
#: Any other refusal is about one batch: it stays pending (and is shown by `seda sync status`)
#: while the batches after it are still delivered.
OFFICE_REFUSALS = frozenset({"unknown_office", "revoked_office", "bad_signature",
                             "bad_request_signature", "clock_skew"})


def _refusal_note(refusal: Refusal, batch_seq: int | None = None) -> dict[str, Any]:
    fa, en = message_for(refusal.code)
    return {"at": _now(), "code": refusal.code, "detail": refusal.detail, "batch": batch_seq,
            "message_fa": fa, "message_en": en}


def _remember_refusal(state: OfficeSyncState, refusal: Refusal, batch_seq: int | None = None) -> None:
    state.set("last_refusal", _refusal_note(refusal, batch_seq))


def _push(state: OfficeSyncState, ledger: Ledger, client: CentralClient, key: Any,
          settings: SyncSettings, report: SyncReport, should_stop: Callable[[], bool]) -> list[Refusal]:
    """Deliver every waiting batch, oldest first; returns the batch-level refusals met."""
    refused: list[Refusal] = []
    skip: set[int] = set()
    while not should_stop():
        pending = [b for b in state.pending_batches() if b.batch_seq not in skip]
        batch = pending[0] if pending else state.cut_batch(settings.office,
                                                           max_records=settings.batch_records)
        if batch is None:
            break
        if batch.acknowledged_at is not None:  # an empty batch (only other offices' records)
            continue
        try:
            ack = _send(state, ledger, client, key, batch, report)
        except Refusal as refusal:
            if refusal.code in OFFICE_REFUSALS:
                raise
            log.warning("batch %d refused: %s", batch.batch_seq, refusal)
            _remember_refusal(state, refusal, batch.batch_seq)
            state.remember_batch_refusal(batch.batch_seq, _refusal_note(refusal))
            refused.append(refusal)
            skip.add(batch.batch_seq)
            continue
        if ack.get("sha256") != batch.content_sha256 or ack.get("seq") != batch.batch_seq:
            raise TransportError(f"the answer to batch {batch.batch_seq} does not name it")
        state.mark_acknowledged(batch.batch_seq, ack)
        report.batches_sent += 1
        report.records_new += int(ack.get("new", 0))
        report.records_duplicate += int(ack.get("duplicate", 0))
        if ack.get("conflicts"):
            report.conflicts.extend(ack["conflicts"])
            fa, en = message_for("conflict")
            state.set("last_refusal", {
                "at": _now(), "code": "conflict", "batch": batch.batch_seq,
                "detail": f"{len(ack['conflicts'])} record(s) kept centrally for an operator: "
                          + ", ".join(c["uuid"] for c in ack["conflicts"][:5]),
                "message_fa": fa, "message_en": en})
        log.info("batch %d delivered: %s new, %s duplicate, %d conflict", batch.batch_seq,
                 ack.get("new"), ack.get("duplicate"), len(ack.get("conflicts", [])))
    return refused


def _send(state: OfficeSyncState, ledger: Ledger, client: CentralClient, key: Any,
          batch: OutboxBatch, report: SyncReport) -> dict[str, Any]:
    data = state.batch_bytes(batch, key)
    hashes = state.attachment_hashes(batch)
    if hashes:
        _upload(state, ledger, client, client.missing_blobs(hashes), report)
    try:
        return client.send_batch(data)
    except BlobsMissing as missing:  # uploaded by someone else's request that then failed, etc.
        _upload(state, ledger, client, missing.missing, report)
        return client.send_batch(data)


def _upload(state: OfficeSyncState, ledger: Ledger, client: CentralClient, hashes: list[str],
            report: SyncReport) -> None:
    """Send each attachment, except one the server cannot take: that one is refused here,
    with the server's reason, and never sent again unless the server's limit grows."""
    for sha256 in hashes:
        try:
            data = ledger.blob(sha256)
        except KeyError:
            raise SyncError("sync_blob_bytes_missing", sha256=sha256) from None
        limit = client.max_blob_bytes
        known = state.refused_blobs().get(sha256)
        if (limit is not None and len(data) > limit) or (known is not None and limit is None):
            refusal = Refusal("blob_too_large", f"attachment {sha256} is {len(data)} bytes; the central "
                                                f"server accepts at most {limit or known.get('limit')}")
            state.remember_refused_blob(sha256, {**_refusal_note(refusal), "size": len(data),
                                                 "limit": limit or known.get("limit")})
            raise refusal
        try:
            client.put_blob(sha256, data)
        except Refusal as refusal:
            if refusal.code in ("blob_too_large", "oversized"):
                refusal = Refusal("blob_too_large", refusal.detail)
                state.remember_refused_blob(sha256, {**_refusal_note(refusal), "size": len(data),
                                                     "limit": limit})
            raise refusal from None
        state.forget_refused_blob(sha256)
        report.blobs_sent += 1


def _report_health(home: Path, state: OfficeSyncState, client: CentralClient, office: str) -> None:
    """Tell the centre's offices page how this office is; a centre too old to take the report,
    or a failure here, never holds up the records (the next contact reports again)."""
    try:
        client.report_health(health_report(home, state, office))
    except (TransportError, Refusal) as error:
        log.warning("the health report did not reach the centre: %s", error)
        state.set("last_health_report_error", {"at": _now(), "detail": str(error)})
    else:
        state.set("last_health_report_error", None)


def _pull(state: OfficeSyncState, client: CentralClient, report: SyncReport) -> None:
    """Pull every page.  Case updates are stored page by page; content items (catalogue,
    directory, ...) are checked one by one (sync/content.py) and the good ones stored together
    with the last page, so the kiosk never shows half of a publication.  A refused item is
    not stored (the last good version stays shown) and is kept for ``seda sync status``."""
    cursor = state.pull_cursor()
    held: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    while True:
        page = client.pull(cursor, PULL_PAGE)
        other = []
        for item in page["items"]:
            try:
                if item.get("feed") not in KNOWN_FEEDS:
                    raise ContentRefused(f"{item.get('feed')}/{item.get('key')}: an unknown kind of item"
                                         " (is this office's Seda older than the central server's?)")
                if item.get("feed") not in CONTENT_FEEDS:
                    other.append(item)
                    continue
                check_content_item(item, client.central_key)
            except ContentRefused as exc:
                log.error("refused an item from the central server: %s", exc)
                refused.append({"at": _now(), "feed": item.get("feed"), "key": item.get("key"),
                                "cursor": item.get("cursor"), "detail": str(exc)})
                continue
            held.append(item)
        cursor = int(page["next"])
        if page.get("more"):
            report.items_pulled += state.store_central_items(other, state.pull_cursor())
            continue
        report.items_pulled += state.store_central_items(other + held, cursor,
                                                         content_refusals=refused)
        return


def run_forever(home: Path, stop: threading.Event | None = None, *,
                on_report: Callable[[SyncReport | Exception, float], None] | None = None,
                base_delay: float = 2.0) -> None:
    """Sync until ``stop`` is set: ``interval_seconds`` apart while all goes well, backing off
    with jitter (capped at ``max_backoff_seconds``) while it does not.

    Settings are re-read every round, so an admin's fix takes effect without a restart, and
    no failure ends the loop: an office may be cut off for days and must simply catch up.
    """
    stop = stop or threading.Event()
    failures = 0
    while not stop.is_set():
        cap = 900.0
        try:
            settings = load_settings(home)
            cap = settings.max_backoff_seconds
            outcome: SyncReport | Exception = sync_once(home, settings, should_stop=stop.is_set)
            failures = 0
            delay = settings.interval_seconds
        except (TransportError, Refusal, SyncError, SettingsError, LedgerError, OSError) as error:
            outcome = error
            failures += 1
            delay = backoff_delay(failures, base=base_delay, cap=cap)
            log.warning("sync failed (%d in a row), next try in %.0f s: %s", failures, delay, error)
        if on_report is not None:
            on_report(outcome, delay)
        stop.wait(delay)
