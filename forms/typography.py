"""Persian text on paper: shaping, right-to-left order, widths and line breaks for reportlab.

reportlab cannot lay out Arabic script by itself (its RTL support needs rlbidi); joining the
letters with arabic_reshaper and reordering with python-bidi before drawing gives correct text
with the bundled Vazirmatn font.
"""
from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from arabic_reshaper import reshape
from bidi.algorithm import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .persian import to_persian_digits

REGULAR = "Vazirmatn"
BOLD = "Vazirmatn-Bold"
_FONT_FILES = {REGULAR: "Vazirmatn-Regular.ttf", BOLD: "Vazirmatn-Bold.ttf"}


def font_path(name: str = REGULAR) -> Path:
    return Path(str(resources.files("forms.fonts").joinpath(_FONT_FILES[name])))


@cache
def register_fonts() -> None:
    """Register the bundled fonts with reportlab once per process."""
    for name in _FONT_FILES:
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))


@lru_cache(maxsize=4096)
def shape(text: str) -> str:
    """Logical Persian text -> the glyph order reportlab should draw, with Persian digits."""
    return get_display(reshape(to_persian_digits(text)))


def text_width(text: str, size: float, bold: bool = False) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(shape(text), BOLD if bold else REGULAR, size)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Break logical text into lines no wider than `width`, at spaces (reading order kept)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines
