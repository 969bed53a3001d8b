"""Abuse limits without third-party services: per-address and per-code counts in the store.

Every server process shares the counts (central/throttle.py keeps them in the store).  An
address is never written down: the count's key is a keyed hash of the address and the day
(:func:`address_key`), with a key file only the central installation's user can read
(``keys/portal-address.key``, kept with the centre's other keys in central/keys.py), and a
count row is swept within two hours.  So the store holds no IP address, and a report filed on
the portal cannot be tied to where it came from, even by someone who reads the store.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .. import throttle
from ..keys import portal_address_secret
from .settings import PortalSettings

__all__ = ["AbuseLimits", "address_key"]


def address_key(home: Path, address: str, day: date | None = None) -> str:
    """A stand-in for ``address`` that changes every day and cannot be reversed without the
    key file (an IPv4 address alone could be found by trying all 2**32)."""
    day = day or datetime.now(timezone.utc).date()
    message = f"{day.isoformat()}|{address}".encode("utf-8")
    return hmac.new(portal_address_secret(Path(home)), message, hashlib.sha256).hexdigest()[:24]


class AbuseLimits:
    """The portal's limits over one store; each method answers a :class:`throttle.Verdict`."""

    def __init__(self, store, home: Path, settings: PortalSettings) -> None:
        self.store = store
        self.home = Path(home)
        self.settings = settings

    def filing(self, address: str) -> throttle.Verdict:
        return throttle.take(self.store, f"portal:file:{address_key(self.home, address)}",
                             limit=self.settings.filings_per_address_per_hour,
                             window=timedelta(hours=1))

    def lookup(self, address: str) -> throttle.Verdict:
        return throttle.take(self.store, f"portal:look:{address_key(self.home, address)}",
                             limit=self.settings.lookups_per_address_per_minute,
                             window=timedelta(minutes=1))

    def _code_key(self, code: str) -> str:
        return "portal:code:" + hashlib.sha256(code.encode("ascii")).hexdigest()[:24]

    def code_may_try(self, code: str) -> throttle.Verdict:
        """Whether a follow-up of ``code`` may be checked now (without counting it)."""
        return throttle.may_try(self.store, self._code_key(code))

    def wrong_try(self, code: str) -> None:
        """Count a wrong "last four digits" for ``code``: after a few, each try waits longer."""
        s = self.settings
        throttle.begin_attempt(self.store, self._code_key(code), free=s.free_wrong_tries_per_code,
                               base=s.wrong_try_base_seconds, cap=s.wrong_try_max_seconds)
