"""Batches: ledger records -> signed bytes, and signed bytes -> records the server may trust.

Pure functions only (no files, no network), so the office client, the USB export and the
central server all use exactly the same code and the tests can attack it directly.

Wire format (``seda-batch/1``)::

    SEDA-BATCH/1\\n
    <manifest: one line of canonical JSON>\\n
    <Ed25519 signature of b"seda-batch/1\\n" + manifest line, 128 hex digits>\\n
    <gzip of the content: one canonical JSON record per line>

The manifest names the office, the batch sequence number, the record count and the SHA-256
and size of the *uncompressed* content.  Hashing the uncompressed text (not the gzip bytes)
means a batch rebuilt from the same ledger range after an upgrade of zlib still carries the
same hash; the size lets the server stop decompressing the moment a gzip bomb overshoots.
The signature covers the manifest, the manifest covers the content: one signature check and
one hash check prove the office wrote every byte.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from forms.signatures import verify_signature
from .refusals import Refusal

__all__ = [
    "BATCH_FORMAT",
    "BatchRecord",
    "Limits",
    "SignedBatch",
    "VerifiedBatch",
    "canonical_json",
    "check_dates",
    "encode_batch",
    "format_time",
    "open_batch",
    "parse_batch",
    "record_fingerprint",
    "record_line",
    "sign_content",
    "verify_batch",
]

BATCH_FORMAT = "seda-batch/1"
_MAGIC = b"SEDA-BATCH/1\n"
_SIGNING_PREFIX = b"seda-batch/1\n"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_OFFICE = re.compile(r"^[A-Z0-9-]{2,16}$")
_RECORD_KEYS = frozenset({"uuid", "kind", "office", "created_at", "body"})
_MANIFEST_KEYS = frozenset(
    {"format", "office", "seq", "count", "sha256", "raw_size", "created_at", "first_seq", "last_seq"}
)


@dataclass(frozen=True)
class Limits:
    """How big a batch may be; the server refuses anything larger as ``oversized``.

    Defaults fit a week of a busy office in a few batches while keeping one request
    under a few seconds on a slow link.
    """

    max_wire_bytes: int = 16 * 1024 * 1024
    max_raw_bytes: int = 64 * 1024 * 1024
    max_records: int = 10_000
    max_record_bytes: int = 1024 * 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class BatchRecord:
    """One record as it travels: the ledger's fields minus its local ``seq``."""

    uuid: str
    kind: str
    office: str
    created_at: str
    body: dict[str, Any]
    #: The body's canonical JSON text when already known (the server computes it once).
    body_json: str | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "kind": self.kind, "office": self.office,
                "created_at": self.created_at, "body": self.body}


@dataclass(frozen=True)
class SignedBatch:
    """A batch split into its parts, nothing verified yet (the office's key is looked up next)."""

    manifest: dict[str, Any]
    manifest_line: bytes
    signature: bytes
    payload: bytes

    @property
    def office(self) -> str:
        return self.manifest["office"]


@dataclass(frozen=True)
class VerifiedBatch:
    """A batch whose signature, hash, count and every record have been checked."""

    office: str
    seq: int
    content_sha256: str
    created_at: str
    records: tuple[BatchRecord, ...]


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                              allow_nan=False)


def canonical_json(value: Any) -> str:
    """One text per value (sorted keys, no spaces, UTF-8 kept): equal values, equal bytes.

    Same text as the ledger's own ``_canonical_json``, so stored bodies are already canonical.
    """
    return _CANONICAL.encode(value)


def format_time(moment: datetime) -> str:
    """UTC with microseconds and a 'Z', the ledger's own spelling."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_json_string = json.JSONEncoder(ensure_ascii=False).encode


def record_line(record: BatchRecord) -> str:
    """The record's canonical JSON (sorted keys: body, created_at, kind, office, uuid).

    Built by concatenation because the body is usually canonical text already (the ledger
    stores it so), which makes this several times faster than ``canonical_json`` on the
    whole record while giving exactly the same text.
    """
    body = record.body_json if record.body_json is not None else canonical_json(record.body)
    return (f'{{"body":{body},"created_at":{_json_string(record.created_at)},'
            f'"kind":{_json_string(record.kind)},"office":{_json_string(record.office)},'
            f'"uuid":{_json_string(record.uuid)}}}')


def record_fingerprint(record: BatchRecord) -> str:
    """SHA-256 of the record's canonical JSON: what "the same record" means to the server."""
    return hashlib.sha256(record_line(record).encode("utf-8")).hexdigest()


# -- encoding (office side) ----------------------------------------------------


def encode_content(records: Iterable[BatchRecord]) -> bytes:
    """The uncompressed content: one canonical JSON record per line."""
    return b"".join(record_line(r).encode("utf-8") + b"\n" for r in records)


