"""Print real sheets with `seda forms print`, rasterise them as a scanner would, and read them
back: every QR decodes and verifies, and every box, marker and QR lands where the layout map
says.  This is the contract between the printer and the scanner, checked on pixels.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from forms.office_identity import read_office, write_office
from click.testing import CliRunner
from PIL import Image
from pyzbar.pyzbar import decode

import forms
from seda.cli import main
from ledger import Ledger

OFFICE = "LOR-01"
COUNT = 6
DPIS = (150, 200, 300)
PLACEMENT_DPI = 200
VERSION = forms.builtin_catalog().get("satisfaction").version  # what `seda forms print` prints
QR_CROP_MARGIN_PT = 6.0  # enough quiet room around the map's QR box, short of fiducial 0
DARK, LIGHT = 128, 230


# -- printing and rasterising (once per module: printing is what is under test) -----------


class PrintedSheets:
    def __init__(self, home: Path, pdf_path: Path, result) -> None:
        self.home = home
        self.pdf_path = pdf_path
        self.result = result
        self.layout_map = forms.build_layout(forms.builtin_catalog().get("satisfaction")).to_json()
        self._pdf = pdfium.PdfDocument(str(pdf_path))
        self._images: dict[int, list[Image.Image]] = {}

    @property
    def page_count(self) -> int:
        return len(self._pdf)

    def page_size(self, index: int) -> tuple[float, float]:
        return self._pdf[index].get_size()

    def images(self, dpi: int) -> list[Image.Image]:
        """Every page as a grayscale image at `dpi`, rendered once."""
        if dpi not in self._images:
            self._images[dpi] = [page.render(scale=dpi / 72).to_pil().convert("L")
                                 for page in self._pdf]
        return self._images[dpi]

    def close(self) -> None:
        self._pdf.close()


def print_sheets(tmp: Path, home: Path, count: int, name: str = "x.pdf"):
    if read_office(home) is None:
        write_office(home, OFFICE)  # what `seda office setup --office LOR-01` writes
    runner = CliRunner()
    out = tmp / name
    result = runner.invoke(main, ["forms", "print", "satisfaction", "--office", OFFICE,
                                  "--count", str(count), "--out", str(out)],
                           env={"SEDA_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("round-trip")
    home = tmp / "home"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("SEDA_HOME", str(home))
        out, result = print_sheets(tmp, home, COUNT)
        sheets = PrintedSheets(home, out, result)
        yield sheets
        sheets.close()


def decode_qr(image: Image.Image, qr_box, dpi: int, margin_pt: float = QR_CROP_MARGIN_PT):
    """The QR symbols zbar finds in a crop around the map's QR box only."""
    scale = dpi / 72
    x, y, w, h = qr_box
    crop = image.crop((math.floor((x - margin_pt) * scale), math.floor((y - margin_pt) * scale),
                       math.ceil((x + w + margin_pt) * scale), math.ceil((y + h + margin_pt) * scale)))
    return [symbol for symbol in decode(crop) if symbol.type == "QRCODE"]


def sheet_codes(sheets: PrintedSheets, dpi: int = PLACEMENT_DPI) -> list[forms.SheetCode]:
    codes = []
    for image in sheets.images(dpi):
        (symbol,) = decode_qr(image, sheets.layout_map["qr"]["box"], dpi)
        codes.append(forms.parse_sheet_code(symbol.data.decode("ascii")))
    return codes


# -- the print run ---------------------------------------------------------------------


def test_print_reports_the_serials_it_wrote(printed: PrintedSheets) -> None:
    assert f"Wrote {COUNT} sheets of satisfaction v{VERSION} for {OFFICE} (serials 1-{COUNT})" \
        in printed.result.stdout


def test_pdf_has_one_a4_page_per_sheet(printed: PrintedSheets) -> None:
    assert printed.page_count == COUNT
    for index in range(COUNT):
        width, height = printed.page_size(index)
        assert width == pytest.approx(printed.layout_map["page"]["width"], abs=0.01)
        assert height == pytest.approx(printed.layout_map["page"]["height"], abs=0.01)


def test_pdf_embeds_the_vazirmatn_fonts(printed: PrintedSheets) -> None:
    data = printed.pdf_path.read_bytes()
    assert b"Vazirmatn" in data
    assert b"Vazirmatn-Regular" in data and b"Vazirmatn-Bold" in data
    assert b"/FontFile2" in data, "the TrueType font program itself must be in the file"


# -- the QR code ---------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", DPIS)
def test_every_page_qr_decodes_from_a_crop_of_the_qr_box(printed: PrintedSheets, dpi: int) -> None:
    found = [decode_qr(image, printed.layout_map["qr"]["box"], dpi) for image in printed.images(dpi)]
    assert [len(symbols) for symbols in found] == [1] * COUNT


@pytest.mark.parametrize("dpi", DPIS)
def test_qr_text_is_the_same_at_every_resolution(printed: PrintedSheets, dpi: int) -> None:
    assert sheet_codes(printed, dpi) == sheet_codes(printed, PLACEMENT_DPI)


