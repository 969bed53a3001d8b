"""Registration: where the printed page lies in the image.

The four ArUco fiducials are found on a reduced copy of the image (fast), their corners are
refined at full resolution, and a homography from page points to image pixels is fitted with
RANSAC over every corner found.  Because each marker has its own id, the fit already knows the
page's orientation (0/90/180/270) and any perspective from a phone photo.  A fit whose residual
is too large is reported as such, so the page goes to review instead of being read wrongly.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from forms.layout import FIDUCIAL_IDS
from forms.markers import ARUCO_DICTIONARY

DETECT_MAX_SIDE = 720        # the reduced copy's longest side, in pixels
MAX_RESIDUAL_PT = 1.0        # mean reprojection error (page points) we trust for mark reading
MIN_MARKERS = 2
CORNER_WINDOW = 0.22         # share of width and height searched first in each corner
# In a corner window of a page that fills the image a marker's outline is most of the
# window's side; outlines under a quarter of it (text, specks) are not looked at, which makes
# the quick pass five times faster.  A page that does not fill the image falls through to the
# whole-image search, which looks at every size.
CORNER_MIN_PERIMETER = 0.25


@dataclass(frozen=True)
class Registration:
    homography: np.ndarray           # 3x3, page points -> image pixels
    markers: tuple[int, ...]         # ids found
    residual_pt: float               # mean reprojection error of the inliers, in points
    inliers: int
    points: int
    px_per_pt: float                 # local scale, for sizing crops and sample grids

    @property
    def trusted(self) -> bool:
        return self.residual_pt <= MAX_RESIDUAL_PT and self.inliers >= max(8, self.points * 3 // 4)


@cache
def _detector(thorough: bool, corner: bool = False) -> cv2.aruco.ArucoDetector:
    """A quick detector (one threshold window) for clean scans, a thorough one for the rest;
    the corner variant only looks at outlines the size a page-filling marker has."""
    params = cv2.aruco.DetectorParameters()
    if not thorough:
        params.adaptiveThreshWinSizeMin = 11
        params.adaptiveThreshWinSizeMax = 11
    if corner:
        params.minMarkerPerimeterRate = CORNER_MIN_PERIMETER
    dictionary = cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY)
    return cv2.aruco.ArucoDetector(dictionary, params)


def _detect(gray: np.ndarray, thorough: bool = False, corner: bool = False) -> dict[int, np.ndarray]:
    corners, ids, _ = _detector(thorough, corner).detectMarkers(gray)
    found: dict[int, np.ndarray] = {}
    if ids is None:
        return found
    for marker_corners, marker_id in zip(corners, ids.ravel()):
        marker_id = int(marker_id)
        if marker_id in FIDUCIAL_IDS and marker_id not in found:
            found[marker_id] = marker_corners.reshape(4, 2).astype(np.float64)
    return found


def _small_size(gray: np.ndarray) -> tuple[int, int] | None:
    """(width, height) of the reduced copy, or None when the image is small already."""
    factor = max(gray.shape) / DETECT_MAX_SIDE
    if factor <= 1.3:
        return None
    return max(1, round(gray.shape[1] / factor)), max(1, round(gray.shape[0] / factor))


def reduce_for_detection(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """A small copy for the coarse search, and the factor back to full resolution."""
    size = _small_size(gray)
    if size is None:
        return gray, 1.0
    small = cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)
    return small, gray.shape[1] / size[0]


def _corners_first(gray: np.ndarray, small: np.ndarray | None) -> dict[int, np.ndarray]:
    """On a scan the markers sit in the page corners whatever the rotation: look there first.

    Four corner windows are a fifth of the image, so this is the cheapest search; anything
    it misses (a phone photo, a page placed off-centre) falls through to the whole image.
    Without a reduced copy yet, each window is cut from the full image and reduced on its
    own: a fifth of the work of reducing the whole page, which a clean scan never needs.
    """
    size = _small_size(gray)
    width, height = size if size is not None else (gray.shape[1], gray.shape[0])
    scale_x, scale_y = gray.shape[1] / width, gray.shape[0] / height
    win_w, win_h = int(width * CORNER_WINDOW), int(height * CORNER_WINDOW)
    found: dict[int, np.ndarray] = {}
    for x0, y0 in ((0, 0), (width - win_w, 0), (0, height - win_h), (width - win_w, height - win_h)):
        if small is not None or size is None:
            window = (small if small is not None else gray)[y0:y0 + win_h, x0:x0 + win_w]
        else:
            fx0, fy0 = int(round(x0 * scale_x)), int(round(y0 * scale_y))
            fx1, fy1 = int(round((x0 + win_w) * scale_x)), int(round((y0 + win_h) * scale_y))
            window = cv2.resize(gray[fy0:fy1, fx0:fx1], (win_w, win_h),
                                interpolation=cv2.INTER_LINEAR)
        for marker_id, corners in _detect(window, corner=True).items():
            found.setdefault(marker_id, corners + (x0, y0))
    return found


def _search(gray: np.ndarray, small: np.ndarray | None) -> tuple[dict[int, np.ndarray], float]:
    """Markers in small-image pixels, and the factor back to full resolution: the corners,
    the whole copy (quick, then thorough), then a finer copy."""
    found = _corners_first(gray, small)
    size = _small_size(gray)
    factor = gray.shape[1] / size[0] if size is not None else 1.0
    if len(found) < len(FIDUCIAL_IDS) and small is None:
        small, factor = reduce_for_detection(gray)
    if len(found) < len(FIDUCIAL_IDS):
        for marker_id, corners in _detect(small).items():
            found.setdefault(marker_id, corners)
    if len(found) < len(FIDUCIAL_IDS):
        for marker_id, corners in _detect(small, thorough=True).items():
            found.setdefault(marker_id, corners)
    if len(found) < len(FIDUCIAL_IDS) and factor > 1.0:
        # small markers in a large photo can vanish in the reduced copy: look once more, finer
        finer_factor = max(1.0, factor / 2)
        finer = gray if finer_factor == 1.0 else cv2.resize(
            gray, None, fx=1 / finer_factor, fy=1 / finer_factor, interpolation=cv2.INTER_AREA)
        for marker_id, corners in _detect(finer, thorough=True).items():
            found.setdefault(marker_id, corners * (finer_factor / factor))
    return found, factor


def find_fiducials(gray: np.ndarray, small: np.ndarray | None = None,
                   factor: float | None = None) -> dict[int, np.ndarray]:
    """Marker id -> its 4 corners in full-resolution pixels (clockwise from its top-left).

    The reduced copy (`small`, from `reduce_for_detection`; its factor is implied by the
    sizes, so `factor` is accepted and not needed) is made only when the corner windows do
    not find every marker, unless the caller has one.  Corners found on reduced
    images are refined with sub-pixel corner search on the full image, which is what ArUco's
    own refinement does, for a fraction of the cost.
    """
    coarse, factor = _search(gray, small)
    if not coarse:
        return {}
    ids = sorted(coarse)
    points = np.concatenate([coarse[i] for i in ids]) * factor
    if factor > 1.0:
        window = max(2, int(round(factor * 1.5)))
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 20, 0.05)
        refined = cv2.cornerSubPix(gray, points.astype(np.float32).reshape(-1, 1, 2),
                                   (window, window), (-1, -1), criteria).reshape(-1, 2)
        # a refinement that wandered off (blur, a pen stroke nearby) keeps the coarse corner
        moved = np.linalg.norm(refined - points, axis=1)
        points = np.where((moved <= factor * 2)[:, None], refined, points)
    return {marker_id: points[4 * n: 4 * n + 4].astype(np.float64) for n, marker_id in enumerate(ids)}


def fiducial_page_corners(box: tuple[float, float, float, float]) -> np.ndarray:
    """The printed marker's corners in page points, in ArUco's corner order."""
    x, y, w, h = box
    return np.array([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], dtype=np.float64)


def fit_page(found: dict[int, np.ndarray],
             fiducial_boxes: dict[int, tuple[float, float, float, float]]) -> Registration | None:
    """Fit page points -> image pixels over every found corner; None if too few markers."""
    ids = sorted(i for i in found if i in fiducial_boxes)
    if len(ids) < MIN_MARKERS:
        return None
    src = np.concatenate([fiducial_page_corners(fiducial_boxes[i]) for i in ids])
    dst = np.concatenate([found[i] for i in ids])
    # pixel size of a point, from the markers themselves: the RANSAC threshold must scale with it
    marker_px = np.mean([np.linalg.norm(found[i][0] - found[i][2]) for i in ids])
    marker_pt = np.mean([np.hypot(fiducial_boxes[i][2], fiducial_boxes[i][3]) for i in ids])
    px_per_pt = float(marker_px / marker_pt)
    if len(ids) == 2:
        homography, mask = cv2.findHomography(src, dst, 0)
    else:
        homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, 1.5 * px_per_pt)
    if homography is None:
        return None
    inlier_mask = mask.ravel().astype(bool) if mask is not None else np.ones(len(src), bool)
    projected = cv2.perspectiveTransform(src[inlier_mask].reshape(-1, 1, 2), homography).reshape(-1, 2)
    residual = float(np.mean(np.linalg.norm(projected - dst[inlier_mask], axis=1)) / px_per_pt)
    return Registration(homography=homography, markers=tuple(ids), residual_pt=residual,
                        inliers=int(inlier_mask.sum()), points=len(src), px_per_pt=px_per_pt)


def page_to_image(registration: Registration, points: np.ndarray) -> np.ndarray:
    """Map an (N, 2) array of page points to image pixels."""
    return cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64),
                                    registration.homography).reshape(-1, 2)