def encode_batch(
    *,
    office: str,
    seq: int,
    records: Iterable[BatchRecord],
    key: Ed25519PrivateKey,
    created_at: str,
    first_seq: int = 0,
    last_seq: int = 0,
) -> bytes:
    """Sign ``records`` as batch ``seq`` of ``office``.

    Deterministic (gzip without a timestamp, Ed25519 signatures are deterministic), so the
    client can rebuild a batch it cut earlier from its ledger range and send the very same
    bytes again instead of storing them twice.
    """
    records = list(records)
    return sign_content(office=office, seq=seq, content=encode_content(records), count=len(records),
                        key=key, created_at=created_at, first_seq=first_seq, last_seq=last_seq)


def sign_content(*, office: str, seq: int, content: bytes, count: int, key: Ed25519PrivateKey,
                 created_at: str, first_seq: int = 0, last_seq: int = 0) -> bytes:
    """Sign already-encoded content (``count`` canonical JSON lines): the office's fast path,
    which builds lines straight from the ledger's stored canonical text."""
    manifest = {
        "format": BATCH_FORMAT,
        "office": office,
        "seq": seq,
        "count": count,
        "sha256": hashlib.sha256(content).hexdigest(),
        "raw_size": len(content),
        "created_at": created_at,
        "first_seq": first_seq,
        "last_seq": last_seq,
    }
    manifest_line = canonical_json(manifest).encode("utf-8")
    signature = key.sign(_SIGNING_PREFIX + manifest_line)
    payload = gzip.compress(content, compresslevel=6, mtime=0)
    return _MAGIC + manifest_line + b"\n" + signature.hex().encode("ascii") + b"\n" + payload


# -- decoding (server side) ----------------------------------------------------


