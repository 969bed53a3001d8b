"""Server-side SVG charts of the analysis pages (central/web/charts.py): well-formed SVG,
whiskers for intervals, Persian labels and digits, right-to-left layout, small groups grey."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from central.web.charts import GREY, Bar, Point, bar_chart, number, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def test_bar_chart_is_well_formed_svg_with_a_title() -> None:
    root = parse(bar_chart([Bar("کارت ملی هوشمند", 4.2, 3.9, 4.5, 45)], title="رضایت <کلی> & خدمت"))
    assert root.find(f"{SVG}title").text == "رضایت <کلی> & خدمت"
    assert root.get("role") == "img"


def test_bar_chart_draws_one_whisker_per_bar_with_an_interval() -> None:
    root = parse(bar_chart([Bar("الف", 4.2, 3.9, 4.5, 45), Bar("ب", 3.0, 2.5, 3.5, 40),
                            Bar("پ", 2.0, None, None, 1)], title="t"))
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "whisker"]) == 2


def test_bar_chart_labels_are_persian_right_to_left_with_persian_digits() -> None:
    root = parse(bar_chart([Bar("صدور شناسنامه", 4.25, 4.0, 4.5, 120)], title="t"))
    label = next(e for e in root.iter(f"{SVG}text") if e.text == "صدور شناسنامه")
    assert label.get("direction") == "rtl" and label.get("text-anchor") == "start"
    assert float(label.get("x")) > 600  # on the right-hand side of a 640-wide chart
    assert "۴٫۲۵  n=۱۲۰" in texts(root)
    assert not any(ch.isascii() and ch.isdigit() for text in texts(root) for ch in text)


def test_bars_grow_leftwards_in_persian_and_rightwards_in_english() -> None:
    def rect_x(lang: str) -> tuple[float, float]:
        root = parse(bar_chart([Bar("x", 5.0, None, None, 30)], title="t", lang=lang))
        rect = next(root.iter(f"{SVG}rect"))
        return float(rect.get("x")), float(rect.get("width"))

    fa_x, fa_w = rect_x("fa")
    en_x, en_w = rect_x("en")
    assert fa_x < 150 and fa_w > 300   # spans from near the left edge to the label column
    assert en_x > 200 and en_w > 300


def test_groups_with_too_few_answers_are_grey_hollow_and_labelled() -> None:
    root = parse(bar_chart([Bar("باجه ۲", 4.9, 4.5, 5.0, 29, sufficient=False)], title="t",
                           insufficient_note="کمتر از ۳۰ پاسخ"))
    group = next(g for g in root.iter(f"{SVG}g") if "insufficient" in (g.get("class") or ""))
    rect = group.find(f"{SVG}rect")
    assert rect.get("fill") == "none" and rect.get("stroke") == GREY
    assert "باجه ۲ (کمتر از ۳۰ پاسخ)" in texts(root)


def test_share_chart_shows_percentages() -> None:
    root = parse(bar_chart([Bar("x", 0.25, 0.1, 0.4, 40)], title="t", share=True))
    assert "۲۵٪  n=۴۰" in texts(root)
    assert "۱۰۰٪" in texts(root)


def test_an_empty_bar_chart_is_still_well_formed() -> None:
    parse(bar_chart([], title="t"))


def test_trend_chart_is_well_formed_with_jalali_month_names() -> None:
    points = [Point("1405-08", 3.5, 3.2, 3.8, 40), Point("1405-09", 4.0, 3.7, 4.3, 50)]
    root = parse(trend_chart(points, title="روند"))
    assert {"آبان", "آذر", "۱۴۰۵"} <= set(texts(root))
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "line"]) == 1
    assert len([p for p in root.iter(f"{SVG}line") if p.get("class") == "whisker"]) == 2


def test_trend_runs_right_to_left_in_persian() -> None:
    points = [Point("1405-08", 3.5, None, None, 40), Point("1405-09", 4.0, None, None, 50)]
    circles = list(parse(trend_chart(points, title="t")).iter(f"{SVG}circle"))
    assert float(circles[0].get("cx")) > float(circles[1].get("cx"))  # older month on the right
    circles = list(parse(trend_chart(points, title="t", lang="en")).iter(f"{SVG}circle"))
    assert float(circles[0].get("cx")) < float(circles[1].get("cx"))


def test_trend_breaks_the_line_at_months_without_answers_and_marks_small_months() -> None:
    points = [Point("1405-07", 3.0, None, None, 40), Point("1405-08", None), Point("1405-09", 4.0, None, None, 5,
                                                                                 sufficient=False)]
    root = parse(trend_chart(points, title="t"))
    assert not [p for p in root.iter(f"{SVG}path") if p.get("class") == "line"]
    assert [c.get("class") for c in root.iter(f"{SVG}circle")] == [None, "insufficient"]


def test_number_uses_persian_digits_and_decimal_separator() -> None:
    assert number(4.256) == "۴٫۲۶"
    assert number(4.256, "en") == "4.26"
    assert number(0.5, percent=True) == "۵۰٪"
    assert number(None) == "—"


def test_every_figure_of_a_chart_is_in_its_description_for_screen_readers() -> None:
    bars = parse(bar_chart([Bar("کارت ملی", 4.25, 4.0, 4.5, 45), Bar("باجه ۲", 3.0, None, None, 3,
                                                                     sufficient=False)],
                           title="t", insufficient_note="کمتر از ۳۰ پاسخ"))
    assert bars.find(f"{SVG}desc").text == ("کارت ملی: ۴٫۲۵ (۴٫۰۰–۴٫۵۰)، n=۴۵؛ "
                                            "باجه ۲ (کمتر از ۳۰ پاسخ): ۳٫۰۰، n=۳")
    trend = parse(trend_chart([Point("1405-08", None), Point("1405-09", 0.5, 0.25, 0.75, 40)],
                              title="t", lang="en", share=True))
    assert trend.find(f"{SVG}desc").text == "Azar 1405: 50% (25%–75%), n=40"
