"""What an office trusts of its central office: the centre's key, and the oversight key it
vouches for.

The **central key** (Ed25519, ``central_key`` in ``sync.toml``) is pinned once: given by the
admin (``seda sync setup --central-key``), read from the setup file the central office hands out
for offices that sync by USB (``--central-file``, made by ``seda central key --out``), or taken
from the central server itself (``GET /v1/setup``) on first contact over HTTPS, with its
fingerprint printed so the admin can compare it with ``seda central key``.  From then on
every acknowledgement and every pulled page must carry its signature (sync/request_auth.py).

The **oversight key** (X25519) arrives signed by the central key in the setup document, on the
``oversight_key`` feed and in USB acknowledgement files; it is kept in the ledger's
``central_items`` (ledger/centre_sent.py) and checked again every time it is used:
ledger/report_key.py says which key the kiosk seals misconduct reports to.
"""
from __future__ import annotations

import http.client
import json
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from forms.messages import MessageError, reason
from forms.sealing import SealingError, key_id, verify_key_statement
from forms.signatures import IdentityError, parse_public_key
from ledger.centre_sent import CentreSent
from ledger.ledger import Ledger, default_ledger_path
from ledger.sync_settings import SyncSettings, write_settings

from .transport import TransportError

__all__ = ["SETUP_FORMAT", "TrustError", "fetch_setup_document", "pin_central",
           "read_setup_file", "store_oversight_statement"]


SETUP_FORMAT = "seda-central/1"
_MAX_DOCUMENT = 64 * 1024


class TrustError(MessageError):
    """The central key or the oversight key cannot be trusted (sync/translations ``trust_*``)."""

    catalogue = "sync"


def fetch_setup_document(central_url: str, timeout: float = 30.0) -> dict[str, Any]:
    """``GET /v1/setup`` from the central server (not trusted yet: see :func:`pin_central`)."""
    url = central_url.rstrip("/") + "/v1/setup"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            raw = response.read(_MAX_DOCUMENT + 1)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise TransportError(f"GET /v1/setup: {exc.__class__.__name__}: {exc}") from None
    try:
        return _document(raw, url)
    except TrustError:  # cut short or a proxy's page: nothing is known yet, try again later
        raise TransportError(f"GET /v1/setup: no readable setup document ({len(raw)} bytes)") from None


def read_setup_file(path: Path) -> dict[str, Any]:
    """The setup file a central office hands out (``seda central key --out FILE``)."""
    return _document(Path(path).read_bytes()[:_MAX_DOCUMENT + 1], str(path))


def _document(raw: bytes, source: str) -> dict[str, Any]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        document = None
    if len(raw) > _MAX_DOCUMENT or not isinstance(document, dict) \
            or document.get("format") != SETUP_FORMAT:
        raise TrustError("trust_not_setup_document", source=source)
    return document


def pin_central(home: Path, settings: SyncSettings, document: dict[str, Any] | None,
                expected_key: str | None = None) -> SyncSettings:
    """Pin the central key (and keep the oversight key it signed); returns the new settings.

    ``expected_key`` (the admin's ``--central-key``) must match the document's; a key already
    pinned must match too: a central server whose key changed is refused, not followed.
    """
    wanted = _clean(expected_key) or None
    offered = _clean(document.get("central_key")) if document else None
    pinned = _clean(settings.central_key) or None
    for name, value in (("--central-key", wanted), ("document", offered)):
        if value is not None:
            try:
                parse_public_key(value)
            except IdentityError as exc:
                raise TrustError("trust_bad_central_key", name=name, error=reason(exc)) from None
    key = pinned or wanted or offered  # a refusal names the key already trusted, then the other
    if key is None:
        return settings
    for other in (wanted, offered):
        if other is not None and other != key:
            raise TrustError("trust_key_mismatch", offered=other[:16], trusted=key[:16])
    if document and document.get("oversight_key") is not None:
        store_oversight_statement(home, document["oversight_key"], key)
    if settings.central_key != key:
        settings = replace(settings, central_key=key)
        write_settings(home, settings)
    return settings


def store_oversight_statement(home: Path, statement: Any, central_key_hex: str) -> str:
    """Check the centre signed ``statement`` and keep it; returns the oversight key id."""
    try:
        public = verify_key_statement(statement, parse_public_key(central_key_hex))
    except (SealingError, IdentityError) as exc:
        raise TrustError("trust_oversight_unsigned", error=reason(exc)) from None
    with Ledger.open(default_ledger_path(home)) as ledger:
        CentreSent(ledger).keep_oversight_statement(statement)
    return key_id(public)


def _clean(value: Any) -> str:
    return "".join(str(value or "").split()).lower()
