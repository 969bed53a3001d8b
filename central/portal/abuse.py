"""Abuse limits without third-party services: per-address and per-code counts in the store.

Every server process shares the counts (central/throttle.py keeps them in the store).  An
address is never written down: the count's key is a keyed hash of the address and the day
(:func:`address_key`), with a key file only the central installation's user can read, and a
count row is swept within two hours.  So the store holds no IP address, and a report filed on
the portal cannot be tied to where it came from, even by someone who reads the store.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from forms.office_keys import create_secret_file

from .. import throttle
from .settings import PortalSettings

__all__ = ["AbuseLimits", "address_key"]


@lru_cache(maxsize=8)
def _secret(home: Path) -> bytes:
    path = home / "keys" / "portal-address.key"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_secret_file(path, os.urandom(32))
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def address_key(home: Path, address: str, day: date | None = None) -> str:
    """A stand-in for ``address`` that changes every day and cannot be reversed without the
    key file (an IPv4 address alone could be found by trying all 2**32)."""
    day = day or datetime.now(timezone.utc).date()
    message = f"{day.isoformat()}|{address}".encode("utf-8")
    return hmac.new(_secret(Path(home)), message, hashlib.sha256).hexdigest()[:24]


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
