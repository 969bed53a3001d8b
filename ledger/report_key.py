"""Which key the kiosk seals misconduct reports to at this office, right now.

The oversight key once it is here (kept in ``central_items``, signed by the central key, and
checked again every time it is used), the central key itself (as X25519) before that, and None
when the office has never been set up, in which case the kiosk takes no misconduct report at
all (docs/security.md).  Both keys arrive by sync (sync/trust.py pins the central key in
``sync.toml`` and keeps the oversight key statement); the kiosk only reads them here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from forms.sealing import SealingError, key_id, verify_key_statement, x25519_public_from_ed25519
from forms.signatures import IdentityError, parse_public_key

from .centre_sent import CentreSent
from .ledger import Ledger
from .sync_settings import SettingsError, load_settings

__all__ = ["ReportKey", "report_key"]

log = logging.getLogger("seda.sync")


@dataclass(frozen=True)
class ReportKey:
    """The key misconduct reports are sealed to at this office, and who holds its private half."""

    key: X25519PublicKey
    #: "oversight": the oversight unit's own key; "central": the central office's sync key,
    #: which the central server opens for the oversight unit.
    holder: str

    @property
    def key_id(self) -> str:
        return key_id(self.key)


def report_key(home: Path, ledger: Ledger) -> ReportKey | None:
    """The key this office seals misconduct reports to now (see the module docstring)."""
    try:
        settings = load_settings(home)
        central = parse_public_key(settings.central_key) if settings.central_key else None
    except (SettingsError, IdentityError) as exc:
        log.warning("no central key to seal misconduct reports to: %s", exc)
        return None
    if central is None:
        return None
    statement = CentreSent(ledger).oversight_statement()
    if statement is not None:
        try:
            return ReportKey(verify_key_statement(statement, central), "oversight")
        except SealingError as exc:
            log.error("the stored oversight key is not the central office's (%s); reports are "
                      "sealed to the central key instead", exc)
    return ReportKey(x25519_public_from_ed25519(central), "central")
