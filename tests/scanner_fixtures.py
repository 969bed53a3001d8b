"""Shared helpers for the scanner tests: real printed sheets, filled in with pixels.

Sheets are printed with the real issuing code into a temporary `$SEDA_HOME` (so the office key
and the ledger's issued serials exist), rasterised with pypdfium2 as a scanner would, and then
"filled in" by drawing dark disks where the layout map puts the boxes.  Everything here is
plain functions; the test modules import `printed_sheets` to get one module-scoped print run.
"""
from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

import forms
from ledger import Ledger, default_ledger_path
from ledger.issuance import print_sheets

OFFICE = "LOR-01"
FORM_ID = "satisfaction"
SHEET_COUNT = 12
DPI = 150                      # the scanner's low end: fast, and what cheap scanners give
PEN = 25                       # a blue/black ballpoint fill, as grey
FAINT = 200                    # a light pencil touch: neither clearly empty nor clearly marked
VALID_MOBILE = "09123456789"

FILLED_ANSWERS: dict[str, Any] = {
    "service": "smart_id_card",
    "workflow": 4,
    "matched_announcement": "partly",
    "staff_behaviour": 5,
    "waiting_time": "10_30",
    "overall": 2,
    "desk": "07",
    "mobile": VALID_MOBILE,
    "follow_up_consent": "yes",
}


def form():
    return forms.builtin_catalog().get(FORM_ID)


def all_null() -> dict[str, Any]:
    """Every question of the form, unanswered: what a blank sheet reads."""
    return {q.id: None for q in form().questions}


def layout():
    return forms.build_layout(form())


def question_ids() -> list[str]:
    return [q.id for q in form().questions]


# -- printing ---------------------------------------------------------------------------------


@dataclass
class Printed:
    """One print run: its home (key + ledger), the PDF, and the page images by dpi."""

    home: Path
    pdf: Path
    serials: range
    key: bytes
    _pages: dict[int, list[np.ndarray]] = field(default_factory=dict)

    def page(self, index: int, dpi: int = DPI) -> np.ndarray:
        """A fresh (writable) grey image of sheet `index` (0-based) at `dpi`."""
        if dpi not in self._pages:
            self._pages[dpi] = rasterise(self.pdf, dpi)
        return self._pages[dpi][index].copy()

    def copy_home(self, target: Path) -> Path:
        """A private copy of the installation, for a test that writes to the ledger."""
        shutil.copytree(self.home, target)
        return target


def print_run(tmp: Path, count: int = SHEET_COUNT) -> Printed:
    home = tmp / "home"
    pdf = tmp / "sheets.pdf"
    run = print_sheets(home, form(), OFFICE, count, pdf)
    key = forms.load_key(home, OFFICE)
    assert key is not None
    return Printed(home=home, pdf=pdf, serials=run.serials, key=key)


@pytest.fixture(scope="module")
def printed_sheets(tmp_path_factory) -> Printed:
    """Sheets printed once per test module, read-only: a test that writes to the ledger
    works on its own copy of the home (`copy_home`)."""
    return print_run(tmp_path_factory.mktemp("printed"))


@pytest.fixture(scope="module")
def lookups(printed_sheets):
    """The scanner's look-ups against the printed sheets' installation (read-only)."""
    from scanner.pipeline import make_lookups

    ledger = open_ledger(printed_sheets.home)
    yield make_lookups(printed_sheets.home, ledger)
    ledger.close()


def render_code_pages(out: Path, codes: Iterable[forms.SheetCode], the_form=None) -> Path:
    """A PDF with one sheet per given code, without touching any ledger (forgeries, oddities)."""
    the_form = the_form or form()
    forms.render_sheets(the_form, forms.build_layout(the_form), list(codes), out)
    return out


