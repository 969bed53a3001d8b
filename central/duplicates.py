"""Which cases are probably the same case: the same person, or near-identical Persian text.

People file the same complaint twice (at the kiosk, then on paper; at two offices; once a day
until someone answers).  A responder who answers both wastes a day and may answer them
differently, so the case page suggests likely duplicates; a person decides (rejecting one as
a duplicate of the other is an explicit action, never automatic).

Two keys are made when a case arrives and stored with it:

- ``person_key``: a SHA-256 of the national ID, else of the mobile number, so the
  central store can find "same person" by index without keeping a second copy of the number
  in clear (the case body has it; this column must not become another place to read it from).
- ``text_key``: the text in one canonical spelling (Arabic ي/ك to Persian, digits to ASCII,
  diacritics, tatweel, punctuation and ZWNJ to spaces, runs of space collapsed), so that
  "کارت  ملي من" and "کارت ملی من!" compare equal.

:func:`text_similarity` compares two text keys by their character trigrams (Jaccard), which
is robust to a word added or a typo and cheap enough to run over a few thousand candidates.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from forms.persian import normalize_letters, to_ascii_digits

__all__ = ["SIMILAR_TEXT", "person_key", "text_key", "text_similarity", "trigrams"]

#: Trigram Jaccard at or above which two texts are suggested as duplicates.
SIMILAR_TEXT = 0.6
#: Texts shorter than this (after normalising) say too little to call two cases the same.
MIN_TEXT_CHARS = 12

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_TATWEEL = "\u0640"


def person_key(body: Mapping[str, Any]) -> str | None:
    """A key shared by the cases of one person, or ``None`` (anonymous, sealed, no identity)."""
    if body.get("anonymous") in (True, 1, "1", "true") or "sealed" in body:
        return None
    for field in ("national_id", "mobile"):
        value = to_ascii_digits(str(body.get(field) or "")).strip()
        if value:
            return hashlib.sha256(f"seda-person:{field}:{value}".encode()).hexdigest()
    return None


def text_key(text: str | None) -> str:
    """``text`` in the one spelling used to compare cases (see the module docstring)."""
    if not text:
        return ""
    # Decompose first (ئ is ي + hamza above; presentation forms become letters), then drop the
    # marks, then spell the letters one way: so پائیز and پاییز meet.
    text = "".join(ch for ch in unicodedata.normalize("NFKD", to_ascii_digits(str(text)))
                   if not unicodedata.combining(ch))
    text = normalize_letters(text).replace(_TATWEEL, "")
    text = text.replace("\u200c", " ")
    return " ".join(_NOT_WORD.sub(" ", text).lower().split())


def trigrams(key: str) -> frozenset[str]:
    padded = f" {key} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of two text keys' trigrams, 0..1; 0 when either is too short."""
    if len(a) < MIN_TEXT_CHARS or len(b) < MIN_TEXT_CHARS:
        return 0.0
    if a == b:
        return 1.0
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb)
