"""The analysis pages (issue #6, "Analysis"): dashboard, question (2) per service, comment
browser, CSV downloads.  Mounted at ``/analysis`` for analysts and administrators.

Every figure comes from :mod:`central.analysis` (monthly roll-ups once
``ensure_analysis_indexes`` has run), so a page makes a fixed, small number of queries however
many responses the store holds.  Fairness (Article 9 clause 5 uses these figures to reward and
discipline people): every mean carries its 95 % interval and n, and a group with fewer answers
than :data:`analysis.MIN_RESPONSES` is shown greyed with the rule written out, never ranked and
never singled out as best or worst.

Routes (all GET, all ``@require("analyst", "admin")``):

- ``/analysis/``                       dashboard: month (Jalali, default the current one in
                                       Tehran) and office; per office, service, desk and source;
                                       desk ranking; 12-month trend; case counts by type
- ``/analysis/announcements``          question (2) per service, worst "no" share first
- ``/analysis/services/<id>``          a service's catalogue entry next to its figures
- ``/analysis/comments``               handwritten crops and typed comments, filtered, paged
- ``/analysis/comments/<uuid>/crop.png`` one handwritten crop (every view audited)
- ``/analysis/export/responses.csv``, ``/analysis/export/cases.csv``  (audited)
- ``/analysis/calls``, ``/analysis/calls/<uuid>`` the call list, analysts only (web/monthly.py)
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from flask import Response, abort, render_template, request, url_for
from markupsafe import Markup

from forms.persian import format_jalali_date, to_persian_digits
from forms.responses import SOURCES

from .. import analysis as A
from ..exports import ExportError, analysis_rows, csv_cell
from . import auth, charts
from .auth import require
from .insight_common import (ROLES, bp, catalogue, common, current_month, lang, month_choices,
                             month_text, office_choices, selected_month, service_label,
                             source_label, text_arg)
from .monthly import dashboard_extras
from .common import type_name
from .i18n import t

__all__ = ["bp", "current_month", "month_choices"]

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
#: The web export never carries a citizen's identity: analysts need figures, not people.

# -- formatting (pure) ---------------------------------------------------------------------


def mean_text(mean: A.Mean, lang: str) -> tuple[str, str]:
    """("۴٫۲۱", "۳٫۹۸–۴٫۴۴"): a mean and its 95 % interval as shown."""
    if mean.mean is None:
        return "—", ""
    if mean.low is None:
        return charts.number(mean.mean, lang), ""
    return charts.number(mean.mean, lang), f"{charts.number(mean.low, lang)}–{charts.number(mean.high, lang)}"


def share_text(share: float | None, low: float | None, high: float | None, lang: str) -> tuple[str, str]:
    if share is None:
        return "—", ""
    interval = "" if low is None else (f"{charts.number(low, lang, percent=True)}–"
                                       f"{charts.number(high, lang, percent=True)}")
    return charts.number(share, lang, percent=True), interval


@dataclass(frozen=True)
class Row:
    """One group as a table row: label, link, counts and every figure as text."""

    key: str
    label: str
    href: str | None
    responses: str
    figures: list[tuple[str, str]]   # workflow, staff behaviour, overall, matched: (value, interval)
    sufficient: bool


def stats_row(key: str, label: str, group: A.GroupStats, lang: str, href: str | None = None) -> Row:
    m = group.means
    figures = [mean_text(m[q], lang) for q in ("workflow", "staff_behaviour", "overall")]
    figures.insert(1, share_text(group.matched.share, group.matched.low, group.matched.high, lang))
    return Row(key, label, href, charts.number(group.responses, lang), figures, group.sufficient)


def no_share(match: A.ServiceMatch) -> A.Share:
    """Question (2)'s "no" share of a service with its Wilson interval."""
    m = match.stats.matched
    return A.wilson_interval(m.n - m.yes - m.partly, m.n)


def _share_figures(share: A.Share) -> tuple[float | None, float | None, float | None]:
    return share.share, share.low, share.high


def by_no_share(matches: Iterable[A.ServiceMatch], min_responses: int = A.MIN_RESPONSES) -> list[A.ServiceMatch]:
    """Services with enough answers first, largest "no" share first; then the rest by name."""
    return sorted(matches, key=lambda s: (s.stats.matched.n < min_responses,
                                          -(s.no_share or 0.0) if s.stats.matched.n >= min_responses else 0.0,
                                          s.service))


def _csv_lines(columns: Iterable[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV text in chunks, UTF-8 with a byte-order mark (Excel on Windows reads Persian)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(list(columns))
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_cell(v) for v in row])  # formula-looking text quoted, as exports.py does
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- the pages (on the blueprint of insight_common) ---------------------------------------


