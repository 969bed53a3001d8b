"""One-time survey links: a token an office hands out (kiosk receipt) that is good for one
response on the central office's portal, so the survey cannot be stuffed from outside.

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

__all__ = ["MAX_AGE_DAYS", "SurveyToken", "TokenRefused", "make_survey_token", "read_survey_token",
           "verify_survey_token"]

#: How long a survey link stays good (days after it was handed out).
MAX_AGE_DAYS = 30
_EPOCH = date(2020, 1, 1)
_PREFIX = b"seda-survey-token/1\n"
_NONCE = re.compile(r"^[A-Z2-7]{16}$")
_DAY = re.compile(r"^[0-9]{1,6}$")


class TokenRefused(ValueError):
    """A token that is malformed, forged or stale; ``reason`` is one word for logs and tests."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SurveyToken:
    office: str
    issued: date
    nonce: str
    signature: bytes

    @property
    def token_id(self) -> str:
        """What the centre remembers once the token is answered (never the signature)."""
        return f"{self.office}.{(self.issued - _EPOCH).days}.{self.nonce}"


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


def read_survey_token(text: str) -> SurveyToken:
    """The token's parts, unchecked (the office names whose key checks it)."""
    parts = (text or "").strip().split(".")
    if len(parts) != 4:
        raise TokenRefused("malformed")
    office, day, nonce, signature = parts
    if not (OFFICE_CODE_PATTERN.fullmatch(office) and _DAY.fullmatch(day) and _NONCE.fullmatch(nonce)):
        raise TokenRefused("malformed")
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        raise TokenRefused("malformed") from None
    if len(raw) != 64:
        raise TokenRefused("malformed")
    return SurveyToken(office, _EPOCH + timedelta(days=int(day)), nonce, raw)


def verify_survey_token(token: SurveyToken, public_key: Ed25519PublicKey, *, today: date,
                        max_age_days: int = MAX_AGE_DAYS) -> SurveyToken:
    """``token`` if ``public_key`` signed it and it is not stale; else :class:`TokenRefused`."""
    try:
        public_key.verify(token.signature, _PREFIX + token.token_id.encode("ascii"))
    except InvalidSignature:
        raise TokenRefused("forged") from None
    if token.issued > today + timedelta(days=1):
        raise TokenRefused("forged")  # a day from the future: not a clock the office keeps
    if (today - token.issued).days > max_age_days:
        raise TokenRefused("stale")
    return token
