"""Server-side SVG charts for the analysis pages: pure functions, figures in, SVG text out.

No JavaScript and no chart library: the page is readable with scripts off, prints, and the
SVG is a plain string a test can parse.  Labels are plain Unicode; the browser shapes Persian
in SVG ``<text>`` like anywhere else, so each label only needs its ``direction`` and a
``text-anchor`` that puts it on the right side of the chart.

- :func:`bar_chart`: one horizontal bar per group (a 1-5 mean, or a share in 0..1) with its
  95 % interval as a whisker.  In Persian the labels stand on the right and bars grow to the
  left; in English the other way round.  Groups below the minimum number of answers are drawn
  grey and hollow, never in the colour of the others: they are shown, not compared.
- :func:`trend_chart`: a monthly line with whiskers; time runs right to left in Persian.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from forms.digits import figure as number
from forms.persian import jalali_month_name, to_persian_digits

from ..messages import MESSAGES

__all__ = ["Bar", "Point", "bar_chart", "trend_chart", "number"]

INK = "#1a1f24"
MUTED = "#4a5560"
GRID = "#d5dadd"
BAR = "#0a5c55"        # --primary of the kiosk style
WHISKER = "#1a1f24"
GREY = "#767676"       # 4.5:1 on white: too-few-answers outlines stay visible (WCAG 1.4.11)
FONT = "Vazirmatn, Tahoma, sans-serif"


@dataclass(frozen=True)
class Bar:
    """One group: its label, value (None: no answers) and 95 % interval, and n."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    sufficient: bool = True


@dataclass(frozen=True)
class Point:
    """One month of a trend: ``month`` is "1405-09"."""

    month: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    sufficient: bool = True


def _f(x: float) -> str:
    return f"{x:.1f}"


def _text(x: float, y: float, label: str, *, anchor: str, rtl: bool, size: float = 12,
          fill: str = INK, weight: str | None = None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" fill="{fill}" text-anchor="{anchor}"'
            f' direction="{"rtl" if rtl else "ltr"}"{extra}>{escape(label)}</text>')


def _svg(width: float, height: float, title: str, body: list[str], rtl: bool,
         description: str = "") -> str:
    """The chart's frame: an image named by ``title``, described for screen readers by
    ``description`` (every figure drawn, as text)."""
    desc = f"<desc>{escape(description)}</desc>" if description else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}"'
            f' width="100%" preserveAspectRatio="xMidYMin meet" role="img"'
            f' aria-label={quoteattr(title)} font-family={quoteattr(FONT)}'
            f' direction="{"rtl" if rtl else "ltr"}" class="chart">'
            f"<title>{escape(title)}</title>{desc}" + "".join(body) + "</svg>")


def _fitted(label: str, room: float, size: float) -> str:
    """``label`` cut with an ellipsis where it would run past ``room`` px at ``size`` px (a
    generous estimate of Vazirmatn's average advance; the full label is in the title)."""
    most = max(4, int(room / (size * 0.56)))
    return label if len(label) <= most else label[:most - 1].rstrip() + "…"


def _described(parts: list[str], lang: str) -> str:
    return MESSAGES.text("list_semicolon", lang).join(parts) or "—"


def _figure_text(value: float | None, low: float | None, high: float | None, n: int, lang: str,
                 share: bool) -> str:
    text = number(value, lang, percent=share)
    if value is not None and low is not None and high is not None:
        text += f" ({number(low, lang, percent=share)}–{number(high, lang, percent=share)})"
    return f"{text}{MESSAGES.text('list_comma', lang)}n={number(n, lang)}"


