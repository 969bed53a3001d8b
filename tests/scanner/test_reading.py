"""Reading marks from real printed sheets: what was drawn is what is read, and anything the
scanner is not sure of goes to review instead of being guessed.

Pages are real `print_sheets` output rasterised at 150 dpi with marks drawn as dark disks where
the layout map puts the boxes; `read_page` is called directly (the pure core).
"""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from scanner.page import read_page


@pytest.fixture(scope="session")
def filled_read(blank_answers, filled_answers):
    return {**blank_answers, **filled_answers}


@pytest.fixture(scope="module")
def filled_page(printed_sheets, fill, filled_answers):
    return fill(printed_sheets.page(0), filled_answers)


def test_filled_sheet_is_accepted_with_exactly_the_drawn_answers(filled_page, lookups, filled_read):
    result = read_page(filled_page, lookups)
    assert (result.status, result.reason) == ("accepted", None)
    assert result.answers == filled_read
    assert result.flags == {}
    assert result.code.serial == 1


def test_filled_sheet_json_names_the_sheet_and_form(filled_page, lookups):
    data = read_page(filled_page, lookups, source="x.png", page=3).to_json()
    assert data["sheet"] == "LOR-01/satisfaction/1"
    assert data["form"] == "satisfaction"
    assert (data["source"], data["page"]) == ("x.png", 3)


