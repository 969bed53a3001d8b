"""The layout map: its JSON contract, the geometry the scanner relies on, and the golden maps."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from forms import FormDefinitionError, builtin_catalog, build_layout
from seda.cli import main
from forms.definition import parse_form

GOLDEN = Path(__file__).parent / "golden"
A4_WIDTH_PT, A4_HEIGHT_PT = 210 / 25.4 * 72, 297 / 25.4 * 72
MIN_MARK_PT = 5 / 25.4 * 72  # 14.17 pt: the smallest box an elderly hand can fill
KINDS = {"single", "multi", "digits", "text"}
DIGIT_VALUES = [str(d) for d in range(10)]


def golden_path(form_id: str, version: int) -> Path:
    return GOLDEN / f"{form_id}.v{version}.layout.json"


@pytest.fixture(scope="module")
def form():
    return builtin_catalog().get("satisfaction", 1)


@pytest.fixture(scope="module")
def layout_map(form) -> dict:
    return build_layout(form).to_json()


def questions_by_id(layout_map: dict) -> dict[str, dict]:
    return {q["id"]: q for q in layout_map["questions"]}


def mark_boxes(layout_map: dict) -> list[tuple[str, list[float]]]:
    """Every box a visitor may fill, named question/value (digits: question[column]/value)."""
    boxes = []
    for question in layout_map["questions"]:
        for option in question.get("options", []):
            boxes.append((f"{question['id']}/{option['value']}", option["box"]))
        for c, column in enumerate(question.get("columns", [])):
            for option in column["options"]:
                boxes.append((f"{question['id']}[{c}]/{option['value']}", option["box"]))
    return boxes


def all_boxes(layout_map: dict) -> list[tuple[str, list[float]]]:
    boxes = [(f"fiducial {f['id']}", f["box"]) for f in layout_map["fiducials"]]
    boxes.append(("qr", layout_map["qr"]["box"]))
    if layout_map.get("survey_link"):
        boxes.append(("survey_link", layout_map["survey_link"]["box"]))
    boxes += [(q["id"], q["box"]) for q in layout_map["questions"] if q["kind"] == "text"]
    return boxes + mark_boxes(layout_map)


def overlap(a: list[float], b: list[float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


# -- the contract shape ---------------------------------------------------------------


def test_layout_map_has_exactly_the_contract_keys(layout_map: dict) -> None:
    assert set(layout_map) == {"form", "version", "page", "fiducials", "qr", "questions", "survey_link"}


def test_layout_map_names_its_form_and_version(layout_map: dict) -> None:
    assert (layout_map["form"], layout_map["version"]) == ("satisfaction", 1)


def test_page_is_a4_in_points_with_top_left_origin(layout_map: dict) -> None:
    page = layout_map["page"]
    assert set(page) == {"width", "height", "unit", "origin"}
    assert (page["unit"], page["origin"]) == ("pt", "top-left")
    assert page["width"] == pytest.approx(A4_WIDTH_PT, abs=0.01)
    assert page["height"] == pytest.approx(A4_HEIGHT_PT, abs=0.01)


def test_there_are_four_fiducials_with_distinct_ids(layout_map: dict) -> None:
    ids = [f["id"] for f in layout_map["fiducials"]]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert all(set(f) == {"id", "box"} for f in layout_map["fiducials"])


def test_fiducials_0_to_3_sit_top_left_top_right_bottom_right_bottom_left(layout_map: dict) -> None:
    page = layout_map["page"]
    centres = {f["id"]: (f["box"][0] + f["box"][2] / 2, f["box"][1] + f["box"][3] / 2)
               for f in layout_map["fiducials"]}
    left, top = page["width"] / 2, page["height"] / 2
    assert centres[0][0] < left and centres[0][1] < top
    assert centres[1][0] > left and centres[1][1] < top
    assert centres[2][0] > left and centres[2][1] > top
    assert centres[3][0] < left and centres[3][1] > top


def test_qr_region_is_a_box(layout_map: dict) -> None:
    assert set(layout_map["qr"]) == {"box"}


def test_survey_link_region_is_a_box_clear_of_the_scanners_widest_crop_of_the_sheet_code(
        layout_map: dict) -> None:
    """The scanner reads the sheet code from a crop reaching 45 pt around its box when a
    sheet is placed by few markers: the survey link's QR code must never be in it."""
    assert set(layout_map["survey_link"]) == {"box"}
    qx, qy, qw, qh = layout_map["qr"]["box"]
    assert not overlap(layout_map["survey_link"]["box"], [qx - 45, qy - 45, qw + 90, qh + 90])


