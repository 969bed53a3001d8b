"""The paper renderer: printable A4 survey sheets, one unique sheet code per page.

Everything that is the same on every sheet is drawn once into a PDF form XObject and reused,
so a thousand sheets cost little more than their QR codes and the file stays small.  A sheet
printed with a survey link also carries a second QR code (the portal's one-time survey link,
forms/survey_tokens.py) in the layout's ``survey_link`` box, with its line of text.
"""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas

from .definition import Form
from .home import seda_home
from .layout import SheetLayout
from .markers import MARKER_CELLS, marker_cells
from .messages import messages_for
from .sheet_code import SheetCode
from .typography import BOLD, REGULAR, register_fonts, shape

PAPERS = {"a4": A4, "letter": LETTER}
INK = Color(0.12, 0.12, 0.12)
OUTLINE = Color(0.25, 0.25, 0.25)
FAINT = Color(0.93, 0.93, 0.93)
QR_QUIET_MODULES = 4
#: The survey link's quiet zone inside its box (the header's white paper continues it).
LINK_QUIET_MODULES = 2
STATIC_FORM_NAME = "seda-static"
LINK_FORM_NAME = "seda-survey-link"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _flip(layout: SheetLayout, y: float) -> float:
    """Layout y (top-left origin, down) -> reportlab y (bottom-left origin, up)."""
    return layout.height - y


def _draw_text(canvas: Canvas, layout: SheetLayout, item) -> None:
    canvas.setFont(BOLD if item.bold else REGULAR, item.size)
    shaped = shape(item.text)
    y = _flip(layout, item.y)
    if item.align == "right":
        canvas.drawRightString(item.x, y, shaped)
    elif item.align == "left":
        canvas.drawString(item.x, y, shaped)
    else:
        canvas.drawCentredString(item.x, y, shaped)


def _draw_marker(canvas: Canvas, layout: SheetLayout, marker_id: int, box) -> None:
    x, y, w, _ = box
    cell = w / MARKER_CELLS
    canvas.setFillColor(black)
    for row, cells in enumerate(marker_cells(marker_id)):
        for col, dark in enumerate(cells):
            if dark:
                canvas.rect(x + col * cell, _flip(layout, y + (row + 1) * cell), cell, cell,
                            stroke=0, fill=1)


def _draw_static(canvas: Canvas, form: Form, layout: SheetLayout) -> None:
    canvas.setFillColor(FAINT)
    canvas.setStrokeColor(OUTLINE)
    for index, (x, y, w, h) in enumerate(layout.frames):
        if index == 0:  # the instructions band
            canvas.roundRect(x, _flip(layout, y + h), w, h, 4, stroke=0, fill=1)
            # a filled example circle at its left end: how a mark should look
            canvas.setFillColor(INK)
            canvas.circle(x + 16, _flip(layout, y + h / 2), 6, stroke=0, fill=1)
            canvas.setFillColor(FAINT)
        else:
            canvas.setLineWidth(0.6)
            canvas.rect(x, _flip(layout, y + h), w, h, stroke=1, fill=0)
    canvas.setLineWidth(0.9)
    for question in layout.questions:
        if question.kind == "text" and question.box:
            x, y, w, h = question.box
            canvas.roundRect(x, _flip(layout, y + h), w, h, 6, stroke=1, fill=0)
        boxes = [b for _, b in question.options]
        boxes += [b for column in question.columns for _, b in column]
        for x, y, w, h in boxes:
            if question.kind == "multi":
                canvas.roundRect(x, _flip(layout, y + h), w, h, 2, stroke=1, fill=0)
            else:
                canvas.circle(x + w / 2, _flip(layout, y + h / 2), w / 2, stroke=1, fill=0)
    canvas.setFillColor(INK)
    for item in layout.texts:
        _draw_text(canvas, layout, item)
    for marker_id, box in layout.fiducials:
        _draw_marker(canvas, layout, marker_id, box)


@lru_cache(maxsize=64)
def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The QR symbol printed for a sheet code, module by module (True: dark), quiet zone
    excluded.  The scanner uses it too: knowing what the symbol looks like tells it exactly
    where the symbol's corners are and which way up it is."""
    symbol = segno.make(text, error="m", mode="alphanumeric", boost_error=True, micro=False)
    return tuple(tuple(bool(v) for v in row) for row in symbol.matrix)


#: The survey link's mask pattern, fixed: choosing the best of eight (the default) is three
#: quarters of the time a sheet's link costs, and any mask reads (the symbol says which).
LINK_MASK = 4


