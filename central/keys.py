"""The central office's keys: the sync key that vouches for everything it sends, and the
oversight key pair that misconduct reports are sealed to.

Both live under the central installation's ``$SEDA_HOME/keys/`` (0600, see
forms/private_files.py), never in the store:

- ``sync-central.key`` (Ed25519): signs what offices receive: the setup document, every page
  they pull, every acknowledgement of a batch or a USB file, and the oversight key statement.
  Offices pin its public half at ``seda sync setup`` (or on first contact).
- ``oversight.key`` (X25519): made the first time a central server starts on an empty store.
  Only its public half goes into the store (setting ``oversight_public_key``), from where every
  server process publishes it, signed, on the ``oversight_key`` feed.  The private key stays a
  file on the central host because the store is the part that gets copied: PostgreSQL runs on
  its own machine with its own administrators and backups, and a copy of the database alone
  must not open a single report.  The web app reads the file when an oversight user opens a
  sealed report.  Back it up separately (losing it loses every sealed report); several server
  processes share the central installation's ``keys/`` folder.
- ``portal-address.key`` (32 random bytes): the portal's abuse limits count a visitor under a
  keyed hash of the address and the day (central/portal/abuse.py), so neither the store nor a
  copy of it holds an address, and one cannot be found by hashing every IPv4 address without
  this file.  Made on first use; losing it only resets the day's counts.

Reports sealed before an office had the oversight key are sealed to the sync key itself (see
forms/sealing.py); the central server opens those with the sync key's X25519 twin.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from forms.office_keys import create_secret_file
from forms.private_files import open_private

from sync.batch import format_time
from forms.identity_keys import ensure_central_key
from forms.sealing import (SealingError, is_sealed_blob, key_id, load_public_b64, public_key_b64,
                           sealed_blob_key_id, sign_key_statement, unseal, unseal_bytes,
                           x25519_private_from_ed25519, x25519_public_from_ed25519)
from forms.signatures import public_key_hex, sign_answer

from .db import feed, records

__all__ = ["SETUP_FORMAT", "CentralKeys", "oversight_key_path", "portal_address_secret"]

log = logging.getLogger("seda.central")

SETUP_FORMAT = "seda-central/1"
_SETTING = "oversight_public_key"


def oversight_key_path(home: Path) -> Path:
    """Where the central installation keeps the oversight unit's private key."""
    return Path(home) / "keys" / "oversight.key"


@lru_cache(maxsize=8)
def portal_address_secret(home: Path) -> bytes:
    """The key of the portal's address hashes (``keys/portal-address.key``, made on first use).

    Read once per process and home: every filing and look-up hashes the caller's address."""
    path = Path(home) / "keys" / "portal-address.key"
    secret = _ADDRESS_SECRETS.get(path)
    if secret is None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_secret_file(path, os.urandom(32))
        secret = _ADDRESS_SECRETS[path] = bytes.fromhex(path.read_text(encoding="ascii").strip())
    return secret


_ADDRESS_SECRETS: dict[Path, bytes] = {}


class CentralKeys:
    """The keys of one central installation (``home``) serving ``store``.

    The signing key is read at once; the oversight key (which needs the store) on first use,
    so a server whose store is down still starts and answers 503 until it is back.
    """

    def __init__(self, home: Path, store) -> None:
        self.home = Path(home)
        self.store = store
        self.signing, _ = ensure_central_key(self.home)
        self._statement: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def central_key_hex(self) -> str:
        return public_key_hex(self.signing)

    def sign(self, prefix: bytes, payload: Mapping[str, Any]) -> dict[str, Any]:
        """An answer to an office, signed (forms/signatures.py: ``sign_answer``)."""
        return sign_answer(prefix, payload, self.signing)

    # -- the oversight key ---------------------------------------------------------------

    def oversight_statement(self) -> dict[str, Any]:
        """The oversight public key, signed: made (with its private key) on the first call
        against a store that has none, and published on the ``oversight_key`` feed."""
        with self._lock:
            if self._statement is None:
                self._statement = self._ensure_oversight_key()
            return self._statement

    def _ensure_oversight_key(self) -> dict[str, Any]:
        stored = self._stored_public()
        if stored is None:
            private = self._load_or_make_private()
            candidate = {"public_key": public_key_b64(private.public_key()),
                         "created_at": format_time(datetime.now(timezone.utc))}
            with self.store.write() as db:
                records.put_setting_once(db, _SETTING, json.dumps(candidate))
            stored = self._stored_public()
            log.info("oversight key %s made; its private key is %s",
                     key_id(private.public_key()), oversight_key_path(self.home))
        public = load_public_b64(stored["public_key"])
        private = self.oversight_private()
        if private is None:
            log.warning("this central server has no oversight private key at %s: sealed reports "
                        "stay sealed here", oversight_key_path(self.home))
        elif key_id(private.public_key()) != key_id(public):
            log.error("the oversight key at %s is not the one offices seal to (%s); sealed "
                      "reports stay sealed here", oversight_key_path(self.home), key_id(public))
        statement = sign_key_statement(public, self.signing, stored["created_at"])
        self._publish(statement)
        return statement

    def _stored_public(self) -> dict[str, str] | None:
        with self.store.connect() as db:
            value = records.setting(db, _SETTING)
        return json.loads(value) if value else None

    def _publish(self, statement: dict[str, Any]) -> None:
        with self.store.connect() as db:
            body = feed.item_body(db, "oversight_key", "current")
        if body is None or json.loads(body) != statement:
            self.store.publish("oversight_key", "current", statement)

    def _load_or_make_private(self) -> X25519PrivateKey:
        existing = self.oversight_private()
        if existing is not None:
            return existing
        private = X25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        try:
            with open_private(oversight_key_path(self.home), "xb") as handle:  # 0600 from creation
                handle.write(pem)
        except FileExistsError:  # another server process on this host made it first
            return self.oversight_private() or private
        return private

    def oversight_private(self) -> X25519PrivateKey | None:
        """The oversight private key, if this installation holds it (read on each use, so a key
        restored from a backup works without a restart)."""
        path = oversight_key_path(self.home)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("cannot read the oversight key %s: %s", path, exc)
            return None
        return key if isinstance(key, X25519PrivateKey) else None

    def setup_document(self) -> dict[str, Any]:
        """What ``seda sync setup`` fetches (``GET /v1/setup``) or reads from a file."""
        return {"format": SETUP_FORMAT, "central_key": self.central_key_hex,
                "oversight_key": self.oversight_statement()}

    # -- opening sealed reports (for the oversight unit's pages only) -------------------------

    def _private_for(self, wanted: str | None) -> X25519PrivateKey | None:
        transport = x25519_private_from_ed25519(self.signing)
        if wanted == key_id(x25519_public_from_ed25519(self.signing.public_key())):
            return transport
        oversight = self.oversight_private()
        if oversight is not None and wanted == key_id(oversight.public_key()):
            return oversight
        return None

    def open_body(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """A sealed case body opened, or None (no key here for it, or damaged)."""
        envelope = body.get("sealed")
        key = self._private_for(envelope.get("key_id") if isinstance(envelope, Mapping) else None)
        if key is None:
            return None
        try:
            return unseal(body, key)
        except SealingError:
            return None

    def open_blob(self, data: bytes) -> tuple[bytes, str] | None:
        """A sealed attachment's ``(bytes, media type)``, or None."""
        if not is_sealed_blob(data):
            return None
        key = self._private_for(sealed_blob_key_id(data))
        if key is None:
            return None
        try:
            return unseal_bytes(data, key)
        except SealingError:
            return None

