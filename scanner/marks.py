"""Judging mark boxes: how much of each box's inside is inked, and what that means.

Each box is sampled on a fine grid inside its printed outline (the outline itself never
counts), through the page homography, so perspective and rotation cost nothing extra.
Darkness is measured against the paper right around each box, which removes shadows, uneven
light and photocopy grey.

Three figures describe a box: its mean darkness (a filled circle is dark all over), the share
of it that is pen-dark, and how far that pen-dark part spreads.  A tick or a cross is thin but
pen-dark and spans the box; an erased mark, a photocopied smudge or light pencil is light all
over; a stray dot is pen-dark but small.  A box is `marked` only when it is dark all over or
carries a real stroke, `empty` only when it is light and has at most a dot, and `uncertain`
otherwise, which sends the question to a person.  The mean is calibrated per sheet against the
sheet's own empty boxes (most boxes on any sheet are empty).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache

import cv2
import numpy as np

from .registration import Registration, page_to_image

INNER_FRACTION = 0.62      # of the radius: leaves ~3 pt between samples and the printed ring
GRID = 15                  # samples per side of the inner square (~0.7 pt apart), masked to a disk
EMPTY_ABOVE_BASE = 0.10    # mean darkness at most this much above the sheet's empty boxes: light
FILLED_ABOVE_BASE = 0.38   # at least this much: dark all over, a filled box
MIN_NOISE_GAP = 4.0        # the light threshold stays this many noise sigmas above empty
EMPTY_LEVEL_CAP = 0.08     # an empty box never reads darker than this against its own paper
PEN_DARK = 0.5             # a sample this dark against its paper is ink from a pen
STROKE_SHARE = 0.12        # pen-dark share of a box that, spread out, is a tick or a cross
DOT_SHARE = 0.04           # pen-dark share below which a light box is empty whatever its shape
STROKE_SPREAD = 0.18       # spread (radii) of pen-dark samples: above, a stroke; below, a dot
RING_RADII = (1.3, 1.55)   # where the box's own paper is sampled, in radii
RING_ANGLES = 24
PAPER_PERCENTILE = 75
# The printed outline itself, looked at to confirm the registration: 12 directions, each just
# inside and just outside the middle of the 0.9 pt line (a fraction of a point off still sees it).
OUTLINE_ANGLES = 12
OUTLINE_OFFSETS_PT = (-0.35, 0.35)
OUTLINE_DARK = 0.2         # a sample this dark against its paper is the printed line (or ink)
OUTLINE_SEEN = 0.6         # share of directions that must see it for the box to be in place
# Reading needs a circle placed within about 2.5 pt (its inner samples reach 5 pt from the
# centre, the outline is at 8): where the printed structure placed a page, each circle's
# outline must be seen within 2 pt in half the directions.
OUTLINE_NEAR_OFFSETS_PT = (-2.0, -1.0, 0.0, 1.0, 2.0)
OUTLINE_NEAR_SEEN = 0.5
STRUCK_RING_INK = 0.2      # share of the paper ring under heavy ink: scribbled far past the box
STRUCK_FILL = 0.5          # and this dark inside, against the clear paper
STRUCK_CANDIDATE_FILL = 0.15   # only boxes darker than this, or whose paper ring reads dark,
STRUCK_DARK_PAPER = 0.85       # are looked at for a strike-out
RING_CLEAR_RANK = 0.95     # the ring's lightest samples, for the clear paper
RING_INK_DARK = 0.55       # a ring sample this dark against the clear paper is heavy ink


class BoxState(str, Enum):
    EMPTY = "empty"
    MARKED = "marked"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class BoxReading:
    fill: float         # mean darkness of the inside, 0 (paper) .. 1 (black)
    state: BoxState
    margin: float       # distance from the nearest threshold: how sure the call is (< 0: unsure)
    dark_share: float = 0.0
    spread: float = 0.0


@dataclass(frozen=True)
class Calibration:
    empty_level: float
    noise: float
    empty_below: float
    marked_from: float


@dataclass(frozen=True)
class BoxFeatures:
    fills: np.ndarray        # mean darkness per box
    dark_shares: np.ndarray  # share of pen-dark samples per box
    spreads: np.ndarray      # spread of the pen-dark samples per box, in radii
    medians: np.ndarray | None = None   # median darkness per box: the level of a light mark
    outline: np.ndarray | None = None   # share of directions in which the printed outline is seen
    papers: np.ndarray | None = None    # the paper level around each box (grey value)
    rings: np.ndarray | None = None     # the paper ring's samples, the lightest quarter last

    def struck(self) -> np.ndarray:
        """Boxes under a heavy scribble that runs well past their outline: an answer struck
        out.  A box whose inside is plain paper is never one, so only the others' rings are
        looked at; their darkness is judged against the clear paper of the ring (its lightest
        samples), since the scribble darkens the usual paper reference."""
        out = np.zeros(len(self.fills), bool)
        if self.rings is None or self.papers is None:
            return out
        middle = len(self.papers) // 2
        paper_level = float(np.partition(self.papers, middle)[middle])
        candidates = np.flatnonzero((self.fills >= STRUCK_CANDIDATE_FILL)
                                    | (self.papers < paper_level * STRUCK_DARK_PAPER))
        if not len(candidates):
            return out
        rings = self.rings[candidates]
        count = rings.shape[1]
        rank = int(round(count * PAPER_PERCENTILE / 100)) - 1
        clear_rank = int(round(count * RING_CLEAR_RANK)) - 1
        clear = np.partition(rings[:, rank:], clear_rank - rank, axis=1)[:, clear_rank - rank]
        ring_ink = (rings < clear[:, None] * (1.0 - RING_INK_DARK)).mean(axis=1)
        against_clear = 1.0 - (self.papers[candidates] * (1.0 - self.fills[candidates])
                               / np.maximum(clear, 16.0))
        out[candidates] = (ring_ink >= STRUCK_RING_INK) & (against_clear >= STRUCK_FILL)
        return out

    def in_place(self) -> np.ndarray:
        """Boxes whose printed outline is where the registration says (a filled box counts:
        its ink covers the outline)."""
        if self.outline is None:
            return np.ones(len(self.fills), bool)
        return self.outline >= OUTLINE_SEEN


@cache
def _unit_samples() -> np.ndarray:
    """Sample offsets in units of the box radius, masked to the inner disk."""
    axis = np.linspace(-INNER_FRACTION, INNER_FRACTION, GRID)
    xx, yy = np.meshgrid(axis, axis)
    keep = xx ** 2 + yy ** 2 <= INNER_FRACTION ** 2 + 1e-9
    return np.stack([xx[keep], yy[keep]], axis=1)


@cache
def _unit_ring() -> np.ndarray:
    """Offsets (in radii) of a ring just outside the printed outline: the box's own paper."""
    angles = np.linspace(0, 2 * np.pi, RING_ANGLES, endpoint=False)
    rings = [np.stack([np.cos(angles) * r, np.sin(angles) * r], axis=1) for r in RING_RADII]
    return np.concatenate(rings)


