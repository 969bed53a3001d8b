"""Ed25519 public keys written as text, and the answers the central office signs.

Shared by the office (which checks what the centre says: acknowledgements, pulled pages, the
oversight key statement the kiosk seals misconduct reports to) and the central server (which
signs them), so it lives with the shared vocabulary and needs nothing but ``cryptography``.

A signed answer is ``payload`` plus ``signature``: the centre's Ed25519 signature of a fixed
prefix (what kind of answer it is) and the payload's canonical JSON without the signature, so
an answer of one kind can never be passed off as another.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .messages import MessageError

__all__ = ["IdentityError", "PUBLIC_KEY_HEX_LENGTH", "parse_public_key", "public_key_hex",
           "sign_answer", "verify_answer", "verify_signature"]

PUBLIC_KEY_HEX_LENGTH = 64


class IdentityError(MessageError):
    """A key file is damaged or a public key cannot be read (forms/translations ``identity_*``)."""


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The 64 hex digits an admin copies to the central server."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Read a public key given as 64 hex digits (spaces and a trailing newline are forgiven)."""
    cleaned = "".join(str(text).split()).lower()
    if len(cleaned) != PUBLIC_KEY_HEX_LENGTH:
        raise IdentityError("identity_key_length", digits=PUBLIC_KEY_HEX_LENGTH, got=len(cleaned))
    try:
        raw = bytes.fromhex(cleaned)
        if raw.strip(b"\0") in (b"", b"\1"):  # all zero or the neutral point: anyone can "sign"
            raise ValueError("all zero (or the neutral point): not a key anyone made")
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise IdentityError("identity_key_invalid", error=str(exc)) from exc


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is the key's signature of ``message``; never raises."""
    try:
        public_key.verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _answer_message(prefix: bytes, payload: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in payload.items() if k != "signature"}
    return prefix + json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                               allow_nan=False).encode("utf-8")


def sign_answer(prefix: bytes, payload: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``payload`` plus ``signature``: the central key's signature of ``prefix`` + canonical JSON."""
    body = {k: v for k, v in payload.items() if k != "signature"}
    return {**body, "signature": key.sign(_answer_message(prefix, body)).hex()}


def verify_answer(prefix: bytes, payload: Mapping[str, Any], central_key: Ed25519PublicKey) -> bool:
    """Whether the central key signed ``payload`` (as :func:`sign_answer` made it)."""
    try:
        signature = bytes.fromhex(str(payload.get("signature", "")))
    except ValueError:
        return False
    return verify_signature(central_key, signature, _answer_message(prefix, payload))