def link_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The survey link's QR symbol (byte mode, the smallest version; error correction raised
    as far as that version allows)."""
    symbol = segno.make(text, error="l", boost_error=True, micro=False, mask=LINK_MASK)
    return tuple(tuple(bool(v) for v in row) for row in symbol.matrix)


def _draw_qr(canvas: Canvas, layout: SheetLayout, text: str) -> None:
    matrix = qr_matrix(text)
    x0, y0, size, _ = layout.qr
    module = size / (len(matrix) + 2 * QR_QUIET_MODULES)
    canvas.setFillColor(black)
    for r, row in enumerate(matrix):
        y = _flip(layout, y0 + (r + QR_QUIET_MODULES + 1) * module)
        c = 0
        while c < len(row):  # one rectangle per run of dark modules keeps the PDF small
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                canvas.rect(x0 + (start + QR_QUIET_MODULES) * module, y, (c - start) * module,
                            module, stroke=0, fill=1)
            else:
                c += 1


def _draw_link(canvas: Canvas, layout: SheetLayout, matrix) -> None:
    """The survey link's symbol in the layout's ``survey_link`` box, as one fill of whole-module
    rectangles in module units (a link has ~600 runs of dark modules: written as integers they
    cost a tenth of what reportlab's float formatting of each rectangle would)."""
    x0, y0, size, _ = layout.survey_link
    module = size / (len(matrix) + 2 * LINK_QUIET_MODULES)
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append(f"{start} {r} {c - start} 1 re")
            else:
                c += 1
    canvas.saveState()
    canvas.setFillColor(black)
    quiet = LINK_QUIET_MODULES * module  # module units: x right, y down from the symbol's corner
    canvas.transform(module, 0, 0, -module, x0 + quiet, _flip(layout, y0 + quiet))
    canvas.addLiteral(" ".join(runs) + " f")
    canvas.restoreState()


def paper_placement(layout: SheetLayout, paper: str) -> tuple[float, float, float, float, float]:
    """(page width, page height, scale, x offset, y offset) of the sheet on `paper`.

    The sheet is designed on A4.  On US Letter it is scaled to the Letter page's height (94%:
    answer circles stay above 5 mm) and centred, so the scanner reads it with the same layout
    map through the page's homography, as it reads a sheet printed "fit to page".
    """
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; choose from {', '.join(PAPERS)}")
    width, height = PAPERS[paper]
    scale = min(1.0, width / layout.width, height / layout.height)
    return (width, height, scale, (width - layout.width * scale) / 2,
            (height - layout.height * scale) / 2)


#: Where the office's name sits: above the form's title, right-aligned with it (layout.py
#: puts the title's right edge 66 pt from the page's; the fiducial is to its right).
OFFICE_NAME_RIGHT_INSET, OFFICE_NAME_Y, OFFICE_NAME_SIZE = 66.0, 28.0, 10.0


def _draw_office_name(canvas: Canvas, layout: SheetLayout, office_name: str) -> None:
    canvas.setFillColor(INK)
    canvas.setFont(REGULAR, OFFICE_NAME_SIZE)
    canvas.drawRightString(layout.width - OFFICE_NAME_RIGHT_INSET, _flip(layout, OFFICE_NAME_Y),
                           shape(office_name))


def render_sheets(form: Form, layout: SheetLayout, codes: Iterable[SheetCode], out: Path,
                  paper: str = "a4", survey_link: Callable[[SheetCode], str] | None = None, *,
                  office_name: str = "") -> int:
    """Write one page per sheet code to `out` atomically; return the page count.

    ``office_name`` (the office's Persian name) is printed above the title so the visitor
    sees where the sheet is from; the QR payload keeps the office's code.

    The PDF is written next to `out` and renamed into place only when complete, so a failure
    never leaves a half-written file that someone might print.  `paper` is "a4" or "letter"
    (see `paper_placement`).  With `survey_link` (sheet code -> the sheet's portal survey
    URL) every sheet also carries that URL's QR code in the layout's ``survey_link`` box.
    """
    if survey_link is not None and layout.survey_link is None:
        raise ValueError(f"form {form.id} v{form.version} leaves no room for a survey link's QR code")
    page_width, page_height, scale, offset_x, offset_y = paper_placement(layout, paper)
    register_fonts()
    words = messages_for("forms")  # the sheet is printed in Persian
    out = Path(out)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(handle)
    if not _inside(out, seda_home()):  # blank sheets to share for printing; private in $SEDA_HOME
        os.chmod(tmp_name, 0o666 & ~_umask())
    pages = 0
    try:
        canvas = Canvas(tmp_name, pagesize=(page_width, page_height), pageCompression=1)
        canvas.setTitle(form.title.en)
        canvas.setAuthor("Seda")
        canvas.setSubject(f"{form.id} v{form.version}")
        canvas.beginForm(STATIC_FORM_NAME)
        _draw_static(canvas, form, layout)
        if office_name:
            _draw_office_name(canvas, layout, office_name)
        canvas.endForm()
        if survey_link is not None:
            canvas.beginForm(LINK_FORM_NAME)
            canvas.setFillColor(INK)
            for item in layout.survey_link_texts:
                _draw_text(canvas, layout, item)
            canvas.endForm()
        for code in codes:
            canvas.saveState()
            if scale != 1.0 or offset_x or offset_y:
                canvas.translate(offset_x, offset_y)
                canvas.scale(scale, scale)
            canvas.doForm(STATIC_FORM_NAME)
            _draw_qr(canvas, layout, code.text())
            if survey_link is not None:
                canvas.doForm(LINK_FORM_NAME)
                _draw_link(canvas, layout, link_matrix(survey_link(code)))
            canvas.setFillColor(INK)
            canvas.setFont(REGULAR, 9)
            x, y = layout.serial_anchor
            serial = words.text("sheet_serial", "fa", serial=code.serial)
            canvas.drawCentredString(x, _flip(layout, y), shape(serial))
            canvas.setFont(REGULAR, 7)
            canvas.drawCentredString(x, _flip(layout, y + 9), code.office)  # a Latin code
            canvas.restoreState()
            canvas.showPage()
            pages += 1
        canvas.save()
        os.replace(tmp_name, out)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return pages
