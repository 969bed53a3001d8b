"""The USB-stick file: the same signed batches, plus the attachments they name, in one file.

Offices without a network write it with ``seda sync export --out FILE``; the central office
applies it with ``seda central import FILE``, through exactly the checks a network batch gets
(the batches are signed, the blobs are content-addressed, so the stick needs no trust).

Format (``seda-export/1``), a simple length-prefixed sequence readable as a stream::

    SEDA-EXPORT/1\\n
    blob <sha256> <length>\\n<bytes>\\n        (zero or more, before the batches naming them)
    batch <length>\\n<signed batch bytes>\\n  (one or more)
    end <number of entries>\\n

The ``end`` line tells a complete file from one cut short when the stick was pulled early.

The central office answers with an acknowledgement file (``seda-ack/1``, JSON) that the
office reads with ``seda sync ack FILE``, so staff see what was applied without a network.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .batch import canonical_json
from forms.signatures import verify_signature
from .refusals import Refusal

__all__ = ["ACK_FORMAT", "ExportEntry", "read_export", "write_export", "encode_ack", "decode_ack"]

_MAGIC = b"SEDA-EXPORT/1\n"
ACK_FORMAT = "seda-ack/1"
_ACK_PREFIX = b"seda-ack/1\n"
MAX_ENTRY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ExportEntry:
    kind: str  # "blob" or "batch"
    data: bytes
    sha256: str | None = None


def write_export(out: BinaryIO, blobs: Iterable[tuple[str, bytes]], batches: Iterable[bytes]) -> int:
    """Write blobs, then batches, then the end line; returns the number of entries."""
    out.write(_MAGIC)
    count = 0
    for sha256, data in blobs:
        out.write(f"blob {sha256} {len(data)}\n".encode("ascii") + data + b"\n")
        count += 1
    for data in batches:
        out.write(f"batch {len(data)}\n".encode("ascii") + data + b"\n")
        count += 1
    out.write(f"end {count}\n".encode("ascii"))
    return count


def read_export(stream: BinaryIO) -> Iterator[ExportEntry]:
    """Entries of an export file, checking framing and every blob's hash as it goes.

    A damaged or cut-short file raises :class:`Refusal` at the point of damage; entries
    before it were complete, and applying them is safe (apply is idempotent).
    """
    if stream.read(len(_MAGIC)) != _MAGIC:
        raise Refusal("not_a_batch", "not a Seda export file (SEDA-EXPORT/1 header missing)")
    count = 0
    while True:
        header = stream.readline(200)
        if not header.endswith(b"\n"):
            raise Refusal("not_a_batch", f"export file ends early after {count} entries (no end line)")
        parts = header.decode("ascii", "replace").split()
        if parts[:1] == ["end"]:
            if len(parts) != 2 or parts[1] != str(count):
                raise Refusal("not_a_batch", f"end line says {parts[1:]} entries, file has {count}")
            return
        if parts[:1] == ["blob"] and len(parts) == 3:
            sha256, length = parts[1], _length(parts[2])
        elif parts[:1] == ["batch"] and len(parts) == 2:
            sha256, length = None, _length(parts[1])
        else:
            raise Refusal("not_a_batch", f"entry {count + 1}: unreadable header {header[:60]!r}")
        data = stream.read(length)
        if len(data) != length or stream.read(1) != b"\n":
            raise Refusal("not_a_batch", f"entry {count + 1} is cut short")
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise Refusal("bad_blob", f"attachment {sha256} in the export file is damaged")
        count += 1
        yield ExportEntry(parts[0], data, sha256)


def _length(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_ENTRY_BYTES:
        raise Refusal("oversized", f"entry length {text!r} is not allowed")
    return int(text)


def encode_ack(acks: list[dict[str, Any]], refusals: list[dict[str, Any]], generated_at: str,
               key: Ed25519PrivateKey, *, oversight_key: dict[str, Any] | None = None) -> bytes:
    """The acknowledgement file the central office hands back for the stick, signed with the
    central key: an acknowledgement marks records delivered, so a forged one would make an
    office stop sending records the centre never saw.  It also carries the signed oversight
    key (``oversight_key``), so an office that syncs only by USB gets it the same way."""
    payload = {"format": ACK_FORMAT, "generated_at": generated_at, "acks": acks,
               "refusals": refusals}
    if oversight_key is not None:
        payload["oversight_key"] = oversight_key
    signature = key.sign(_ACK_PREFIX + canonical_json(payload).encode("utf-8"))
    return json.dumps({**payload, "signature": signature.hex()}, ensure_ascii=False,
                      indent=1).encode("utf-8")


def decode_ack(data: bytes, central_key: Ed25519PublicKey) -> dict[str, Any]:
    """The acknowledgement, after checking it is one and that the central key signed it."""
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("not a Seda acknowledgement file (not JSON)") from None
    if not isinstance(payload, dict) or payload.get("format") != ACK_FORMAT:
        raise ValueError("not a Seda acknowledgement file (format is not seda-ack/1)")
    signature_hex = payload.pop("signature", "")
    try:
        signature = bytes.fromhex(signature_hex)
    except (TypeError, ValueError):
        signature = b""
    if not verify_signature(central_key, signature, _ACK_PREFIX + canonical_json(payload).encode("utf-8")):
        raise ValueError("the acknowledgement file is not signed by this office's central server "
                         "(wrong central key, or the file was altered)")
    return payload