def test_qr_with_its_quiet_zone_fits_inside_the_map_qr_box(printed: PrintedSheets) -> None:
    box = printed.layout_map["qr"]["box"]
    for image in printed.images(PLACEMENT_DPI):
        assert len(decode_qr(image, box, PLACEMENT_DPI, margin_pt=0)) == 1


def test_every_code_verifies_with_the_office_key(printed: PrintedSheets) -> None:
    key = forms.load_key(printed.home, OFFICE)
    assert key is not None
    assert all(forms.verify_sheet_code(code, key) for code in sheet_codes(printed))


def test_every_code_names_the_form_version_and_office(printed: PrintedSheets) -> None:
    named = {(c.form, c.form_version, c.office) for c in sheet_codes(printed)}
    assert named == {("satisfaction", VERSION, OFFICE)}


def test_serials_are_unique_and_consecutive_from_1(printed: PrintedSheets) -> None:
    assert [code.serial for code in sheet_codes(printed)] == list(range(1, COUNT + 1))


def test_ledger_says_every_printed_sheet_was_issued(printed: PrintedSheets) -> None:
    with Ledger.open(printed.home / "ledger.sqlite3") as ledger:
        for code in sheet_codes(printed):
            assert ledger.sheet_issued(OFFICE, code.form, code.form_version, code.serial)


def test_ledger_says_the_next_serial_was_not_issued(printed: PrintedSheets) -> None:
    last = max(code.serial for code in sheet_codes(printed))
    with Ledger.open(printed.home / "ledger.sqlite3") as ledger:
        assert not ledger.sheet_issued(OFFICE, "satisfaction", VERSION, last + 1)


def test_second_print_continues_the_serials(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("SEDA_HOME", str(home))
    print_sheets(tmp_path, home, COUNT, "first.pdf")
    second, result = print_sheets(tmp_path, home, 3, "second.pdf")
    sheets = PrintedSheets(home, second, result)
    try:
        assert [code.serial for code in sheet_codes(sheets)] == [7, 8, 9]
    finally:
        sheets.close()
    assert "(serials 7-9)" in result.stdout


# -- where things land on the page ----------------------------------------------------------


def _question(layout_map: dict, question_id: str) -> dict:
    return next(q for q in layout_map["questions"] if q["id"] == question_id)


def _option_box(layout_map: dict, question_id: str, value) -> list[float]:
    return next(o["box"] for o in _question(layout_map, question_id)["options"] if o["value"] == value)


def _digit_box(layout_map: dict, question_id: str, column: int, value: str) -> list[float]:
    options = _question(layout_map, question_id)["columns"][column]["options"]
    return next(o["box"] for o in options if o["value"] == value)


CIRCLES = {
    "service/birth_registration": lambda m: _option_box(m, "service", "birth_registration"),
    "service/other": lambda m: _option_box(m, "service", "other"),
    "workflow/3": lambda m: _option_box(m, "workflow", 3),
    "staff_behaviour/5": lambda m: _option_box(m, "staff_behaviour", 5),
    "follow_up_consent/yes": lambda m: _option_box(m, "follow_up_consent", "yes"),
    "desk[0]/0": lambda m: _digit_box(m, "desk", 0, "0"),
    "desk[1]/9": lambda m: _digit_box(m, "desk", 1, "9"),
    "mobile[0]/0": lambda m: _digit_box(m, "mobile", 0, "0"),
    "mobile[5]/4": lambda m: _digit_box(m, "mobile", 5, "4"),
    "mobile[10]/9": lambda m: _digit_box(m, "mobile", 10, "9"),
}


def _pixel(image: np.ndarray, x: float, y: float) -> int:
    """The pixel covering point (x, y) in pixel units (pixel i spans [i, i+1))."""
    return int(image[int(y), int(x)])


def _ring(image: np.ndarray, cx: float, cy: float, radius: float, samples: int = 16) -> list[int]:
    return [_pixel(image, cx + radius * math.cos(2 * math.pi * k / samples),
                   cy + radius * math.sin(2 * math.pi * k / samples)) for k in range(samples)]


def _circle_in_pixels(box, dpi: int) -> tuple[float, float, float]:
    scale = dpi / 72
    x, y, w, h = box
    return (x + w / 2) * scale, (y + h / 2) * scale, w / 2 * scale


@pytest.mark.parametrize("name", CIRCLES)
def test_circle_outline_is_drawn_on_the_map_box_edge(printed: PrintedSheets, name: str) -> None:
    """The outline is ~2.5 px wide at 200 dpi: a 1 px shift already leaves several samples light."""
    cx, cy, radius = _circle_in_pixels(CIRCLES[name](printed.layout_map), PLACEMENT_DPI)
    for page, image in enumerate(printed.images(PLACEMENT_DPI), start=1):
        ring = _ring(np.asarray(image), cx, cy, radius)
        assert sum(v < DARK for v in ring) >= 14, f"page {page}: {ring}"


@pytest.mark.parametrize("name", CIRCLES)
def test_circle_interior_is_blank(printed: PrintedSheets, name: str) -> None:
    cx, cy, radius = _circle_in_pixels(CIRCLES[name](printed.layout_map), PLACEMENT_DPI)
    for image in printed.images(PLACEMENT_DPI):
        pixels = np.asarray(image)
        assert min(_ring(pixels, cx, cy, radius / 2)) > LIGHT
        assert _pixel(pixels, cx, cy) > LIGHT


@pytest.mark.parametrize("name", CIRCLES)
def test_nothing_is_drawn_just_outside_the_circle(printed: PrintedSheets, name: str) -> None:
    cx, cy, radius = _circle_in_pixels(CIRCLES[name](printed.layout_map), PLACEMENT_DPI)
    for image in printed.images(PLACEMENT_DPI):
        assert min(_ring(np.asarray(image), cx, cy, radius + 4)) > LIGHT


def _text_box_pixels(printed: PrintedSheets) -> tuple[float, float, float, float]:
    scale = PLACEMENT_DPI / 72
    x, y, w, h = _question(printed.layout_map, "comment")["box"]
    return x * scale, y * scale, (x + w) * scale, (y + h) * scale


def _edge_points(left: float, top: float, right: float, bottom: float, inset: float):
    """Points along the four sides of a rectangle, `inset` px inwards (negative: outwards),
    away from the rounded corners."""
    points = []
    for f in (0.2, 0.35, 0.5, 0.65, 0.8):
        x, y = left + f * (right - left), top + f * (bottom - top)
        points += [(x, top + inset), (x, bottom - inset), (left + inset, y), (right - inset, y)]
    return points


def test_text_box_outline_is_drawn_on_the_map_box_edge(printed: PrintedSheets) -> None:
    left, top, right, bottom = _text_box_pixels(printed)
    for image in printed.images(PLACEMENT_DPI):
        pixels = np.asarray(image)
        assert [v for v in (_pixel(pixels, x, y) for x, y in _edge_points(left, top, right, bottom, 0))
                if v >= DARK] == []


def test_text_box_is_blank_just_inside_and_just_outside_its_edge(printed: PrintedSheets) -> None:
    left, top, right, bottom = _text_box_pixels(printed)
    points = (_edge_points(left, top, right, bottom, 4) + _edge_points(left, top, right, bottom, -4))
    for image in printed.images(PLACEMENT_DPI):
        pixels = np.asarray(image)
        assert min(_pixel(pixels, x, y) for x, y in points) > LIGHT


def test_text_box_interior_is_blank(printed: PrintedSheets) -> None:
    left, top, right, bottom = (round(v) for v in _text_box_pixels(printed))
    for image in printed.images(PLACEMENT_DPI):
        inner = np.asarray(image)[top + 6:bottom - 6, left + 6:right - 6]
        assert inner.min() > LIGHT


def _detect_markers(image: Image.Image) -> dict[int, np.ndarray]:
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50),
                                       cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(np.asarray(image))
    if ids is None:
        return {}
    return {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners)}


