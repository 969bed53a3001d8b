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

from forms.persian import format_jalali_date, jalali_month_name, to_persian_digits
from forms.typography import BOLD, REGULAR, register_fonts, text_width, wrap

from . import analysis as A
from . import figures as F
from .casework import Casework
from .exports import atomic_write

__all__ = ["write_report", "fairness_note"]

PAGE_W, PAGE_H = A4
MARGIN = 40
RIGHT = PAGE_W - MARGIN
WIDTH = PAGE_W - 2 * MARGIN
QUESTION_FA = {"workflow": "گردش کار", "staff_behaviour": "رفتار کارکنان", "overall": "رضایت کلی"}
SOURCE_FA = {"kiosk": "کیوسک", "paper": "کاغذی"}
WAIT_FA = {"under_10": "کمتر از ۱۰ دقیقه", "10_30": "۱۰ تا ۳۰ دقیقه", "30_60": "۳۰ تا ۶۰ دقیقه",
           "over_60": "بیش از یک ساعت"}
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


def fairness_note(min_responses: int) -> str:
    """The fairness rule as the report prints it, e.g. "کمتر از ۳۰ پاسخ: رتبه‌بندی نمی‌شود"."""
    return f"کمتر از {to_persian_digits(min_responses)} پاسخ: رتبه‌بندی نمی‌شود"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else to_persian_digits(f"{value:.{digits}f}").replace(".", "٫")


def _int(value: int | None) -> str:
    return "—" if value is None else to_persian_digits(f"{value:,}").replace(",", "٬")


def _pct(value: float | None) -> str:
    return "—" if value is None else to_persian_digits(f"{100 * value:.0f}") + "٪"


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
        self.c.drawRightString(RIGHT, MARGIN / 2, shape(f"{self.title} — صفحه {self.page}"))
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
    small = "" if g.responses >= min_responses else " (داده ناکافی)"
    return [label + small, _int(g.responses),
            *(f"{_num(m[q].mean)} ({_num(m[q].low)}–{_num(m[q].high)})" for q in A.RATING_QUESTIONS),
            f"{_pct(g.matched.share)} ({_pct(g.matched.low)}–{_pct(g.matched.high)})"]


_STATS_HEADERS = ["", "تعداد", "۱- گردش کار", "۳- رفتار کارکنان", "رضایت کلی", "۲- تطبیق با اعلام‌شده (بله)"]
_STATS_WIDTHS = [115, 45, 85, 85, 85, 100]


def _previous(year: int, number: int) -> tuple[int, int]:
    return (year - 1, 12) if number == 1 else (year, number - 1)


def _mean_change(this: A.Mean, before: A.Mean, before_name: str) -> str:
    if this.mean is None:
        return "پاسخی نبود"
    if before.mean is None:
        return f"در {before_name} پاسخی نبود"
    diff = this.mean - before.mean
    if abs(diff) < 0.05:
        return f"همانند {before_name} ({_num(before.mean, 1)})"
    return f"{_num(abs(diff), 1)} {'بیشتر' if diff > 0 else 'کمتر'} از {before_name} ({_num(before.mean, 1)})"


