"""The central office web app's words: Persian first, English second.

The sentences live in Babel catalogues, ``central/translations/<locale>/LC_MESSAGES/messages.po``
(see docs/translating.md), shared with ``seda central``; a translator edits those files, not
Python.  Flask-Babel picks each request's locale from the person's language cookie.

Numbers and dates are not translated here: templates pass them through the ``fa_digits`` and
``jalali`` filters, which use Persian digits and the Jalali calendar in Tehran's time zone.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import g, has_request_context, request

from forms.flask_messages import current_locale
from forms.messages import DEFAULT_LOCALE, LOCALES
from forms.persian import format_jalali_date, format_jalali_datetime, to_persian_digits

from ..messages import MESSAGES

__all__ = ["LOCALES", "MESSAGES", "current_lang", "fa_digits", "jalali", "locale_selector", "t", "translate"]

#: The language toggle's cookie (not secret: it holds "fa" or "en").
LANG_COOKIE = "seda_lang"



def locale_selector() -> str:
    """Flask-Babel's choice for a request: the language cookie, else Persian."""
    if not has_request_context():
        return DEFAULT_LOCALE
    lang = g.get("lang")
    if lang is None:
        lang = request.cookies.get(LANG_COOKIE, DEFAULT_LOCALE)
        g.lang = lang = lang if lang in LOCALES else DEFAULT_LOCALE
    return lang


def current_lang() -> str:
    """The request's language ('fa' unless the person toggled to English)."""
    return current_locale() if has_request_context() else DEFAULT_LOCALE


def translate(key: str, lang: str, /, **values: object) -> str:
    """``key`` in ``lang``; missing keys fall back to Persian, then to the key itself.

    Whole numbers among ``values`` are written in the locale's digits.
    """
    return MESSAGES.text(key, lang, **values)


def t(key: str, /, **values: object) -> str:
    """:func:`translate` in the current request's language (templates call this)."""
    return translate(key, current_lang(), **values)


def fa_digits(value: object) -> str:
    """Persian digits in Persian, Latin digits in English (template filter)."""
    if value is None:
        return ""
    text = str(value)
    return to_persian_digits(text) if current_lang() == "fa" else text


def jalali(value: object, with_time: bool = True) -> str:
    """A Jalali date (and Tehran wall-clock time) for a datetime, a date or a stored
    ``...Z`` timestamp; empty for None (template filter)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    persian = current_lang() == "fa"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return format_jalali_datetime(value, persian_digits=persian) if with_time \
            else format_jalali_date(value, persian_digits=persian)
    if isinstance(value, date):
        return format_jalali_date(value, persian_digits=persian)
    return str(value)
