"""The figures of one Jalali month, as one JSON object: ``seda central figures``, the dashboard
and the monthly report all read them from here.

``{"month", "responses", "questions"}`` are summed from the roll-ups (:mod:`.rollups`) with
:class:`forms.figures.Tally`, the class the office dashboard sums its ledger with, so the
office and the centre give the same numbers for the same records.  Beside them:

- ``cases``: the cases *received* in the month (their cohort, by the time the office took
  them): answered within the deadline, answered late, closed without an answer, still open
  and, of those, overdue; the median working days from receipt to answer; the same per unit
  and per office, and the count per type;
- ``desks``: how many responses name a desk (a data-quality figure: "no desk" is never a
  group that is ranked);
- ``waiting_time``: the waiting-time answers per option, per office, per service and per
  office and service;
- ``offices``: per office (every registered one, so one that stops shows up with zeros):
  responses, paper and kiosk, working days in the month so far, responses per working day,
  working days without any response and without a paper sheet, the last day with each, how
  many working days have passed since, and ``stopped``: :data:`STOPPED_AFTER` working days or
  more without any response, or without a paper sheet after some were handed out this month.
"""
from __future__ import annotations

import json
import statistics
from datetime import date, datetime, timedelta, timezone
from typing import Any

from forms import builtin_catalog
from forms.figures import Tally

from . import analysis as A
from . import casework
from .db import cases as case_rows, records as record_rows, rollups as rollup_rows
from .rollups import tehran_day
from forms.workdays import TEHRAN, WorkCalendar, fixed_holidays

__all__ = ["WAITING_QUESTION", "case_figures", "desk_figures", "figures", "office_days",
           "office_names", "response_figures", "set_office_name", "waiting_figures"]

WAITING_QUESTION = "waiting_time"
#: Working days without a response (or, after paper sheets were handed out, without one) at
#: the end of the month so far, after which an office is said to have stopped.
STOPPED_AFTER = 3
_OFFICE_NAME = "office_name:"


def _label(month: str | tuple[int, int]) -> str:
    year, number = A.month_key(month)
    return f"{year:04d}-{number:02d}"


def survey_form():
    """The form whose questions the figures list (its newest version)."""
    return builtin_catalog().get("satisfaction")


def response_figures(store, month: str | tuple[int, int], office: str | None = None) -> dict[str, Any]:
    """``{"month", "responses": {...}, "questions": {...}}`` (see :mod:`forms.figures`)."""
    label = _label(month)
    A.refreshed(store)
    tally = Tally()
    with store.connect() as db:
        for source, responses, incomplete in rollup_rows.source_totals(db, label, office):
            tally.sources[source] = tally.sources.get(source, 0) + int(responses)
            tally.incomplete += int(incomplete)
        for question, value, n, pending in rollup_rows.answer_totals(db, label, office):
            if value == "":
                count = tally.question(question)
                count.answered += int(n)
                count.pending += int(pending)
            else:
                tally.add_value(question, value, int(n))
        twice = rollup_rows.answered_twice(db, label, office)
    out = {"month": label, **tally.to_json(survey_form().questions)}
    # paper sheets answered twice (scanned and online from the sheet's link): counted once, the
    # other answer kept as a record and in no count (central/rollups.py)
    out["responses"]["answered_twice"] = int(twice)
    return out


# -- cases -------------------------------------------------------------------------------------


def _local_date(text: str) -> date:
    return tehran_day(text)


def _calendar(store, first: date, last: date) -> WorkCalendar:
    """Fridays and holidays from ``first`` to ``last`` (the fixed ones unless removed, and the
    ones the administrator added), as case deadlines count them."""
    import jdatetime

    with store.connect() as db:
        value = record_rows.setting(db, "holidays_removed")
        removed = set(json.loads(value)) if value is not None else set()
        added = {date.fromisoformat(d) for d in
                 case_rows.holiday_days(db, first.isoformat(), last.isoformat())}
    years = range(jdatetime.date.fromgregorian(date=first).year, jdatetime.date.fromgregorian(date=last).year + 1)
    fixed = {d for y in years for d, _ in fixed_holidays(y) if d.isoformat() not in removed}
    return WorkCalendar.of(fixed | added)


class _Ordinals:
    """Working-day numbers of the days from ``first`` on, so the working days between two
    dates is one subtraction (``WorkCalendar.working_days_between`` walks day by day)."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self.first = first
        self.numbers = []
        count = 0
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                count += 1
            self.numbers.append(count)
            day += timedelta(days=1)

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end], as ``WorkCalendar.working_days_between``."""
        return self.numbers[(end - self.first).days] - self.numbers[(start - self.first).days]