def bar_chart(bars: Sequence[Bar], *, title: str, lang: str = "fa", share: bool = False,
              width: float = 640, insufficient_note: str = "") -> str:
    """Horizontal bars with 95 % whiskers.  Means run on a 1..5 axis; with ``share`` values
    are shares (0..1) shown as percentages.  ``insufficient_note`` is appended to the label of
    groups with too few answers (e.g. "کمتر از ۳۰ پاسخ")."""
    rtl = lang == "fa"
    noted = bool(insufficient_note) and any(not bar.sufficient for bar in bars)
    row, top_pad, axis_h = (36 if noted else 26), 8, 22  # a noted label takes two lines
    label_w, value_w = min(220.0, width * 0.36), 96.0
    height = top_pad + row * max(1, len(bars)) + axis_h
    lo, hi = (0.0, 1.0) if share else (1.0, 5.0)
    plot_w = width - label_w - value_w - 16
    # Persian: [value][<- bars grow left][label]; English: [label][bars grow right ->][value]
    origin = width - label_w - 8 if rtl else label_w + 8

    def x(v: float) -> float:
        v = min(hi, max(lo, v))
        offset = (v - lo) / (hi - lo) * plot_w
        return origin - offset if rtl else origin + offset

    body: list[str] = []
    described: list[str] = []
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0] if share else [1.0, 2.0, 3.0, 4.0, 5.0]
    base = top_pad + row * max(1, len(bars))
    for tick in ticks:
        tx = x(tick)
        body.append(f'<line x1="{_f(tx)}" y1="{top_pad}" x2="{_f(tx)}" y2="{_f(base)}" stroke="{GRID}"'
                    ' stroke-width="1"/>')
        body.append(_text(tx, base + 15, number(tick, lang, percent=share) if share else number(int(tick), lang),
                          anchor="middle", rtl=rtl, size=11, fill=MUTED))
    if not bars:
        body.append(_text(width / 2, top_pad + row / 2 + 4, "—", anchor="middle", rtl=rtl, fill=MUTED))
    for i, bar in enumerate(bars):
        y = top_pad + i * row
        mid = y + row / 2
        note = "" if bar.sufficient or not insufficient_note else f" ({insufficient_note})"
        colour = BAR if bar.sufficient else GREY
        described.append(f"{bar.label}{note}: {_figure_text(bar.value, bar.low, bar.high, bar.n, lang, share)}")
        label_x = width - 4 if rtl else label_w
        body.append(f'<g class="bar{"" if bar.sufficient else " insufficient"}">'
                    f"<title>{escape(bar.label + note)}</title>")
        shown_label = _fitted(bar.label, label_w - 8, 12)
        if note:  # the note on a second, smaller line, so neither runs into the bars
            anchor = "start" if rtl else "end"
            body.append(f'<text x="{_f(label_x)}" y="{_f(mid - 2)}" font-size="12" fill="{MUTED}"'
                        f' text-anchor="{anchor}" direction="{"rtl" if rtl else "ltr"}">'
                        f"<tspan>{escape(shown_label)}</tspan>"
                        f'<tspan x="{_f(label_x)}" dy="13" font-size="10">'
                        f"{escape(_fitted(note, label_w - 8, 10))}</tspan></text>")
        else:
            body.append(_text(label_x, mid + 4, shown_label, anchor="start" if rtl else "end", rtl=rtl,
                              size=12, fill=INK if bar.sufficient else MUTED))
        if bar.value is not None:
            vx = x(bar.value)
            left, w = (vx, origin - vx) if rtl else (origin, vx - origin)
            if bar.sufficient:
                body.append(f'<rect x="{_f(left)}" y="{_f(mid - 7)}" width="{_f(max(w, 1.0))}"'
                            f' height="14" fill="{colour}"/>')
            else:  # shown, not compared: hollow and grey
                body.append(f'<rect x="{_f(left)}" y="{_f(mid - 7)}" width="{_f(max(w, 1.0))}"'
                            f' height="14" fill="none" stroke="{colour}" stroke-dasharray="3 2"/>')
            if bar.low is not None and bar.high is not None:
                a, b = x(bar.low), x(bar.high)
                body.append(f'<path class="whisker" d="M{_f(a)} {_f(mid)}H{_f(b)}M{_f(a)} {_f(mid - 5)}'
                            f'V{_f(mid + 5)}M{_f(b)} {_f(mid - 5)}V{_f(mid + 5)}" stroke="{WHISKER}"'
                            ' stroke-width="1.2" fill="none"/>')
        shown = f"{number(bar.value, lang, percent=share)}  n={number(bar.n, lang)}"
        # the value column sits at the far end from the labels
        body.append(_text(4 if rtl else width - 4, mid + 4, shown, anchor="end", rtl=rtl, size=11,
                          fill=MUTED))
        body.append("</g>")
    return _svg(width, height, title, body, rtl, _described(described, lang))


