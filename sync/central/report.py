"""`seda central report`: the monthly satisfaction report in Persian (PDF, reportlab).

Pages: a summary with the month's figures per office (or per service for one office) and a
bar chart of means with 95 % whiskers, a 12-month trend line, question (2) per service next to
what the catalogue announces, and the desk table where the fairness rule is visible: desks
with fewer than the minimum answers are listed as "insufficient data" and never ranked.
Text is shaped with forms.typography (Vazirmatn, right-to-left, Persian digits).
"""
from __future__ import annotations

from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from forms.persian import jalali_month_name, to_persian_digits
from forms.typography import BOLD, REGULAR, register_fonts, shape, text_width

from . import analysis as A
from .exports import atomic_write

__all__ = ["write_report", "fairness_note"]

PAGE_W, PAGE_H = A4
MARGIN = 40
RIGHT = PAGE_W - MARGIN
QUESTION_FA = {"workflow": "گردش کار", "staff_behaviour": "رفتار کارکنان", "overall": "رضایت کلی"}
SOURCE_FA = {"kiosk": "کیوسک", "paper": "کاغذی"}
BAR = colors.HexColor("#2f6f9f")
GREY = colors.HexColor("#9a9a9a")


def fairness_note(min_responses: int) -> str:
    """The fairness rule as the report prints it, e.g. "کمتر از ۳۰ پاسخ: رتبه‌بندی نمی‌شود"."""
    return f"کمتر از {to_persian_digits(min_responses)} پاسخ: رتبه‌بندی نمی‌شود"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else to_persian_digits(f"{value:.{digits}f}").replace(".", "٫")


def _pct(value: float | None) -> str:
    return "—" if value is None else to_persian_digits(f"{100 * value:.0f}") + "٪"


class _Page:
    """A canvas with a right-to-left text cursor."""

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
        self.c.setFillColor(GREY)
        self.c.drawString(MARGIN, MARGIN / 2, shape(f"{self.title} — صفحه {self.page}"))
        self.c.setFillColor(colors.black)

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.new_page()

    def text(self, text: str, size: float = 10, bold: bool = False, gap: float = 4,
             color=colors.black) -> None:
        self.need(size + gap)
        self.c.setFillColor(color)
        self.c.setFont(BOLD if bold else REGULAR, size)
        self.c.drawRightString(RIGHT, self.y - size, shape(text))
        self.c.setFillColor(colors.black)
        self.y -= size + gap

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float],
              grey_rows: set[int] = frozenset()) -> None:
        """Columns laid out right to left; ``widths`` in the same (reading) order."""
        size, line = 8, 13
        self.need(line * 2)
        for index, row in enumerate([headers, *rows]):
            if index and self.y - line < MARGIN:
                self.new_page()
            x = RIGHT
            self.c.setFont(BOLD if index == 0 else REGULAR, size)
            self.c.setFillColor(GREY if (index - 1) in grey_rows else colors.black)
            for cell, width in zip(row, widths):
                cell = str(cell)
                while cell and text_width(cell, size, index == 0) > width - 4:
                    cell = cell[:-2] + "…" if len(cell) > 2 else ""
                self.c.drawRightString(x - 2, self.y - size - 2, shape(cell))
                x -= width
            self.c.setStrokeColor(colors.lightgrey)
            self.c.line(RIGHT - sum(widths), self.y - line, RIGHT, self.y - line)
            self.y -= line
        self.c.setFillColor(colors.black)
        self.y -= 6

    def drawing(self, drawing: Drawing) -> None:
        self.need(drawing.height + 6)
        renderPDF.draw(drawing, self.c, RIGHT - drawing.width, self.y - drawing.height)
        self.y -= drawing.height + 6


def _bar_chart(groups: list[tuple[str, A.Mean]], width: float = PAGE_W - 2 * MARGIN) -> Drawing:
    """Horizontal bars of means (1-5) with 95 % whiskers; labels on the right, bars grow left."""
    row = 16
    height = row * len(groups) + 24
    d = Drawing(width, height)
    label_w = 150
    axis_right = width - label_w
    scale = (axis_right - 30) / 4.0  # 1..5

    def x(v: float) -> float:
        return axis_right - (v - 1) * scale

    for tick in range(1, 6):
        d.add(Line(x(tick), 14, x(tick), height, strokeColor=colors.lightgrey, strokeWidth=0.5))
        d.add(String(x(tick), 2, shape(str(tick)), fontName=REGULAR, fontSize=7, textAnchor="middle"))
    for i, (label, mean) in enumerate(groups):
        top = height - (i + 1) * row
        d.add(String(width, top + 4, shape(label), fontName=REGULAR, fontSize=8, textAnchor="end"))
        if mean.mean is None:
            continue
        d.add(Rect(x(mean.mean), top + 3, axis_right - x(mean.mean), row - 6, fillColor=BAR,
                   strokeColor=None))
        if mean.low is not None:
            mid = top + row / 2
            d.add(Line(x(mean.low), mid, x(mean.high), mid, strokeColor=colors.black, strokeWidth=0.8))
            for v in (mean.low, mean.high):
                d.add(Line(x(v), mid - 3, x(v), mid + 3, strokeColor=colors.black, strokeWidth=0.8))
    return d


