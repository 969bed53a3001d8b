"""No network: batches out on a USB stick, acknowledgements back on it.

``export_batches`` cuts every waiting record into batches (the very batches the network
client would send) and writes all batches not yet acknowledged, with their attachments, to
one file.  Exporting again before an acknowledgement came back simply writes them again:
the central server applies each record once however often it sees it.

``apply_ack_file`` reads the central office's acknowledgement file and marks delivered only
the batches whose sequence number *and* content hash it names, so an acknowledgement can
never mark records delivered that the central server did not see.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from forms.private_files import open_private

from .batch import format_time
from forms.identity_keys import load_office_key
from forms.signatures import parse_public_key
from ledger.ledger import Ledger, default_ledger_path
from .office_state import OfficeSyncState
from .export_file import decode_ack, write_export
from .refusals import message_for
from ledger.sync_settings import SyncSettings
from .client import SyncError
from .trust import TrustError, store_oversight_statement

__all__ = ["AckSummary", "ExportSummary", "apply_ack_file", "export_batches"]


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    batches: int
    records: int
    blobs: int


@dataclass(frozen=True)
class AckSummary:
    acknowledged: int
    already: int
    unknown: int
    refusals: int


def export_batches(home: Path, settings: SyncSettings, out: Path) -> ExportSummary:
    """Write every unacknowledged batch of this office (and its attachments) to ``out``."""
    key = load_office_key(home)
    if key is None:
        raise SyncError("sync_no_office_key")
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    with Ledger.open(default_ledger_path(home)) as ledger:
        state = OfficeSyncState(ledger)
        while state.cut_batch(settings.office, max_records=settings.batch_records) is not None:
            pass
        pending = state.pending_batches()
        hashes = list(dict.fromkeys(h for b in pending for h in state.attachment_hashes(b)))
        for sha256 in hashes:
            if not ledger.has_blob(sha256):
                raise SyncError("sync_blob_bytes_missing", sha256=sha256)
        with open_private(tmp, "wb") as handle:  # sealed, but still nobody else's to read
            write_export(handle,
                         ((h, ledger.blob(h)) for h in hashes),
                         (state.batch_bytes(b, key) for b in pending))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)  # the stick never holds a half-written file under the real name
        state.set("last_export", {"at": format_time(datetime.now(timezone.utc)), "file": str(out),
                                  "batches": len(pending)})
    return ExportSummary(out, len(pending), sum(b.count for b in pending), len(hashes))


def apply_ack_file(home: Path, settings: SyncSettings, path: Path) -> AckSummary:
    """Mark the batches the central office acknowledged in ``path`` as delivered."""
    if not settings.central_key:
        raise SyncError("sync_ack_needs_central_key")
    try:
        payload = decode_ack(Path(path).read_bytes(), parse_public_key(settings.central_key))
    except ValueError as exc:
        raise SyncError("sync_ack_unreadable", path=str(path), error=str(exc)) from None
    if payload.get("oversight_key") is not None:  # the key reports are sealed to, signed too
        try:
            store_oversight_statement(home, payload["oversight_key"], settings.central_key)
        except TrustError as exc:
            raise SyncError.passing_on(exc) from None
    acknowledged = already = unknown = 0
    with Ledger.open(default_ledger_path(home)) as ledger:
        state = OfficeSyncState(ledger)
        for ack in payload.get("acks", []):
            if ack.get("office") != settings.office:
                continue
            batch = state.batch(int(ack.get("seq", 0)))
            if batch is None or batch.content_sha256 != ack.get("sha256"):
                unknown += 1
            elif state.mark_acknowledged(batch.batch_seq, ack):
                acknowledged += 1
            else:
                already += 1
        refusals = [r for r in payload.get("refusals", []) if r.get("office") in (None, settings.office)]
        if refusals:
            last = refusals[-1]
            fa, en = message_for(last.get("code", ""))
            state.set("last_refusal", {"at": payload.get("generated_at"), "code": last.get("code"),
                                       "detail": last.get("detail", ""), "message_fa": fa,
                                       "message_en": en})
        if acknowledged:
            state.set("last_success_at", payload.get("generated_at"))
    return AckSummary(acknowledged, already, unknown, len(refusals))