@pytest.mark.parametrize("dpi", DPIS)
def test_all_four_fiducials_are_found(printed: PrintedSheets, dpi: int) -> None:
    for image in printed.images(dpi):
        assert set(_detect_markers(image)) == {0, 1, 2, 3}


def test_fiducial_centres_are_where_the_map_says(printed: PrintedSheets) -> None:
    scale = PLACEMENT_DPI / 72
    expected = {f["id"]: np.array([f["box"][0] + f["box"][2] / 2, f["box"][1] + f["box"][3] / 2])
                * scale for f in printed.layout_map["fiducials"]}
    for image in printed.images(PLACEMENT_DPI):
        found = _detect_markers(image)
        for marker_id, centre in expected.items():
            assert np.linalg.norm(found[marker_id].mean(axis=0) - centre) <= 3, marker_id


def test_fiducials_are_printed_upright(printed: PrintedSheets) -> None:
    """ArUco reports corners from the marker's own top-left, clockwise: upright markers have
    them on the map box's top-left, top-right, bottom-right and bottom-left corners."""
    scale = PLACEMENT_DPI / 72
    found = _detect_markers(printed.images(PLACEMENT_DPI)[0])
    for fiducial in printed.layout_map["fiducials"]:
        x, y, w, h = (v * scale for v in fiducial["box"])
        box_corners = np.array([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
        assert np.abs(found[fiducial["id"]] - box_corners).max() <= 3, fiducial["id"]


def test_layout_map_used_here_is_the_cli_map(printed: PrintedSheets) -> None:
    result = CliRunner().invoke(main, ["forms", "layout", "satisfaction", "--json"])
    assert json.loads(result.stdout) == printed.layout_map


def test_printed_serial_label_names_the_office(printed: PrintedSheets) -> None:
    """The Latin office code under the QR is real text in the PDF (Persian text is shaped
    glyphs, so it is not checked by extraction)."""
    document = pdfium.PdfDocument(str(printed.pdf_path))
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert re.search(rf"\b{re.escape(OFFICE)}\b", text)