@cache
def _unit_outline() -> tuple[np.ndarray, np.ndarray]:
    """Directions (unit vectors) and offsets (points) at which the printed outline is sampled."""
    angles = np.linspace(0, 2 * np.pi, OUTLINE_ANGLES, endpoint=False) + np.pi / OUTLINE_ANGLES
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return directions, np.array(OUTLINE_OFFSETS_PT)


def _sample(gray: np.ndarray, registration: Registration, points: np.ndarray) -> np.ndarray:
    """Grey values at (N, P, 2) page points, bilinear, white outside the image."""
    count, per_box, _ = points.shape
    return _sample_flat(gray, registration, points.reshape(-1, 2)).reshape(count, per_box)


REMAP_WIDTH = 1024   # remap's maps must stay under 32767 pixels a side: long lists are folded


def _sample_flat(gray: np.ndarray, registration: Registration, points: np.ndarray) -> np.ndarray:
    """Grey values at (P, 2) page points (float32), bilinear, white outside the image.  Each
    value depends on its own point only, so any number of lists can be sampled in one pass."""
    count = len(points)
    pixels = page_to_image(registration, points).astype(np.float32)
    rows = -(-count // REMAP_WIDTH)
    maps = np.full((rows * REMAP_WIDTH, 2), -1.0, np.float32)   # padding falls outside: white
    maps[:count] = pixels
    maps = maps.reshape(rows, REMAP_WIDTH, 2)
    values = cv2.remap(gray, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=255)
    return values.reshape(-1)[:count].astype(np.float32)


def sample_points(gray: np.ndarray, registration: Registration, points: np.ndarray) -> np.ndarray:
    """Grey values at an (P, 2) array of page points."""
    return _sample(gray, registration, points[None, :, :].astype(np.float64))[0]


def _outline_points(boxes: np.ndarray, offsets: tuple[float, ...] = OUTLINE_OFFSETS_PT) -> np.ndarray:
    """(N, OUTLINE_ANGLES * offsets, 2) page points on and about each box's printed outline."""
    return _outline_points_of(boxes.tobytes(), len(boxes), offsets)


@lru_cache(maxsize=64)
def _outline_points_of(data: bytes, count: int, offsets: tuple[float, ...]) -> np.ndarray:
    boxes = np.frombuffer(data, dtype=np.float64).reshape(count, 4)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    radii = boxes[:, 2:3] / 2
    directions, _ = _unit_outline()
    steps = np.array(offsets)
    return (centres[:, None, None, :] + directions[None, :, None, :]
            * (radii[:, :, None] + steps[None, None, :])[:, :, :, None]).reshape(len(boxes), -1, 2)


def _outline_share(values: np.ndarray, papers: np.ndarray) -> np.ndarray:
    darkest = values.reshape(len(values), OUTLINE_ANGLES, -1).min(axis=2)
    return ((1.0 - darkest / papers[:, None]) >= OUTLINE_DARK).mean(axis=1)


def outline_seen(gray: np.ndarray, registration: Registration, boxes: np.ndarray,
                 papers: np.ndarray | None = None,
                 offsets: tuple[float, ...] = OUTLINE_OFFSETS_PT) -> np.ndarray:
    """For each box, the share of directions in which its printed outline is seen where the
    registration puts it, give or take `offsets` (a filled box counts: ink covers the
    outline).  `papers` is each box's paper level if known (else the brightest of what was
    sampled)."""
    values = _sample(gray, registration, _outline_points(boxes, offsets))
    if papers is None:
        papers = np.maximum(np.percentile(values, 90, axis=1), 16.0)
    return _outline_share(values, papers)


@lru_cache(maxsize=64)
def _measure_points(data: bytes, count: int, outlines: int) -> np.ndarray:
    """The page points `measure` samples for these boxes, in one list: every box's inside,
    every box's paper ring, then the outlines of every `outlines`-th box (0: none).  The same
    for every sheet of a form, so worked out once."""
    boxes = np.frombuffer(data, dtype=np.float64).reshape(count, 4)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    radii = boxes[:, 2:] / 2
    inside = centres[:, None, :] + _unit_samples()[None, :, :] * radii[:, None, :]
    ring = centres[:, None, :] + _unit_ring()[None, :, :] * radii[:, None, :]
    parts = [inside.reshape(-1, 2), ring.reshape(-1, 2)]
    if outlines:
        parts.append(_outline_points(boxes[::outlines]).reshape(-1, 2))
    points = np.concatenate(parts)
    points.flags.writeable = False
    return points


def measure(gray: np.ndarray, registration: Registration, boxes: np.ndarray,
            outlines: int = 1) -> BoxFeatures:
    """The three figures of each box; `boxes` is an (N, 4) array of [x, y, w, h] page points.

    Darkness is relative to the paper right around the box (a high percentile of a ring just
    outside its outline, so a neighbour's outline or a stray stroke does not count), which
    cancels shadows, light gradients, grey photocopies and coloured paper.  Whether a box's
    printed outline is where the registration puts it is looked at on every `outlines`-th box
    (0: none); the others' `outline` reads 1.
    """
    unit = _unit_samples()
    count_ring = len(_unit_ring())
    # the inside, the paper ring and the outlines looked at, in one pass through the image
    values = _sample_flat(gray, registration, _measure_points(boxes.tobytes(), len(boxes), outlines))
    in_end = len(boxes) * len(unit)
    ring_end = in_end + len(boxes) * count_ring
    inside = values[:in_end].reshape(len(boxes), len(unit))
    ring = values[in_end:ring_end].reshape(len(boxes), count_ring)
    if outlines:
        on_outline = values[ring_end:].reshape(len(range(0, len(boxes), outlines)), -1)
    rank = int(round(count_ring * PAPER_PERCENTILE / 100)) - 1
    ring.partition(rank, axis=1)          # in place: the order of ring samples is not needed
    paper = np.maximum(ring[:, rank], 16.0)[:, None]
    outline = None
    if outlines:
        outline = np.ones(len(boxes))
        outline[::outlines] = _outline_share(on_outline, paper[::outlines, 0])
    darkness = np.clip(1.0 - inside / paper, 0.0, 1.0)
    dark = darkness >= PEN_DARK
    count = dark.sum(axis=1)
    safe = np.maximum(count, 1)[:, None]
    mean_x = (dark * unit[None, :, 0]).sum(axis=1, keepdims=True) / safe
    mean_y = (dark * unit[None, :, 1]).sum(axis=1, keepdims=True) / safe
    variance = (dark * ((unit[None, :, 0] - mean_x) ** 2 + (unit[None, :, 1] - mean_y) ** 2)
                ).sum(axis=1) / safe[:, 0]
    middle = darkness.shape[1] // 2
    medians = np.partition(darkness, middle, axis=1)[:, middle]
    return BoxFeatures(fills=darkness.mean(axis=1), dark_shares=count / darkness.shape[1],
                       spreads=np.sqrt(variance), medians=medians, outline=outline,
                       papers=paper[:, 0], rings=ring)


def calibrate(fills: np.ndarray) -> Calibration:
    """This sheet's empty level and thresholds, from the mean darkness of all its boxes.

    The median is an empty box (a sheet has far more empty boxes than marks); the noise is the
    spread of the boxes below that level, which no mark can inflate.
    """
    # Darkness is already relative to the paper around each box, so an empty box reads near
    # zero whatever the scan; the cap keeps a sheet with most boxes filled from raising it.
    empty_level = min(float(np.median(fills)), EMPTY_LEVEL_CAP)
    below = fills[fills <= empty_level]
    noise = float(np.sqrt(np.mean((below - empty_level) ** 2))) if len(below) > 1 else 0.0
    empty_below = empty_level + max(EMPTY_ABOVE_BASE, MIN_NOISE_GAP * noise)
    marked_from = max(empty_level + FILLED_ABOVE_BASE, empty_below + 0.15)
    return Calibration(empty_level, noise, empty_below, marked_from)


def judge(fill: float, calibration: Calibration, dark_share: float = 0.0,
          spread: float = 0.0) -> BoxReading:
    """Empty, marked or uncertain, with the margin that says how clear the call was."""
    stroke = dark_share >= STROKE_SHARE and spread >= STROKE_SPREAD
    if fill >= calibration.marked_from or (stroke and fill >= calibration.empty_below):
        margin = max(fill - calibration.marked_from, dark_share - STROKE_SHARE if stroke else -1.0)
        return BoxReading(fill, BoxState.MARKED, margin, dark_share, spread)
    dot_at_most = dark_share < DOT_SHARE or (spread < STROKE_SPREAD and dark_share < STROKE_SHARE)
    if fill < calibration.empty_below and dot_at_most:
        return BoxReading(fill, BoxState.EMPTY, calibration.empty_below - fill, dark_share, spread)
    margin = min(fill - calibration.empty_below, calibration.marked_from - fill)
    return BoxReading(fill, BoxState.UNCERTAIN, -abs(margin), dark_share, spread)
