"""The citizens' portal address an office hands out (receipts, paper sheets' survey links).

It is the ``portal_url`` setting of ``$SEDA_HOME/kiosk.yaml`` (docs/portal.md): the kiosk's
receipts and ``seda forms print`` read the same line, so a sheet and a receipt never send a
citizen to two places.  It lives in forms/ because printing (ledger/) may not import the kiosk.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from .messages import MessageError


__all__ = ["PORTAL_SETTING", "SETTINGS_FILE", "PortalAddressError", "check_portal_url",
           "configured_portal_url"]

SETTINGS_FILE = "kiosk.yaml"
PORTAL_SETTING = "portal_url"
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


class PortalAddressError(MessageError, ValueError):
    """The portal address is set but is not a web address; says where (``portal_url_invalid``)."""


def check_portal_url(url: str, source: str = PORTAL_SETTING) -> str:
    """``url`` without its trailing slash ("" when unset), or :class:`PortalAddressError`."""
    url = (url or "").strip().rstrip("/")
    if url and not _URL.fullmatch(url):
        raise PortalAddressError("portal_url_invalid", source=source)
    return url


def configured_portal_url(home: Path) -> str:
    """The office's portal address, or "" when none is set (or kiosk.yaml is unreadable: the
    kiosk itself says what is wrong with it)."""
    path = Path(home) / SETTINGS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ""
    if not isinstance(raw, dict) or not isinstance(raw.get(PORTAL_SETTING), str):
        return ""
    return check_portal_url(raw[PORTAL_SETTING], str(path))
