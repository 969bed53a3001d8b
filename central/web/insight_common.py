"""The analysis pages' blueprint (``insight``, mounted at ``/analysis``) and what its pages
share: the month asked for, the filters, the catalogue's names, the month picker.

central/web/insight.py (dashboard, announcements, services, comments, exports) and
central/web/monthly.py (the call list) hang their views on :data:`bp`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime
from flask import Blueprint, Response, abort, render_template, request

from forms.persian import InvalidInput, jalali_month_name, normalize_input, to_persian_digits
from forms.responses import SOURCES

from .. import analysis as A
from . import auth
from .i18n import current_lang, t

__all__ = ["ROLES", "bp", "catalogue", "common", "current_month", "lang", "month_choices",
           "month_name", "month_text", "office_choices", "selected_month", "service_label",
           "source_label", "text_arg"]

bp = Blueprint("insight", __name__)  # the comment index is made by Store.migrate

ROLES = ("analyst", "admin")
_TEHRAN = ZoneInfo("Asia/Tehran")
_MAX_FILTER = 80

# -- months ------------------------------------------------------------------------------


def current_month(moment: datetime) -> tuple[int, int]:
    """The Jalali (year, month) of ``moment`` in Tehran."""
    local = moment.astimezone(_TEHRAN)
    j = jdatetime.date.fromgregorian(date=local.date())
    return j.year, j.month


def month_text(key: tuple[int, int]) -> str:
    return f"{key[0]:04d}-{key[1]:02d}"


def month_name(key: tuple[int, int], lang: str) -> str:
    """"آذر ۱۴۰۵" / "Azar 1405"."""
    year = to_persian_digits(key[0]) if lang == "fa" else str(key[0])
    return f"{jalali_month_name(key[1], 'en' if lang == 'en' else 'fa')} {year}"


def month_choices(latest: tuple[int, int], selected: tuple[int, int], lang: str,
                  count: int = 24) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for the month picker: the ``count`` months up to ``latest``,
    newest first, plus the selected month if it lies outside them."""
    keys = A.months_before(latest, count)[::-1]
    if selected not in keys:
        keys = [selected, *keys]
    return [(month_text(k), month_name(k, lang), k == selected) for k in keys]


# -- what every analysis page reads ------------------------------------------------------------


def lang() -> str:
    return current_lang()


def catalogue() -> dict:
    return A.service_catalogue(auth.store())


def service_label(entries: dict, code: str | None) -> str:
    if not code:
        return t("insight_unknown")
    name = (entries.get(code) or {}).get("name") or {}
    return name.get(lang()) or name.get("fa") or code


def source_label(code: str | None) -> str:
    return t(f"source_{code}") if code in SOURCES else t("source_unknown")


def selected_month() -> tuple[tuple[int, int], tuple[int, int]]:
    """(selected, latest): the month asked for (default: this month in Tehran)."""
    latest = current_month(auth.now())
    raw = request.args.get("month", "").strip()
    if not raw:
        return latest, latest
    try:
        return A.month_key(raw), latest
    except (InvalidInput, ValueError):
        abort(Response(render_template("central/error.html", title=t("insight_title"),
                                       text=t("insight_bad_month")), 400))


def text_arg(name: str) -> str | None:
    value = normalize_input(request.args.get(name, ""))[:_MAX_FILTER]
    return value or None


def office_choices(groups: Iterable[A.GroupStats] = ()) -> list[str]:
    codes = {o.code for o in auth.store().offices()}
    codes.update(g.key.get("office") for g in groups if g.key.get("office"))
    return sorted(codes)


def common(month: tuple[int, int], latest: tuple[int, int], office: str | None, **extra) -> dict:
    return {"month": month_text(month), "month_label": month_name(month, lang()),
            "months": month_choices(latest, month, lang()), "office": office,
            "rule": t("insight_rule", n=A.MIN_RESPONSES), "min_responses": A.MIN_RESPONSES,
            "lang": lang(), **extra}
