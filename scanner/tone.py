"""The sheet's tone curve: how printing, copying and scanning turned greys darker or lighter.

Mark darkness is measured against the paper around each box, which cancels uneven light and
grey paper, but not a tone curve that darkens mid greys more than paper: a photocopy does
that, and then an erased mark reads as dark as light pencil.  Every sheet carries its own
references: the instructions band is printed in a flat 7% grey (`forms.paper.FAINT`) and the
example circle at its left end in 88% (`forms.paper.INK`).  How dark the two read against the
paper just below the band tells whether this sheet's greys were bent, so the scanner knows
when a light box may be judged on the printed scale and when it may not.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from forms.paper import FAINT, INK

from .marks import sample_points
from .registration import Registration

BAND_NOMINAL = 1.0 - float(FAINT.red)    # the band's darkness as printed (0.07)
INK_NOMINAL = 1.0 - float(INK.red)       # the example circle's darkness as printed (0.88)
EXAMPLE_CENTRE = 16.0                    # the example circle's centre, from the band's left edge
EXAMPLE_INNER = 3.5                      # sampled within this radius (the circle's is 6 pt)
# the clean part of the band, in points from its left edge: between the example circle and
# the printed words (which start right of the middle); the paper strip just below the band
CLEAN_FROM, CLEAN_TO = 32.0, 200.0
BAND_INSET = 5.0
PAPER_BELOW = (3.0, 8.0)
PURE_BLACK, PURE_WHITE = 8, 247  # a 1-bit scan's only values (bilinear samples stay at them
BILEVEL_SHARE = 0.95             # inside the band and the paper below it)
SPECKLED_SHARE = 0.6             # mostly pure, or far from flat (a flat grey band's samples
SPECKLED_RANGE = 90.0            # lie within a few tens of grey levels): dithered 1-bit, or damaged


@cache
def _points(band_box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    x, y, _, h = band_box
    xs = np.linspace(x + CLEAN_FROM, x + CLEAN_TO, 40)
    band = np.array([(px, py) for py in np.linspace(y + BAND_INSET, y + h - BAND_INSET, 8)
                     for px in xs])
    paper = np.array([(px, py) for py in np.linspace(y + h + PAPER_BELOW[0], y + h + PAPER_BELOW[1], 4)
                      for px in xs])
    return band, paper


@cache
def _example_points(band_box: tuple[float, float, float, float]) -> np.ndarray:
    x, y, _, h = band_box
    cx, cy = x + EXAMPLE_CENTRE, y + h / 2
    axis = np.linspace(-EXAMPLE_INNER, EXAMPLE_INNER, 9)
    return np.array([(cx + dx, cy + dy) for dy in axis for dx in axis
                     if dx * dx + dy * dy <= EXAMPLE_INNER ** 2])


@dataclass(frozen=True)
class References:
    """The sheet's printed greys as read: the band's and the example circle's darkness against
    the paper below the band, and whether the band came out pure black and white."""

    band: float
    ink: float
    bilevel: bool          # the band and the paper below it read pure black and white
    speckled: bool = False  # the band reads mostly pure or far from flat: maybe dithered 1-bit


def printed_references(gray: np.ndarray, registration: Registration,
                       band_box: tuple[float, float, float, float]) -> References:
    """How dark the printed 7% band and the printed example circle (88%) read against the
    paper below the band (0 = paper).  Two greys fix a tone curve far better than one: a
    copy that darkens mid greys and stretches contrast can leave the band as printed, but
    not both.  Medians, so a scan's noise moves reference and paper alike.  A band whose
    every sample is black or white was scanned in 1 bit: its grey is gone, and any light
    pencil with it."""
    band_pts, paper_pts = _points(tuple(band_box))
    ink_pts = _example_points(tuple(band_box))
    values = sample_points(gray, registration, np.concatenate([band_pts, paper_pts, ink_pts]))
    band_values = values[:len(band_pts)]
    paper_values = values[len(band_pts):len(band_pts) + len(paper_pts)]
    ink_values = values[len(band_pts) + len(paper_pts):]
    paper = max(float(np.median(paper_values)), 16.0)
    band = float(np.median(band_values))
    ink = float(np.median(ink_values))
    pure = np.concatenate([band_values, paper_values])
    pure_share = float(((pure <= PURE_BLACK) | (pure >= PURE_WHITE)).mean())
    bilevel = pure_share >= BILEVEL_SHARE
    speckled = (pure_share >= SPECKLED_SHARE
                or float(band_values.max() - band_values.min()) > SPECKLED_RANGE)
    return References(float(np.clip(1.0 - band / paper, 0.0, 1.0)),
                      float(np.clip(1.0 - ink / paper, 0.0, 1.0)), bilevel, speckled)


def reference_darkness(gray: np.ndarray, registration: Registration,
                       band_box: tuple[float, float, float, float]) -> tuple[float, float]:
    """(band, ink) darkness: see `printed_references`."""
    references = printed_references(gray, registration, band_box)
    return references.band, references.ink
