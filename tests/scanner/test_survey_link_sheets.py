"""Sheets printed with their survey link (a second QR code, the portal's one-time link) read
exactly as sheets without: the link is neither the sheet's code nor a sheet of its own.

Pages are real `print_sheets` output with links, rasterised at 300 dpi (where the link's small
modules decode, so the scanner really meets it), marked where the layout map says.
"""
from __future__ import annotations

import pytest
from pyzbar import pyzbar

from forms.identity_keys import ensure_office_key
from forms.survey_tokens import is_sheet_survey_link
from ledger.issuance import print_sheets
from ledger.ledger import Ledger, default_ledger_path
from scanner.page import read_sheets
from scanner.pipeline import make_lookups

DPI = 300
OTHER = {"service": "birth_registration", "workflow": 2, "overall": 5, "desk": "31"}


@pytest.fixture(scope="module")
def linked(tmp_path_factory, satisfaction_form, rasterise):
    """Two sheets printed with survey links, their home's look-ups and their page images."""
    folder = tmp_path_factory.mktemp("linked")
    home = folder / "home"
    ensure_office_key(home)
    run = print_sheets(home, satisfaction_form, "LOR-01", 2, folder / "sheets.pdf", portal_url="https://portal.example.ir")
    assert run.portal_url
    ledger = Ledger.open(default_ledger_path(home))
    yield make_lookups(home, ledger), rasterise(folder / "sheets.pdf", DPI)
    ledger.close()


@pytest.fixture(scope="module")
def first(linked, fill, filled_answers):
    return fill(linked[1][0].copy(), filled_answers, DPI)


def _lookups(linked):
    return linked[0]


def test_the_printed_sheet_carries_its_code_and_its_survey_link(first) -> None:
    texts = [s.data.decode() for s in pyzbar.decode(first)]
    assert len(texts) == 2 and sum(is_sheet_survey_link(t) for t in texts) == 1
    assert [t for t in texts if t.startswith("SEDA:1:SATISFACTION:1:LOR-01:1:")]


def test_a_scanned_sheet_with_its_survey_link_reads_as_one_sheet(linked, first, blank_answers, filled_answers):
    (result,) = read_sheets(first, _lookups(linked))
    assert (result.status, result.code.serial) == ("accepted", 1)
    assert result.answers == {**blank_answers, **filled_answers}


def test_a_sheet_fed_crooked_is_placed_by_its_code_never_by_its_link(linked, first, crooked_feed,
                                                                     blank_answers, filled_answers):
    (result,) = read_sheets(crooked_feed(first, 11, 0.93), _lookups(linked))
    assert len(result.registration.markers) < 4
    assert (result.status, result.code.serial) == ("accepted", 1)
    assert result.answers == {**blank_answers, **filled_answers}


def test_two_sheets_with_links_in_one_photo_are_two_sheets_both_read(linked, first, fill, place_on_canvas,
                                                                     blank_answers, filled_answers):
    second = fill(linked[1][1].copy(), OTHER, DPI)
    image = place_on_canvas([first, second], (3000, 2100), [(760, 1050, 3, 0.55), (2240, 1050, -2, 0.55)])
    results = read_sheets(image, _lookups(linked))
    assert sorted((r.status, r.code.serial) for r in results) == [("accepted", 1), ("accepted", 2)]
    read = {r.code.serial: r.answers for r in results}
    assert read[1] == {**blank_answers, **filled_answers} and read[2] == {**blank_answers, **OTHER}


def test_a_sheet_with_every_corner_marker_hidden_is_one_sheet_not_a_foreign_code_beside_it(
        linked, first, blank_out, satisfaction_layout, blank_answers, filled_answers):
    """Without markers the whole image is searched for codes and a code alone makes a sheet:
    the survey link must not make a second one ("not a Seda form")."""
    page = first.copy()
    for _, box in satisfaction_layout.fiducials:
        blank_out(page, box, DPI, margin=6)
    results = read_sheets(page, _lookups(linked))
    assert [(r.status, r.code.serial if r.code else r.reason) for r in results] == [("accepted", 1)]
    assert results[0].answers == {**blank_answers, **filled_answers}


def test_the_code_search_passes_a_survey_link_by_even_where_it_decodes_easily() -> None:
    """At the resolutions the scanner works at the link's small modules rarely decode at all;
    where they do (a close-up photo), the link is still no code of a sheet."""
    import numpy as np
    import segno

    from scanner.qr import _quick_texts, decode_any, find_codes

    link = "https://portal.example.ir/s/LOR-01.2527.S1-3-satisfaction." + "A" * 86
    assert is_sheet_survey_link(link)
    code = "SEDA:1:SATISFACTION:1:LOR-01:3:CW47HJJHDZMXRKK5"
    image = np.full((700, 1300), 255, np.uint8)
    for text, left in ((code, 40), (link, 640)):
        symbol = np.array(segno.make(text, micro=False).matrix, np.uint8)
        big = np.kron(1 - symbol, np.ones((10, 10), np.uint8)) * 255
        image[60:60 + big.shape[0], left:left + big.shape[1]] = big[:, :]
    assert sorted(s.data.decode() for s in pyzbar.decode(image)) == sorted([code, link])
    assert [s.text for s in find_codes(image, expected=2)] == [code]
    assert decode_any(image) == [code]
    assert _quick_texts(image, density=1) == [code]
