"""The kiosk's words, in Persian (the default) and English (a toggle).

The sentences live in Babel catalogues, ``kiosk/translations/<locale>/LC_MESSAGES/messages.po``
(see docs/translating.md); a translator edits those files, not Python.  Where the kiosk speaks of
citizens' rights it quotes Article 9 of the Citizens' Rights in the Administrative System
resolution (no. 1127128, 1395/12/28, High Council of Administration) word for word in Persian.

Numbers and dates are not translated: templates pass them through ``num`` and ``jdate``
(see :mod:`kiosk.app`), which use Persian digits and the Jalali calendar in Persian.
"""
from __future__ import annotations

from datetime import datetime

from forms.messages import LOCALES, localize_number, messages_for
from forms.persian import format_jalali_date, format_jalali_datetime

__all__ = ["LOCALES", "MESSAGES", "both", "translate", "number", "jalali", "direction"]

#: The kiosk's catalogues (kiosk/translations).
MESSAGES = messages_for("kiosk")


def translate(key: str, lang: str, /, **values: object) -> str:
    """The sentence for ``key`` in ``lang``; whole numbers in ``values`` follow the locale's digits."""
    return MESSAGES.text(key, lang, **values)


def both(key: str, /, **values: object) -> tuple[str, str]:
    """``key`` in Persian and in English, for errors that carry both (``FieldError``,
    ``InvalidInput``): the visitor sees one, logs and API clients the other."""
    return MESSAGES.both(key, **values)


def number(value: int | str, lang: str, grouping: bool = False) -> str:
    """Persian digits in Persian; grouping uses the Persian thousands separator (٬)."""
    return localize_number(value, lang, grouping)


def jalali(moment: datetime, lang: str, with_time: bool = False) -> str:
    """Jalali dates on every screen; Latin digits in English."""
    if with_time:
        return format_jalali_datetime(moment, persian_digits=lang == "fa")
    return format_jalali_date(moment, persian_digits=lang == "fa")


def direction(lang: str) -> str:
    return "ltr" if lang == "en" else "rtl"
