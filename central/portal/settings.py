"""What an operator sets for the portal: one frozen object, made once when the app starts.

Flags of ``seda central portal serve`` (or the ``SEDA_PORTAL_PUBLIC_URL`` environment
variable for the address) override the defaults; every default works for a demo.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import CentralError
from ..portal_intake import PORTAL_OFFICE

__all__ = ["PORTAL_OFFICE", "PUBLIC_URL_ENV", "PortalAddressError", "PortalSettings", "check_public_url"]

PUBLIC_URL_ENV = "SEDA_PORTAL_PUBLIC_URL"
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


class PortalAddressError(CentralError, ValueError):
    """The portal's public address is not an http(s) address (central/translations)."""


def check_public_url(url: str) -> str:
    """``url`` without a trailing slash, or ValueError naming the expected shape."""
    url = (url or "").strip().rstrip("/")
    if url and not _URL.fullmatch(url):
        raise PortalAddressError("portal_address_invalid", url=url)
    return url


@dataclass(frozen=True)
class PortalSettings:
    #: Where citizens reach the portal (links in pages, notifications and receipts use it).
    public_url: str = ""
    #: One photo or document per case, at most this big.
    max_attachment_bytes: int = 5 * 1024 * 1024
    #: Filings (cases, reports, survey answers) one address may make an hour.
    filings_per_address_per_hour: int = 10
    #: Case look-ups one address may make a minute.
    lookups_per_address_per_minute: int = 30
    #: Wrong "last four digits" tries per tracking code before each try must wait (doubling).
    free_wrong_tries_per_code: int = 5
    wrong_try_base_seconds: float = 60.0
    wrong_try_max_seconds: float = 3600.0
    #: Days a one-time survey link stays good.
    survey_link_days: int = 30

    @classmethod
    def from_environment(cls, **overrides) -> "PortalSettings":
        url = overrides.pop("public_url", None)
        if url is None:
            url = os.environ.get(PUBLIC_URL_ENV, "")
        return cls(public_url=check_public_url(url), **overrides)