def _share_change(this: A.Share, before: A.Share, before_name: str) -> str:
    if this.share is None:
        return "پاسخی نبود"
    if before.share is None:
        return f"در {before_name} پاسخی نبود"
    points = round(100 * (this.share - before.share))
    if points == 0:
        return f"همانند {before_name} ({_pct(before.share)})"
    return f"{to_persian_digits(abs(points))} واحد درصد {'بیشتر' if points > 0 else 'کمتر'} از {before_name} ({_pct(before.share)})"


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
        return (entry or {}).get("name", {}).get("fa") or (sid or "خدمت نامشخص")

    def office_name(code: str | None) -> str:
        if not code:
            return "نامشخص"
        return (names.get(code) or {}).get("fa") or code

    month_fa = f"{jalali_month_name(number)} {to_persian_digits(year)}"
    before_key = _previous(year, number)
    before_name = jalali_month_name(before_key[1])
    scope = office_name(office) if office else "همه ادارات"
    title = f"گزارش ماهانه صدای مراجعان — {month_fa} — {scope}"
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
    p.text("گزارش ماهانه صدای مراجعان", size=19, bold=True, gap=2)
    p.text(f"{month_fa} — {scope}", size=13, bold=True, gap=8)
    where = "این اداره" if office else "ادارات"
    if r["total"]:
        p.text(f"در این ماه {_int(r['total'])} مراجع نظر خود را گفتند ({_int(r['paper'])} با برگه کاغذی و"
               f" {_int(r['kiosk'])} در کیوسک) و {_int(cases['received'])} درخواست، شکایت، پیشنهاد، انتقاد"
               f" یا گزارش به دست {where} رسید.", size=11, gap=8)
    else:
        p.text(f"در این ماه هیچ پاسخ نظرسنجی ثبت نشده است و {_int(cases['received'])} درخواست، شکایت،"
               f" پیشنهاد، انتقاد یا گزارش به دست {where} رسید.", size=11, gap=8)

    p.heading("سه پرسش ماده ۹ تصویب‌نامه حقوق شهروندی")
    m = this.means
    if r["total"]:
        p.box([
            (f"۱- گردش کار: {_num(m['workflow'].mean, 1)} از ۵ — "
             f"{_mean_change(m['workflow'], before.means['workflow'], before_name)}", 11.5, True),
            (f"بر پایه {_int(m['workflow'].n)} پاسخ.", 9, False),
            (f"۲- تطبیق کار با اطلاعات اعلام‌شده قبلی: {_pct(this.matched.share)} گفتند «بله» — "
             f"{_share_change(this.matched, before.matched, before_name)}", 11.5, True),
            (f"بر پایه {_int(this.matched.n)} پاسخ؛ «تا حدی» {_int(this.matched.partly)} نفر.", 9, False),
            (f"۳- رفتار کارکنان: {_num(m['staff_behaviour'].mean, 1)} از ۵ — "
             f"{_mean_change(m['staff_behaviour'], before.means['staff_behaviour'], before_name)}", 11.5, True),
            (f"بر پایه {_int(m['staff_behaviour'].n)} پاسخ.", 9, False),
        ])
    else:
        p.text("پاسخی نبود که این سه پرسش را بسنجد.", size=10.5)

    p.heading("رسیدگی به پرونده‌ها")
    if cases["received"]:
        p.text(f"از {_int(cases['received'])} پرونده‌ای که در این ماه رسید، {_int(cases['answered_on_time'])}"
               f" پرونده ({_pct(cases['on_time_share'])}) در مهلت پاسخ گرفت و {_int(cases['answered_late'])}"
               f" پرونده با تأخیر. {_int(cases['open'])} پرونده هنوز باز است که {_int(cases['open_overdue'])}"
               " پرونده از مهلت گذشته است." + (f" میانه زمان پاسخ {_num(cases['median_working_days'], 1)} روز کاری بود."
                                               if cases["median_working_days"] is not None else ""), size=10.5)
    else:
        p.text("در این ماه پرونده‌ای نرسید.", size=10.5)

    p.heading("خدماتی که کمترین رضایت را داشته‌اند")
    eligible = sorted((g for g in by_service if g.means["overall"].n >= min_responses and g.key.get("service")),
                      key=lambda g: (g.means["overall"].mean, g.key["service"]))[:3]
    if eligible:
        for i, g in enumerate(eligible, 1):
            p.text(f"{to_persian_digits(i)}. {service_name(g.key['service'])}: رضایت کلی"
                   f" {_num(g.means['overall'].mean, 1)} از ۵ ({_int(g.means['overall'].n)} پاسخ)", size=10.5, indent=8)
    else:
        p.text(f"هیچ خدمتی در این ماه دست‌کم {to_persian_digits(min_responses)} پاسخ نداشت؛ خدمات با پاسخ کمتر"
               " با هم مقایسه نمی‌شوند.", size=10.5)
    p.text(f"فقط خدماتی با دست‌کم {to_persian_digits(min_responses)} پاسخ به رضایت کلی مقایسه شده‌اند.",
           size=9, color=SECOND)

    p.heading("نظرهای مراجعان")
    comments = found["questions"].get("comment", {}).get("answered", 0)
    if comments:
        p.text(f"{_int(comments)} مراجع نظر، پیشنهاد یا انتقاد خود را نوشتند (در کیوسک یا روی برگه)؛ متن آنها"
               " در سامانه ستاد، بخش «نظرها»، خواندنی است.", size=10.5)
    else:
        p.text("در این ماه نظری نوشته نشد.", size=10.5)
    pending = sum(q["pending_review"] for q in found["questions"].values())
    if pending:
        p.text(f"{_int(pending)} پاسخ برگه‌های کاغذی هنوز در انتظار بازبینی کارکنان اداره است و تا بازبینی"
               " در این اعداد شمرده نشده است.", size=10.5)
    silent = [c for c, e in found["offices"].items() if e["stopped"]]
    if silent:
        p.heading("ادارات بی‌پاسخ")
        p.text("در دست‌کم " + to_persian_digits(F.STOPPED_AFTER) + " روز کاری اخیر این ادارات هیچ پاسخی نداشته‌اند،"
               " یا پس از دادن برگه کاغذی دیگر برگه‌ای نداشته‌اند؛ شاید دیگر برگه نظرسنجی به مراجعان نمی‌دهند: "
               + "، ".join(office_name(c) for c in silent) + ".", size=10.5)
    p.text("جزئیات، بازه‌های اطمینان و جدول‌ها در صفحه‌های بعد آمده است.", size=9.5, color=SECOND, gap=0)


