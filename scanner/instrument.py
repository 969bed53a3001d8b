"""Per-sheet calibration: what a mark looks like on this sheet, pen or pencil.

One person fills one sheet, nearly always with one pen or one pencil.  A box too light to be a
pen mark is the hard case: it is a light pencil mark or the residue of an erased one, and box
by box the two overlap.  The rest of the sheet tells which is likelier:

* On a **pencil sheet** (most answers are light graphite marks, no pen ink) a light box alone
  in its question, as dark as this sheet's other pencil marks, is the answer.  It is accepted
  only when it is also clearly darker than any eraser residue can be (`PENCIL_FLOOR`) and not
  much lighter than the sheet's own pencil marks (`PENCIL_SHARE_OF_SHEET`).
* On a **pen sheet** (every answer is pen ink, and no question holds light marks only) a light
  box beside the question's pen mark is eraser residue, not a second answer, when it is also
  lighter than any pencil mark can be (`RESIDUE_CEILING`).

Both rules need the two signs at once, the sheet's and the box's own, and both apply only
when the sheet's printed greys (the 7% band and the 88% example circle) read as printed
(`scanner.tone`): a photocopy bends greys, and there the light boxes keep going to a person.  Everything else stays as judged.
Levels are median darkness (robust to a scribble's gaps and to specks).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from .marks import STROKE_SHARE, BoxFeatures, BoxReading, BoxState
from .tone import BAND_NOMINAL, INK_NOMINAL

PENCIL_FLOOR = 0.26           # eraser residue reads at most ~0.22 on a sheet whose tone is as printed
PENCIL_SHARE_OF_SHEET = 0.7   # a pencil answer is at least this share of the sheet's median one
MIN_PENCIL_ANSWERS = 3        # lone graphite answers that make a pencil sheet
RESIDUE_CEILING = 0.19        # light pencil reads at least ~0.245 (0.21 on a copy the tone check passes)
BAND_TOLERANCE = 0.012        # the band's darkness within this of the printed 7%
INK_TOLERANCE = 0.05          # the example circle's within this of the printed 88%


def _graphite(reading: BoxReading) -> bool:
    """Something light and without pen ink: light pencil or eraser residue."""
    return reading.state is not BoxState.EMPTY and reading.dark_share < STROKE_SHARE


def _pen(reading: BoxReading) -> bool:
    """A firm mark in pen ink: a fill, a tick or a cross."""
    return reading.state is BoxState.MARKED and reading.dark_share >= STROKE_SHARE


def refine(readings: list[BoxReading], medians: Sequence[float],
           groups: Sequence[Sequence[tuple[int, Any]]], tone_as_printed: bool) -> list[BoxReading]:
    """The readings with the sheet's own evidence applied; `groups` are one-answer groups
    (a single-choice question, or one digit column), as lists of (row, value)."""
    if not tone_as_printed:
        return readings
    out = list(readings)
    lone_graphite: list[int] = []     # rows that are the only non-empty box of their group
    pen_answers = 0
    lone_light_elsewhere = False
    for group in groups:
        rows = [row for row, _ in group if readings[row].state is not BoxState.EMPTY]
        if len(rows) == 1 and _graphite(readings[rows[0]]):
            lone_graphite.append(rows[0])
        if any(_pen(readings[r]) for r in rows):
            pen_answers += 1
        elif rows:
            lone_light_elsewhere = True
    # a pencil sheet: its light answers, lone in their groups, are this sheet's marks
    if len(lone_graphite) >= MIN_PENCIL_ANSWERS and len(lone_graphite) > pen_answers:
        levels = sorted(medians[r] for r in lone_graphite)
        sheet_level = levels[len(levels) // 2]
        accept_from = max(PENCIL_FLOOR, PENCIL_SHARE_OF_SHEET * sheet_level)
        for row in lone_graphite:
            if readings[row].state is BoxState.UNCERTAIN and medians[row] >= accept_from:
                out[row] = replace(readings[row], state=BoxState.MARKED,
                                   margin=float(medians[row] - accept_from))
        return out
    # a pen sheet: no lone light mark anywhere, every answer pen ink
    if pen_answers and not lone_light_elsewhere and not lone_graphite:
        for group in groups:
            rows = [row for row, _ in group if readings[row].state is not BoxState.EMPTY]
            pens = [r for r in rows if _pen(readings[r])]
            if len(pens) != 1:
                continue
            for row in rows:
                reading = readings[row]
                if (row != pens[0] and reading.state is BoxState.UNCERTAIN
                        and reading.dark_share == 0.0 and medians[row] <= RESIDUE_CEILING):
                    out[row] = replace(reading, state=BoxState.EMPTY,
                                       margin=float(RESIDUE_CEILING - medians[row]))
    return out


def tone_as_printed(band: float, ink: float) -> bool:
    """Whether the sheet's two printed greys read as printed: greys were not bent on the way.

    Scans and phone photos read the band at 0.057-0.077 and the example circle at
    0.835-0.894; a photocopy's tone curve puts the circle at 0.985 or more."""
    return abs(band - BAND_NOMINAL) <= BAND_TOLERANCE and abs(ink - INK_NOMINAL) <= INK_TOLERANCE


def features_medians(features: BoxFeatures) -> Sequence[float]:
    """Median darkness per box (the mean where a caller measured no medians)."""
    return features.medians if features.medians is not None else features.fills