def _case_counts() -> dict[str, Any]:
    return {"received": 0, "answered_on_time": 0, "answered_late": 0, "closed_unanswered": 0,
            "open": 0, "open_overdue": 0, "on_time_share": None, "median_working_days": None}


def case_figures(store, month: str | tuple[int, int], office: str | None = None, *,
                 now: datetime | None = None) -> dict[str, Any]:
    """The month's cases (received in it) and how they were answered; see the module text.
    Counted in SQL per unit, office and type; only the answered cases' two times are read, for
    the median working days."""
    start, end = A.month_bounds(month)
    now = now or datetime.now(timezone.utc)
    now_text = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    closed = sorted(casework.CLOSED)
    with store.connect() as db:
        groups = case_rows.month_outcomes(db, start, end, office, closed, now_text)
        answered = case_rows.answered_times(db, start, end, office)
    total, by_unit, by_office = _case_counts(), {}, {}
    by_type: dict[str, int] = {}
    names = ("received", "answered_on_time", "answered_late", "closed_unanswered", "open", "open_overdue")
    for unit, case_office, case_type, *counts in groups:
        by_type[case_type] = by_type.get(case_type, 0) + int(counts[0])
        for group in (total, by_unit.setdefault(unit, _case_counts()), by_office.setdefault(case_office, _case_counts())):
            for name, count in zip(names, counts):
                group[name] += int(count or 0)
    days: dict[tuple[str, str], list[int]] = {}
    if answered:
        pairs = [(unit, code, _local_date(received), _local_date(done)) for unit, code, received, done in answered]
        first = min(min(r, d) for _, _, r, d in pairs)
        last = max(max(r, d) for _, _, r, d in pairs)
        ordinals = _Ordinals(_calendar(store, first, last), first, last)
        for unit, code, received, done in pairs:
            taken = max(0, ordinals.between(received, done))
            for key in (("", ""), ("unit", unit), ("office", code)):
                days.setdefault(key, []).append(taken)
    for key, group in ((("", ""), total), *((("unit", u), g) for u, g in by_unit.items()),
                       *((("office", o), g) for o, g in by_office.items())):
        if group["received"]:
            group["on_time_share"] = round(group["answered_on_time"] / group["received"], 4)
        if days.get(key):
            group["median_working_days"] = float(statistics.median(days[key]))
    return {**total, "by_type": dict(sorted(by_type.items())),
            "by_unit": dict(sorted(by_unit.items())), "by_office": dict(sorted(by_office.items()))}


# -- desks, waiting time, responses per working day ----------------------------------------------


def _month_rows(store, query, month: str | tuple[int, int], office: str | None) -> list[tuple]:
    """``query(conn, month, office)`` (a :mod:`central.db.rollups` reader), after bringing the
    roll-ups up to date."""
    A.refreshed(store)
    with store.connect() as db:
        return query(db, _label(month), office)


def desk_figures(store, month: str | tuple[int, int], office: str | None = None) -> dict[str, Any]:
    """How many responses name a desk, in all and per office (data quality, not a ranking)."""
    rows = _month_rows(store, rollup_rows.desk_totals, month, office)

    def share(group: dict[str, Any]) -> dict[str, Any]:
        n = group["with_desk"] + group["without_desk"]
        group["share_with_desk"] = round(group["with_desk"] / n, 4) if n else None
        return group

    total = {"with_desk": 0, "without_desk": 0}
    per_office: dict[str, dict[str, int]] = {}
    for code, named, n in rows:
        key = "with_desk" if named else "without_desk"
        total[key] += int(n)
        per_office.setdefault(code, {"with_desk": 0, "without_desk": 0})[key] += int(n)
    return {**share(total), "by_office": {c: share(g) for c, g in sorted(per_office.items())}}


def waiting_figures(store, month: str | tuple[int, int], office: str | None = None) -> dict[str, Any]:
    """The waiting-time answers per option: in all, per office, per service, per both."""
    rows = _month_rows(store, rollup_rows.waiting_counts, month, office)
    try:
        options = [str(v) for v in survey_form().question(WAITING_QUESTION).option_values()]
    except KeyError:
        options = []

    def empty() -> dict[str, int]:
        return dict.fromkeys(options, 0)

    total, by_office, by_service, both = empty(), {}, {}, {}
    for code, service, value, n in rows:
        n = int(n)
        service = service or ""
        for counts in (total, by_office.setdefault(code, empty()), by_service.setdefault(service, empty()),
                       both.setdefault(code, {}).setdefault(service, empty())):
            counts[value] = counts.get(value, 0) + n
    return {"options": options, "total": total, "by_office": dict(sorted(by_office.items())),
            "by_service": dict(sorted(by_service.items())),
            "by_office_service": {c: dict(sorted(s.items())) for c, s in sorted(both.items())}}


