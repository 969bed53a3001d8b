"""``seda central import FILE``: apply a USB-stick export with the network's checks.

Blobs are stored (each checked against its hash), then each batch goes through the same
parse -> verify -> apply as ``POST /v1/batches``.  A refused batch is logged centrally and
listed in the acknowledgement file; the other batches in the file still apply, since each
batch is its own atomic unit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.batch import check_dates, format_time, parse_batch, verify_batch
from sync.export_file import encode_ack, read_export
from sync.refusals import Refusal
from sync.request_auth import MAX_SKEW
from .store import Store

__all__ = ["ImportResult", "import_export"]


@dataclass
class ImportResult:
    acks: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    blobs: int = 0

    def ack_file(self, key: Ed25519PrivateKey, oversight_key: dict[str, Any] | None = None) -> bytes:
        """The signed acknowledgement file (``key``: the central key, see ensure_central_key;
        ``oversight_key``: the signed oversight key statement for the office to keep)."""
        return encode_ack(self.acks, self.refusals, format_time(datetime.now(timezone.utc)), key,
                          oversight_key=oversight_key)


def import_export(store: Store, path: Path) -> ImportResult:
    """Apply every entry of the export file at ``path``; a damaged file stops at the damage."""
    result = ImportResult()
    with open(path, "rb") as stream:
        try:
            for entry in read_export(stream):
                if entry.kind == "blob":
                    store.put_blob(entry.sha256, entry.data)
                    result.blobs += 1
                    continue
                office = seq = None
                try:
                    signed = parse_batch(entry.data)
                    office, seq = signed.office, signed.manifest["seq"]
                    verified = verify_batch(signed, store.office_public_key(office))
                    check_dates(verified, datetime.now(timezone.utc), MAX_SKEW)
                    result.acks.append(store.apply_batch(verified, source="import"))
                except Refusal as refusal:
                    store.log_refusal(refusal, office=office, batch_seq=seq, source="import")
                    result.refusals.append({"office": office, "seq": seq, **refusal.to_json(),
                                            "code": refusal.code})
        except Refusal as refusal:  # the file itself is damaged
            store.log_refusal(refusal, source="import")
            result.refusals.append({"office": None, "seq": None, **refusal.to_json(),
                                    "code": refusal.code})
    return result
