"""The sheet code: what the QR on every paper sheet carries.

    SEDA:1:SATISFACTION:1:LOR-01:42:K7Q2M4XJ3TBV6PNA
    ^^^^ ^ ^^^^^^^^^^^^ ^ ^^^^^^ ^^ ^^^^^^^^^^^^^^^^
    tag  format  form  version office serial  MAC (80 bits, base32)

Everything is upper case and drawn from the QR alphanumeric set, so the code fits a version 3
symbol at error correction M (version 4 for the longest office codes and serials) and a
torn or smudged corner still reads.  Numbers carry no leading zeros, so each sheet has exactly
one valid text.  The MAC is an
HMAC-SHA256 under the office's own key: nobody without the key can print valid sheets in bulk,
and because every serial is issued once, a photocopy shows up as a duplicate.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from .messages import MessageError

TAG = "SEDA"
FORMAT_VERSION = 1
MAC_BYTES = 10  # 80 bits: well above the 64 the threat needs, still a small QR
OFFICE_CODE_PATTERN = re.compile(r"^[A-Z0-9-]{2,16}$")
_CODE_PATTERN = re.compile(
    r"SEDA:(?P<format>[1-9]\d{0,2}):(?P<form>[A-Z][A-Z0-9-]{1,31}):(?P<version>[1-9]\d{0,5}):"
    r"(?P<office>[A-Z0-9-]{2,16}):(?P<serial>[1-9]\d{0,11}):(?P<mac>[A-Z2-7]{16})"
)


class SheetCodeError(ValueError):
    """A QR text that is not a usable sheet code; `reason` is a stable machine-readable word."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SheetCode:
    form: str
    form_version: int
    office: str
    serial: int
    mac: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def signed_part(self) -> str:
        return (f"{TAG}:{self.format_version}:{self.form.upper()}:{self.form_version}:"
                f"{self.office}:{self.serial}")

    def text(self) -> str:
        """What goes into the QR code."""
        if not self.mac:
            raise ValueError("sheet code is not signed")
        return f"{self.signed_part}:{self.mac}"

    @property
    def sheet_id(self) -> str:
        """A short, stable name for the physical sheet, used to spot duplicates."""
        return f"{self.office}/{self.form}/{self.serial}"


class OfficeCodeError(MessageError, ValueError):
    """An office code that is not 2-16 characters of A-Z, 0-9 and '-'."""


def validate_office_code(office: str) -> str:
    if not OFFICE_CODE_PATTERN.fullmatch(office or ""):
        raise OfficeCodeError("office_code_invalid", office=str(office))
    return office


def _mac(key: bytes, signed_part: str) -> str:
    digest = hmac.new(key, signed_part.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii")


def sign(form: str, form_version: int, office: str, serial: int, key: bytes) -> SheetCode:
    validate_office_code(office)
    if serial < 1:
        raise ValueError("serials start at 1")
    code = SheetCode(form=form, form_version=form_version, office=office, serial=serial)
    return SheetCode(form=form, form_version=form_version, office=office, serial=serial,
                     mac=_mac(key, code.signed_part))


def parse(text: str) -> SheetCode:
    """Read a QR text; raise SheetCodeError saying whether it is foreign or a damaged Seda code."""
    text = (text or "").strip()
    if not text.startswith(f"{TAG}:"):
        raise SheetCodeError("not_seda", "the code is not a Seda sheet code")
    match = _CODE_PATTERN.fullmatch(text)
    if not match:
        raise SheetCodeError("malformed", "the Seda sheet code is malformed")
    if int(match["format"]) != FORMAT_VERSION:
        raise SheetCodeError("unknown_format",
                             f"sheet code format {match['format']} is newer than this software")
    return SheetCode(
        form=match["form"].lower(),
        form_version=int(match["version"]),
        office=match["office"],
        serial=int(match["serial"]),
        mac=match["mac"],
        format_version=int(match["format"]),
    )


def verify(code: SheetCode, key: bytes) -> bool:
    """True only if the MAC was made with this office's key (constant-time compare)."""
    return hmac.compare_digest(code.mac, _mac(key, code.signed_part))
