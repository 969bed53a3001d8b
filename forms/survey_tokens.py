"""One-time survey links: a token an office hands out (kiosk receipt, paper sheet) that is good
for one response on the central office's portal, so the survey cannot be stuffed from outside.

The office signs the token with its sync identity (Ed25519, the key that already signs its
batches), so the centre checks it with the office's registered public key and needs no list
of issued tokens: the office can issue tokens while offline, and nobody without the office's
private key can forge one.  The centre remembers only the tokens already answered
(``survey_tokens_used``), which is what makes a token good once.

Shape (URL-safe, ~110 characters, fits a receipt's QR code)::

    OFFICE.DAY.NONCE.SIGNATURE

``DAY`` is the issue day (days since 2020-01-01, decimal), so a stale token is refused after
:data:`MAX_AGE_DAYS`; ``NONCE`` is 10 random bytes in base32; ``SIGNATURE`` is Ed25519 over
``seda-survey-token/1\\n`` + ``OFFICE.DAY.NONCE`` in unpadded base64url.  Pure functions; the
caller brings the keys and the clock.

A paper sheet's token names its sheet instead of a random nonce, so the centre knows which
sheet an online answer belongs to (one sheet = at most one response, however it is given)::

    OFFICE.DAY.S{VERSION}-{SERIAL}-{form}.SIGNATURE      e.g. LOR-01.2345.S1-42-satisfaction.…

signed under its own prefix (``seda-sheet-survey-token/1\\n``), so a kiosk token can never pass
for a sheet's or the reverse.  Its :attr:`SurveyToken.token_id` is the sheet (``OFFICE.S…``,
no day): a sheet's link is good once, whenever it was printed.  Sheets wait in a drawer for
months, so a sheet's token stays good :data:`SHEET_MAX_AGE_DAYS`.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .sheet_code import OFFICE_CODE_PATTERN

__all__ = ["MAX_AGE_DAYS", "SHEET_MAX_AGE_DAYS", "SheetRef", "SurveyToken", "TokenRefused",
           "is_sheet_survey_link", "make_sheet_survey_token", "make_survey_token", "read_survey_token",
           "survey_link", "verify_survey_token"]

#: How long a survey link stays good (days after it was handed out).
MAX_AGE_DAYS = 30
#: How long a paper sheet's link stays good (days after the sheet was printed).
SHEET_MAX_AGE_DAYS = 400
_EPOCH = date(2020, 1, 1)
_PREFIX = b"seda-survey-token/1\n"
_SHEET_PREFIX = b"seda-sheet-survey-token/1\n"
_NONCE = re.compile(r"^[A-Z2-7]{16}$")
_SHEET = re.compile(r"^S(?P<version>[1-9][0-9]{0,5})-(?P<serial>[1-9][0-9]{0,11})-(?P<form>[a-z][a-z0-9-]{1,31})$")
_DAY = re.compile(r"^[0-9]{1,6}$")


class TokenRefused(ValueError):
    """A token that is malformed, forged or stale; ``reason`` is one word for logs and tests."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SheetRef:
    """The paper sheet a token belongs to."""

    form: str
    form_version: int
    serial: int

    def nonce(self) -> str:
        return f"S{self.form_version}-{self.serial}-{self.form}"

    def sheet_id(self, office: str) -> str:
        """The sheet's name in a paper response's ``sheet`` (forms.sheet_code.SheetCode.sheet_id)."""
        return f"{office}/{self.form}/{self.serial}"


@dataclass(frozen=True)
class SurveyToken:
    office: str
    issued: date
    nonce: str
    signature: bytes
    #: The paper sheet whose QR code carried the token; None for a kiosk receipt's.
    sheet: SheetRef | None = None

    @property
    def signed_text(self) -> str:
        return f"{self.office}.{(self.issued - _EPOCH).days}.{self.nonce}"

    @property
    def token_id(self) -> str:
        """What the centre remembers once the token is answered (never the signature): the
        sheet for a sheet's token, so a sheet's link is good once whatever its day."""
        if self.sheet is not None:
            return f"{self.office}.{self.nonce}"
        return self.signed_text


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def make_survey_token(office: str, key: Ed25519PrivateKey, *, today: date,
                      nonce: bytes | None = None) -> str:
    """A fresh token of ``office``, signed with its sync identity key."""
    if not OFFICE_CODE_PATTERN.fullmatch(office or ""):
        raise ValueError(f"invalid office code {office!r}")
    nonce_text = base64.b32encode(nonce or os.urandom(10)).decode("ascii")
    signed = f"{office}.{(today - _EPOCH).days}.{nonce_text}"
    return f"{signed}.{_b64(key.sign(_PREFIX + signed.encode('ascii')))}"