@bp.get("/")
@require(*ROLES)
def dashboard():
    month, latest = selected_month()
    office = text_arg("office")
    entries = catalogue()
    language = lang()
    by_office = A.satisfaction(auth.store(), month, ("office",), office=office)
    by_service = A.satisfaction(auth.store(), month, ("service",), office=office)
    by_source = A.satisfaction(auth.store(), month, ("source",), office=office)
    desks = A.satisfaction(auth.store(), month, ("office", "desk"), office=office)
    ranking = A.rank(desks, "staff_behaviour")
    total = A.satisfaction(auth.store(), month, (), office=office)
    points = A.trend(auth.store(), month, 12, office=office)
    cases = A.cases_by_type(auth.store(), month, office=office)

    def desk_label(g: A.GroupStats) -> str:
        desk = g.key.get("desk")
        desk_text = (to_persian_digits(desk) if language == "fa" else desk) if desk else t("insight_unknown")
        return f"{g.key.get('office') or t('insight_unknown')} / {t('insight_desk', desk=desk_text)}"

    def desk_key(g: A.GroupStats) -> str:
        return f"{g.key.get('office') or ''}/{g.key.get('desk') or ''}"

    sections = [
        ("office", t("insight_by_office"),
         [stats_row(g.key["office"] or "", g.key["office"] or t("insight_unknown"), g, language,
                    url_for(".dashboard", month=month_text(month), office=g.key["office"]))
          for g in by_office]),
        ("service", t("insight_by_service"),
         [stats_row(g.key["service"] or "", service_label(entries, g.key["service"]), g, language,
                    url_for(".service", service_id=g.key["service"], month=month_text(month))
                    if g.key["service"] else None)
          for g in by_service]),
        ("source", t("insight_by_source"),
         [stats_row(g.key["source"] or "", source_label(g.key["source"]), g, language) for g in by_source]),
        ("desk", t("insight_by_desk"),  # answers without a desk number are no desk's
         [stats_row(desk_key(g), desk_label(g), g, language) for g in desks if g.key.get("desk")]),
    ]
    rule_short = t("insight_rule", n=A.MIN_RESPONSES)
    short_note = rule_short.split("—")[0].strip()
    service_chart = charts.bar_chart(
        [charts.Bar(service_label(entries, g.key["service"]), g.means["overall"].mean, g.means["overall"].low,
                    g.means["overall"].high, g.responses, g.sufficient) for g in by_service],
        title=t("insight_chart_service"), lang=language, insufficient_note=short_note)
    office_chart = charts.bar_chart(
        [charts.Bar(g.key["office"] or t("insight_unknown"), g.means["overall"].mean, g.means["overall"].low,
                    g.means["overall"].high, g.responses, g.sufficient) for g in by_office],
        title=t("insight_chart_office"), lang=language, insufficient_note=short_note)
    trend_chart = charts.trend_chart(
        [charts.Point(p.key["month"], p.means["overall"].mean, p.means["overall"].low, p.means["overall"].high,
                      p.responses, p.sufficient) for p in points],
        title=t("insight_trend"), lang=language)
    ranked = [(charts.number(r, language), desk_label(g), desk_key(g),
               *mean_text(g.means["staff_behaviour"], language),
               charts.number(g.means["staff_behaviour"].n, language)) for r, g in ranking.ranked]
    unranked = [(desk_label(g), desk_key(g), charts.number(g.means["staff_behaviour"].n, language))
                for g in ranking.insufficient]
    case_counts = sorted(cases.items(), key=lambda item: (-item[1], item[0]))
    extras = dashboard_extras(auth.store(), month_text(month), office, language,
                               lambda code: service_label(entries, code))
    return render_template(
        "central/insight/dashboard.html", **extras,
        **common(month, latest, office, offices=office_choices(by_office)),
        total=stats_row("total", t("insight_total"), total[0], language) if total else None,
        sections=sections, ranked=ranked, unranked=unranked,
        service_chart=Markup(service_chart), office_chart=Markup(office_chart),
        trend_chart=Markup(trend_chart),
        cases=[(type_name(k), charts.number(v, language)) for k, v in case_counts],
        cases_total=charts.number(sum(cases.values()), language))


def version_text(found: A.VersionMatch, lang: str) -> str:
    """One catalogue version's line under a service: which version, from when, how answered."""
    s = found.stats.matched
    yes = charts.number(s.share, lang, percent=True)
    n = charts.number(s.n, lang)
    if not found.version:
        return t("insight_version_builtin", n=n, yes=yes)
    day = format_jalali_date(date.fromisoformat(found.effective_from), persian_digits=lang == "fa")
    return t("insight_version", version=charts.number(found.version, lang), day=day, n=n, yes=yes)