def _month_label(month: str, lang: str) -> tuple[str, str]:
    year, number_ = month.split("-")
    name = jalali_month_name(int(number_), "en" if lang == "en" else "fa")
    return name, to_persian_digits(year) if lang == "fa" else year


def trend_chart(points: Sequence[Point], *, title: str, lang: str = "fa", share: bool = False,
                width: float = 640, height: float = 220) -> str:
    """A monthly line (oldest to newest; right to left in Persian) with 95 % whiskers.  Months
    with too few answers get a hollow grey marker; months without answers break nothing, they
    are simply not joined."""
    rtl = lang == "fa"
    left, right, top, bottom = 40.0, width - 16, 12.0, height - 40
    if rtl:
        left, right = 16.0, width - 40
    lo, hi = (0.0, 1.0) if share else (1.0, 5.0)
    step = (right - left) / max(1, len(points) - 1)

    def y(v: float) -> float:
        v = min(hi, max(lo, v))
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    def px(i: int) -> float:
        return right - i * step if rtl else left + i * step

    body: list[str] = []
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0] if share else [1.0, 2.0, 3.0, 4.0, 5.0]
    for tick in ticks:
        ty = y(tick)
        body.append(f'<line x1="{_f(left)}" y1="{_f(ty)}" x2="{_f(right)}" y2="{_f(ty)}" stroke="{GRID}"'
                    ' stroke-width="1"/>')
        label = number(tick, lang, percent=True) if share else number(int(tick), lang)
        body.append(_text(right + 6 if rtl else left - 6, ty + 4, label,
                          anchor="start" if rtl else "end", rtl=False, size=11, fill=MUTED))
    segments: list[list[tuple[float, float]]] = [[]]
    marks: list[str] = []
    described: list[str] = []
    for i, point in enumerate(points):
        x = px(i)
        name, year = _month_label(point.month, lang)
        body.append(_text(x, bottom + 16, name, anchor="middle", rtl=rtl, size=10, fill=MUTED))
        body.append(_text(x, bottom + 29, year, anchor="middle", rtl=rtl, size=9, fill=MUTED))
        if point.value is not None:
            described.append(f"{name} {year}: "
                             f"{_figure_text(point.value, point.low, point.high, point.n, lang, share)}")
        if point.value is None:
            if segments[-1]:
                segments.append([])
            continue
        py = y(point.value)
        segments[-1].append((x, py))
        if point.low is not None and point.high is not None:
            marks.append(f'<line class="whisker" x1="{_f(x)}" y1="{_f(y(point.low))}" x2="{_f(x)}"'
                         f' y2="{_f(y(point.high))}" stroke="{GREY}" stroke-width="1.2"/>')
        tip_text = f"{name} {year}: {number(point.value, lang, percent=share)} (n={number(point.n, lang)})"
        tip = f"<title>{escape(tip_text)}</title>"
        if point.sufficient:
            marks.append(f'<circle cx="{_f(x)}" cy="{_f(py)}" r="3.5" fill="{BAR}">{tip}</circle>')
        else:
            marks.append(f'<circle class="insufficient" cx="{_f(x)}" cy="{_f(py)}" r="3.5" fill="#ffffff"'
                         f' stroke="{GREY}" stroke-width="1.5">{tip}</circle>')
    for segment in segments:
        if len(segment) >= 2:
            d = "M" + "L".join(f"{_f(a)} {_f(b)}" for a, b in segment)
            body.append(f'<path class="line" d="{d}" stroke="{BAR}" stroke-width="2" fill="none"/>')
    body.extend(marks)
    return _svg(width, height, title, body, rtl, _described(described, lang))