def _version_words(found: A.VersionMatch) -> str:
    share = _pct(found.stats.matched.share)
    n = _int(found.stats.matched.n)
    if not found.version:
        return f"پیش از نخستین انتشار شناسنامه {n} پاسخ، «بله» {share}"
    day = format_jalali_date(date.fromisoformat(found.effective_from))
    return f"نسخهٔ {to_persian_digits(found.version)} (اجرا از {day}) {n} پاسخ، «بله» {share}"


def _details(p: _Page, store, key: tuple[int, int], found: dict[str, Any], office: str | None,
             min_responses: int, catalogue: dict, service_name, office_name, units: dict[str, str]) -> None:
    """The pages after the summary: every figure with its interval and its group."""
    p.text("جزئیات", size=15, bold=True, gap=4)
    p.text("ماده ۹ تصویب‌نامه حقوق شهروندی در نظام اداری، بند ۵: نظر مراجعین درباره (۱) نحوه گردش کار،"
           " (۲) تطبیق با اطلاعات اعلام‌شده قبلی و (۳) رفتار متصدیان. اعداد داخل پرانتز بازه اطمینان ۹۵٪ است. "
           + fairness_note(min_responses) + "؛ این گروه‌ها با زمینه خاکستری و «داده ناکافی» آمده‌اند.",
           size=9, color=SECOND, gap=8)
    by = "service" if office else "office"
    groups = A.satisfaction(store, key, (by,), office=office, min_responses=min_responses)
    total = A.satisfaction(store, key, (), office=office, min_responses=min_responses)
    if not total:
        p.text("در این ماه هیچ پاسخی ثبت نشده است.", size=11, bold=True)
    else:
        p.heading(f"خلاصه ({'به تفکیک خدمت' if office else 'به تفکیک اداره'})")
        label = service_name if office else office_name
        rows = [_stats_row(label(g.key[by]), g, min_responses) for g in groups]
        rows.append(_stats_row("جمع", total[0], min_responses))
        p.table(_STATS_HEADERS, rows, _STATS_WIDTHS, shaded={i for i, g in enumerate(groups) if not g.sufficient})
        p.heading("کاغذی و کیوسک")
        split = A.satisfaction(store, key, ("source",), office=office, min_responses=min_responses)
        p.table(_STATS_HEADERS, [_stats_row(SOURCE_FA.get(g.key["source"], g.key["source"] or "نامشخص"), g,
                                            min_responses) for g in split], _STATS_WIDTHS,
                shaded={i for i, g in enumerate(split) if not g.sufficient})
        by_service = A.satisfaction(store, key, ("service",), office=office, min_responses=min_responses)
        chart = _bar_chart([(service_name(g.key["service"]), g.means["overall"]) for g in by_service])
        p.heading("میانگین رضایت کلی به تفکیک خدمت (خط سیاه: بازه اطمینان ۹۵٪)", keep=chart.height + 6)
        p.drawing(chart)
        if not office:
            chart = _bar_chart([(office_name(g.key["office"]), g.means["overall"]) for g in groups])
            p.heading("میانگین رضایت کلی به تفکیک اداره", keep=chart.height + 6)
            p.drawing(chart)

    chart = _trend_chart(A.trend(store, key, 12, office=office, min_responses=min_responses))
    p.heading("روند دوازده ماه اخیر (رضایت کلی)", keep=chart.height + 6)
    p.drawing(chart)

    p.heading("پرسش ۲: تطبیق با اطلاعات اعلام‌شده، به تفکیک خدمت")
    p.text("خدماتی که سهم «بله» در آنها کمتر است بالاتر آمده‌اند؛ اطلاعات اعلام‌شده آنها را بازبینی کنید.",
           size=9, color=SECOND)
    matches = A.matched_by_service(store, key, office=office, catalogue=catalogue, min_responses=min_responses)
    rows, shaded = [], set()
    for i, m in enumerate(matches):
        entry = m.catalogue or {}
        fee = entry.get("fee_rials")
        small = "" if m.stats.matched.n >= min_responses else " (داده ناکافی)"
        rows.append([service_name(m.service) + small, _int(m.stats.matched.n),
                     f"{_pct(m.stats.matched.share)} ({_pct(m.stats.matched.low)}–{_pct(m.stats.matched.high)})",
                     _pct(m.no_share), (entry.get("time") or {}).get("fa", "در شناسنامه خدمات نیست"),
                     "—" if fee is None else _int(int(fee)) + " ریال"])
        if m.stats.matched.n < min_responses:
            shaded.add(i)
    if rows:
        p.table(["خدمت", "تعداد", "بله", "خیر", "زمان اعلام‌شده", "هزینه اعلام‌شده"], rows,
                [120, 40, 95, 45, 120, 95], shaded=shaded)
    for m in matches:  # each answer was compared with the version in force on its visit day
        if len(m.versions) > 1 or any(v.version for v in m.versions):
            p.text(service_name(m.service) + ": " + "؛ ".join(_version_words(v) for v in m.versions) + ".",
                   size=9, color=SECOND)

    p.heading("باجه‌ها (رفتار کارکنان)")
    p.text(fairness_note(min_responses) + "؛ این باجه‌ها جداگانه و بدون رتبه آمده‌اند.", size=9.5, bold=True)
    desks = A.satisfaction(store, key, ("office", "desk"), office=office, min_responses=min_responses)
    ranking = A.rank(desks, "staff_behaviour", min_responses=min_responses)
    quality = found["desks"]
    if quality["with_desk"] + quality["without_desk"]:
        p.text(f"{_pct(quality['share_with_desk'])} پاسخ‌ها شماره باجه دارند ({_int(quality['with_desk'])} از"
               f" {_int(quality['with_desk'] + quality['without_desk'])})؛ پاسخ‌های بدون شماره باجه به هیچ باجه‌ای"
               " نسبت داده نمی‌شوند و در رتبه‌بندی نیستند.", size=9.5)
    rows = [[_int(r), f"{office_name(g.key['office'])} / باجه {to_persian_digits(g.key['desk'])}",
             _int(g.means["staff_behaviour"].n),
             f"{_num(g.means['staff_behaviour'].mean)} ({_num(g.means['staff_behaviour'].low)}–"
             f"{_num(g.means['staff_behaviour'].high)})"] for r, g in ranking.ranked]
    rows += [["داده ناکافی", f"{office_name(g.key['office'])} / باجه {to_persian_digits(g.key['desk'])}",
              _int(g.means["staff_behaviour"].n), "رتبه‌بندی نمی‌شود"] for g in ranking.insufficient]
    if rows:
        p.table(["رتبه", "اداره / باجه", "تعداد", "رفتار کارکنان"], rows, [70, 170, 60, 150],
                shaded=set(range(len(ranking.ranked), len(rows))))

    waiting = found["waiting_time"]
    by_group = waiting["by_service"] if office else waiting["by_office"]
    if by_group:
        p.heading("مدت انتظار " + ("به تفکیک خدمت" if office else "به تفکیک اداره"))
        options = waiting["options"]
        rows = []
        for code, counts in by_group.items():
            n = sum(counts.values())
            rows.append([service_name(code) if office else office_name(code),
                         *(f"{_int(counts.get(o, 0))} ({_pct(counts.get(o, 0) / n if n else None)})" for o in options),
                         _int(n)])
        p.table(["", *(WAIT_FA.get(o, o) for o in options), "تعداد"], rows, [120, *([82] * len(options)), 50])

    cases = found["cases"]
    p.heading("رسیدگی به پرونده‌های رسیده در این ماه")
    if cases["received"]:
        headers = ["", "رسیده", "در مهلت", "با تأخیر", "بسته بدون پاسخ", "باز", "گذشته از مهلت", "سهم در مهلت",
                   "میانه روز کاری"]
        widths = [105, 45, 45, 45, 55, 40, 55, 50, 50]

        def case_row(label: str, g: dict[str, Any]) -> list[str]:
            return [label, _int(g["received"]), _int(g["answered_on_time"]), _int(g["answered_late"]),
                    _int(g["closed_unanswered"]), _int(g["open"]), _int(g["open_overdue"]),
                    _pct(g["on_time_share"]), _num(g["median_working_days"], 1)]

        p.table(["واحد", *headers[1:]], [case_row(units.get(u, u), g) for u, g in cases["by_unit"].items()]
                + [case_row("جمع", cases)], widths)
        if not office:
            p.table(["اداره", *headers[1:]], [case_row(office_name(o), g) for o, g in cases["by_office"].items()],
                    widths)
    else:
        p.text("در این ماه پرونده‌ای نرسید.", size=10)

    days = found["offices"]
    if days:
        p.heading("پاسخ‌ها در هر روز کاری")
        p.text("ردیف‌های با زمینه خاکستری: اداره‌ای که در روزهای کاری اخیر پاسخی نداشته، یا پس از دادن برگه کاغذی"
               " دیگر برگه‌ای نداشته؛ شاید دیگر برگه نظرسنجی نمی‌دهد.", size=9, color=SECOND)
        rows = [[office_name(code), _int(e["working_days"]), _int(e["responses"]), _num(e["per_working_day"], 1),
                 _int(e["working_days_without_paper"]),
                 format_jalali_date(date.fromisoformat(e["last_paper_day"])) if e["last_paper_day"] else "—",
                 _int(e["working_days_since_last_paper"])] for code, e in days.items()]
        p.table(["اداره", "روز کاری تاکنون", "پاسخ", "پاسخ در روز کاری", "روز کاری بدون برگه", "آخرین برگه کاغذی",
                 "روز کاری از آخرین برگه"], rows, [115, 55, 50, 60, 60, 75, 60],
                shaded={i for i, e in enumerate(days.values()) if e["stopped"]})
