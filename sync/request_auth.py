"""Signed requests: how an office proves who it is without a session on the server.

Batches sign themselves; the other requests (upload an attachment, ask which attachments
are missing, pull updates) carry three headers::

    Seda-Office:    THR-012
    Seda-Date:      2026-11-30T14:00:00Z
    Seda-Signature: <Ed25519 signature, hex, of the canonical request below>

    seda-request/1\\n METHOD\\n PATH?QUERY\\n DATE\\n SHA-256(body) hex

The server checks the signature against the office's registered public key and refuses a
date further than ``max_skew`` from its own clock.  Nothing is remembered between requests
(no session, no nonce table), so any server process can check any request.  Every signed
request is idempotent, so a replay within the window can do no harm beyond repeating a read.

Answers go the other way signed by the central server's key, which the office pinned at
``seda sync setup`` (forms/signatures.py ``sign_answer``, ``verify_answer``, with the prefixes
below): an acknowledgement marks
records delivered and a pulled page carries case answers and the oversight key, so neither may
come from anyone else.  A pulled page names the request it answers (its ``Seda-Signature``),
so an old page cannot be replayed as the answer to a new request.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from forms.signatures import verify_signature

from .refusals import Refusal

__all__ = ["BATCH_ACK_PREFIX", "MAX_SKEW", "PULL_PREFIX", "sign_request", "verify_request"]

#: What the central server's signature on an answer covers (forms/signatures.py ``sign_answer``).
PULL_PREFIX = b"seda-pull/1\n"
BATCH_ACK_PREFIX = b"seda-batch-ack/1\n"

#: Office PCs' clocks drift and are set by hand; a day's tolerance keeps them working while
#: still bounding how long a captured request stays valid.
MAX_SKEW = timedelta(hours=24)


def _message(method: str, target: str, date: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"seda-request/1\n{method.upper()}\n{target}\n{date}\n{digest}".encode("utf-8")


def sign_request(key: Ed25519PrivateKey, office: str, method: str, target: str, body: bytes = b"",
                 now: datetime | None = None) -> dict[str, str]:
    """Headers that authenticate ``method target`` with ``body`` as ``office``."""
    date = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = key.sign(_message(method, target, date, body))
    return {"Seda-Office": office, "Seda-Date": date, "Seda-Signature": signature.hex()}


def verify_request(headers: Mapping[str, str], method: str, target: str, body: bytes,
                   key_for_office: Callable[[str], Ed25519PublicKey],
                   now: datetime | None = None, max_skew: timedelta = MAX_SKEW) -> str:
    """The office that signed the request, or a :class:`Refusal` saying why not."""
    office = headers.get("Seda-Office", "")
    date = headers.get("Seda-Date", "")
    signature_hex = headers.get("Seda-Signature", "")
    if not office or not date or not signature_hex:
        raise Refusal("bad_request_signature", "Seda-Office, Seda-Date and Seda-Signature headers are required")
    try:
        moment = datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise Refusal("bad_request_signature", "Seda-Date or Seda-Signature is malformed") from None
    now = now or datetime.now(timezone.utc)
    if abs(now - moment) > max_skew:
        raise Refusal("clock_skew", f"request dated {date}, server time is "
                                    f"{now.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    public_key = key_for_office(office)
    if not verify_signature(public_key, signature, _message(method, target, date, body)):
        raise Refusal("bad_request_signature", f"signature does not match the key of office {office}")
    return office