def test_unfilled_sheet_is_blank_with_every_answer_null(printed_sheets, lookups, blank_answers):
    result = read_page(printed_sheets.page(1), lookups)
    assert (result.status, result.reason) == ("blank", "blank_sheet")
    assert result.answers == blank_answers
    assert result.flags == {}
    assert result.candidates == {}   # not even a half-seen mark


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_sheet_scanned_upside_down_or_sideways_reads_the_same(filled_page, lookups, degrees,
                                                              filled_read, rotate):
    result = read_page(rotate(filled_page, degrees), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


@pytest.mark.parametrize("degrees", [10, -10])
def test_sheet_skewed_ten_degrees_reads_the_same(filled_page, lookups, degrees, filled_read, rotate):
    result = read_page(rotate(filled_page, degrees), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_sheet_printed_at_95_percent_reads_the_same(filled_page, lookups, filled_read, shrink_on_page):
    result = read_page(shrink_on_page(filled_page, 0.95), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_sheet_printed_at_95_percent_and_rotated_reads_the_same(filled_page, lookups, filled_read,
                                                                rotate, shrink_on_page):
    result = read_page(rotate(shrink_on_page(filled_page, 0.95), 180), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_two_marks_in_a_single_choice_question_go_to_review_as_multiple(printed_sheets, lookups, fill):
    page = fill(printed_sheets.page(2), {"workflow": [2, 4], "overall": 5})
    result = read_page(page, lookups)
    assert result.status == "review"
    assert result.flags == {"workflow": "multiple"}
    assert result.answers["workflow"] is None
    assert sorted(result.candidates["workflow"]) == [2, 4]
    assert result.answers["overall"] == 5   # the rest of the sheet is still read


def test_faint_mark_is_never_accepted_as_the_answer(printed_sheets, lookups, faint_grey, fill):
    """A light grey (~200) touch in a box is ambiguous.  The scanner may flag it `faint` (what it
    does today: status review with the box as candidate) or read the question as blank, but it
    must never silently accept it as the answer."""
    page = fill(printed_sheets.page(3), {"workflow": 3}, grey=faint_grey)
    result = read_page(page, lookups)
    assert result.answers["workflow"] is None
    if "workflow" in result.flags:
        assert result.flags["workflow"] == "faint"
        assert result.status == "review"
        assert result.candidates["workflow"] == 3


def test_faint_mark_beside_a_firm_one_is_not_read_as_the_firm_answer(printed_sheets, lookups,
                                                                     faint_grey, fill):
    """A firm mark with a faint one in the same question (an erasure, a second thought) is not
    certain either: it must not be accepted as the firm value."""
    page = fill(printed_sheets.page(3), {"workflow": 4})
    page = fill(page, {"workflow": 2}, grey=faint_grey)
    result = read_page(page, lookups)
    assert result.status == "review"
    assert result.answers["workflow"] is None
    assert result.flags["workflow"] in ("erased?", "faint", "multiple")


def test_partly_filled_mobile_grid_is_flagged_partial(printed_sheets, lookups, fill):
    page = fill(printed_sheets.page(4), {"mobile": "09123"})   # 5 of 11 columns
    result = read_page(page, lookups)
    assert result.status == "review"
    assert result.flags == {"mobile": "partial"}
    assert result.answers["mobile"] is None
    assert result.candidates["mobile"] == "09123??????"


def test_invalid_mobile_number_is_flagged_invalid(printed_sheets, lookups, fill):
    page = fill(printed_sheets.page(5), {"mobile": "1" * 11})
    result = read_page(page, lookups)
    assert result.status == "review"
    assert result.flags == {"mobile": "invalid"}
    assert result.answers["mobile"] is None
    assert result.candidates["mobile"] == "1" * 11


def test_two_digits_in_one_grid_column_are_flagged(printed_sheets, lookups, fill):
    page = fill(printed_sheets.page(5), {"desk": "12"})
    page = fill(page, {"desk": "3 "})          # a second mark in the first column
    result = read_page(page, lookups)
    assert result.status == "review"
    assert result.flags["desk"] == "multiple"
    assert result.answers["desk"] is None


def test_desk_grid_alone_reads_its_digits(printed_sheets, lookups, fill):
    result = read_page(fill(printed_sheets.page(6), {"desk": "42"}), lookups)
    assert result.status == "accepted"
    assert result.answers["desk"] == "42"


def test_writing_in_the_comment_box_is_noticed(printed_sheets, lookups, write_comment):
    result = read_page(write_comment(printed_sheets.page(7)), lookups)
    assert result.writing == {"comment": True}
    assert result.answers["comment"] is None   # no OCR: the text is an image for a person
    assert result.status == "accepted"


def test_empty_comment_box_has_no_writing(printed_sheets, lookups):
    result = read_page(printed_sheets.page(8), lookups)
    assert result.writing == {"comment": False}


def test_comment_crop_is_kept_when_crops_are_wanted(printed_sheets, lookups, write_comment):
    result = read_page(write_comment(printed_sheets.page(7)), lookups, want_crops=True)
    crop = result.crops["comment"]
    assert crop.ndim == 2 and crop.shape[0] > 100 and crop.shape[1] > 100
    assert crop.min() < 100      # the writing is in it


# -- print-and-scan effects -------------------------------------------------------------------


def _uneven_light(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    light = np.linspace(0.55, 1.0, w)[None, :] * np.linspace(0.7, 1.0, h)[:, None]
    return (image * light).astype(np.uint8)


def _perspective(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[w * 0.12, h * 0.05], [w * 0.88, 0], [w, h], [0, h * 0.97]])
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), (w, h),
                               borderValue=120)   # a grey table around the page


@pytest.fixture(params=["jpeg_q40_skewed_7", "one_bit_threshold", "photocopy_darkening", "uneven_light",
                        "blur", "phone_perspective"])
def effect(request, jpeg_bytes, rotate):
    """One thing printing and scanning does to a page."""

    def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
        return np.array(Image.open(io.BytesIO(jpeg_bytes(image, quality))))

    return {
        "jpeg_q40_skewed_7": lambda image: jpeg(rotate(image, 7), 40),
        "one_bit_threshold": lambda image: np.where(image < 128, 0, 255).astype(np.uint8),
        "photocopy_darkening": lambda image: (image.astype(float) * 0.6 + 40).astype(np.uint8),
        "uneven_light": _uneven_light,
        "blur": lambda image: cv2.GaussianBlur(image, (0, 0), 1.5),
        "phone_perspective": _perspective,
    }[request.param]


def test_filled_sheet_reads_the_same_through_print_and_scan_effects(filled_page, lookups, effect, filled_read):
    result = read_page(effect(filled_page), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_blank_sheet_has_no_marks_through_print_and_scan_effects(printed_sheets, lookups, effect, blank_answers):
    result = read_page(effect(printed_sheets.page(1)), lookups)
    assert result.answers == blank_answers
    assert result.flags == {}


@pytest.mark.parametrize("kept", [(0,), (2,), (), (1, 3)])
def test_sheet_with_corner_markers_cut_off_is_placed_by_its_code_and_circles(filled_page, lookups,
                                                                            kept, blank_out, filled_read, satisfaction_layout):
    page = filled_page.copy()
    for marker_id, box in satisfaction_layout.fiducials:
        if marker_id not in kept:
            blank_out(page, box, margin=3)
    result = read_page(page, lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read
    assert result.registration.describe()["markers"] == list(kept)
    assert result.registration.describe()["structure"] > 0.9


def test_sheet_whose_circles_cannot_be_found_goes_to_review_not_a_guess(filled_page, lookups,
                                                                        blank_answers, blank_out,
                                                                        question_ids,
                                                                        satisfaction_layout):
    """Three markers cut off and the answer area washed out: the code still names the sheet,
    but nothing places its boxes, so every question goes to a person."""
    page = filled_page.copy()
    for marker_id, box in satisfaction_layout.fiducials:
        if marker_id != 0:
            blank_out(page, box, margin=3)
    top = min(b[1] for q in satisfaction_layout.questions for _, b in q.options)
    page[int(top * 150 / 72) - 10:, :] = 255
    result = read_page(page, lookups)
    assert (result.status, result.reason) == ("review", "registration")
    assert result.answers == blank_answers
    assert set(result.flags) == set(question_ids)
    assert set(result.flags.values()) == {"registration"}


def test_sheet_missing_one_corner_marker_still_reads(filled_page, lookups, blank_out, filled_read,
                                                     satisfaction_layout):
    page = filled_page.copy()
    blank_out(page, dict(satisfaction_layout.fiducials)[2], margin=3)
    result = read_page(page, lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_sheet_with_most_boxes_filled_is_not_read_as_blank(printed_sheets, lookups, draw_marks, fill,
                                                           filled_answers, satisfaction_layout):
    """Someone fills every bubble of the mobile grid (110 of the sheet's 162 boxes) besides
    answering the questions.  Calibrating "empty" from the median box must not then call every
    mark empty and accept the sheet with its answers silently dropped."""
    singles = {q: v for q, v in filled_answers.items() if q != "mobile"}
    page = fill(printed_sheets.page(9), singles)
    (mobile,) = [q for q in satisfaction_layout.questions if q.id == "mobile"]
    draw_marks(page, [box for column in mobile.columns for _, box in column])
    result = read_page(page, lookups)
    assert result.status == "review"
    assert result.flags.get("mobile") == "multiple"
    for qid, value in singles.items():
        assert result.answers[qid] == value or qid in result.flags, qid


def _shadow(image: np.ndarray, depth: float, softness_px: float) -> np.ndarray:
    """A band of shadow down the middle third of the page (a phone or a hand over it)."""
    h, w = image.shape
    step = 4                                   # blur a small copy: same light field, far faster
    light = np.ones((h // step, w // step), np.float32)
    light[:, int(w * 0.3) // step:int(w * 0.6) // step] = depth
    light = cv2.GaussianBlur(light, (0, 0), softness_px / step)
    return (image * cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)).astype(np.uint8)


def test_soft_shadow_across_the_sheet_reads_the_same(filled_page, lookups, filled_read):
    result = read_page(_shadow(filled_page, 0.45, 60), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_soft_shadow_across_a_blank_sheet_marks_nothing(printed_sheets, lookups, blank_answers):
    result = read_page(_shadow(printed_sheets.page(1), 0.45, 60), lookups)
    assert (result.status, result.answers) == ("blank", blank_answers)


@pytest.mark.parametrize("softness_px", [15, 40])
def test_hard_shadow_edge_never_changes_an_accepted_answer(filled_page, lookups, softness_px, filled_read):
    """A deep, sharp-edged shadow may send questions to review, but every answer that is
    not flagged must be the one drawn."""
    result = read_page(_shadow(filled_page, 0.45, softness_px), lookups)
    silent = {q: v for q, v in result.answers.items()
              if v != filled_read[q] and q not in result.flags}
    assert silent == {}


# -- digit grids are checked by what the form says they are ---------------------------------


def _grid(number: str):
    """Boxes of a digit grid with ``number`` marked, as read_digits takes them."""
    from scanner.marks import BoxReading, BoxState

    groups, readings = [], []
    for digit in number:
        column = []
        for value in "0123456789":
            column.append((len(readings), value))
            state = BoxState.MARKED if value == digit else BoxState.EMPTY
            readings.append(BoxReading(fill=0.5 if value == digit else 0.0, state=state, margin=0.2))
        groups.append(column)
    return groups, readings


def _digits_question(qid: str, digit_format: str):
    from forms import Question, Text

    return Question(id=qid, kind="digits", label=Text("شماره", "Number"), digits=11,
                    format=digit_format)


def test_digits_the_form_calls_a_mobile_number_are_checked_whatever_the_question_id():
    from scanner.answers import read_digits

    groups, readings = _grid("1" * 11)
    answer, flag, candidate, _ = read_digits(_digits_question("contact_number", "mobile"),
                                             groups, readings)
    assert (answer, flag, candidate) == (None, "invalid", "1" * 11)


def test_plain_digits_are_not_checked_as_a_mobile_number_even_under_the_id_mobile():
    from scanner.answers import read_digits

    groups, readings = _grid("1" * 11)
    answer, flag, _, _ = read_digits(_digits_question("mobile", ""), groups, readings)
    assert (answer, flag) == ("1" * 11, None)