def make_sheet_survey_token(office: str, key: Ed25519PrivateKey, *, form: str, form_version: int,
                            serial: int, today: date) -> str:
    """The token a paper sheet's second QR code carries: it names the sheet, signed with the
    office's sync identity key (one signature per sheet: ~50 µs, nothing next to drawing it)."""
    if not OFFICE_CODE_PATTERN.fullmatch(office or ""):
        raise ValueError(f"invalid office code {office!r}")
    nonce = SheetRef(form, int(form_version), int(serial)).nonce()
    if not _SHEET.fullmatch(nonce):
        raise ValueError(f"cannot name sheet {form} v{form_version} #{serial} in a token")
    signed = f"{office}.{(today - _EPOCH).days}.{nonce}"
    return f"{signed}.{_b64(key.sign(_SHEET_PREFIX + signed.encode('ascii')))}"


def read_survey_token(text: str) -> SurveyToken:
    """The token's parts, unchecked (the office names whose key checks it)."""
    parts = (text or "").strip().split(".")
    if len(parts) != 4:
        raise TokenRefused("malformed")
    office, day, nonce, signature = parts
    sheet = _SHEET.fullmatch(nonce)
    if not (OFFICE_CODE_PATTERN.fullmatch(office) and _DAY.fullmatch(day)
            and (sheet or _NONCE.fullmatch(nonce))):
        raise TokenRefused("malformed")
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        raise TokenRefused("malformed") from None
    if len(raw) != 64:
        raise TokenRefused("malformed")
    ref = SheetRef(sheet["form"], int(sheet["version"]), int(sheet["serial"])) if sheet else None
    return SurveyToken(office, _EPOCH + timedelta(days=int(day)), nonce, raw, ref)


def verify_survey_token(token: SurveyToken, public_key: Ed25519PublicKey, *, today: date,
                        max_age_days: int = MAX_AGE_DAYS) -> SurveyToken:
    """``token`` if ``public_key`` signed it and it is not stale; else :class:`TokenRefused`.
    ``max_age_days`` is a kiosk token's; a sheet's is the longer of it and
    :data:`SHEET_MAX_AGE_DAYS`."""
    prefix = _PREFIX if token.sheet is None else _SHEET_PREFIX
    if token.sheet is not None:
        max_age_days = max(max_age_days, SHEET_MAX_AGE_DAYS)
    try:
        public_key.verify(token.signature, prefix + token.signed_text.encode("ascii"))
    except InvalidSignature:
        raise TokenRefused("forged") from None
    if token.issued > today + timedelta(days=1):
        raise TokenRefused("forged")  # a day from the future: not a clock the office keeps
    if (today - token.issued).days > max_age_days:
        raise TokenRefused("stale")
    return token


_SHEET_LINK = re.compile(r"^https?://\S+/s/[A-Z0-9-]{2,16}\.[0-9]{1,6}\.S[1-9][0-9]*-[1-9][0-9]*-[a-z][a-z0-9-]*"
                         r"\.[A-Za-z0-9_-]{86}$")


def survey_link(portal_url: str, token: str) -> str:
    """The portal's survey page for ``token`` (``GET /s/<token>``, central/portal/survey_pages.py)."""
    return f"{portal_url.rstrip('/')}/s/{token}"


def is_sheet_survey_link(text: str) -> bool:
    """Whether a QR text is a paper sheet's survey link (the scanner passes it by: it is not a
    sheet code, and not a sheet of its own)."""
    return bool(_SHEET_LINK.fullmatch((text or "").strip()))
