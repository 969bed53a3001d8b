"""The central office web app's words: Persian first, English second.

One flat table per locale, like the kiosk's (:mod:`kiosk.i18n`), but open: every page module
adds its own strings with :func:`register` at import time, so the dashboard helper's strings
live next to the dashboard and a test can still check that both locales have the same keys.

Numbers and dates are not translated here: templates pass them through the ``fa_digits`` and
``jalali`` filters, which use Persian digits and the Jalali calendar in Tehran's time zone.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import g, has_request_context, request

from forms.persian import format_jalali_date, format_jalali_datetime, to_persian_digits

__all__ = ["LOCALES", "MESSAGES", "current_lang", "fa_digits", "jalali", "register", "t", "translate"]

LOCALES = ("fa", "en")
#: The language toggle's cookie (not secret: it holds "fa" or "en").
LANG_COOKIE = "seda_lang"

#: locale -> key -> text.  Filled by :func:`register`; read through :func:`translate`.
MESSAGES: dict[str, dict[str, str]] = {"fa": {}, "en": {}}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add (or replace) strings: ``{"fa": {key: text}, "en": {key: text}}``.

    Call it at import time of the module that uses the keys.  Unknown locales are refused, so a
    typo such as ``"fa_IR"`` fails loudly instead of silently showing keys.
    """
    for locale, table in messages.items():
        if locale not in MESSAGES:
            raise ValueError(f"unknown locale {locale!r}; expected one of {', '.join(LOCALES)}")
        MESSAGES[locale].update(table)


def current_lang() -> str:
    """The request's language ('fa' unless the person toggled to English)."""
    if not has_request_context():
        return "fa"
    lang = g.get("lang")
    if lang is None:
        lang = request.cookies.get(LANG_COOKIE, "fa")
        g.lang = lang = lang if lang in LOCALES else "fa"
    return lang


def translate(key: str, lang: str, **values: object) -> str:
    """``key`` in ``lang``; missing keys fall back to Persian, then to the key itself.

    Whole numbers among ``values`` are written in the locale's digits.
    """
    text = MESSAGES.get(lang, MESSAGES["fa"]).get(key) or MESSAGES["fa"].get(key) or key
    if values:
        text = text.format(**{k: _number(v, lang) if isinstance(v, int) and not isinstance(v, bool)
                              else v for k, v in values.items()})
    return text


def t(key: str, **values: object) -> str:
    """:func:`translate` in the current request's language (templates call this)."""
    return translate(key, current_lang(), **values)


def _number(value: int, lang: str) -> str:
    text = f"{value:,}"
    return to_persian_digits(text.replace(",", "٬")) if lang == "fa" else text


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


register({
    "fa": {
        "app_name": "صدا",
        "central_title": "دفتر مرکزی",
        "language_switch": "English",
        "language_switch_label": "تغییر زبان به انگلیسی",
        "skip_to_main": "رفتن به محتوای اصلی",
        "nav_label": "بخش‌ها",
        "nav_inbox": "صندوق پرونده‌ها",
        "nav_triage": "صف تعیین واحد",
        "nav_users": "کاربران",
        "nav_units": "واحدها",
        "nav_rules": "قواعد ارجاع",
        "nav_holidays": "تعطیلات",
        "nav_deadlines": "مهلت‌ها",
        "nav_audit": "گزارش رویدادها",
        "nav_analysis": "تحلیل",
        "sign_out": "خروج",
        "signed_in_as": "{name} ({role})",
        "login_title": "ورود به دفتر مرکزی",
        "login_name": "نام کاربری",
        "login_password": "گذرواژه",
        "login_submit": "ورود",
        "login_bad": "نام کاربری یا گذرواژه درست نیست.",
        "login_wait": "تلاش‌های ناموفق زیاد بود. لطفاً {minutes} دقیقه دیگر دوباره امتحان کنید.",
        "login_wait_seconds": "تلاش‌های ناموفق زیاد بود. لطفاً {seconds} ثانیه دیگر دوباره امتحان کنید.",
        "login_expired": "نشست شما به پایان رسید؛ لطفاً دوباره وارد شوید.",
        "logged_out": "از سامانه خارج شدید.",
        "csrf_refused": "فرم منقضی یا نامعتبر بود؛ لطفاً دوباره تلاش کنید.",
        "forbidden_title": "دسترسی مجاز نیست",
        "forbidden_text": "نقش شما اجازه دیدن این صفحه را نمی‌دهد.",
        "not_found_title": "پیدا نشد",
        "not_found_text": "صفحه یا پرونده‌ای با این نشانی نیست.",
        "home_title": "خوش آمدید",
        "role_admin": "مدیر سامانه",
        "role_responder": "پاسخگوی واحد",
        "role_analyst": "تحلیلگر",
        "role_auditor": "حسابرس",
        "role_oversight": "حراست و بازرسی",
        "save": "ذخیره",
        "cancel": "انصراف",
        "filter": "پالایش",
        "clear_filters": "حذف پالایه‌ها",
        "yes": "بله",
        "no": "خیر",
        "none": "—",
        "any": "همه",
        "page_prev": "صفحه قبل",
        "page_next": "صفحه بعد",
        "page_of": "صفحه {page} از {pages}",
        "results_count": "{n} مورد",
    },
    "en": {
        "app_name": "Seda",
        "central_title": "Central office",
        "language_switch": "فارسی",
        "language_switch_label": "Switch language to Persian",
        "skip_to_main": "Skip to main content",
        "nav_label": "Sections",
        "nav_inbox": "Case inbox",
        "nav_triage": "Triage queue",
        "nav_users": "Users",
        "nav_units": "Units",
        "nav_rules": "Routing rules",
        "nav_holidays": "Holidays",
        "nav_deadlines": "Deadlines",
        "nav_audit": "Audit log",
        "nav_analysis": "Analysis",
        "sign_out": "Sign out",
        "signed_in_as": "{name} ({role})",
        "login_title": "Central office sign in",
        "login_name": "User name",
        "login_password": "Password",
        "login_submit": "Sign in",
        "login_bad": "Wrong user name or password.",
        "login_wait": "Too many failed attempts. Please try again in {minutes} minutes.",
        "login_wait_seconds": "Too many failed attempts. Please try again in {seconds} seconds.",
        "login_expired": "Your session ended; please sign in again.",
        "logged_out": "You are signed out.",
        "csrf_refused": "The form had expired or was not valid; please try again.",
        "forbidden_title": "Not allowed",
        "forbidden_text": "Your role does not allow this page.",
        "not_found_title": "Not found",
        "not_found_text": "There is no page or case at this address.",
        "home_title": "Welcome",
        "role_admin": "Administrator",
        "role_responder": "Unit responder",
        "role_analyst": "Analyst",
        "role_auditor": "Auditor",
        "role_oversight": "Oversight",
        "save": "Save",
        "cancel": "Cancel",
        "filter": "Filter",
        "clear_filters": "Clear filters",
        "yes": "Yes",
        "no": "No",
        "none": "—",
        "any": "Any",
        "page_prev": "Previous page",
        "page_next": "Next page",
        "page_of": "Page {page} of {pages}",
        "results_count": "{n} items",
    },
})