def test_survey_link_line_sits_beside_its_code_clear_of_every_box(form) -> None:
    from forms.typography import text_width
    layout = build_layout(form)
    lx, ly, lw, lh = layout.survey_link
    assert layout.survey_link_texts
    for item in layout.survey_link_texts:
        left = item.x - text_width(item.text, item.size)
        assert left > lx + lw and ly <= item.y <= ly + lh
        extent = [left, item.y - item.size, item.x - left, item.size * 1.35]
        assert [n for n, box in all_boxes(layout.to_json()) if overlap(extent, box)] == []


def test_questions_follow_the_definition_order(layout_map: dict, form) -> None:
    assert [q["id"] for q in layout_map["questions"]] == [q.id for q in form.questions]


def test_every_question_has_an_id_and_a_known_kind(layout_map: dict) -> None:
    for question in layout_map["questions"]:
        assert isinstance(question["id"], str) and question["id"]
        assert question["kind"] in KINDS


def test_choice_questions_list_their_options_in_definition_order(layout_map: dict, form) -> None:
    for question in layout_map["questions"]:
        if question["kind"] in ("single", "multi"):
            assert set(question) == {"id", "kind", "options"}
            assert [o["value"] for o in question["options"]] == list(
                form.question(question["id"]).option_values())
            assert all(set(o) == {"value", "box"} for o in question["options"])


def test_digits_questions_have_columns_and_no_options(layout_map: dict) -> None:
    digit_questions = [q for q in layout_map["questions"] if q["kind"] == "digits"]
    assert digit_questions
    for question in digit_questions:
        assert set(question) == {"id", "kind", "columns"}
        for column in question["columns"]:
            assert set(column) == {"options"}
            assert all(set(o) == {"value", "box"} for o in column["options"])


def test_digits_questions_have_one_column_per_digit(layout_map: dict, form) -> None:
    for question in layout_map["questions"]:
        if question["kind"] == "digits":
            assert len(question["columns"]) == form.question(question["id"]).digits


def test_text_questions_have_a_box(layout_map: dict) -> None:
    text_questions = [q for q in layout_map["questions"] if q["kind"] == "text"]
    assert text_questions
    for question in text_questions:
        assert set(question) == {"id", "kind", "box"}


def test_every_box_is_four_numbers_inside_the_page(layout_map: dict) -> None:
    width, height = layout_map["page"]["width"], layout_map["page"]["height"]
    for name, box in all_boxes(layout_map):
        assert isinstance(box, list) and len(box) == 4, name
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box), name
        x, y, w, h = box
        assert w > 0 and h > 0, name
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height, name


def test_no_two_mark_boxes_overlap(layout_map: dict) -> None:
    clashes = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(mark_boxes(layout_map), 2)
               if overlap(box_a, box_b)]
    assert clashes == []


def test_no_mark_box_overlaps_a_fiducial_the_qr_or_a_text_box(layout_map: dict) -> None:
    others = [(n, b) for n, b in all_boxes(layout_map) if (n, b) not in mark_boxes(layout_map)]
    clashes = [(m, o) for m, box in mark_boxes(layout_map) for o, other in others
               if overlap(box, other)]
    assert clashes == []


def test_fiducials_qr_and_text_boxes_do_not_overlap_each_other(layout_map: dict) -> None:
    others = [(n, b) for n, b in all_boxes(layout_map) if (n, b) not in mark_boxes(layout_map)]
    clashes = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(others, 2)
               if overlap(box_a, box_b)]
    assert clashes == []


