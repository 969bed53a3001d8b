"""What the image itself says about how it was made: a 1-bit scan, a dark or blurred photo.

These are judgements about the picture, not the sheet: a 1-bit (black and white) scan has
already turned every light pencil mark into white paper or black ink before the scanner sees
it, so the operator is told to scan in greyscale; a phone photo that is too dark or too
blurred is better taken again than read.
"""
from __future__ import annotations

import cv2
import numpy as np

MID_GREY = (16, 245)        # values a greyscale scan of a Seda sheet always has (its 7% band)
BILEVEL_MID_SHARE = 0.012   # a page with fewer mid greys than this was scanned in 1 bit
BILEVEL_ROW_STEP = 24       # every 24th row is plenty to tell (the band is 24 pt tall)
DARK_PAPER = 70             # paper darker than this (of 255): the photo is too dark
BLUR_SHARPNESS = 0.5        # strongest edges weaker than this: the photo is too blurred
                            # (sharp phone photos read 0.6-0.95, scans 1.4-2.4; photos
                            # blurred past reading 0.2-0.48)


def is_bilevel(gray: np.ndarray) -> bool:
    """A page that holds (almost) only black and white: scanned in 1 bit.

    Every Seda sheet prints a band in 7% grey across 2.5% of the page, and outlines and text
    have soft edges, so a greyscale scan always has mid greys; a 1-bit scan has none (only a
    rescaled one keeps a few at the edges)."""
    rows = gray[::BILEVEL_ROW_STEP]            # whole rows, each contiguous: counted fast
    share = cv2.countNonZero(cv2.inRange(rows, MID_GREY[0], MID_GREY[1])) / rows.size
    return share < BILEVEL_MID_SHARE and cv2.minMaxLoc(rows)[0] < MID_GREY[0]


def paper_level(gray: np.ndarray) -> float:
    """How bright the brightest tenth of the picture is: the paper, in a photo of a sheet."""
    small = cv2.resize(gray, (160, 160), interpolation=cv2.INTER_AREA)
    return float(np.percentile(small, 90))


def sharpness(gray: np.ndarray) -> float:
    """How crisp the picture's strongest edges are (0 flat .. ~1 a hard black-white step),
    measured at about 1000 px on the long side, which is how a page's print is judged."""
    scale = min(1.0, 1000 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
        if scale < 1 else gray
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = cv2.magnitude(gx, gy)
    # the strongest edges (text, rings, markers) against the picture's own contrast
    top = float(np.percentile(magnitude, 99.5))
    contrast = float(np.percentile(small, 95) - np.percentile(small, 5)) or 1.0
    return top / (4.0 * 255.0) * (255.0 / contrast) if contrast > 8 else 0.0


def retake_reason(gray: np.ndarray) -> str | None:
    """Why a photo is not worth reading: "too_dark" or "too_blurred", else None."""
    if paper_level(gray) < DARK_PAPER:
        return "too_dark"
    if sharpness(gray) < BLUR_SHARPNESS:
        return "too_blurred"
    return None
