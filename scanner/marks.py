"""Judging mark boxes: how much of each box's inside is inked, and what that means.

Each box is sampled on a grid inside its printed outline (the outline itself never counts),
through the page homography, so perspective and rotation cost nothing extra.  Darkness is
measured against the local paper white (a background map of the page), which removes shadows,
uneven light and photocopy grey.  Thresholds are then calibrated per sheet against its own
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


def background_map(small: np.ndarray, factor: float) -> tuple[np.ndarray, float]:
    """The paper's own brightness across the page with ink removed, and its scale factor.

    Built from the reduced copy used for marker search (`factor` maps it to full resolution):
    a max filter over an even smaller copy drops every dark stroke narrower than its window,
    and a blur smooths the result into a slowly varying light field.
    """
    step = max(1.0, max(small.shape) / 96)
    tiny = cv2.resize(small, (max(1, round(small.shape[1] / step)),
                              max(1, round(small.shape[0] / step))), interpolation=cv2.INTER_AREA)
    white = cv2.dilate(tiny, np.ones((5, 5), np.uint8))
    white = cv2.GaussianBlur(white, (5, 5), 0)
    return np.maximum(white.astype(np.float32), 16.0), factor * small.shape[1] / tiny.shape[1]


def measure(gray: np.ndarray, registration: Registration,
            boxes: np.ndarray, background: tuple[np.ndarray, float]) -> np.ndarray:
    """Mean darkness inside each box; `boxes` is an (N, 4) array of [x, y, w, h] page points."""
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    radii = boxes[:, 2:] / 2
    unit = _unit_samples()
    points = centres[:, None, :] + unit[None, :, :] * radii[:, None, :]  # (N, P, 2) page pts
    flat = points.reshape(-1, 1, 2)
    pixels = cv2.perspectiveTransform(flat, registration.homography).reshape(len(boxes), -1, 2)
    map_x = pixels[..., 0].astype(np.float32)
    map_y = pixels[..., 1].astype(np.float32)
    values = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=255).astype(np.float32)
    white, factor = background
    centre_px = cv2.perspectiveTransform(centres.reshape(-1, 1, 2), registration.homography)
    bx = (centre_px[:, 0, 0] / factor).astype(np.float32).reshape(-1, 1)
    by = (centre_px[:, 0, 1] / factor).astype(np.float32).reshape(-1, 1)
    paper = cv2.remap(white, bx, by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    darkness = np.clip(1.0 - values / paper, 0.0, 1.0)
    return darkness.mean(axis=1)


def calibrate(fills: np.ndarray) -> Calibration:
    """This sheet's empty level and thresholds, from the fills of all its boxes.

    The median is an empty box (a sheet has far more empty boxes than marks); the noise is the
    spread of the boxes below the median, which no mark can inflate.
    """
    empty_level = float(np.median(fills))
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
