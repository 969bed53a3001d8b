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


def reference_darkness(gray: np.ndarray, registration: Registration,
                       band_box: tuple[float, float, float, float]) -> tuple[float, float]:
    """How dark the printed 7% band and the printed example circle (88%) read against the
    paper below the band (0 = paper).  Two greys fix a tone curve far better than one: a
    copy that darkens mid greys and stretches contrast can leave the band as printed, but
    not both.  Medians, so a scan's noise moves reference and paper alike."""
    band_pts, paper_pts = _points(tuple(band_box))
    paper = max(float(np.median(sample_points(gray, registration, paper_pts))), 16.0)
    band = float(np.median(sample_points(gray, registration, band_pts)))
    ink = float(np.median(sample_points(gray, registration, _example_points(tuple(band_box)))))
    return (float(np.clip(1.0 - band / paper, 0.0, 1.0)),
            float(np.clip(1.0 - ink / paper, 0.0, 1.0)))
