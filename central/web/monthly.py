"""The figures issue #10 added to the analysis pages, and the call list.

- :func:`dashboard_extras`: for the dashboard, from :mod:`central.figures` (the functions
  behind ``seda central figures`` and the monthly report): the share of responses that name a
  desk (data quality: "no desk" is never ranked), the waiting-time answers per office (or per
  service for one office), cases received and how they were answered (on time, late, open,
  overdue, median working days) per unit and per office, and responses per working day per
  office with the working days since the last response and the last paper sheet.
- :func:`calls` and :func:`mark` (on the analysis blueprint, central/web/insight_common.py): ``/analysis/calls`` (GET) and ``/analysis/calls/<uuid>`` (POST), for
  the **analyst** role only: the visitors who agreed to be called about their comment, with
  their mobile number; every view and every mark is one audit entry.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

from flask import abort, redirect, render_template, request, url_for

from forms.persian import format_jalali_date

from .. import calls as C
from .. import figures as F
from ..casework import Casework
from ..store import Store
from . import auth, charts
from .auth import current_user, now, require
from .insight_common import bp, common, office_choices, selected_month, text_arg
from .common import unit_name
from .i18n import current_lang, t

__all__ = ["CALL_ROLES", "calls", "dashboard_extras", "mark"]

#: Mobile numbers of visitors: the analyst who makes the calls, nobody else.
CALL_ROLES = ("analyst",)

def day_text(iso_day: str | None, lang: str) -> str:
    """A stored Gregorian day ("2026-11-28") as a Jalali date in the page's digits."""
    if not iso_day:
        return "—"
    return format_jalali_date(date.fromisoformat(iso_day), persian_digits=lang == "fa")


def office_label(code: str, names: dict[str, dict[str, str]], lang: str) -> str:
    """An office's name where the central office gave one, with its code; else the code."""
    name = (names.get(code) or {}).get(lang) or (names.get(code) or {}).get("fa")
    return f"{name} ({code})" if name else code


def _case_row(label: str, group: dict[str, Any], lang: str) -> list[str]:
    n = lambda key: charts.number(group[key], lang)  # noqa: E731 - a short formatter
    return [label, n("received"), n("answered_on_time"), n("answered_late"), n("closed_unanswered"),
            n("open"), n("open_overdue"), charts.number(group["on_time_share"], lang, percent=True),
            charts.number(group["median_working_days"], lang, digits=1)]


def dashboard_extras(store: Store, month: str, office: str | None, lang: str,
                     service_label: Callable[[str | None], str]) -> dict[str, Any]:
    """What the dashboard shows beside the satisfaction tables (see the module text)."""
    moment = now()
    names = F.office_names(store)
    desks = F.desk_figures(store, month, office)
    waiting = F.waiting_figures(store, month, office)
    cases = F.case_figures(store, month, office, now=moment)
    days = F.office_days(store, month, office, now=moment)
    total = desks["with_desk"] + desks["without_desk"]
    desk_text = t("monthly_desks_text", share=charts.number(desks["share_with_desk"], lang, percent=True),
                  with_desk=charts.number(desks["with_desk"], lang), total=charts.number(total, lang)) if total else None
    options = waiting["options"]
    by = waiting["by_service"] if office else waiting["by_office"]
    waiting_rows = []
    for key, counts in by.items():
        label = service_label(key) if office else office_label(key, names, lang)
        n = sum(counts.values())
        waiting_rows.append([label, *(_count_share(counts.get(o, 0), n, lang) for o in options),
                             charts.number(n, lang)])
    units = {u.code: unit_name(u) for u in Casework(store).units(include_inactive=True)}
    unit_rows = [_case_row(units.get(code, code), group, lang) for code, group in cases["by_unit"].items()]
    office_rows = [_case_row(office_label(code, names, lang), group, lang) for code, group in cases["by_office"].items()]
    day_rows = []
    for code, entry in days.items():
        silent = entry["stopped"]
        day_rows.append({"label": office_label(code, names, lang), "silent": silent, "cells": [
            charts.number(entry["working_days"], lang), charts.number(entry["responses"], lang),
            charts.number(entry["per_working_day"], lang, digits=1),
            charts.number(entry["working_days_without_paper"], lang),
            day_text(entry["last_paper_day"], lang),
            charts.number(entry["working_days_since_last_paper"], lang)]})
    return {"desk_text": desk_text,
            "waiting_caption": t("monthly_waiting_by_service" if office else "monthly_waiting_by_office"),
            "waiting_headers": [t(f"wait_{o}") for o in options], "waiting_rows": waiting_rows,
            "case_total": _case_row(t("insight_total"), cases, lang) if cases["received"] else None,
            "case_units": unit_rows, "case_offices": office_rows, "day_rows": day_rows,
            "silent_days": F.STOPPED_AFTER}


def _count_share(count: int, n: int, lang: str) -> str:
    if not n:
        return charts.number(count, lang)
    return f"{charts.number(count, lang)} ({charts.number(count / n, lang, percent=True)})"


@bp.get("/calls")
@require(*CALL_ROLES)
def calls():
    """The month's call list (people who asked to be called), audited by the service."""
    month, latest = selected_month()
    office = text_arg("office")
    include_done = request.args.get("done") == "1"
    label = f"{month[0]:04d}-{month[1]:02d}"
    entries = C.call_list(auth.store(), label, office=office, include_done=include_done,
                          viewer=current_user().name)  # audited there
    lang = current_lang()
    names = F.office_names(auth.store())
    rows = [{"uuid": e.response, "office": office_label(e.office, names, lang),
             "date": e.created_at, "mobile": e.mobile, "comment": e.comment,
             "handwritten": url_for(".crop", response_uuid=e.response) if e.handwritten and not e.comment else None,
             "status": e.status, "updated_by": e.updated_by} for e in entries]
    return render_template("central/insight/calls.html", **common(month, latest, office, offices=office_choices()),
                           rows=rows, include_done=include_done, marks=C.MARKS)


@bp.post("/calls/<response_uuid>")
@require(*CALL_ROLES)
def mark(response_uuid: str):
    status = request.form.get("status", "")
    try:
        C.mark_call(auth.store(), response_uuid, status, actor=current_user().name)  # audited there
    except C.CallListError:
        abort(400)
    back = {k: v for k, v in (("month", request.form.get("month")), ("office", request.form.get("office")),
                              ("done", request.form.get("done"))) if v}
    return redirect(url_for(".calls", **back) + "#call-" + response_uuid)
