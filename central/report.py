"""`seda central report`: the monthly report for a provincial director (Persian PDF, reportlab).

Page 1 is for reading in a minute, in plain Persian, with office names where the central office
gave them (``seda central office name``), else their codes:

- how many visitors answered (paper and kiosk) and how many cases arrived;
- the three Article 9 figures, each with its change from last month: (1) the workflow and
  (3) the staff's behaviour out of 5, (2) the share who found the visit matched what was
  announced beforehand;
- cases answered within their deadline, still open, overdue;
- the three services with the lowest overall satisfaction among those with at least
  ``min_responses`` answers (fewer answers are never compared);
- the number of comments, answers still waiting for review, offices that stopped handing out
  paper sheets.

The pages after it hold the details: tables with 95 % intervals per office or service, paper
vs kiosk, charts, the 12-month trend, question (2) per service next to the catalogue, the desk
ranking with the fairness rule (and how many answers name no desk), waiting time, cases per
unit and office, responses per working day.  Every number comes from :mod:`.figures` and
:mod:`.analysis`, the functions behind ``seda central figures`` and the dashboard.  Table cells
wrap instead of being cut; text is black or dark grey, never faint.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from functools import lru_cache

from arabic_reshaper import reshape
from bidi.algorithm import get_display

from forms.digits import figure
from forms.messages import localize_number
from forms.persian import format_jalali_date, jalali_month_name, to_persian_digits
from forms.typography import BOLD, REGULAR, register_fonts, text_width, wrap

from . import analysis as A
from . import figures as F
from .casework import Casework
from .exports import atomic_write
from .messages import MESSAGES

__all__ = ["write_report", "fairness_note"]

PAGE_W, PAGE_H = A4
MARGIN = 40
RIGHT = PAGE_W - MARGIN
WIDTH = PAGE_W - 2 * MARGIN
#: Where the survey answer came from -> its name in the catalogue.
SOURCE_KEYS = {"kiosk": "report_source_kiosk", "paper": "report_source_paper"}
#: The waiting-time question's options -> their names in the catalogue.
WAIT_KEYS = {"under_10": "report_wait_under_10", "10_30": "report_wait_10_30", "30_60": "report_wait_30_60",
             "over_60": "report_wait_over_60"}
INK = colors.black
SECOND = colors.HexColor("#333333")   # secondary text: dark, never faint
BAR = colors.HexColor("#2f6f9f")
HEAD = colors.HexColor("#dde7ef")
SHADE = colors.HexColor("#eeeeee")
BOX = colors.HexColor("#f3f6f9")


@lru_cache(maxsize=4096)
def shape(text: str) -> str:
    """Persian text in drawing order, always as a right-to-left paragraph: a cell that starts
    with an office code ("LOR-01 / باجه ۳") must not be laid out left to right."""
    return get_display(reshape(to_persian_digits(text)), base_dir="R")


def _w(key: str, /, **values: object) -> str:
    """The report's words: the central catalogue's Persian (central/translations); every
    number arrives already written (Persian digits, separators) as a string."""
    return MESSAGES.text(key, "fa", **values)


def fairness_note(min_responses: int) -> str:
    """The fairness rule as the report prints it, e.g. "کمتر از ۳۰ پاسخ: رتبه‌بندی نمی‌شود"."""
    return _w("report_fairness_rule", n=to_persian_digits(min_responses))


def _num(value: float | None, digits: int = 2) -> str:
    return figure(None if value is None else float(value), "fa", digits)


def _int(value: int | None) -> str:
    return "—" if value is None else localize_number(value, "fa", grouping=True)


def _pct(value: float | None) -> str:
    return figure(value, "fa", percent=True)


class _Page:
    """A canvas with a right-to-left text cursor; text wraps, tables wrap their cells."""

    def __init__(self, canvas: Canvas, title: str) -> None:
        self.c = canvas
        self.title = title
        self.y = PAGE_H - MARGIN
        self.page = 0
        self.new_page(first=True)

    def new_page(self, first: bool = False) -> None:
        if not first:
            self.c.showPage()
        self.page += 1
        self.y = PAGE_H - MARGIN
        self.c.setFont(REGULAR, 8)
        self.c.setFillColor(SECOND)
        self.c.drawRightString(RIGHT, MARGIN / 2, shape(_w("report_page_footer", title=self.title, page=str(self.page))))
        self.c.setFillColor(INK)

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.new_page()

    def text(self, text: str, size: float = 10, bold: bool = False, gap: float = 4, color=INK,
             indent: float = 0) -> None:
        """A paragraph, wrapped to the page width (less ``indent`` on the right)."""
        lines = wrap(text, WIDTH - indent, size, bold) or [""]
        for line in lines:
            self.need(size * 1.5)
            self.c.setFillColor(color)
            self.c.setFont(BOLD if bold else REGULAR, size)
            self.c.drawRightString(RIGHT - indent, self.y - size, shape(line))
            self.y -= size * 1.5
        self.c.setFillColor(INK)
        self.y -= gap

    def heading(self, text: str, size: float = 12.5, keep: float = 70) -> None:
        """A heading kept on the page with the first ``keep`` points of what follows."""
        self.need(size * 2 + keep)
        self.y -= 4
        self.text(text, size=size, bold=True, gap=4)

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float],
              shaded: set[int] = frozenset(), size: float = 8.5) -> None:
        """Columns laid out right to left; ``widths`` in reading order.  A cell wraps to as
        many lines as it needs; a header row starts every page the table runs onto."""
        scale = WIDTH / sum(widths) if sum(widths) > WIDTH else 1.0
        widths = [w * scale for w in widths]
        line = size * 1.45

        def cell_lines(cell: str, width: float, bold: bool) -> tuple[list[str], float]:
            text, fit = str(cell), size
            lines = wrap(text, width - 6, fit, bold) or [""]
            while fit > 6 and any(text_width(piece, fit, bold) > width - 6 for piece in lines):
                fit -= 0.5  # a single word wider than its column: smaller, never cut
                lines = wrap(text, width - 6, fit, bold) or [""]
            return lines, fit

        def draw_row(cells: list[str], bold: bool, fill) -> None:
            laid = [cell_lines(c, w, bold) for c, w in zip(cells, widths)]
            height = max(len(lines) for lines, _ in laid) * line + 5
            if fill is not None:
                self.c.setFillColor(fill)
                self.c.rect(RIGHT - sum(widths), self.y - height, sum(widths), height, stroke=0, fill=1)
            self.c.setFillColor(INK)
            x = RIGHT
            for (lines, fit), width in zip(laid, widths):
                self.c.setFont(BOLD if bold else REGULAR, fit)
                for i, piece in enumerate(lines):
                    self.c.drawRightString(x - 3, self.y - 2 - fit - i * line, shape(piece))
                x -= width
            self.c.setStrokeColor(colors.HexColor("#b8c2ca"))
            self.c.line(RIGHT - sum(widths), self.y - height, RIGHT, self.y - height)
            self.y -= height

        def row_height(cells: list[str], bold: bool) -> float:
            return max(len(cell_lines(c, w, bold)[0]) for c, w in zip(cells, widths)) * line + 5

        self.need(row_height(headers, True) + (row_height(rows[0], False) if rows else 0))
        draw_row(headers, True, HEAD)
        for index, row in enumerate(rows):
            if self.y - row_height(row, False) < MARGIN:
                self.new_page()
                draw_row(headers, True, HEAD)
            draw_row(row, False, SHADE if index in shaded else None)
        self.y -= 8

    def drawing(self, drawing: Drawing) -> None:
        self.need(drawing.height + 6)
        renderPDF.draw(drawing, self.c, RIGHT - drawing.width, self.y - drawing.height)
        self.y -= drawing.height + 6

    def box(self, lines: list[tuple[str, float, bool]]) -> None:
        """Key figures on a light panel: (text, size, bold) per paragraph, wrapped."""
        laid = [(wrap(text, WIDTH - 24, size, bold) or [""], size, bold) for text, size, bold in lines]
        height = sum(len(ls) * size * 1.5 + 3 for ls, size, _ in laid) + 16
        self.need(height)
        self.c.setFillColor(BOX)
        self.c.setStrokeColor(colors.HexColor("#9fb3c4"))
        self.c.roundRect(MARGIN, self.y - height, WIDTH, height, 6, stroke=1, fill=1)
        self.c.setFillColor(INK)
        y = self.y - 8
        for pieces, size, bold in laid:
            self.c.setFont(BOLD if bold else REGULAR, size)
            for piece in pieces:
                self.c.drawRightString(RIGHT - 12, y - size, shape(piece))
                y -= size * 1.5
            y -= 3
        self.y -= height + 10


def _label_fit(label: str, width: float, size: float) -> tuple[list[str], float]:
    """A chart label on at most two lines, smaller if it must be: never cut off."""
    while size > 5.5:
        lines = wrap(label, width, size)
        if len(lines) <= 2 and all(text_width(line, size) <= width for line in lines):
            return lines, size
        size -= 0.5
    return wrap(label, width, size)[:2] or [label], size


def _bar_chart(groups: list[tuple[str, A.Mean]], width: float = WIDTH) -> Drawing:
    """Horizontal bars of means (1-5) with 95 % whiskers; labels on the right, bars grow left."""
    row = 20
    height = row * len(groups) + 24
    d = Drawing(width, height)
    label_w = 160
    axis_right = width - label_w
    scale = (axis_right - 30) / 4.0  # 1..5

    def x(v: float) -> float:
        return axis_right - (v - 1) * scale

    for tick in range(1, 6):
        d.add(Line(x(tick), 14, x(tick), height, strokeColor=colors.HexColor("#c8d0d6"), strokeWidth=0.5))
        d.add(String(x(tick), 2, shape(str(tick)), fontName=REGULAR, fontSize=7.5, textAnchor="middle",
                     fillColor=INK))
    for i, (label, mean) in enumerate(groups):
        top = height - (i + 1) * row
        lines, size = _label_fit(label, label_w - 8, 8)
        for j, piece in enumerate(lines):
            offset = (len(lines) - 1) * size * 0.55 - j * size * 1.1
            d.add(String(width, top + row / 2 - size / 3 + offset, shape(piece), fontName=REGULAR, fontSize=size,
                         textAnchor="end", fillColor=INK))
        if mean.mean is None:
            continue
        d.add(Rect(x(mean.mean), top + 4, axis_right - x(mean.mean), row - 8, fillColor=BAR, strokeColor=None))
        if mean.low is not None:
            mid = top + row / 2
            d.add(Line(x(mean.low), mid, x(mean.high), mid, strokeColor=INK, strokeWidth=0.8))
            for v in (mean.low, mean.high):
                d.add(Line(x(v), mid - 3, x(v), mid + 3, strokeColor=INK, strokeWidth=0.8))
    return d


def _trend_chart(points: list[A.GroupStats], question: str = "overall",
                 width: float = WIDTH, height: float = 130) -> Drawing:
    """Monthly mean (line) with its 95 % band as whiskers; time runs right to left."""
    d = Drawing(width, height)
    left, right, bottom, top = 24, width - 10, 28, height - 8
    step = (right - left) / max(1, len(points) - 1)

    def y(v: float) -> float:
        return bottom + (v - 1) / 4 * (top - bottom)

    for tick in range(1, 6):
        d.add(Line(left, y(tick), right, y(tick), strokeColor=colors.HexColor("#c8d0d6"), strokeWidth=0.5))
        d.add(String(left - 6, y(tick) - 3, shape(str(tick)), fontName=REGULAR, fontSize=7.5,
                     textAnchor="end", fillColor=INK))
    line = []
    for i, point in enumerate(points):
        px = right - i * step
        year, month = point.key["month"].split("-")
        d.add(String(px, bottom - 12, shape(jalali_month_name(int(month))), fontName=REGULAR,
                     fontSize=7, textAnchor="middle", fillColor=INK))
        d.add(String(px, bottom - 21, shape(year), fontName=REGULAR, fontSize=6.5, textAnchor="middle",
                     fillColor=SECOND))
        mean = point.means[question]
        if mean.mean is None:
            continue
        line += [px, y(mean.mean)]
        if mean.low is not None:
            d.add(Line(px, y(mean.low), px, y(mean.high), strokeColor=SECOND, strokeWidth=0.8))
    if len(line) >= 4:
        d.add(PolyLine(line, strokeColor=BAR, strokeWidth=1.5))
    for px, py in zip(line[::2], line[1::2]):
        d.add(Rect(px - 1.8, py - 1.8, 3.6, 3.6, fillColor=BAR, strokeColor=None))
    return d


def _stats_row(label: str, g: A.GroupStats, min_responses: int) -> list[str]:
    m = g.means
    small = "" if g.responses >= min_responses else f" ({_w('report_insufficient')})"
    return [label + small, _int(g.responses),
            *(f"{_num(m[q].mean)} ({_num(m[q].low)}–{_num(m[q].high)})" for q in A.RATING_QUESTIONS),
            f"{_pct(g.matched.share)} ({_pct(g.matched.low)}–{_pct(g.matched.high)})"]


def _stats_headers() -> list[str]:
    return ["", _w("report_col_count"), _w("report_col_workflow"), _w("report_col_staff"),
            _w("report_col_overall"), _w("report_col_matched")]


def _source_name(source: str | None) -> str:
    key = SOURCE_KEYS.get(source or "")
    return _w(key) if key else (source or _w("report_unknown"))


_STATS_WIDTHS = [115, 45, 85, 85, 85, 100]


def _previous(year: int, number: int) -> tuple[int, int]:
    return (year - 1, 12) if number == 1 else (year, number - 1)


def _mean_change(this: A.Mean, before: A.Mean, before_name: str) -> str:
    if this.mean is None:
        return _w("report_no_answers")
    if before.mean is None:
        return _w("report_none_before", month=before_name)
    diff = this.mean - before.mean
    if abs(diff) < 0.05:
        return _w("report_same_as", month=before_name, value=_num(before.mean, 1))
    return _w("report_more_than" if diff > 0 else "report_less_than", diff=_num(abs(diff), 1), month=before_name,
              value=_num(before.mean, 1))


def _share_change(this: A.Share, before: A.Share, before_name: str) -> str:
    if this.share is None:
        return _w("report_no_answers")
    if before.share is None:
        return _w("report_none_before", month=before_name)
    points = round(100 * (this.share - before.share))
    if points == 0:
        return _w("report_same_as", month=before_name, value=_pct(before.share))
    return _w("report_points_more" if points > 0 else "report_points_less", points=to_persian_digits(abs(points)),
              month=before_name, value=_pct(before.share))


#: How many times :func:`write_report` calls ``advance``: once per query stage, per part drawn.
REPORT_STEPS = 7


def write_report(store, month: str, out: Path, *, office: str | None = None,
                 min_responses: int = A.MIN_RESPONSES, catalogue: dict | None = None,
                 now: datetime | None = None, advance: Callable[[], None] | None = None) -> int:
    """Write the report for Jalali ``month`` to ``out`` (atomically); returns the page count.
    ``advance()`` is called :data:`REPORT_STEPS` times as the work goes (the command's bar)."""
    step = advance or (lambda: None)
    year, number = A.month_key(month)
    label = f"{year:04d}-{number:02d}"
    register_fonts()
    catalogue = catalogue if catalogue is not None else A.service_catalogue(store)
    names = F.office_names(store)

    def service_name(sid: str | None) -> str:
        entry = catalogue.get(sid or "")
        return (entry or {}).get("name", {}).get("fa") or (sid or _w("report_unknown_service"))

    def office_name(code: str | None) -> str:
        if not code:
            return _w("report_unknown")
        return (names.get(code) or {}).get("fa") or code

    month_fa = f"{jalali_month_name(number)} {to_persian_digits(year)}"
    before_key = _previous(year, number)
    before_name = jalali_month_name(before_key[1])
    scope = office_name(office) if office else _w("report_all_offices")
    title = _w("report_title", month=month_fa, scope=scope)
    found = F.figures(store, label, office, now=now)
    step()
    total = A.satisfaction(store, (year, number), (), office=office, min_responses=min_responses)
    before = A.satisfaction(store, before_key, (), office=office, min_responses=min_responses)
    step()
    empty = A.GroupStats({}, 0, {q: A.Mean(0, None, None, None) for q in A.RATING_QUESTIONS},
                         A.Share(0, 0, 0, None, None, None), min_responses)
    this_month, last_month = (total[0] if total else empty), (before[0] if before else empty)
    by_service = A.satisfaction(store, (year, number), ("service",), office=office, min_responses=min_responses)
    units = {u.code: u.name_fa for u in Casework(store).units(include_inactive=True)}
    step()

    def draw(tmp: Path) -> int:
        canvas = Canvas(str(tmp), pagesize=A4)
        canvas.setTitle(f"Seda monthly report {label}")
        p = _Page(canvas, title)
        _summary_page(p, found, this_month, last_month, before_name, by_service, month_fa, scope,
                      service_name, office_name, office, min_responses)
        step()
        p.new_page()
        _details(p, store, (year, number), found, office, min_responses, catalogue, service_name,
                 office_name, units)
        step()
        canvas.showPage()
        canvas.save()
        step()
        return p.page

    pages = atomic_write(out, draw)
    step()
    return pages


def _summary_page(p: _Page, found: dict[str, Any], this: A.GroupStats, before: A.GroupStats,
                  before_name: str, by_service: list[A.GroupStats], month_fa: str, scope: str,
                  service_name, office_name, office: str | None, min_responses: int) -> None:
    """Page 1: the month in a minute, plain Persian."""
    r, cases = found["responses"], found["cases"]
    p.text(_w("report_heading"), size=19, bold=True, gap=2)
    p.text(f"{month_fa} — {scope}", size=13, bold=True, gap=8)
    where = _w("report_where_this_office" if office else "report_where_offices")
    if r["total"]:
        p.text(_w("report_month_answers", total=_int(r["total"]), paper=_int(r["paper"]), kiosk=_int(r["kiosk"]),
                  cases=_int(cases["received"]), where=where), size=11, gap=8)
    else:
        p.text(_w("report_month_no_answers", cases=_int(cases["received"]), where=where), size=11, gap=8)

    p.heading(_w("report_article9_heading"))
    m = this.means
    if r["total"]:
        p.box([
            (_w("report_box_workflow", mean=_num(m["workflow"].mean, 1),
                change=_mean_change(m["workflow"], before.means["workflow"], before_name)), 11.5, True),
            (_w("report_box_based_on", n=_int(m["workflow"].n)), 9, False),
            (_w("report_box_matched", share=_pct(this.matched.share),
                change=_share_change(this.matched, before.matched, before_name)), 11.5, True),
            (_w("report_box_matched_based_on", n=_int(this.matched.n), partly=_int(this.matched.partly)), 9, False),
            (_w("report_box_staff", mean=_num(m["staff_behaviour"].mean, 1),
                change=_mean_change(m["staff_behaviour"], before.means["staff_behaviour"], before_name)), 11.5, True),
            (_w("report_box_based_on", n=_int(m["staff_behaviour"].n)), 9, False),
        ])
    else:
        p.text(_w("report_box_none"), size=10.5)

    p.heading(_w("report_cases_heading"))
    if cases["received"]:
        median = cases["median_working_days"]
        p.text(_w("report_cases_summary", received=_int(cases["received"]), on_time=_int(cases["answered_on_time"]),
                  share=_pct(cases["on_time_share"]), late=_int(cases["answered_late"]), open=_int(cases["open"]),
                  overdue=_int(cases["open_overdue"]))
               + ("" if median is None else " " + _w("report_cases_median", days=_num(median, 1))), size=10.5)
    else:
        p.text(_w("report_no_cases"), size=10.5)

    p.heading(_w("report_lowest_heading"))
    eligible = sorted((g for g in by_service if g.means["overall"].n >= min_responses and g.key.get("service")),
                      key=lambda g: (g.means["overall"].mean, g.key["service"]))[:3]
    if eligible:
        for i, g in enumerate(eligible, 1):
            p.text(_w("report_lowest_item", rank=to_persian_digits(i), service=service_name(g.key["service"]),
                      mean=_num(g.means["overall"].mean, 1), n=_int(g.means["overall"].n)), size=10.5, indent=8)
    else:
        p.text(_w("report_lowest_none", n=to_persian_digits(min_responses)), size=10.5)
    p.text(_w("report_lowest_rule", n=to_persian_digits(min_responses)), size=9, color=SECOND)

    p.heading(_w("report_comments_heading"))
    comments = found["questions"].get("comment", {}).get("answered", 0)
    if comments:
        p.text(_w("report_comments", n=_int(comments)), size=10.5)
    else:
        p.text(_w("report_comments_none"), size=10.5)
    pending = sum(q["pending_review"] for q in found["questions"].values())
    if pending:
        p.text(_w("report_pending", n=_int(pending)), size=10.5)
    silent = [c for c, e in found["offices"].items() if e["stopped"]]
    if silent:
        p.heading(_w("report_silent_heading"))
        p.text(_w("report_silent", days=to_persian_digits(F.STOPPED_AFTER),
                  offices=_w("list_comma").join(office_name(c) for c in silent)), size=10.5)
    p.text(_w("report_more_on_next"), size=9.5, color=SECOND, gap=0)


def _version_words(found: A.VersionMatch) -> str:
    share = _pct(found.stats.matched.share)
    n = _int(found.stats.matched.n)
    if not found.version:
        return _w("report_version_before_first", n=n, share=share)
    day = format_jalali_date(date.fromisoformat(found.effective_from))
    return _w("report_version", version=to_persian_digits(found.version), day=day, n=n, share=share)


def _details(p: _Page, store, key: tuple[int, int], found: dict[str, Any], office: str | None,
             min_responses: int, catalogue: dict, service_name, office_name, units: dict[str, str]) -> None:
    """The pages after the summary: every figure with its interval and its group."""
    p.text(_w("report_details"), size=15, bold=True, gap=4)
    p.text(_w("report_details_intro", fairness=fairness_note(min_responses)), size=9, color=SECOND, gap=8)
    by = "service" if office else "office"
    groups = A.satisfaction(store, key, (by,), office=office, min_responses=min_responses)
    total = A.satisfaction(store, key, (), office=office, min_responses=min_responses)
    if not total:
        p.text(_w("report_no_responses"), size=11, bold=True)
    else:
        p.heading(_w("report_summary_by_service" if office else "report_summary_by_office"))
        label = service_name if office else office_name
        rows = [_stats_row(label(g.key[by]), g, min_responses) for g in groups]
        rows.append(_stats_row(_w("report_total"), total[0], min_responses))
        p.table(_stats_headers(), rows, _STATS_WIDTHS, shaded={i for i, g in enumerate(groups) if not g.sufficient})
        p.heading(_w("report_paper_and_kiosk"))
        split = A.satisfaction(store, key, ("source",), office=office, min_responses=min_responses)
        p.table(_stats_headers(), [_stats_row(_source_name(g.key["source"]), g, min_responses) for g in split],
                _STATS_WIDTHS,
                shaded={i for i, g in enumerate(split) if not g.sufficient})
        by_service = A.satisfaction(store, key, ("service",), office=office, min_responses=min_responses)
        chart = _bar_chart([(service_name(g.key["service"]), g.means["overall"]) for g in by_service])
        p.heading(_w("report_chart_by_service"), keep=chart.height + 6)
        p.drawing(chart)
        if not office:
            chart = _bar_chart([(office_name(g.key["office"]), g.means["overall"]) for g in groups])
            p.heading(_w("report_chart_by_office"), keep=chart.height + 6)
            p.drawing(chart)

    chart = _trend_chart(A.trend(store, key, 12, office=office, min_responses=min_responses))
    p.heading(_w("report_trend"), keep=chart.height + 6)
    p.drawing(chart)

    p.heading(_w("report_q2_heading"))
    p.text(_w("report_q2_note"), size=9, color=SECOND)
    matches = A.matched_by_service(store, key, office=office, catalogue=catalogue, min_responses=min_responses)
    rows, shaded = [], set()
    for i, m in enumerate(matches):
        entry = m.catalogue or {}
        fee = entry.get("fee_rials")
        small = "" if m.stats.matched.n >= min_responses else f" ({_w('report_insufficient')})"
        rows.append([service_name(m.service) + small, _int(m.stats.matched.n),
                     f"{_pct(m.stats.matched.share)} ({_pct(m.stats.matched.low)}–{_pct(m.stats.matched.high)})",
                     _pct(m.no_share), (entry.get("time") or {}).get("fa", _w("report_not_in_catalogue")),
                     "—" if fee is None else _w("report_rials", amount=_int(int(fee)))])
        if m.stats.matched.n < min_responses:
            shaded.add(i)
    if rows:
        p.table([_w("report_col_service"), _w("report_col_count"), _w("report_col_yes"), _w("report_col_no"),
                 _w("report_col_announced_time"), _w("report_col_announced_fee")], rows,
                [120, 40, 95, 45, 120, 95], shaded=shaded)
    for m in matches:  # each answer was compared with the version in force on its visit day
        if len(m.versions) > 1 or any(v.version for v in m.versions):
            p.text(_w("report_versions_line", service=service_name(m.service),
                      versions=_w("list_semicolon").join(_version_words(v) for v in m.versions)),
                   size=9, color=SECOND)

    p.heading(_w("report_desks_heading"))
    p.text(_w("report_desks_rule", fairness=fairness_note(min_responses)), size=9.5, bold=True)
    desks = A.satisfaction(store, key, ("office", "desk"), office=office, min_responses=min_responses)
    ranking = A.rank(desks, "staff_behaviour", min_responses=min_responses)
    quality = found["desks"]
    if quality["with_desk"] + quality["without_desk"]:
        p.text(_w("report_desk_share", share=_pct(quality["share_with_desk"]), with_desk=_int(quality["with_desk"]),
                  total=_int(quality["with_desk"] + quality["without_desk"])), size=9.5)

    def desk(g: A.GroupStats) -> str:
        return _w("report_office_desk", office=office_name(g.key["office"]), desk=to_persian_digits(g.key["desk"]))

    rows = [[_int(r), desk(g),
             _int(g.means["staff_behaviour"].n),
             f"{_num(g.means['staff_behaviour'].mean)} ({_num(g.means['staff_behaviour'].low)}–"
             f"{_num(g.means['staff_behaviour'].high)})"] for r, g in ranking.ranked]
    rows += [[_w("report_insufficient"), desk(g), _int(g.means["staff_behaviour"].n), _w("report_not_ranked")]
             for g in ranking.insufficient]
    if rows:
        p.table([_w("report_col_rank"), _w("report_col_office_desk"), _w("report_col_count"),
                 _w("report_col_staff_behaviour")], rows, [70, 170, 60, 150],
                shaded=set(range(len(ranking.ranked), len(rows))))

    waiting = found["waiting_time"]
    by_group = waiting["by_service"] if office else waiting["by_office"]
    if by_group:
        p.heading(_w("report_waiting_by_service" if office else "report_waiting_by_office"))
        options = waiting["options"]
        rows = []
        for code, counts in by_group.items():
            n = sum(counts.values())
            rows.append([service_name(code) if office else office_name(code),
                         *(f"{_int(counts.get(o, 0))} ({_pct(counts.get(o, 0) / n if n else None)})" for o in options),
                         _int(n)])
        p.table(["", *(_w(WAIT_KEYS[o]) if o in WAIT_KEYS else o for o in options), _w("report_col_count")], rows, [120, *([82] * len(options)), 50])

    cases = found["cases"]
    p.heading(_w("report_cases_month_heading"))
    if cases["received"]:
        headers = ["", *(_w(k) for k in ("report_col_received", "report_col_on_time", "report_col_late",
                                          "report_col_closed_unanswered", "report_col_open", "report_col_overdue",
                                          "report_col_on_time_share", "report_col_median_days"))]
        widths = [105, 45, 45, 45, 55, 40, 55, 50, 50]

        def case_row(label: str, g: dict[str, Any]) -> list[str]:
            return [label, _int(g["received"]), _int(g["answered_on_time"]), _int(g["answered_late"]),
                    _int(g["closed_unanswered"]), _int(g["open"]), _int(g["open_overdue"]),
                    _pct(g["on_time_share"]), _num(g["median_working_days"], 1)]

        p.table([_w("report_col_unit"), *headers[1:]],
                [case_row(units.get(u, u), g) for u, g in cases["by_unit"].items()]
                + [case_row(_w("report_total"), cases)], widths)
        if not office:
            p.table([_w("report_col_office"), *headers[1:]], [case_row(office_name(o), g) for o, g in cases["by_office"].items()],
                    widths)
    else:
        p.text(_w("report_no_cases"), size=10)

    days = found["offices"]
    if days:
        p.heading(_w("report_per_day_heading"))
        p.text(_w("report_per_day_note"), size=9, color=SECOND)
        rows = [[office_name(code), _int(e["working_days"]), _int(e["responses"]), _num(e["per_working_day"], 1),
                 _int(e["working_days_without_paper"]),
                 format_jalali_date(date.fromisoformat(e["last_paper_day"])) if e["last_paper_day"] else "—",
                 _int(e["working_days_since_last_paper"])] for code, e in days.items()]
        p.table([_w(k) for k in ("report_col_office", "report_col_working_days", "report_col_responses",
                                 "report_col_per_day", "report_col_days_without_paper", "report_col_last_paper",
                                 "report_col_days_since_paper")], rows, [115, 55, 50, 60, 60, 75, 60],
                shaded={i for i, e in enumerate(days.values()) if e["stopped"]})
