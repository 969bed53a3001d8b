"""A receipt drawn as a 1-bit picture, 576 dots wide: what an 80 mm thermal printer prints.

Thermal printers speak ESC/POS and have no Persian code page, so Persian cannot be sent as
text; the receipt goes as a raster image instead.  Persian is shaped the way the paper forms
shape it (forms/typography.py: arabic_reshaper joins the letters, python-bidi puts them in
visual order) and drawn with the bundled Vazirmatn font, with Pillow's basic layout so nothing
is reordered twice.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from arabic_reshaper import reshape
from bidi.algorithm import get_display

from forms.typography import BOLD, REGULAR, font_path

from .receipt_model import ReceiptModel

__all__ = ["PAPER_DOTS", "render_receipt"]

#: Printable dots across 80 mm paper at 203 dpi (72 mm).
PAPER_DOTS = 576
MARGIN = 16
QR_DOTS = 240


def shape(text: str) -> str:
    """Joined letters in visual order; digits stay as the model gives them (office codes Latin)."""
    return get_display(reshape(text))


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(BOLD if bold else REGULAR)), size,
                              layout_engine=ImageFont.Layout.BASIC)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Logical text broken at spaces into lines that fit ``width`` once shaped."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and font.getlength(shape(candidate)) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + ([current] if current else [])


class _Canvas:
    def __init__(self, width: int, rtl: bool) -> None:
        self.image = Image.new("L", (width, 3000), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = MARGIN
        self.rtl = rtl
        self.width = width

    def text(self, text: str, size: int, *, bold: bool = False, align: str = "start", gap: int = 6) -> None:
        font = _font(size, bold)
        for line in _wrap(text, font, self.width - 2 * MARGIN):
            shown = shape(line) if self.rtl else line
            length = font.getlength(shown)
            if align == "centre":
                x = (self.width - length) / 2
            elif (align == "start") == self.rtl:
                x = self.width - MARGIN - length
            else:
                x = MARGIN
            self.draw.text((x, self.y), shown, font=font, fill=0)
            ascent, descent = font.getmetrics()
            self.y += ascent + descent + gap

    def rule(self) -> None:
        self.y += 4
        self.draw.line((MARGIN, self.y, self.width - MARGIN, self.y), fill=0, width=2)
        self.y += 10

    def qr(self, payload: str) -> None:
        code = segno.make_qr(payload, error="m")
        modules = code.symbol_size(border=2)[0]
        scale = max(2, QR_DOTS // modules)
        rows = [[0 if dark else 255 for dark in row] for row in code.matrix_iter(scale=scale, border=2)]
        picture = Image.fromarray(np.array(rows, dtype=np.uint8), "L")
        self.image.paste(picture, ((self.width - picture.width) // 2, self.y))
        self.y += picture.height + 8

    def finished(self) -> Image.Image:
        cropped = self.image.crop((0, 0, self.width, self.y + MARGIN))
        return cropped.point(lambda v: 255 if v > 160 else 0).convert("1")


def render_receipt(model: ReceiptModel, width: int = PAPER_DOTS) -> Image.Image:
    """The receipt as a black-and-white image ``width`` dots wide, as tall as it needs."""
    canvas = _Canvas(width, model.rtl)
    canvas.text(model.title, 34, bold=True, align="centre")
    canvas.rule()
    for label, value in model.lines:
        canvas.text(f"{label}: {value}", 26)
    if model.notice:
        canvas.text(model.notice, 26, bold=True)
    canvas.rule()
    canvas.text(model.code_label, 26, align="centre")
    canvas.text(model.tracking_code, 48, bold=True, align="centre")
    canvas.qr(model.qr_payload)
    canvas.text(model.note, 22)
    return canvas.finished()
