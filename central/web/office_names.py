"""Offices named for people on the central pages: the register's Persian (or English) name,
with the code beside it in small Latin type where staff need it to match files and URLs."""
from __future__ import annotations

from flask import g
from markupsafe import Markup, escape

from .. import figures
from . import auth, i18n

__all__ = ["office_label", "office_name"]


def _names() -> dict[str, dict[str, str]]:
    names = g.get("office_names")
    if names is None:  # once per request: a page lists many cases of few offices
        names = g.office_names = figures.office_names(auth.store())
    return names


def office_name(code: str | None) -> str:
    """The office's name in the page's language; its code when the register names it not."""
    if not code:
        return ""
    return (_names().get(code) or {}).get(i18n.current_lang()) or code


def office_label(code: str | None) -> Markup:
    """The name, then the code in small Latin type (only the code when there is no name)."""
    name = office_name(code)
    if not code or name == code:
        return Markup('<span class="ltr">{}</span>').format(escape(code or ""))
    return Markup('{} <span class="ltr muted office-code">{}</span>').format(escape(name), escape(code))