def _trend_chart(points: list[A.GroupStats], question: str = "overall",
                 width: float = PAGE_W - 2 * MARGIN, height: float = 130) -> Drawing:
    """Monthly mean (line) with its 95 % band as whiskers; time runs right to left."""
    d = Drawing(width, height)
    left, right, bottom, top = 24, width - 10, 28, height - 8
    step = (right - left) / max(1, len(points) - 1)

    def y(v: float) -> float:
        return bottom + (v - 1) / 4 * (top - bottom)

    for tick in range(1, 6):
        d.add(Line(left, y(tick), right, y(tick), strokeColor=colors.lightgrey, strokeWidth=0.5))
        d.add(String(left - 6, y(tick) - 3, shape(str(tick)), fontName=REGULAR, fontSize=7,
                     textAnchor="end"))
    line = []
    for i, point in enumerate(points):
        px = right - i * step
        year, month = point.key["month"].split("-")
        d.add(String(px, bottom - 12, shape(jalali_month_name(int(month))), fontName=REGULAR,
                     fontSize=6.5, textAnchor="middle"))
        d.add(String(px, bottom - 21, shape(year), fontName=REGULAR, fontSize=6, textAnchor="middle"))
        mean = point.means[question]
        if mean.mean is None:
            continue
        line += [px, y(mean.mean)]
        if mean.low is not None:
            d.add(Line(px, y(mean.low), px, y(mean.high), strokeColor=GREY, strokeWidth=0.8))
    if len(line) >= 4:
        d.add(PolyLine(line, strokeColor=BAR, strokeWidth=1.5))
    for px, py in zip(line[::2], line[1::2]):
        d.add(Rect(px - 1.8, py - 1.8, 3.6, 3.6, fillColor=BAR, strokeColor=None))
    return d


def _stats_row(label: str, g: A.GroupStats) -> list[str]:
    m = g.means
    return [label, to_persian_digits(g.responses),
            *(f"{_num(m[q].mean)} ({_num(m[q].low)}–{_num(m[q].high)})" for q in A.RATING_QUESTIONS),
            f"{_pct(g.matched.share)} ({_pct(g.matched.low)}–{_pct(g.matched.high)})"]


_STATS_HEADERS = ["", "تعداد", "۱- گردش کار", "۳- رفتار کارکنان", "رضایت کلی", "۲- تطبیق با اعلام‌شده (بله)"]
_STATS_WIDTHS = [110, 45, 85, 85, 85, 105]


