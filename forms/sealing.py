"""Sealed misconduct reports: only the oversight unit can read them, not the office.

A misconduct report is often about the people who run the office machine.  Hiding it from the
staff pages is not enough when the same people can open the ledger file, so the kiosk seals
every misconduct report *before anything touches disk*: the text, the service, any identity
the visitor chose to give, the tracking code and any attachment are encrypted to a public key
of the central office, and only what routing needs stays readable (type, route, channel and
the follow-up locator of :mod:`forms.follow_up`).

Which key (docs/security.md): the **oversight key**, an X25519 key pair the central office
makes when it first starts on its store (:mod:`central.keys`); its public half reaches
every office signed by the centre's sync key (:func:`sign_key_statement`,
:func:`verify_key_statement`).  Until an office holds it, reports are sealed to the centre's
sync key itself (Ed25519, converted to X25519 by :func:`x25519_public_from_ed25519`), which the
central server opens and shows to the oversight unit only: "to oversight through the central
office".  There is no way to store a report unsealed.

The scheme is a sealed box from standard parts in ``cryptography``: an ephemeral X25519 key
pair per report, ECDH with the recipient key, HKDF-SHA256, and ChaCha20-Poly1305 with the
clear part of the record as associated data (so the ciphertext cannot be moved to another
report).  Attachments are sealed the same way as bytes (:func:`seal_bytes`).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .signatures import sign_answer, verify_answer

__all__ = ["ALGORITHM", "KEY_STATEMENT_FORMAT", "MISCONDUCT_CLEAR_FIELDS", "SEALED_FIELDS",
           "SEALED_MEDIA_TYPE", "SealingError", "b64", "is_sealed_blob", "key_id", "load_public_b64",
           "public_key_b64", "sealed_blob_key_id", "unb64",
           "seal", "seal_bytes", "sign_key_statement", "unseal", "unseal_bytes",
           "verify_key_statement", "x25519_private_from_ed25519", "x25519_public_from_ed25519"]

ALGORITHM = "X25519-HKDF-SHA256-ChaCha20Poly1305"
#: The body fields an old-style seal (before every misconduct field was sealed) put inside.
SEALED_FIELDS = ("text", "name", "national_id", "mobile")
#: What stays readable of a misconduct report the kiosk seals: enough to route it to the
#: oversight unit and for the reporter to find it again with the tracking code.
MISCONDUCT_CLEAR_FIELDS = ("type", "route", "channel", "follow_up")
#: An attachment's media type once sealed; the real one is inside the seal.
SEALED_MEDIA_TYPE = "application/vnd.seda.sealed"
KEY_STATEMENT_FORMAT = "seda-oversight-key/1"
_INFO = b"seda misconduct report v1"
_BLOB_INFO = b"seda sealed attachment v1"
_BLOB_MAGIC = b"SEDA-SEALED/1\n"
_STATEMENT_PREFIX = b"seda-oversight-key/1\n"
_P = 2 ** 255 - 19


class SealingError(ValueError):
    """A key is unusable, a key statement is not the centre's, or a seal cannot be opened."""


def b64(data: bytes) -> str:
    """Bytes as base64 text (keys, nonces and ciphertexts in JSON)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """:func:`b64` undone; ValueError for anything that is not strict base64."""
    return base64.b64decode(str(text).encode("ascii"), validate=True)



def _raw(public_key: X25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: X25519PublicKey) -> str:
    """A short fingerprint, so the central server knows which private key opens a report."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def public_key_b64(public_key: X25519PublicKey) -> str:
    return b64(_raw(public_key))


def load_public_b64(text: str) -> X25519PublicKey:
    """The X25519 key :func:`public_key_b64` wrote; ValueError if it is not one."""
    return X25519PublicKey.from_public_bytes(unb64(text))


# -- the centre's sync key as a sealing key ---------------------------------------------------


def x25519_public_from_ed25519(public_key: Ed25519PublicKey) -> X25519PublicKey:
    """The X25519 key of the same Edwards point (RFC 7748's birational map, u = (1+y)/(1-y)).

    Every office holds the centre's Ed25519 sync key from ``seda sync setup``, so reports can
    be sealed to the central office before its oversight key has arrived.
    """
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P or y == 1:
        raise SealingError("the central key is not a usable Ed25519 key")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return X25519PublicKey.from_public_bytes(u.to_bytes(32, "little"))


def x25519_private_from_ed25519(private_key: Ed25519PrivateKey) -> X25519PrivateKey:
    """The private half matching :func:`x25519_public_from_ed25519` (the central server's)."""
    seed = private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
    return X25519PrivateKey.from_private_bytes(hashlib.sha512(seed).digest()[:32])


# -- the oversight key, vouched for by the centre ---------------------------------------------


def sign_key_statement(public_key: X25519PublicKey, central_key: Ed25519PrivateKey,
                       created_at: str) -> dict[str, Any]:
    """The oversight public key as offices receive it: signed by the centre's sync key, like
    every answer the centre gives (forms/signatures.py)."""
    statement = {"format": KEY_STATEMENT_FORMAT, "public_key": public_key_b64(public_key),
                 "key_id": key_id(public_key), "created_at": created_at}
    return sign_answer(_STATEMENT_PREFIX, statement, central_key)


