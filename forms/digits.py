"""Digits in the three scripts people type them in (Persian, Arabic-Indic, Latin).

Kept apart from forms/persian.py so the message catalogues (forms/messages.py), which write
numbers in the locale's digits, need nothing else of Persian text handling.
"""
from __future__ import annotations

__all__ = ["to_ascii_digits", "to_persian_digits"]

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9
_ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669
_ASCII_DIGITS = "0123456789"

_TO_ASCII = str.maketrans(_PERSIAN_DIGITS + _ARABIC_INDIC_DIGITS, _ASCII_DIGITS * 2)
_TO_PERSIAN = str.maketrans(_ASCII_DIGITS + _ARABIC_INDIC_DIGITS, _PERSIAN_DIGITS * 2)


def to_ascii_digits(text: str) -> str:
    """Numbers must compare and parse the same whichever keyboard typed them."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str | int) -> str:
    """Citizens read numbers in Persian digits; storage keeps ASCII, so this
    is applied only at display time."""
    return str(text).translate(_TO_PERSIAN)