def test_every_mark_box_is_at_least_5_mm_wide_and_high(layout_map: dict) -> None:
    small = [(name, box) for name, box in mark_boxes(layout_map)
             if box[2] < MIN_MARK_PT - 0.005 or box[3] < MIN_MARK_PT - 0.005]
    assert small == []


def test_every_mark_box_is_square_so_its_circle_fills_it(layout_map: dict) -> None:
    assert [name for name, box in mark_boxes(layout_map) if box[2] != box[3]] == []


@pytest.mark.parametrize("question_id, columns", [("desk", 2), ("mobile", 11)])
def test_digit_grid_has_a_column_per_digit_each_valued_0_to_9(layout_map: dict, question_id: str,
                                                               columns: int) -> None:
    grid = questions_by_id(layout_map)[question_id]["columns"]
    assert len(grid) == columns
    for column in grid:
        assert [o["value"] for o in column["options"]] == DIGIT_VALUES


def test_digit_columns_read_left_to_right(layout_map: dict) -> None:
    for question in layout_map["questions"]:
        if question["kind"] == "digits":
            xs = [column["options"][0]["box"][0] for column in question["columns"]]
            assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_form_too_long_for_one_page_is_refused() -> None:
    options = [{"value": i, "label": {"fa": f"گزینه {i}", "en": f"Option {i}"}} for i in range(12)]
    raw = {
        "id": "too-long", "version": 1,
        "title": {"fa": "عنوان", "en": "Title"}, "intro": {"fa": "مقدمه", "en": "Intro"},
        "instructions": {"fa": "راهنما", "en": "Instructions"},
        "questions": [{"id": f"q{n}", "kind": "single", "columns": 1,
                       "label": {"fa": "پرسش", "en": "Question"}, "options": options}
                      for n in range(6)],
    }
    with pytest.raises(FormDefinitionError, match="an A4 sheet has room for"):
        build_layout(parse_form(raw, "too-long.v1.yaml"))


# -- golden maps -------------------------------------------------------------------------


def test_satisfaction_v1_layout_matches_its_golden_map(layout_map: dict) -> None:
    """A sheet printed last year is read with the map of the version its QR names.

    So the layout of a version that has shipped must never change: moving a box by a point
    makes every sheet already on paper scan wrongly.  Changing this golden file is a breaking
    change; change the form by adding a new version (satisfaction.v2.yaml) instead.
    """
    golden = json.loads(golden_path("satisfaction", 1).read_text(encoding="utf-8"))
    assert layout_map == golden


@pytest.mark.parametrize("form", list(builtin_catalog()), ids=lambda f: f"{f.id}.v{f.version}")
def test_every_shipped_form_version_has_a_golden_map(form) -> None:
    """Adding a form version means pinning its map here too (see the test above for why)."""
    path = golden_path(form.id, form.version)
    assert path.is_file(), f"add {path.name} with the output of `seda forms layout {form.id} " \
                           f"--version {form.version} --json`"
    assert build_layout(form).to_json() == json.loads(path.read_text(encoding="utf-8"))


def test_cli_layout_json_is_the_golden_map_of_the_newest_version() -> None:
    newest = builtin_catalog().get("satisfaction").version
    result = CliRunner().invoke(main, ["forms", "layout", "satisfaction", "--json"])
    assert result.exit_code == 0, result.output
    golden = json.loads(golden_path("satisfaction", newest).read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == golden


def test_cli_layout_json_for_version_1_is_its_golden_map() -> None:
    result = CliRunner().invoke(main, ["forms", "layout", "satisfaction", "--version", "1",
                                       "--json"])
    assert result.exit_code == 0, result.output
    golden = json.loads(golden_path("satisfaction", 1).read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == golden


def test_cli_layout_of_an_unknown_version_is_a_one_line_error() -> None:
    result = CliRunner().invoke(main, ["forms", "layout", "satisfaction", "--version", "99",
                                       "--json"])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ") and "form 'satisfaction' has no version 99 (known: 1" in lines[0]
