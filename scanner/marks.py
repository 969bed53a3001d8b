"""Judging mark boxes: how much of each box's inside is inked, and what that means.

Each box is sampled on a grid inside its printed outline (the outline itself never counts),
through the page homography, so perspective and rotation cost nothing extra.  Darkness is
measured against the paper right around each box, which removes shadows, uneven light and
photocopy grey.  Thresholds are then calibrated per sheet against its own
empty boxes: most boxes on any sheet are empty, so their median is this sheet's "empty".
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache

import cv2
import numpy as np

from .registration import Registration

INNER_FRACTION = 0.62      # of the radius: leaves ~3 pt between samples and the printed ring
GRID = 11                  # samples per side of the inner square, masked to a disk
EMPTY_ABOVE_BASE = 0.10    # at most this much darker than the sheet's empty boxes: empty
MARKED_ABOVE_BASE = 0.24   # at least this much darker: marked; in between: uncertain
MIN_NOISE_GAP = 4.0        # thresholds stay this many noise sigmas above the empty level
EMPTY_LEVEL_CAP = 0.08     # an empty box never reads darker than this against its own paper
RING_RADII = (1.3, 1.55)   # where the box's own paper is sampled, in radii
RING_ANGLES = 24
PAPER_PERCENTILE = 75


class BoxState(str, Enum):
    EMPTY = "empty"
    MARKED = "marked"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class BoxReading:
    fill: float         # mean darkness of the inside, 0 (paper) .. 1 (black)
    state: BoxState
    margin: float       # distance from the nearest threshold: how sure the call is


@dataclass(frozen=True)
class Calibration:
    empty_level: float
    noise: float
    empty_below: float
    marked_from: float


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


def _sample(gray: np.ndarray, homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Grey values at (N, P, 2) page points, bilinear, white outside the image."""
    count, per_box, _ = points.shape
    pixels = cv2.perspectiveTransform(points.reshape(-1, 1, 2), homography).reshape(count, per_box, 2)
    return cv2.remap(gray, pixels[..., 0].astype(np.float32), pixels[..., 1].astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=255).astype(np.float32)


def measure(gray: np.ndarray, registration: Registration, boxes: np.ndarray) -> np.ndarray:
    """Mean darkness inside each box; `boxes` is an (N, 4) array of [x, y, w, h] page points.

    Darkness is relative to the paper right around the box (a high percentile of a ring just
    outside its outline, so a neighbour's outline or a stray stroke does not count), which
    cancels shadows, light gradients, grey photocopies and coloured paper.
    """
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    radii = boxes[:, 2:] / 2
    inside = _sample(gray, registration.homography,
                     centres[:, None, :] + _unit_samples()[None, :, :] * radii[:, None, :])
    ring = _sample(gray, registration.homography,
                   centres[:, None, :] + _unit_ring()[None, :, :] * radii[:, None, :])
    paper = np.maximum(np.percentile(ring, PAPER_PERCENTILE, axis=1), 16.0)[:, None]
    darkness = np.clip(1.0 - inside / paper, 0.0, 1.0)
    return darkness.mean(axis=1)


def calibrate(fills: np.ndarray) -> Calibration:
    """This sheet's empty level and thresholds, from the fills of all its boxes.

    The median is an empty box (a sheet has far more empty boxes than marks); the noise is the
    spread of the boxes below that level, which no mark can inflate.
    """
    # Darkness is already relative to the paper around each box, so an empty box reads near
    # zero whatever the scan; the cap keeps a sheet with most boxes filled from raising it.
    empty_level = min(float(np.median(fills)), EMPTY_LEVEL_CAP)
    below = fills[fills <= empty_level]
    noise = float(np.sqrt(np.mean((below - empty_level) ** 2))) if len(below) > 1 else 0.0
    empty_below = empty_level + max(EMPTY_ABOVE_BASE, MIN_NOISE_GAP * noise)
    marked_from = max(empty_level + MARKED_ABOVE_BASE, empty_below + 0.10)
    return Calibration(empty_level, noise, empty_below, marked_from)


def judge(fill: float, calibration: Calibration) -> BoxReading:
    if fill < calibration.empty_below:
        return BoxReading(fill, BoxState.EMPTY, calibration.empty_below - fill)
    if fill >= calibration.marked_from:
        return BoxReading(fill, BoxState.MARKED, fill - calibration.marked_from)
    margin = min(fill - calibration.empty_below, calibration.marked_from - fill)
    return BoxReading(fill, BoxState.UNCERTAIN, -margin)
