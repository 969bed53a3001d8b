"""Per-sheet calibration: a light box is judged by what the rest of its sheet looks like.

Light pencil and eraser residue overlap box by box.  On a sheet filled in pencil throughout,
a light mark as dark as the sheet's other pencil marks is the answer; on a pen sheet a light
box beside the pen answer, lighter than pencil can be, is eraser residue.  Everything else
that is light still goes to a person, and a sheet whose printed grey band does not read as
printed (a photocopy bends greys) gets no such help.
"""
from __future__ import annotations

import numpy as np
import pytest

from forms.paper import FAINT, INK
from scanner.instrument import refine, tone_as_printed
from scanner.marks import BoxReading, BoxState
from scanner.page import FIDUCIAL_BOXES, _boxes, read_page
from scanner.pipeline import make_lookups
from scanner.registration import find_fiducials, fit_page
from scanner.tone import BAND_NOMINAL, INK_NOMINAL, reference_darkness

PENCIL = 172          # light pencil, as grey: about 0.33 darker than the paper
LIGHT_PENCIL = 184    # the lightest pencil on the sheet: about 0.28
RESIDUE = 214         # what an eraser leaves: about 0.16


@pytest.fixture(scope="session")
def singles(filled_answers):
    return {k: v for k, v in filled_answers.items() if k not in ("desk", "mobile")}


@pytest.fixture(scope="module")
def lookups(printed_sheets, open_ledger):
    ledger = open_ledger(printed_sheets.home)
    yield make_lookups(printed_sheets.home, ledger)
    ledger.close()


@pytest.fixture(scope="session")
def _pencil_sheet(fill, singles):
    def _pencil_sheet(page: np.ndarray, light: dict | None = None) -> np.ndarray:
        """Every single-choice answer in pencil; `light` ones a lighter pencil."""
        light = light or {}
        fill(page, {k: v for k, v in singles.items() if k not in light}, grey=PENCIL)
        if light:
            fill(page, light, grey=LIGHT_PENCIL)
        return page

    return _pencil_sheet


def test_light_pencil_answers_on_a_pencil_sheet_are_accepted(printed_sheets, lookups, _pencil_sheet, singles):
    page = _pencil_sheet(printed_sheets.page(0), light={"workflow": singles["workflow"]})
    result = read_page(page, lookups)
    assert result.flags == {}
    assert result.status == "accepted"
    for qid, value in singles.items():
        assert result.answers[qid] == value


def test_the_same_light_pencil_mark_on_a_pen_sheet_goes_to_review(printed_sheets, lookups, fill, singles):
    pen = {k: v for k, v in singles.items() if k != "workflow"}
    page = fill(printed_sheets.page(1), pen)
    page = fill(page, {"workflow": singles["workflow"]}, grey=LIGHT_PENCIL)
    result = read_page(page, lookups)
    assert result.answers["workflow"] is None
    assert result.flags["workflow"] == "faint"
    for qid, value in pen.items():
        assert result.answers[qid] == value


def test_eraser_residue_beside_a_pen_answer_on_a_pen_sheet_is_not_a_second_mark(
        printed_sheets, lookups, fill, singles):
    page = fill(printed_sheets.page(2), singles)
    page = fill(page, {"workflow": 2}, grey=RESIDUE)      # the answer is 4, in pen
    result = read_page(page, lookups)
    assert "workflow" not in result.flags
    assert result.answers["workflow"] == singles["workflow"]


def test_a_pencil_dark_second_mark_beside_a_pen_answer_is_still_flagged(printed_sheets, lookups, fill,
                                                                        singles):
    page = fill(printed_sheets.page(3), singles)
    page = fill(page, {"workflow": 2}, grey=LIGHT_PENCIL)
    result = read_page(page, lookups)
    assert result.answers["workflow"] is None
    assert result.flags["workflow"] in ("erased?", "multiple")


def test_eraser_residue_alone_on_a_pencil_sheet_is_never_the_answer(printed_sheets, lookups, fill, singles):
    pencil = {k: v for k, v in singles.items() if k != "overall"}
    page = fill(printed_sheets.page(4), pencil, grey=PENCIL)
    page = fill(page, {"overall": 3}, grey=RESIDUE)       # erased; the question is blank
    result = read_page(page, lookups)
    assert result.answers["overall"] is None
    for qid, value in pencil.items():
        assert result.answers[qid] == value


def _bent(page: np.ndarray, gamma: float) -> np.ndarray:
    """A photocopy's tone curve: paper stays white, greys go darker."""
    return np.clip(255.0 * (page.astype(np.float64) / 255.0) ** gamma, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def _references(satisfaction_form):
    def _references(page: np.ndarray) -> tuple[float, float]:
        registration = fit_page(find_fiducials(page), FIDUCIAL_BOXES)
        return reference_darkness(page, registration, _boxes(satisfaction_form).band)

    return _references


def test_the_printed_greys_read_as_printed_on_a_plain_scan(printed_sheets, _references):
    band, ink = _references(printed_sheets.page(5))
    assert band == pytest.approx(BAND_NOMINAL, abs=0.01)
    assert band == pytest.approx(1 - FAINT.red, abs=0.01)
    assert ink == pytest.approx(INK_NOMINAL, abs=0.02)
    assert ink == pytest.approx(1 - INK.red, abs=0.02)
    assert tone_as_printed(band, ink)


@pytest.mark.parametrize("gamma", [0.6, 1.5, 1.9])
def test_a_bent_tone_curve_is_noticed(printed_sheets, gamma, _references):
    assert not tone_as_printed(*_references(_bent(printed_sheets.page(5), gamma)))


def test_a_copy_that_keeps_the_band_but_stretches_contrast_is_noticed(printed_sheets, _references):
    """Darker mid greys plus more contrast can leave the 7% band as printed; the 88% circle
    then reads far darker, and the sheet gets no help."""
    page = printed_sheets.page(5).astype(np.float64) / 255.0
    copy = np.clip(((page * 0.99) ** 1.5 - 0.5) * 1.3 + 0.5, 0, 1)
    band, ink = _references((copy * 255).astype(np.uint8))
    assert not tone_as_printed(band, ink)


def test_light_pencil_on_a_bent_copy_gets_no_help_from_the_sheet(printed_sheets, lookups, _pencil_sheet,
                                                                 singles):
    """On a photocopy the pencil rule is off: whatever is light stays with a person."""
    page = _bent(_pencil_sheet(printed_sheets.page(6)), 0.6)   # a copy that lightened greys
    result = read_page(page, lookups)
    for qid, value in singles.items():
        assert result.answers[qid] in (value, None)
        if result.answers[qid] is None:
            assert qid in result.flags
    assert result.flags, "light pencil on a copy that bent its greys was accepted unseen"


def _reading(state: BoxState, fill: float, dark_share: float = 0.0) -> BoxReading:
    return BoxReading(fill, state, 0.0 if state is not BoxState.UNCERTAIN else -0.1, dark_share)


def test_nothing_changes_when_the_tone_is_bent():
    readings = [_reading(BoxState.UNCERTAIN, 0.33), _reading(BoxState.EMPTY, 0.0)] * 4
    groups = [((2 * i, "a"), (2 * i + 1, "b")) for i in range(4)]
    medians = [r.fill for r in readings]
    assert refine(readings, medians, groups, tone_as_printed=False) == readings
    refined = refine(readings, medians, groups, tone_as_printed=True)
    assert [r.state for r in refined[::2]] == [BoxState.MARKED] * 4
