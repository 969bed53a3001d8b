"""The office's sync identity: an Ed25519 key pair under ``$SEDA_HOME/keys/``.

The private key signs every batch and every request the office makes, and never leaves the
machine; the central server only ever holds the public half (``seda sync key`` prints it,
``seda central office add`` registers it).  So the central server cannot be tricked into
accepting one office's records from another, even by someone who copies the central database.

This is a different key from the sheet-signing key in forms/office_keys.py: that one is a
shared secret for short QR codes, this one is asymmetric because it crosses the network.
Public keys as text (``public_key_hex``, ``parse_public_key``) and signature checks are shared
with the central server and the kiosk: forms/signatures.py.
"""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .office_keys import create_secret_file
from .signatures import IdentityError

__all__ = [
    "central_key_path",
    "ensure_central_key",
    "ensure_office_key",
    "load_office_key",
    "office_key_path",
]


def office_key_path(home: Path) -> Path:
    """Where this installation's private sync key lives."""
    return Path(home) / "keys" / "sync-office.key"


def central_key_path(home: Path) -> Path:
    """Where the central server keeps the key that signs USB acknowledgement files."""
    return Path(home) / "keys" / "sync-central.key"


def load_office_key(home: Path) -> Ed25519PrivateKey | None:
    """The office's private key, or None if this installation has none yet."""
    return _load_key(office_key_path(home))


def ensure_office_key(home: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The office's key and whether it was just made (the CLI tells the admin to register it)."""
    return _ensure_key(office_key_path(home))


def ensure_central_key(home: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The central server's acknowledgement-signing key (made on first use)."""
    return _ensure_key(central_key_path(home))


def _load_key(path: Path) -> Ed25519PrivateKey | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    except ValueError as exc:
        raise IdentityError("identity_key_file_damaged", path=str(path), error=str(exc)) from exc


def _ensure_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """Load or make the key at ``path`` (two programs starting at once end up with one key)."""
    existing = _load_key(path)
    if existing is not None:
        return existing, False
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    if not create_secret_file(path, raw):
        return _load_key(path) or key, False
    return key, True