def office_names(store) -> dict[str, dict[str, str]]:
    """Office code -> {"fa", "en"} names the central office gave (``seda central office name``)."""
    with store.connect() as db:
        rows = record_rows.settings_with_prefix(db, _OFFICE_NAME)
    out = {}
    for key, value in rows:
        try:
            names = json.loads(value)
        except ValueError:
            continue
        if isinstance(names, dict) and names.get("fa"):
            out[key[len(_OFFICE_NAME):]] = {"fa": str(names["fa"]), "en": str(names.get("en") or names["fa"])}
    return out


def set_office_name(store, code: str, fa: str, en: str | None = None) -> None:
    """Name an office for the reports (Persian, and English: default the Persian name)."""
    fa = (fa or "").strip()
    if not fa:
        raise ValueError("an office name cannot be empty")
    value = json.dumps({"fa": fa, "en": (en or "").strip() or fa}, ensure_ascii=False)
    with store.write() as db:
        record_rows.put_setting(db, _OFFICE_NAME + code, value)


def office_days(store, month: str | tuple[int, int], office: str | None = None, *,
                now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per office: responses per working day of the month so far, and the working days
    without any response or without a paper sheet."""
    A.refreshed(store)
    year, number = A.month_key(month)
    start, end = (date.fromisoformat(d[:10]) for d in A.month_bounds(month))
    first = start + timedelta(days=1)  # the UTC bounds start at 20:30 the day before in Tehran
    last = end  # the month's last local day
    today = (now or datetime.now(timezone.utc)).astimezone(TEHRAN).date()
    calendar = _calendar(store, first, last)
    elapsed = [first + timedelta(days=i) for i in range((min(last, today) - first).days + 1)] if today >= first else []
    working = [d for d in elapsed if calendar.is_working_day(d)]
    with store.connect() as db:
        rows = rollup_rows.day_counts(db, first.isoformat(), last.isoformat(), office)
    codes = {office} if office else {o.code for o in store.offices()}
    codes |= {r[1] for r in rows}
    days: dict[str, dict[str, dict[str, int]]] = {c: {} for c in codes}
    for day, code, source, n in rows:
        days[code].setdefault(day, {})[source] = days[code].setdefault(day, {}).get(source, 0) + int(n)
    names = office_names(store)
    out = {}
    for code in sorted(codes):
        per_day = days[code]
        paper = sum(d.get("paper", 0) for d in per_day.values())
        kiosk = sum(d.get("kiosk", 0) for d in per_day.values())
        with_any = [d for d, c in per_day.items() if sum(c.values())]
        with_paper = [d for d, c in per_day.items() if c.get("paper")]
        def trailing(has: list[str]) -> int:
            """Working days at the end of the month so far with none (the office stopped?)."""
            marks = set(has)
            count = 0
            for day in reversed(working):
                if day.isoformat() in marks:
                    break
                count += 1
            return count

        out[code] = {
            "name": names.get(code), "responses": paper + kiosk, "paper": paper, "kiosk": kiosk,
            "working_days": len(working),
            "per_working_day": round((paper + kiosk) / len(working), 2) if working else None,
            "working_days_without_responses": sum(1 for d in working if not sum(per_day.get(d.isoformat(), {}).values())),
            "working_days_without_paper": sum(1 for d in working if not per_day.get(d.isoformat(), {}).get("paper")),
            "last_response_day": max(with_any) if with_any else None,
            "last_paper_day": max(with_paper) if with_paper else None,
            "working_days_since_last_response": trailing(with_any),
            "working_days_since_last_paper": trailing(with_paper),
        }
        entry = out[code]
        # nothing at all for a while, or paper sheets that were handed out and then stopped
        entry["stopped"] = (entry["working_days_since_last_response"] >= STOPPED_AFTER
                            or (bool(with_paper) and entry["working_days_since_last_paper"] >= STOPPED_AFTER))
    return out


def figures(store, month: str | tuple[int, int], office: str | None = None, *,
            now: datetime | None = None) -> dict[str, Any]:
    """Everything above for one month (and office): the JSON of ``seda central figures``."""
    out = response_figures(store, month, office)
    out["cases"] = case_figures(store, month, office, now=now)
    out["desks"] = desk_figures(store, month, office)
    out["waiting_time"] = waiting_figures(store, month, office)
    out["offices"] = office_days(store, month, office, now=now)
    return out