def parse_batch(data: bytes, limits: Limits = DEFAULT_LIMITS) -> SignedBatch:
    """Split ``data`` into manifest, signature and payload, checking only their shape."""
    if len(data) > limits.max_wire_bytes:
        raise Refusal("oversized", f"batch is {len(data)} bytes; the limit is {limits.max_wire_bytes}")
    if not data.startswith(_MAGIC):
        raise Refusal("not_a_batch", "does not start with SEDA-BATCH/1")
    rest = data[len(_MAGIC):]
    manifest_end = rest.find(b"\n")
    signature_end = rest.find(b"\n", manifest_end + 1) if manifest_end >= 0 else -1
    if manifest_end < 0 or signature_end < 0:
        raise Refusal("not_a_batch", "manifest or signature line missing")
    manifest_line = rest[:manifest_end]
    signature_hex = rest[manifest_end + 1:signature_end]
    payload = rest[signature_end + 1:]
    try:
        manifest = json.loads(manifest_line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refusal("malformed_manifest", f"manifest is not JSON ({exc})") from None
    _check_manifest(manifest, limits)
    try:
        signature = bytes.fromhex(signature_hex.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise Refusal("bad_signature", "signature line is not hex") from None
    if len(signature) != 64:
        raise Refusal("bad_signature", f"signature is {len(signature)} bytes, expected 64")
    return SignedBatch(manifest, manifest_line, signature, payload)


def verify_batch(
    signed: SignedBatch, public_key: Ed25519PublicKey, limits: Limits = DEFAULT_LIMITS
) -> VerifiedBatch:
    """Check signature, then content hash, then every record; refuse on the first fault."""
    manifest = signed.manifest
    if not verify_signature(public_key, signed.signature, _SIGNING_PREFIX + signed.manifest_line):
        raise Refusal("bad_signature", f"signature does not match the key of office {manifest['office']}")
    content = _gunzip(signed.payload, manifest["raw_size"])
    digest = hashlib.sha256(content).hexdigest()
    if len(content) != manifest["raw_size"] or digest != manifest["sha256"]:
        raise Refusal("wrong_hash", f"content SHA-256 is {digest}, manifest says {manifest['sha256']}")
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != manifest["count"]:
        raise Refusal("wrong_count", f"content has {len(lines)} records, manifest says {manifest['count']}")
    records = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if len(line) > limits.max_record_bytes:
            raise Refusal("oversized", f"record {number} is {len(line)} bytes; the limit is {limits.max_record_bytes}")
        record = _parse_record(line, number)
        if record.office != manifest["office"]:
            raise Refusal("office_mismatch",
                          f"record {number} ({record.uuid}) belongs to office {record.office}, "
                          f"the batch is signed by {manifest['office']}")
        if record.uuid in seen:
            raise Refusal("malformed_record", f"record {number}: UUID {record.uuid} appears twice in the batch")
        seen.add(record.uuid)
        records.append(record)
    return VerifiedBatch(manifest["office"], manifest["seq"], manifest["sha256"],
                         manifest["created_at"], tuple(records))


def check_dates(batch: VerifiedBatch, now: datetime, max_ahead: timedelta) -> None:
    """Refuse a batch cut, or holding a record, further ahead of ``now`` than ``max_ahead``.

    Signed requests are refused outside the clock skew (``request_auth.MAX_SKEW``); a batch
    signs itself, so its dates are checked here the same way.  Only the future is refused: an
    office that was offline for a month sends old records, rightly.  A record dated a year
    ahead was written while the office's clock was wrong; storing it would route it, count it
    in the wrong month and set its deadline a year out.
    """
    limit = now + max_ahead
    latest = _parse_time(batch.created_at)
    if latest is not None and latest > limit:
        raise Refusal("future_dated", f"batch {batch.seq} was cut at {batch.created_at}, more than "
                                      f"{_hours(max_ahead)} h after the server's time {format_time(now)}")
    for number, record in enumerate(batch.records, start=1):
        moment = _parse_time(record.created_at)
        if moment is not None and moment > limit:
            raise Refusal("future_dated", f"record {number} ({record.uuid}) is dated {record.created_at}, "
                                          f"more than {_hours(max_ahead)} h after the server's time "
                                          f"{format_time(now)}")


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def open_batch(
    data: bytes,
    key_for_office: Callable[[str], Ed25519PublicKey],
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedBatch:
    """Parse and verify in one call; ``key_for_office`` raises a Refusal for unknown offices."""
    signed = parse_batch(data, limits)
    return verify_batch(signed, key_for_office(signed.office), limits)


def _check_manifest(manifest: Any, limits: Limits) -> None:
    if not isinstance(manifest, dict):
        raise Refusal("malformed_manifest", "manifest is not a JSON object")
    missing = _MANIFEST_KEYS - manifest.keys()
    if missing:
        raise Refusal("malformed_manifest", f"manifest lacks {sorted(missing)}")
    if manifest["format"] != BATCH_FORMAT:
        raise Refusal("malformed_manifest", f"unknown format {manifest['format']!r}")
    if not isinstance(manifest["office"], str) or not _OFFICE.match(manifest["office"]):
        raise Refusal("malformed_manifest", f"office {manifest['office']!r} is not an office code")
    for name in ("seq", "count", "raw_size", "first_seq", "last_seq"):
        value = manifest[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Refusal("malformed_manifest", f"{name} must be a whole number, got {value!r}")
    if not isinstance(manifest["sha256"], str) or not _HEX64.match(manifest["sha256"]):
        raise Refusal("malformed_manifest", "sha256 must be 64 lowercase hex digits")
    if not isinstance(manifest["created_at"], str) or not _parse_time(manifest["created_at"]):
        raise Refusal("malformed_manifest", "created_at is not an ISO-8601 UTC time")
    if manifest["count"] > limits.max_records:
        raise Refusal("oversized", f"{manifest['count']} records; the limit is {limits.max_records}")
    if manifest["raw_size"] > limits.max_raw_bytes:
        raise Refusal("oversized", f"content is {manifest['raw_size']} bytes; the limit is {limits.max_raw_bytes}")


def _gunzip(payload: bytes, expected_size: int) -> bytes:
    """Decompress, but never more than one byte past what the manifest promised."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        content = decompressor.decompress(payload, expected_size + 1)
        if len(content) > expected_size:
            raise Refusal("wrong_hash", "content is longer than the manifest's raw_size")
        if not decompressor.eof:
            raise Refusal("corrupt_gzip", "compressed content ends early (truncated)")
        if decompressor.unused_data:
            raise Refusal("corrupt_gzip", "bytes after the end of the compressed content")
    except zlib.error as exc:
        raise Refusal("corrupt_gzip", f"cannot decompress: {exc}") from None
    return content


def _parse_record(line: bytes, number: int) -> BatchRecord:
    def bad(why: str) -> Refusal:
        return Refusal("malformed_record", f"record {number}: {why}")

    try:
        item = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad("not a JSON object") from None
    if not isinstance(item, dict) or item.keys() != _RECORD_KEYS:
        raise bad(f"must have exactly the keys {sorted(_RECORD_KEYS)}")
    raw_uuid = item["uuid"]
    if not isinstance(raw_uuid, str) or not _UUID.match(raw_uuid):
        raise bad(f"uuid {raw_uuid!r} is not a lowercase UUID")
    if not isinstance(item["kind"], str) or not _KIND.match(item["kind"]):
        raise bad(f"kind {item['kind']!r} is not a record kind")
    if not isinstance(item["office"], str) or not item["office"]:
        raise bad("office is missing")
    if not isinstance(item["created_at"], str) or not _parse_time(item["created_at"]):
        raise bad(f"created_at {item['created_at']!r} is not an ISO-8601 UTC time")
    body = item["body"]
    if not isinstance(body, dict):
        raise bad("body is not a JSON object")
    if item["kind"] == "attachment":
        sha = body.get("sha256")
        if not isinstance(sha, str) or not _HEX64.match(sha):
            raise bad("attachment body has no valid sha256")
        if not isinstance(body.get("size"), int) or body["size"] < 0:
            raise bad("attachment body has no valid size")
    try:
        body_json = canonical_json(body)
        body_json.encode("utf-8")  # "\ud800" escapes parse to text no database can store
    except ValueError:  # UnicodeEncodeError included
        raise bad("body holds a number or a character JSON text cannot carry") from None
    return BatchRecord(raw_uuid, item["kind"], item["office"], item["created_at"], body, body_json)


def _parse_time(text: str) -> datetime | None:
    if not (text.endswith("Z") or text.endswith("+00:00")):
        return None
    try:
        return datetime.fromisoformat(text)  # Python 3.11 reads the trailing "Z" itself
    except ValueError:
        return None