def write_report(store, month: str, out: Path, *, office: str | None = None,
                 min_responses: int = A.MIN_RESPONSES, catalogue: dict | None = None) -> int:
    """Write the report for Jalali ``month`` to ``out`` (atomically); returns the page count."""
    year, number = A.month_key(month)
    register_fonts()
    catalogue = catalogue if catalogue is not None else A.service_catalogue(store)

    def service_name(sid: str | None) -> str:
        entry = catalogue.get(sid or "")
        return (entry or {}).get("name", {}).get("fa") or (sid or "نامشخص")

    month_fa = f"{jalali_month_name(number)} {to_persian_digits(year)}"
    scope = f"اداره {office}" if office else "همه ادارات"
    title = f"گزارش ماهانه رضایت مراجعین — {month_fa} — {scope}"

    def draw(tmp: Path) -> int:
        canvas = Canvas(str(tmp), pagesize=A4)
        canvas.setTitle(f"Seda monthly report {year:04d}-{number:02d}")
        p = _Page(canvas, title)
        p.text(title, size=15, bold=True, gap=8)
        p.text("ماده ۹ تصویب‌نامه حقوق شهروندی در نظام اداری، بند ۵: نظر مراجعین درباره (۱) نحوه گردش کار،"
               " (۲) تطبیق با اطلاعات اعلام‌شده قبلی و (۳) رفتار متصدیان.", size=8.5, color=GREY)
        p.text("اعداد داخل پرانتز بازه اطمینان ۹۵٪ است. " + fairness_note(min_responses) + ".",
               size=8.5, color=GREY, gap=10)

        by = "service" if office else "office"
        groups = A.satisfaction(store, (year, number), (by,), office=office, min_responses=min_responses)
        total = A.satisfaction(store, (year, number), (), office=office, min_responses=min_responses)
        if not total:
            p.text("در این ماه هیچ پاسخی ثبت نشده است.", size=11, bold=True)
        else:
            p.text(f"خلاصه ({'به تفکیک خدمت' if office else 'به تفکیک اداره'})", size=12, bold=True)
            label = service_name if office else (lambda v: v or "نامشخص")
            rows = [_stats_row(label(g.key[by]), g) for g in groups]
            rows.append(_stats_row("جمع", total[0]))
            p.table(_STATS_HEADERS, rows, _STATS_WIDTHS,
                    grey_rows={i for i, g in enumerate(groups) if not g.sufficient})

            p.text("کاغذی و کیوسک", size=12, bold=True)
            split = A.satisfaction(store, (year, number), ("source",), office=office,
                                   min_responses=min_responses)
            p.table(_STATS_HEADERS, [_stats_row(SOURCE_FA.get(g.key["source"], g.key["source"] or "نامشخص"), g)
                                     for g in split], _STATS_WIDTHS)

            by_service = A.satisfaction(store, (year, number), ("service",), office=office,
                                        min_responses=min_responses)
            p.text("میانگین رضایت کلی به تفکیک خدمت (خط سیاه: بازه اطمینان ۹۵٪)", size=12, bold=True)
            p.drawing(_bar_chart([(service_name(g.key["service"]), g.means["overall"]) for g in by_service]))
            if not office:
                p.text("میانگین رضایت کلی به تفکیک اداره", size=12, bold=True)
                p.drawing(_bar_chart([(g.key["office"] or "", g.means["overall"]) for g in groups]))

        p.text("روند دوازده ماه اخیر (رضایت کلی)", size=12, bold=True)
        p.drawing(_trend_chart(A.trend(store, (year, number), 12, office=office,
                                       min_responses=min_responses)))

        p.text("پرسش ۲: تطبیق با اطلاعات اعلام‌شده، به تفکیک خدمت", size=12, bold=True)
        p.text("خدماتی که سهم «بله» در آنها کمتر است بالاتر آمده‌اند؛ اطلاعات اعلام‌شده آنها را بازبینی کنید.",
               size=8.5, color=GREY)
        matches = A.matched_by_service(store, (year, number), office=office, catalogue=catalogue,
                                       min_responses=min_responses)
        rows, grey = [], set()
        for i, m in enumerate(matches):
            entry = m.catalogue or {}
            fee = entry.get("fee_rials")
            rows.append([service_name(m.service), to_persian_digits(m.stats.matched.n),
                         f"{_pct(m.stats.matched.share)} ({_pct(m.stats.matched.low)}–{_pct(m.stats.matched.high)})",
                         _pct(m.no_share),
                         (entry.get("time") or {}).get("fa", "در شناسنامه خدمات نیست"),
                         "—" if fee is None else to_persian_digits(f"{fee:,}") + " ریال"])
            if m.stats.matched.n < min_responses:
                grey.add(i)
        p.table(["خدمت", "تعداد", "بله", "خیر", "زمان اعلام‌شده", "هزینه اعلام‌شده"], rows,
                [120, 40, 95, 45, 120, 95], grey_rows=grey)

        p.text("باجه‌ها (رفتار کارکنان)", size=12, bold=True)
        p.text(fairness_note(min_responses) + "؛ این باجه‌ها جداگانه و بدون رتبه آمده‌اند.", size=9,
               bold=True, color=colors.HexColor("#a04000"))
        desks = A.satisfaction(store, (year, number), ("office", "desk"), office=office,
                               min_responses=min_responses)
        ranking = A.rank(desks, "staff_behaviour", min_responses=min_responses)
        rows = [[to_persian_digits(r), f"{g.key['office']} / باجه {g.key['desk'] or '؟'}",
                 to_persian_digits(g.means["staff_behaviour"].n),
                 f"{_num(g.means['staff_behaviour'].mean)} ({_num(g.means['staff_behaviour'].low)}–"
                 f"{_num(g.means['staff_behaviour'].high)})"] for r, g in ranking.ranked]
        rows += [["داده ناکافی", f"{g.key['office']} / باجه {g.key['desk'] or '؟'}",
                  to_persian_digits(g.means["staff_behaviour"].n), "رتبه‌بندی نمی‌شود"]
                 for g in ranking.insufficient]
        p.table(["رتبه", "اداره / باجه", "تعداد", "رفتار کارکنان"], rows, [70, 150, 60, 150],
                grey_rows=set(range(len(ranking.ranked), len(rows))))
        canvas.showPage()
        canvas.save()
        return p.page

    return atomic_write(out, draw)