def rasterise(pdf: Path, dpi: int = DPI) -> list[np.ndarray]:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [np.array(page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
                for page in document]
    finally:
        document.close()


# -- filling in -------------------------------------------------------------------------------


def pt_to_px(value: float, dpi: int = DPI) -> float:
    return value * dpi / 72


def boxes_for(answers: Mapping[str, Any]) -> list[tuple[float, float, float, float]]:
    """Layout boxes (points) to mark for `answers`: an option value, or a digit string for a
    grid (one digit per column; a None/space in the string leaves that column empty)."""
    by_id = {q.id: q for q in layout().questions}
    boxes = []
    for qid, value in answers.items():
        question = by_id[qid]
        if question.kind == "digits":
            for column, digit in zip(question.columns, value):
                if digit in (None, " "):
                    continue
                boxes.extend(box for v, box in column if v == digit)
        else:
            values = value if isinstance(value, (list, tuple)) else [value]
            found = [box for v, box in question.options if v in values]
            assert len(found) == len(values), f"{qid}: no box for {value!r}"
            boxes.extend(found)
    return boxes


def draw_marks(image: np.ndarray, boxes: Iterable[tuple[float, float, float, float]],
               dpi: int = DPI, grey: int = PEN, fill: float = 0.9) -> np.ndarray:
    """Fill disks (radius `fill` of the box radius) at page-point boxes, in place."""
    for x, y, w, h in boxes:
        centre = (round(pt_to_px(x + w / 2, dpi)), round(pt_to_px(y + h / 2, dpi)))
        radius = max(1, round(pt_to_px(w / 2, dpi) * fill))
        cv2.circle(image, centre, radius, int(grey), thickness=-1, lineType=cv2.LINE_AA)
    return image


def fill(image: np.ndarray, answers: Mapping[str, Any], dpi: int = DPI,
         grey: int = PEN) -> np.ndarray:
    return draw_marks(image, boxes_for(answers), dpi, grey)


def write_comment(image: np.ndarray, dpi: int = DPI) -> np.ndarray:
    """A few lines of scribble inside the comment box, like handwriting."""
    (text_box,) = [q.box for q in layout().questions if q.kind == "text"]
    x, y, w, h = text_box
    rng = np.random.default_rng(7)
    for line in range(4):
        base_y = y + 30 + line * 22
        points = []
        for step in range(40):
            px = x + 15 + step * (w - 30) / 40
            py = base_y + rng.uniform(-5, 5)
            points.append((round(pt_to_px(px, dpi)), round(pt_to_px(py, dpi))))
        cv2.polylines(image, [np.array(points, np.int32)], False, 30, thickness=max(2, dpi // 75))
    return image


def blank_out(image: np.ndarray, box: tuple[float, float, float, float], dpi: int = DPI,
              margin: float = 4.0) -> np.ndarray:
    """Paint a white rectangle over a page-point box (plus margin), in place."""
    x, y, w, h = box
    p0 = (round(pt_to_px(x - margin, dpi)), round(pt_to_px(y - margin, dpi)))
    p1 = (round(pt_to_px(x + w + margin, dpi)), round(pt_to_px(y + h + margin, dpi)))
    cv2.rectangle(image, p0, p1, 255, thickness=-1)
    return image


# -- print-and-scan effects -------------------------------------------------------------------


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise by `degrees`, growing the canvas, white outside the page."""
    quarter = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180,
               270: cv2.ROTATE_90_CLOCKWISE}
    if degrees % 360 in quarter:
        return cv2.rotate(image, quarter[degrees % 360])
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def shrink_on_page(image: np.ndarray, scale: float) -> np.ndarray:
    """The sheet printed at `scale` (e.g. 0.95 "fit to page") on a page of the same size."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    page = np.full_like(image, 255)
    top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    page[top:top + small.shape[0], left:left + small.shape[1]] = small
    return page


# -- saving -----------------------------------------------------------------------------------


def save(image: np.ndarray, path: Path, **params) -> Path:
    """Save one grey image in the format named by the suffix (JPEG, PNG, TIFF, PDF)."""
    path = Path(path)
    pil = Image.fromarray(image)
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        pil.save(path, "JPEG", quality=params.pop("quality", 90), **params)
    elif suffix == ".pdf":
        save_pdf([image], path)
    else:
        pil.save(path, **params)
    return path


def save_tiff(images: list[np.ndarray], path: Path) -> Path:
    first, *rest = [Image.fromarray(i) for i in images]
    first.save(path, format="TIFF", save_all=True, append_images=rest, compression="tiff_lzw")
    return path


def save_pdf(images: list[np.ndarray], path: Path, dpi: int = DPI) -> Path:
    """A scanned-to-PDF stack: each image one page at its true size for `dpi`."""
    first, *rest = [Image.fromarray(i) for i in images]
    first.save(path, format="PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return path


def jpeg_bytes(image: np.ndarray, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, **kwargs)
    return buffer.getvalue()


def open_ledger(home: Path) -> Ledger:
    return Ledger.open(default_ledger_path(home))


# -- sheets that are not alone, not whole, not flat -------------------------------------------


def place_on_canvas(pages: list[np.ndarray], size: tuple[int, int], placements: list[tuple],
                    background: int = 90) -> np.ndarray:
    """Pages laid on a darker table, later ones on top: each placement is (centre_x, centre_y,
    degrees turned counter-clockwise, scale)."""
    width, height = size
    canvas = np.full((height, width), background, np.uint8)
    for page, (cx, cy, degrees, scale) in zip(pages, placements):
        h, w = page.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
        matrix[:, 2] += (cx - w / 2, cy - h / 2)
        warped = cv2.warpAffine(page, matrix, (width, height), flags=cv2.INTER_AREA, borderValue=0)
        mask = cv2.warpAffine(np.full_like(page, 255), matrix, (width, height),
                              flags=cv2.INTER_NEAREST, borderValue=0)
        canvas[mask > 0] = warped[mask > 0]
    return canvas


def crooked_feed(page: np.ndarray, degrees: float, scale: float = 0.96,
                 lid: int = 245) -> np.ndarray:
    """The sheet fed crooked into a scanner whose window is the page's own size: the corners
    that stick out are cut off."""
    h, w = page.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    return cv2.warpAffine(page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=lid)


def crumple(page: np.ndarray, amplitude_pt: float, dpi: int = DPI, seed: int = 3) -> np.ndarray:
    """A smooth random displacement of up to `amplitude_pt` (knots about 70 mm apart)."""
    h, w = page.shape
    rng = np.random.default_rng(seed)
    knots = (max(3, h // int(200 * dpi / 72) + 3), max(3, w // int(200 * dpi / 72) + 3))
    dx = cv2.resize(rng.normal(0, 1, knots).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(rng.normal(0, 1, knots).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    peak = float(np.sqrt(dx * dx + dy * dy).max())
    dx *= pt_to_px(amplitude_pt, dpi) / peak
    dy *= pt_to_px(amplitude_pt, dpi) / peak
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(page, xx + dx, yy + dy, cv2.INTER_LINEAR, borderValue=255)


def on_letter(page: np.ndarray, scale: float, dpi: int = DPI) -> np.ndarray:
    """The A4 page on a US Letter page (612 x 792 pt) at `scale`, centred; what does not fit
    is cut off."""
    h, w = page.shape
    out_w, out_h = round(pt_to_px(612, dpi)), round(pt_to_px(792, dpi))
    matrix = np.array([[scale, 0, (out_w - w * scale) / 2], [0, scale, (out_h - h * scale) / 2]],
                      np.float32)
    return cv2.warpAffine(page, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=255)


def strike_out(image: np.ndarray, box: tuple[float, float, float, float], dpi: int = DPI) -> np.ndarray:
    """An answer struck out: the circle filled, then a heavy zig-zag scribbled well past it."""
    draw_marks(image, [box], dpi)
    x, y, w, h = box
    cx, cy, reach = x + w / 2, y + h / 2, w / 2 * 1.4
    points = []
    for n in range(12):
        px = cx - reach + n * (2 * reach / 11)
        py = cy - reach if n % 2 == 0 else cy + reach
        points.append((round(pt_to_px(px, dpi)), round(pt_to_px(py, dpi))))
    cv2.polylines(image, [np.array(points, np.int32)], False, PEN,
                  thickness=max(2, round(pt_to_px(2.0, dpi))))
    return image


def one_bit(image: np.ndarray, threshold: int = 150, dithered: bool = False) -> np.ndarray:
    """A 1-bit (black and white) scan of the page: a fixed threshold, or greys dithered into
    black dots as many scanners do."""
    if dithered:
        return np.array(Image.fromarray(image).convert("1")).astype(np.uint8) * 255
    return np.where(image > threshold, 255, 0).astype(np.uint8)
