"""Per-office secret keys that sign sheet codes.

A key is made on this machine the first time an office prints, and never leaves the office
except to the central office's key escrow; losing it only means new sheets need a new key.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .private_files import open_private
from .sheet_code import validate_office_code

KEY_BYTES = 32


def key_path(home: Path, office: str) -> Path:
    return home / "keys" / f"sheet-{validate_office_code(office)}.key"


def load_key(home: Path, office: str) -> bytes | None:
    path = key_path(home, office)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path}: damaged key file ({exc})") from exc


def ensure_key(home: Path, office: str) -> tuple[bytes, bool]:
    """The office's key, and whether it was just created (the CLI says so)."""
    existing = load_key(home, office)
    if existing is not None:
        return existing, False
    key = secrets.token_bytes(KEY_BYTES)
    if not create_secret_file(key_path(home, office), key):
        return load_key(home, office) or key, False
    return key, True


def create_secret_file(path: Path, secret: bytes) -> bool:
    """Write `secret` as hex into a new file only its owner may read; False if one exists.

    The secret is written whole (and fsynced) into a file of its own, then linked into place,
    which fails if `path` exists: two programs starting at once (the portal's workers, a CLI
    beside the server) end up with one key, and neither ever reads a half-written one.  The
    file is 0600 from its creation (forms/private_files.py), never readable by others even for
    a moment.
    """
    path = Path(path)
    if path.exists():
        return False
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with open_private(draft, "x", encoding="ascii") as handle:  # 0600 from the first byte
        handle.write(secret.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True
