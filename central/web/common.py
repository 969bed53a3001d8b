"""Small things the central pages share: names of services, case types, statuses and units in
the page's language, reading form fields in one spelling, and Persian error messages."""
from __future__ import annotations

from functools import lru_cache

from flask import flash, request

from forms.persian import normalize_input, to_ascii_digits

from forms.cases import status_label
from .i18n import current_lang, t

__all__ = ["error_text", "field", "flash_error", "flash_ok", "page_number", "service_name",
           "services", "status_name", "type_name", "unit_name"]

#: Case types with a name in the catalogue (``type_<kind>``).
CASE_TYPE_KEYS = ("request", "complaint", "suggestion", "criticism", "misconduct", "voice")


@lru_cache(maxsize=1)
def services() -> tuple[tuple[str, str, str], ...]:
    """(code, Persian, English) of every service in the satisfaction form, in its order."""
    from forms import builtin_catalog

    question = builtin_catalog().get("satisfaction").question("service")
    return tuple((o.value, o.label.fa, o.label.en) for o in question.options)


def _pick(pair: tuple[str, str]) -> str:
    return pair[1] if current_lang() == "en" else pair[0]


def service_name(code: str | None) -> str:
    if not code:
        return t("none")
    for value, fa, en in services():
        if value == code:
            return en if current_lang() == "en" else fa
    return code


def type_name(case_type: str | None) -> str:
    if case_type in CASE_TYPE_KEYS:
        return t("type_" + case_type)
    return case_type or "—"


def status_name(status: str | None) -> str:
    return _pick(status_label(status or ""))


def unit_name(unit) -> str:
    """A :class:`casework.Unit` in the page's language."""
    if unit is None:
        return t("none")
    return unit.name_en if current_lang() == "en" and unit.name_en else unit.name_fa


def error_text(exc: Exception) -> str:
    """The Persian (or English) sentence of a CaseworkError / AccountError / InvalidInput."""
    fa = getattr(exc, "message_fa", None)
    en = getattr(exc, "message_en", None)
    if fa and en:
        return en if current_lang() == "en" else fa
    return str(exc)


def flash_ok(key: str, **values: object) -> None:
    flash(t(key, **values), "ok")


def flash_error(text: str) -> None:
    flash(text, "error")


def field(name: str, *, source=None) -> str:
    """A form or query field in the one spelling (ASCII digits, Persian ye/kaf, trimmed)."""
    source = request.form if source is None else source
    return normalize_input(source.get(name, "") or "")


#: The highest page number a listing accepts; anything larger is read as this one (an empty
#: page past the end), so a page number from the address bar can never overflow a query.
MAX_PAGE = 100_000


def page_number(name: str = "page") -> int:
    """The ``page`` query argument, clamped to 1..:data:`MAX_PAGE` (nonsense reads as 1)."""
    text = to_ascii_digits(request.args.get(name, "1") or "1").strip()
    if len(text) > 12:  # longer than any page number: no need to build a huge int
        return 1 if text.startswith("-") else MAX_PAGE
    try:
        return min(MAX_PAGE, max(1, int(text)))
    except ValueError:
        return 1