@bp.get("/announcements")
@require(*ROLES)
def announcements():
    month, latest = selected_month()
    office = text_arg("office")
    language = lang()
    entries = catalogue()
    matches = by_no_share(A.matched_by_service(auth.store(), month, office=office, catalogue=entries))
    rows = []
    for m in matches:
        s = m.stats.matched
        no = no_share(m)
        entry = m.catalogue or {}
        fee = entry.get("fee_rials")
        rows.append({
            "service": m.service, "label": service_label(entries, m.service),
            "href": url_for(".service", service_id=m.service, month=month_text(month)) if m.service else None,
            "n": charts.number(s.n, language), "sufficient": s.n >= A.MIN_RESPONSES,
            "yes": share_text(s.share, s.low, s.high, language),
            "partly": charts.number(s.partly / s.n if s.n else None, language, percent=True),
            "no": share_text(no.share, no.low, no.high, language),
            "time": (entry.get("time") or {}).get(language) or (entry.get("time") or {}).get("fa"),
            "fee": None if fee is None else t("insight_rials", fee=int(fee)),
            "in_catalogue": m.catalogue is not None,
            "versions": [version_text(v, language) for v in m.versions if len(m.versions) > 1 or v.version],
        })
    chart = charts.bar_chart(
        [charts.Bar(r["label"], no_share(m).share, no_share(m).low, no_share(m).high, m.stats.matched.n,
                    r["sufficient"]) for r, m in zip(rows, matches)],
        title=t("insight_no"), lang=language, share=True,
        insufficient_note=t("insight_rule", n=A.MIN_RESPONSES).split("—")[0].strip())
    return render_template("central/insight/announcements.html",
                           **common(month, latest, office, offices=office_choices()),
                           rows=rows, chart=Markup(chart))

@bp.get("/services/<service_id>")
@require(*ROLES)
def service(service_id: str):
    month, latest = selected_month()
    language = lang()
    entries = catalogue()
    entry = entries.get(service_id)
    groups = A.satisfaction(auth.store(), month, ("service",), service=service_id)
    row = stats_row(service_id, service_label(entries, service_id), groups[0], language) if groups else None
    matched = None
    if groups:
        s = groups[0].matched
        matched = {"n": charts.number(s.n, language),
                   "yes": share_text(s.share, s.low, s.high, language),
                   "partly": charts.number(s.partly / s.n if s.n else None, language, percent=True),
                   "no": share_text(*_share_figures(A.wilson_interval(s.n - s.yes - s.partly, s.n)),
                                    language)}
    if entry is None and not groups:
        abort(404)

    def pick(value) -> str | None:
        if isinstance(value, dict):
            return value.get(language) or value.get("fa")
        return value

    fee = (entry or {}).get("fee_rials")
    return render_template(
        "central/insight/service.html", **common(month, latest, None),
        service_id=service_id, label=service_label(entries, service_id), entry=entry,
        documents=[pick(d) for d in (entry or {}).get("documents") or []],
        fee=None if fee is None else t("insight_rials", fee=int(fee)),
        time=pick((entry or {}).get("time")), legal_basis=pick((entry or {}).get("legal_basis")),
        row=row, matched=matched)

@bp.get("/comments")
@require(*ROLES)
def comments():
    month, latest = selected_month()
    office = text_arg("office")
    service_id = text_arg("service")
    source = request.args.get("source") if request.args.get("source") in SOURCES else None
    writing = request.args.get("writing") if request.args.get("writing") in ("yes", "no", "any") else "yes"
    search = text_arg("q")
    after = request.args.get("after") or None
    entries = catalogue()
    try:
        page = A.comments(auth.store(), month, office=office, service=service_id, source=source,
                          writing=writing, search=search, after=after, viewer=auth.current_user().name,
                          now=auth.now())  # audited there
    except ValueError:  # a tampered page cursor
        abort(400)
    filters = {"month": month_text(month), "office": office, "service": service_id,
               "source": source, "writing": writing, "q": search}
    items = [{"uuid": c.uuid, "office": c.office, "date": c.created_at,
              "source": source_label(c.source), "service": service_label(entries, c.service),
              "text": c.text, "crop": url_for(".crop", response_uuid=c.uuid) if c.crop and not c.text else None,
              "writing": c.writing}
             for c in page.comments]
    clean = {k: v for k, v in filters.items() if v}
    return render_template(
        "central/insight/comments.html", **common(month, latest, office, offices=office_choices()),
        filters=filters, items=items,
        services=sorted(((code, service_label(entries, code)) for code in entries), key=lambda s: s[1]),
        first_page=url_for(".comments", **clean) if after else None,
        next_page=url_for(".comments", **clean, after=page.next_cursor) if page.next_cursor else None,
        page_size=t("insight_page_size", n=A.COMMENT_PAGE))

@bp.get("/comments/<response_uuid>/crop.png")
@require(*ROLES)
def crop(response_uuid: str):
    data = A.comment_crop_image(auth.store(), response_uuid, viewer=auth.current_user().name,
                                now=auth.now())  # audited there
    if data is None:
        abort(404)
    answer = Response(data, mimetype="image/png")
    answer.headers["Cache-Control"] = "private, no-store"
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer

@bp.get("/export/<what>.csv")
@require(*ROLES)
def export(what: str):
    month, _ = selected_month()
    office = text_arg("office")
    label = month_text(month)
    try:
        columns, rows = analysis_rows(auth.store(), what, label, office, viewer=auth.current_user().name,
                                      now=auth.now())  # audited there
    except ExportError:
        abort(404)
    name = f"{what}-{label}{'-' + _SAFE_NAME.sub('_', office) if office else ''}.csv"
    answer = Response(_csv_lines(columns, rows), mimetype="text/csv")
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    answer.headers["Cache-Control"] = "private, no-store"
    return answer