def verify_key_statement(statement: Any, central_key: Ed25519PublicKey) -> X25519PublicKey:
    """The oversight key in ``statement`` if the centre signed it; SealingError otherwise."""
    if not isinstance(statement, Mapping) or statement.get("format") != KEY_STATEMENT_FORMAT:
        raise SealingError("not a Seda oversight key statement")
    try:
        public = load_public_b64(str(statement["public_key"]))
    except (KeyError, ValueError) as exc:
        raise SealingError(f"damaged oversight key statement ({exc})") from None
    if not verify_answer(_STATEMENT_PREFIX, statement, central_key):
        raise SealingError("the oversight key statement is not signed by this office's central server")
    if statement.get("key_id") != key_id(public):
        raise SealingError("the oversight key statement names another key id")
    return public


# -- sealing record bodies ---------------------------------------------------------------------


def _associated(clear: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(clear), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def _key(shared: bytes, epk: bytes, info: bytes = _INFO) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk, info=info).derive(shared)


def seal(body: Mapping[str, Any], public_key: X25519PublicKey, *,
         keep: Iterable[str] | None = None) -> dict[str, Any]:
    """``body`` with its secret fields replaced by a ``sealed`` envelope.

    ``keep`` names the fields that stay readable (everything else is sealed); without it the
    old set :data:`SEALED_FIELDS` is sealed, as offices did before every field was.
    """
    if keep is None:
        clear = {k: v for k, v in body.items() if k not in SEALED_FIELDS}
    else:
        kept = set(keep)
        clear = {k: v for k, v in body.items() if k in kept}
    secret = {k: v for k, v in body.items() if k not in clear}
    ephemeral = X25519PrivateKey.generate()
    epk = _raw(ephemeral.public_key())
    nonce = os.urandom(12)
    plaintext = json.dumps(secret, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ciphertext = ChaCha20Poly1305(_key(ephemeral.exchange(public_key), epk)).encrypt(
        nonce, plaintext, _associated(clear))
    return {**clear, "sealed": {"alg": ALGORITHM, "key_id": key_id(public_key),
                                "epk": b64(epk), "nonce": b64(nonce),
                                "ciphertext": b64(ciphertext)}}


def unseal(body: Mapping[str, Any], private_key: X25519PrivateKey) -> dict[str, Any]:
    """The original body, for the holder of the private key."""
    envelope = body.get("sealed")
    if not isinstance(envelope, Mapping) or envelope.get("alg") != ALGORITHM:
        raise SealingError("not a sealed Seda report")
    clear = {k: v for k, v in body.items() if k != "sealed"}
    try:
        epk = unb64(envelope["epk"])
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(epk))
        plaintext = ChaCha20Poly1305(_key(shared, epk)).decrypt(
            unb64(envelope["nonce"]), unb64(envelope["ciphertext"]), _associated(clear))
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot open"
        raise SealingError(f"cannot open the report: {type(exc).__name__}") from None
    return {**clear, **json.loads(plaintext.decode("utf-8"))}


# -- sealing attachment bytes ------------------------------------------------------------------


def seal_bytes(data: bytes, media_type: str, public_key: X25519PublicKey) -> bytes:
    """An attachment (a recording, a photo) sealed like a report: the bytes and their media
    type inside, a small header naming the key outside."""
    ephemeral = X25519PrivateKey.generate()
    epk = _raw(ephemeral.public_key())
    nonce = os.urandom(12)
    header = json.dumps({"alg": ALGORITHM, "key_id": key_id(public_key), "epk": b64(epk),
                         "nonce": b64(nonce)}, sort_keys=True, separators=(",", ":")).encode("ascii")
    inner = media_type.encode("ascii") + b"\n" + bytes(data)
    ciphertext = ChaCha20Poly1305(_key(ephemeral.exchange(public_key), epk, _BLOB_INFO)).encrypt(
        nonce, inner, header)
    return _BLOB_MAGIC + header + b"\n" + ciphertext


def is_sealed_blob(data: bytes) -> bool:
    return bytes(data[:len(_BLOB_MAGIC)]) == _BLOB_MAGIC


def sealed_blob_key_id(data: bytes) -> str | None:
    """The key id a sealed attachment names (so the right private key is picked), or None."""
    try:
        return str(json.loads(_split_blob(data)[0])["key_id"])
    except (SealingError, ValueError, KeyError):
        return None


def _split_blob(data: bytes) -> tuple[bytes, bytes]:
    if not is_sealed_blob(data):
        raise SealingError("not a sealed Seda attachment")
    rest = bytes(data[len(_BLOB_MAGIC):])
    header, newline, ciphertext = rest.partition(b"\n")
    if not newline:
        raise SealingError("damaged sealed attachment")
    return header, ciphertext


def unseal_bytes(data: bytes, private_key: X25519PrivateKey) -> tuple[bytes, str]:
    """``(bytes, media type)`` of a sealed attachment, for the holder of the private key."""
    header_bytes, ciphertext = _split_blob(data)
    try:
        header = json.loads(header_bytes)
        epk = unb64(header["epk"])
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(epk))
        inner = ChaCha20Poly1305(_key(shared, epk, _BLOB_INFO)).decrypt(
            unb64(header["nonce"]), ciphertext, header_bytes)
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot open"
        raise SealingError(f"cannot open the attachment: {type(exc).__name__}") from None
    media_type, _, payload = inner.partition(b"\n")
    return payload, media_type.decode("ascii", "replace")
