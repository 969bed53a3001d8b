"""Sealed misconduct reports: only the oversight unit can read them, not the office.

A misconduct report is often about the people who run the office machine.  Hiding it from the
staff pages is not enough when the same people can open the ledger file, so an office that has
the oversight unit's public key (``$SEDA_HOME/keys/oversight.pub``) seals every misconduct
report before it is stored: the text and any identity the visitor chose to give are encrypted
to that key, and only the tracking code, type, service and route stay readable (the office
must still route the report and answer follow-ups).

The scheme is a sealed box from standard parts in ``cryptography``: an ephemeral X25519 key
pair per report, ECDH with the oversight key, HKDF-SHA256, and ChaCha20-Poly1305 with the
clear part of the record as associated data (so the ciphertext cannot be moved to another
report).  The oversight unit keeps the private key off the office machines; :func:`unseal`
is what it runs.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["ALGORITHM", "SEALED_FIELDS", "SealingError", "key_id", "load_public_key",
           "generate_key_pair", "seal", "unseal"]

ALGORITHM = "X25519-HKDF-SHA256-ChaCha20Poly1305"
#: The body fields that go inside the seal; everything else stays readable.
SEALED_FIELDS = ("text", "name", "national_id", "mobile")
_INFO = b"seda misconduct report v1"


class SealingError(ValueError):
    """A key file is unusable or a sealed body cannot be opened."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def key_id(public_key: X25519PublicKey) -> str:
    """A short fingerprint, so the oversight unit knows which private key opens a report."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> X25519PublicKey:
    """The oversight unit's public key: a PEM file as written by :func:`generate_key_pair`."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise SealingError(f"{path}: not a readable public key: {exc}") from exc
    if not isinstance(key, X25519PublicKey):
        raise SealingError(f"{path}: must be an X25519 public key")
    return key


def generate_key_pair(private_out: Path, public_out: Path) -> str:
    """Make the oversight unit's key pair; returns the key id.  Keep the private file offline."""
    private = X25519PrivateKey.generate()
    private_out.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    try:
        os.chmod(private_out, 0o600)
    except OSError:  # pragma: no cover - Windows
        pass
    public_out.write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(private.public_key())


def _associated(clear: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(clear), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def _key(shared: bytes, epk: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk, info=_INFO).derive(shared)


def seal(body: Mapping[str, Any], public_key: X25519PublicKey) -> dict[str, Any]:
    """``body`` with :data:`SEALED_FIELDS` replaced by a ``sealed`` envelope."""
    clear = {k: v for k, v in body.items() if k not in SEALED_FIELDS}
    secret = {k: body[k] for k in SEALED_FIELDS if k in body}
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(serialization.Encoding.Raw,
                                              serialization.PublicFormat.Raw)
    nonce = os.urandom(12)
    plaintext = json.dumps(secret, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ciphertext = ChaCha20Poly1305(_key(ephemeral.exchange(public_key), epk)).encrypt(
        nonce, plaintext, _associated(clear))
    return {**clear, "sealed": {"alg": ALGORITHM, "key_id": key_id(public_key),
                                "epk": _b64(epk), "nonce": _b64(nonce),
                                "ciphertext": _b64(ciphertext)}}


def unseal(body: Mapping[str, Any], private_key: X25519PrivateKey) -> dict[str, Any]:
    """The original body, for the oversight unit that holds the private key."""
    envelope = body.get("sealed")
    if not isinstance(envelope, Mapping) or envelope.get("alg") != ALGORITHM:
        raise SealingError("not a sealed Seda report")
    clear = {k: v for k, v in body.items() if k != "sealed"}
    try:
        epk = _unb64(envelope["epk"])
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(epk))
        plaintext = ChaCha20Poly1305(_key(shared, epk)).decrypt(
            _unb64(envelope["nonce"]), _unb64(envelope["ciphertext"]), _associated(clear))
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot open"
        raise SealingError(f"cannot open the report: {type(exc).__name__}") from None
    return {**clear, **json.loads(plaintext.decode("utf-8"))}
