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
MIN_STRUCTURE = 0.6          # share of answer circles found that makes a structure fit usable
CORNER_WINDOW = 0.22         # share of width and height searched first in each corner
# In a corner window of a page that fills the image a marker's outline is most of the
# window's side; outlines under a quarter of it (text, specks) are not looked at, which makes
# the quick pass five times faster.  A page that does not fill the image falls through to the
# whole-image search, which looks at every size.
CORNER_MIN_PERIMETER = 0.25


@dataclass(frozen=True)
class Displacement:
    """Where a crumpled or curled sheet's print lies off the page's homography: a smooth field
    of page-point offsets on a regular grid, interpolated between its nodes."""

    origin: tuple[float, float]      # page point of node (0, 0)
    step: float                      # points between nodes
    dx: np.ndarray                   # (rows, cols) offsets in points
    dy: np.ndarray

    def at(self, points: np.ndarray) -> np.ndarray:
        """The (N, 2) offsets at (N, 2) page points (bilinear; the edge value beyond the grid)."""
        count = len(points)
        width = 1024                      # remap's maps must stay under 32767 rows
        padded = -(-count // width) * width
        uv = np.zeros((padded, 2), np.float32)
        uv[:count] = (points - self.origin) / self.step
        u, v = uv[:, 0].reshape(-1, width), uv[:, 1].reshape(-1, width)
        out = np.empty((count, 2), np.float64)
        for k, grid in enumerate((self.dx, self.dy)):
            out[:, k] = cv2.remap(grid.astype(np.float32), u, v, cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE).ravel()[:count]
        return out


@dataclass(frozen=True)
class Registration:
    homography: np.ndarray           # 3x3, page points -> image pixels
    markers: tuple[int, ...]         # ids found
    residual_pt: float               # mean reprojection error of the inliers, in points
    inliers: int
    points: int
    px_per_pt: float                 # local scale, for sizing crops and sample grids
    # Registered from the printed structure (answer circles) when markers were missing or the
    # sheet was not flat: the local corrections, and the share of answer circles found where
    # the registration puts them.
    field: Displacement | None = None
    structure: float | None = None
    code_anchor: bool = False        # the QR code's corners were among the points fitted

    @property
    def trusted(self) -> bool:
        if self.structure is not None:
            return self.structure >= MIN_STRUCTURE
        return self.residual_pt <= MAX_RESIDUAL_PT and self.inliers >= max(8, self.points * 3 // 4)

    def describe(self) -> dict:
        """What the JSON output and the ledger keep of it: how the page was placed."""
        out = {"markers": list(self.markers), "residual_pt": round(self.residual_pt, 3)}
        if self.structure is not None:
            out["structure"] = round(self.structure, 3)
            if self.field is not None:
                out["local_pt"] = round(float(np.hypot(self.field.dx, self.field.dy).max()), 2)
        if self.code_anchor:
            out["code"] = True
        return out


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


def _detect(gray: np.ndarray, thorough: bool = False,
            corner: bool = False) -> list[tuple[int, np.ndarray]]:
    """Every fiducial sighting (id, 4 corners) in `gray`, the same id as often as it is seen."""
    corners, ids, _ = _detector(thorough, corner).detectMarkers(gray)
    if ids is None:
        return []
    return [(int(marker_id), marker_corners.reshape(4, 2).astype(np.float64))
            for marker_corners, marker_id in zip(corners, ids.ravel()) if int(marker_id) in FIDUCIAL_IDS]


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


@dataclass(frozen=True)
class MarkerSighting:
    """One fiducial seen in the image: its id and its corners in full-resolution pixels."""

    id: int
    corners: np.ndarray              # 4x2, clockwise from the marker's own top-left

    @property
    def centre(self) -> np.ndarray:
        return self.corners.mean(axis=0)

    @property
    def side(self) -> float:
        return float(np.mean(np.linalg.norm(np.roll(self.corners, -1, axis=0) - self.corners, axis=1)))


class MarkerSearch:
    """The fiducials of one image, searched pass by pass only as far as a caller needs.

    On a scan the markers sit in the page corners whatever the rotation, so the four corner
    windows are searched first (each cut from the full image and reduced on its own: a fifth
    of the work of reducing the whole page, which a clean scan never needs).  Anything they
    miss falls through to the whole image, reduced (a quick pass, then a thorough one, then a
    finer copy for small markers in big photos).  `sightings` keeps every marker seen, the
    same id as often as it appears (two sheets in one photo); `found` the first of each id.
    Corners found on reduced images are refined with sub-pixel corner search on the full
    image, which is what ArUco's own refinement does, for a fraction of the cost.
    """

    def __init__(self, gray: np.ndarray):
        self.gray = gray
        size = _small_size(gray)
        self.factor = gray.shape[1] / size[0] if size is not None else 1.0
        self._size = size
        self._small: np.ndarray | None = None
        self._raw: list[tuple[int, np.ndarray]] = []     # small-image pixels
        self._done: set[str] = set()
        self._refined: list[MarkerSighting] | None = None
        self.from_corners = False

    # -- the passes --------------------------------------------------------------------------

    def _add(self, found: list[tuple[int, np.ndarray]], scale: float = 1.0) -> None:
        for marker_id, corners in found:
            corners = corners * scale
            centre = corners.mean(axis=0)
            side = np.linalg.norm(corners[0] - corners[1])
            if not any(i == marker_id and np.linalg.norm(c.mean(axis=0) - centre) < side / 2
                       for i, c in self._raw):
                self._raw.append((marker_id, corners))
                self._refined = None

    def _ids(self) -> set[int]:
        return {i for i, _ in self._raw}

    def _corner_windows(self) -> None:
        gray = self.gray
        width, height = self._size if self._size is not None else (gray.shape[1], gray.shape[0])
        scale_x, scale_y = gray.shape[1] / width, gray.shape[0] / height
        win_w, win_h = int(width * CORNER_WINDOW), int(height * CORNER_WINDOW)
        for x0, y0 in ((0, 0), (width - win_w, 0), (0, height - win_h),
                       (width - win_w, height - win_h)):
            if self._size is None:
                window = gray[y0:y0 + win_h, x0:x0 + win_w]
            else:
                fx0, fy0 = int(round(x0 * scale_x)), int(round(y0 * scale_y))
                fx1, fy1 = int(round((x0 + win_w) * scale_x)), int(round((y0 + win_h) * scale_y))
                window = cv2.resize(gray[fy0:fy1, fx0:fx1], (win_w, win_h),
                                    interpolation=cv2.INTER_LINEAR)
            self._add([(i, c + (x0, y0)) for i, c in _detect(window, corner=True)])

    def _reduced(self) -> np.ndarray:
        if self._small is None:
            self._small, _ = reduce_for_detection(self.gray)
        return self._small

    def _pass(self, name: str) -> None:
        if name in self._done:
            return
        self._done.add(name)
        if name == "corners":
            self._corner_windows()
        elif name == "quick":
            self._add(_detect(self._reduced()))
        elif name == "thorough":
            self._add(_detect(self._reduced(), thorough=True))
        elif name == "finer" and self.factor > 1.0:
            # small markers in a large photo can vanish in the reduced copy: look once more, finer
            finer_factor = max(1.0, self.factor / 2)
            finer = self.gray if finer_factor == 1.0 else cv2.resize(
                self.gray, None, fx=1 / finer_factor, fy=1 / finer_factor,
                interpolation=cv2.INTER_AREA)
            self._add(_detect(finer, thorough=True), finer_factor / self.factor)

    @property
    def exhaustive(self) -> bool:
        """Whether every whole-image pass has run already."""
        return {"quick", "thorough"} <= self._done

    def run(self, everything: bool = False) -> "MarkerSearch":
        """Search until every id is found (`everything`: through the thorough pass regardless,
        for an image that may hold more than one sheet)."""
        self._pass("corners")
        if len(self._ids()) == len(FIDUCIAL_IDS) and not everything:
            self.from_corners = "quick" not in self._done
            return self
        self.from_corners = False
        for name in ("quick", "thorough", "finer"):
            if len(self._ids()) < len(FIDUCIAL_IDS) or (everything and name != "finer"):
                self._pass(name)
        return self

    # -- results ------------------------------------------------------------------------------

    @property
    def sightings(self) -> list[MarkerSighting]:
        if self._refined is None:
            self._refined = self._refine()
        return self._refined

    @property
    def found(self) -> dict[int, np.ndarray]:
        first: dict[int, np.ndarray] = {}
        for sighting in self.sightings:
            first.setdefault(sighting.id, sighting.corners)
        return dict(sorted(first.items()))

    def _refine(self) -> list[MarkerSighting]:
        if not self._raw:
            return []
        factor = self.factor
        points = np.concatenate([c for _, c in self._raw]) * factor
        if factor > 1.0:
            window = max(2, int(round(factor * 1.5)))
            criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 20, 0.05)
            refined = cv2.cornerSubPix(self.gray, points.astype(np.float32).reshape(-1, 1, 2),
                                       (window, window), (-1, -1), criteria).reshape(-1, 2)
            # a refinement that wandered off (blur, a pen stroke nearby) keeps the coarse corner
            moved = np.linalg.norm(refined - points, axis=1)
            points = np.where((moved <= factor * 2)[:, None], refined, points)
        return [MarkerSighting(marker_id, points[4 * n: 4 * n + 4].astype(np.float64))
                for n, (marker_id, _) in enumerate(self._raw)]


def find_fiducials(gray: np.ndarray, small: np.ndarray | None = None,
                   factor: float | None = None) -> dict[int, np.ndarray]:
    """Marker id -> its 4 corners in full-resolution pixels (clockwise from its top-left):
    the first sighting of each id (see `MarkerSearch`)."""
    search = MarkerSearch(gray)
    if small is not None:
        search._small = small
    return search.run().found


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
    """Map an (N, 2) array of page points to image pixels (with the local corrections)."""
    points = points.reshape(-1, 2).astype(np.float64)
    if registration.field is not None:
        points = points + registration.field.at(points)
    return cv2.perspectiveTransform(points.reshape(-1, 1, 2), registration.homography).reshape(-1, 2)
