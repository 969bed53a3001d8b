"""Digits in the three scripts people type them in (Persian, Arabic-Indic, Latin).

Kept apart from forms/persian.py so the message catalogues (forms/messages.py), which write
numbers in the locale's digits, need nothing else of Persian text handling.
"""
from __future__ import annotations

__all__ = ["figure", "to_ascii_digits", "to_persian_digits", "ungrouped"]

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9
_ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669
_ASCII_DIGITS = "0123456789"
_DECIMAL_SEPARATOR = "٫"  # U+066B
_PERCENT = "٪"  # U+066A
_THOUSANDS_SEPARATORS = ",٬"  # Latin comma, Persian thousands separator U+066C

_TO_ASCII = str.maketrans(_PERSIAN_DIGITS + _ARABIC_INDIC_DIGITS, _ASCII_DIGITS * 2)
_TO_PERSIAN = str.maketrans(_ASCII_DIGITS + _ARABIC_INDIC_DIGITS, _PERSIAN_DIGITS * 2)


def to_ascii_digits(text: str) -> str:
    """Numbers must compare and parse the same whichever keyboard typed them."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str | int) -> str:
    """Citizens read numbers in Persian digits; storage keeps ASCII, so this
    is applied only at display time."""
    return str(text).translate(_TO_PERSIAN)


def ungrouped(text: str) -> str:
    """A number as typed (``۱٬۲۰۰٬۰۰۰`` or ``1,200,000``), in ASCII digits without its thousands
    separators, ready for ``int()``."""
    return to_ascii_digits(text).translate({ord(c): None for c in _THOUSANDS_SEPARATORS})


def figure(value: float | int | None, lang: str = "fa", digits: int = 2, *, percent: bool = False) -> str:
    """A figure as a report or a chart shows it: Persian digits, the Persian decimal separator
    (٫) and percent sign (٪) in Persian; a dash where there is no figure.  ``percent`` shows a
    share (0..1) as a whole percentage."""
    if value is None:
        return "—"
    if percent:
        text = f"{100 * value:.0f}"
        return (to_persian_digits(text) + _PERCENT) if lang == "fa" else text + "%"
    text = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return to_persian_digits(text).replace(".", _DECIMAL_SEPARATOR) if lang == "fa" else text
