"""Registration from the printed structure: where the answer circles really are.

Corner markers place a flat sheet exactly, but a sheet fed crooked loses a corner or two to
the scanner's edge, a crumpled or curled sheet is no longer flat, and a sheet under another in
a photo shows only part of itself.  Every sheet also carries some 160 printed answer circles.
Starting from whatever placed the page roughly (the markers that remain, the QR code's
corners), the page is cut out upright at a low resolution, every circle is looked for near
where it should be (first per block of questions, which tolerates a rough start, then circle
by circle), a homography is fitted over the circles found and the anchors, and what is left
(a crumpled sheet's local shifts) becomes a smooth displacement field.  A circle that is not
where its neighbours say it should be, or not found at all, is reported, so the question it
belongs to goes to a person rather than being read from the wrong place.

This is the slow path: a clean page whose four markers are found never comes here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from forms.layout import PAGE_HEIGHT, PAGE_WIDTH

from .registration import Displacement, Registration

# the upright copy and the ring looked for in it
PX_PER_PT = 1.5           # the copy's resolution: rings are 0.9 pt lines
MARGIN_PT = 40.0          # the copy reaches this far beyond the page's edges
RING_LINE_PT = 0.9
TEMPLATE_PAD_PT = 3.0     # paper around the ring in the template
MIN_SCORE = 0.35          # normalised correlation of a circle found (a filled-in one reads ~0.3)
STRONG_SCORE = 0.5        # a ring this clear, where the neighbours say no ring is, is a misfit
# where to look
BLOCK_SEARCH_PT = 30.0    # how far a block of questions may be from where it was expected
BLOCK_TOLERANCE_PT = 3.0  # how far a block's circles may stray from its common shift
BOX_SEARCH_PT = 5.0       # then each circle, around its block's place
PITCH_SHARE = 0.4         # a grid is searched within this share of its pitch of its expected place
WAVE_BLOCKS = 3           # from a corner, the nearest blocks are placed first, then the rest
HOMOGRAPHY_SPREAD = 0.2   # matched points must span this share of the page for perspective
# which circles to trust
NEIGHBOURHOOD_PT = 30.0   # a circle's neighbours
NEIGHBOUR_AGREE_PT = 4.0  # agree with their median within this (a crumpled sheet bends a few
                          # points over 30 pt; a wrong ring is a pitch away)
BACKING_PT = 130.0        # found circles within this place a circle not seen itself
# the displacement field through the circles found
FIELD_STEP_PT = 5.0
FIELD_SIGMA_PT = 8.0      # a found circle's own shift decides at its place
WIDE_SIGMA_PT = 60.0      # the field between sparse circles (options a row apart)
NEAR_ENOUGH = 0.2         # near weight (in circles at their own place) that makes the near field
WIDE_FLOOR = 0.01         # weight below which the wide field fades to no shift


@dataclass(frozen=True)
class StructureFit:
    """The refined registration and, per box, whether its circle was found where it reads."""

    registration: Registration
    supported: np.ndarray        # bool per box
    scores: np.ndarray           # correlation at each box's final place


@cache
def _ring_template(radius_pt: float) -> np.ndarray:
    side = int(round(2 * (radius_pt + TEMPLATE_PAD_PT) * PX_PER_PT)) | 1
    upscale = 8
    big = np.full((side * upscale, side * upscale), 255, np.uint8)
    centre = (side * upscale) // 2
    cv2.circle(big, (centre, centre), int(round(radius_pt * PX_PER_PT * upscale)), 64,
               max(1, int(round(RING_LINE_PT * PX_PER_PT * upscale))), cv2.LINE_AA)
    return cv2.resize(big, (side, side), interpolation=cv2.INTER_AREA)


def _upright(gray: np.ndarray, homography: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The page (plus margin) cut out upright at PX_PER_PT, and the matrix from the copy's
    pixels to page points."""
    width, height = PAGE_WIDTH, PAGE_HEIGHT
    to_page = np.array([[1 / PX_PER_PT, 0, -MARGIN_PT], [0, 1 / PX_PER_PT, -MARGIN_PT], [0, 0, 1]])
    size = (int((width + 2 * MARGIN_PT) * PX_PER_PT), int((height + 2 * MARGIN_PT) * PX_PER_PT))
    # an image much finer than the copy is reduced first, so the warp does not alias
    centre = homography @ np.array([width / 2, height / 2, 1.0])
    step = homography @ np.array([width / 2 + 1, height / 2, 1.0])
    px_per_pt = float(np.hypot(*(step[:2] / step[2] - centre[:2] / centre[2])))
    source, matrix = gray, homography
    factor = px_per_pt / PX_PER_PT
    if factor > 2.0:
        shrink = 1 / (factor / 1.5)
        source = cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        matrix = np.diag([shrink, shrink, 1.0]) @ homography
    copy = cv2.warpPerspective(source, matrix @ to_page, size,
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return copy, to_page


def _peak(response: np.ndarray, y: int, x: int) -> tuple[float, float]:
    """Sub-pixel offset of a peak at (y, x) by a parabola through its neighbours."""
    h, w = response.shape

    def offset(a: float, b: float, c: float) -> float:
        denom = a - 2 * b + c
        return 0.0 if denom >= 0 else float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))

    dy = offset(response[y - 1, x], response[y, x], response[y + 1, x]) if 0 < y < h - 1 else 0.0
    dx = offset(response[y, x - 1], response[y, x], response[y, x + 1]) if 0 < x < w - 1 else 0.0
    return dy, dx


def _spread(points: np.ndarray) -> float:
    """Share of the page that the points' convex hull covers."""
    if len(points) < 3:
        return 0.0
    hull = cv2.convexHull(points.astype(np.float32))
    return float(cv2.contourArea(hull)) / (PAGE_WIDTH * PAGE_HEIGHT)


def _fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """A page -> copy-frame mapping from matched points: a homography over points that span
    the page, else a similarity (points bunched in one corner cannot tell perspective)."""
    if len(src) >= 8 and _spread(src) >= HOMOGRAPHY_SPREAD:
        homography, _ = cv2.findHomography(src, dst, 0)
        if homography is not None:
            return homography
    if len(src) >= 2:
        affine, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
        if affine is not None:
            return np.vstack([affine, [0, 0, 1]])
    return np.eye(3)


def _gathered(response: np.ndarray, base: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """(points, shifts y, shifts x): the response at each point moved by each shift."""
    rh, rw = response.shape
    xs = base[:, 0][:, None, None] + shifts[None, None, :]
    ys = base[:, 1][:, None, None] + shifts[None, :, None]
    valid = (xs >= 0) & (xs < rw) & (ys >= 0) & (ys < rh)
    return np.where(valid, response[np.clip(ys, 0, rh - 1), np.clip(xs, 0, rw - 1)], 0.0)


def _lines(points: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The rows and columns of a block: (first point, last point, step) for every line of two
    or more circles, along x and along y."""
    out = []
    for axis in (0, 1):
        other = 1 - axis
        lines: dict[float, list[np.ndarray]] = {}
        for point in points:
            key = round(float(point[other]) / 2) * 2
            lines.setdefault(key, []).append(point)
        for line in lines.values():
            if len(line) < 2:
                continue
            line = sorted(line, key=lambda q: q[axis])
            step = np.zeros(2)
            step[axis] = float(np.median(np.diff([q[axis] for q in line])))
            out.append((line[0], line[-1], step))
    return out


def _pitch(points: np.ndarray) -> float:
    """A block's smallest step between circles: a search wider than half of it could land
    the whole block one row or column off."""
    steps = [float(np.abs(step).max()) for _, _, step in _lines(points)]
    return min(steps) if steps else float("inf")


def _beyond(points: np.ndarray) -> np.ndarray:
    """Places one step beyond a block's edges, where no circle of the block is: one row above
    and below each column, one column left and right of each row."""
    out = [p for first, last, step in _lines(points) for p in (first - step, last + step)]
    if not out:
        return np.empty((0, 2))
    out = np.array(out)
    far = np.min(np.linalg.norm(out[:, None, :] - points[None, :, :], axis=2), axis=1) > 2.0
    return out[far]


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), matrix).reshape(-1, 2)


def refine(gray: np.ndarray, rough: Registration, boxes: np.ndarray,
           blocks: list[list[int]], anchors_page: np.ndarray,
           anchors_image: np.ndarray) -> StructureFit:
    """Place the page by its printed circles, starting from `rough`.

    `boxes` are the layout's mark boxes ([x, y, w, h] points), `blocks` groups of box rows
    that sit together (a question, a digit grid), `anchors_*` point pairs already known (the
    corners of the markers and of the QR symbol found).
    """
    copy, _ = _upright(gray, rough.homography)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    radius = float(np.median(boxes[:, 2])) / 2
    template = _ring_template(round(radius * 4) / 4)
    response = cv2.matchTemplate(copy, template, cv2.TM_CCOEFF_NORMED)
    # for placing whole blocks: each circle's best response within a few points, so a block
    # whose rows bend a little still comes together at its true place
    reach = int(round(BLOCK_TOLERANCE_PT * PX_PER_PT)) * 2 + 1
    loose = cv2.dilate(response, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    half = template.shape[0] // 2
    rh, rw = response.shape

    def to_response(points_pt: np.ndarray) -> np.ndarray:
        """Copy-frame page points -> response map (x, y) pixel coordinates."""
        return (points_pt + MARGIN_PT) * PX_PER_PT - half

    def from_response(points_px: np.ndarray) -> np.ndarray:
        return (points_px + half) / PX_PER_PT - MARGIN_PT

    anchors_copy = _apply(np.linalg.inv(rough.homography), anchors_image) if len(anchors_image) else \
        np.empty((0, 2))
    mapping = np.eye(3)                  # page points -> copy-frame points (refined as we go)
    found = np.full((len(boxes), 2), np.nan)
    scores = np.zeros(len(boxes))
    search = int(round(BLOCK_SEARCH_PT * PX_PER_PT))
    local = int(round(BOX_SEARCH_PT * PX_PER_PT))
    shifts = np.arange(-search, search + 1)
    anchor_centre = anchors_page.mean(axis=0) if len(anchors_page) else centres.mean(axis=0)
    block_centres = np.array([centres[b].mean(axis=0) for b in blocks])
    pitches = np.array([_pitch(centres[b]) for b in blocks])
    distance = np.linalg.norm(block_centres - anchor_centre, axis=1)
    # blocks alike nowhere within the search (a row of options) first; grids, which look the
    # same one row off, after them, searched only around where the first ones place them
    steady = [i for i in np.argsort(distance) if pitches[i] >= 2 * BLOCK_SEARCH_PT]
    periodic = [i for i in np.argsort(distance) if pitches[i] < 2 * BLOCK_SEARCH_PT]
    if _spread(anchors_page) >= HOMOGRAPHY_SPREAD:
        waves = [steady, periodic]
    else:
        # anchors in one part of the page: grow from there, refitting as the circles are found
        waves = [steady[i:i + WAVE_BLOCKS] for i in range(0, len(steady), WAVE_BLOCKS)]
        waves += [periodic[i:i + WAVE_BLOCKS] for i in range(0, len(periodic), WAVE_BLOCKS)]
    field: Displacement | None = None       # where the circles found so far say the rest are
    for wave in waves:
        for block_no in wave:
            rows = np.array(blocks[block_no])
            expected = centres[rows] if field is None else centres[rows] + field.at(centres[rows])
            predicted = to_response(_apply(mapping, expected))
            base = np.round(predicted).astype(int)
            reach_pt = BLOCK_SEARCH_PT if field is None else min(BLOCK_SEARCH_PT,
                                                                 PITCH_SHARE * pitches[block_no])
            reach_px = max(1, int(round(reach_pt * PX_PER_PT)))
            near = shifts[np.abs(shifts) <= reach_px]
            # the block's place: the shift at which its circles, together, are best found and
            # no circle is seen one step beyond its edges (a grid is alike one row off but
            # for its edges)
            together = _gathered(loose, base, near).mean(axis=0)
            beyond = _beyond(centres[rows])
            if len(beyond):
                outer_expected = beyond if field is None else beyond + field.at(beyond)
                outer = np.round(to_response(_apply(mapping, outer_expected))).astype(int)
                together -= np.clip(_gathered(loose, outer, near), 0, None).mean(axis=0)
            by, bx = np.unravel_index(int(np.argmax(together)), together.shape)
            block_shift = np.array([near[bx], near[by]])
            for n, row in enumerate(rows):
                cx, cy = base[n] + block_shift
                x0, x1 = max(0, cx - local), min(rw, cx + local + 1)
                y0, y1 = max(0, cy - local), min(rh, cy + local + 1)
                if x0 >= x1 or y0 >= y1:
                    continue
                window = response[y0:y1, x0:x1]
                py, px = np.unravel_index(int(np.argmax(window)), window.shape)
                py, px = py + y0, px + x0
                dy, dx = _peak(response, py, px)
                scores[row] = float(response[py, px])
                found[row] = from_response(np.array([px + dx, py + dy]))
        # refit the page's mapping over the circles that agree with their neighbours (a
        # least-squares fit: on a crumpled sheet no homography holds closely, and the part it
        # cannot follow is the displacement field's)
        good = scores >= MIN_SCORE
        shift = found - _apply(mapping, centres)
        keep = _agreeing(centres, shift, good)
        src = np.concatenate([centres[keep], anchors_page])
        dst = np.concatenate([found[keep], anchors_copy])
        if len(src) >= 2:
            mapping = _fit(src, dst)
        if keep.any():
            pulled = _apply(np.linalg.inv(mapping), found[keep])
            field = _field(centres[keep], pulled - centres[keep], scores[keep])

    good = scores >= MIN_SCORE
    # what is left after the page's own mapping, in page points: a crumpled sheet's shifts
    pulled = _apply(np.linalg.inv(mapping), found[good]) if good.any() else np.empty((0, 2))
    residual = np.full((len(boxes), 2), np.nan)
    residual[good] = pulled - centres[good]
    agree = _agreeing(centres, residual, good)
    field = _field(centres[agree], residual[agree], weights=scores[agree])
    supported = np.zeros(len(boxes), bool)
    if agree.any():
        # a circle found where its neighbours say; or one not seen itself (filled in, so its
        # outline is under ink) with found circles around it to place it
        gaps = np.linalg.norm(centres[:, None, :] - centres[None, agree, :], axis=2)
        backed = (gaps <= BACKING_PT).sum(axis=1) >= 2
        elsewhere = good & ~agree & (scores >= STRONG_SCORE)   # a clear ring, out of place
        supported = agree | (backed & ~elsewhere)
    homography = rough.homography @ mapping
    scale = _scale_at(homography, centres.mean(axis=0))
    if agree.any():
        fitted = field.at(centres[agree]) + centres[agree]
        residual_pt = float(np.mean(np.linalg.norm(fitted - (centres[agree] + residual[agree]),
                                                   axis=1)))
    else:
        residual_pt = float("inf")
    registration = Registration(
        homography=homography, markers=rough.markers, residual_pt=residual_pt,
        inliers=int(agree.sum()), points=len(boxes), px_per_pt=scale, field=field,
        structure=float(supported.mean()), code_anchor=rough.code_anchor)
    return StructureFit(registration, supported, scores)


def _agreeing(centres: np.ndarray, residual: np.ndarray, good: np.ndarray) -> np.ndarray:
    """Circles whose shift is close to the median shift of the circles around them: a circle
    matched to its neighbour's place, or to a mark's edge, is left out."""
    agree = good.copy()
    index = np.flatnonzero(good)
    if not len(index):
        return agree
    gaps = np.linalg.norm(centres[index, None, :] - centres[None, index, :], axis=2)
    for n, row in enumerate(index):
        around = index[gaps[n] <= NEIGHBOURHOOD_PT]
        if len(around) < 3:
            around = index[np.argsort(gaps[n])[:4]]
        median = np.median(residual[around], axis=0)
        agree[row] = np.linalg.norm(residual[row] - median) <= NEIGHBOUR_AGREE_PT
    return agree


def _field(points: np.ndarray, shifts: np.ndarray, weights: np.ndarray) -> Displacement:
    """A smooth field through scattered shifts: a Gaussian-weighted average (near circles
    decide, far ones fill the gaps between sparse circles with a little weight), falling back
    to no shift far from any circle.  Computed by spreading each shift onto the grid and
    blurring, which costs microseconds where pairwise weights cost tens of milliseconds."""
    width, height = PAGE_WIDTH, PAGE_HEIGHT
    cols = int(np.ceil((width + 2 * MARGIN_PT) / FIELD_STEP_PT)) + 1
    rows = int(np.ceil((height + 2 * MARGIN_PT) / FIELD_STEP_PT)) + 1
    origin = (-MARGIN_PT, -MARGIN_PT)
    if not len(points):
        zeros = np.zeros((rows, cols))
        return Displacement(origin, FIELD_STEP_PT, zeros, zeros)
    mass = np.zeros((3, rows, cols), np.float32)        # weight, weight*dx, weight*dy
    u = (points[:, 0] - origin[0]) / FIELD_STEP_PT
    v = (points[:, 1] - origin[1]) / FIELD_STEP_PT
    c0 = np.clip(np.floor(u).astype(int), 0, cols - 2)
    r0 = np.clip(np.floor(v).astype(int), 0, rows - 2)
    fu, fv = np.clip(u - c0, 0, 1), np.clip(v - r0, 0, 1)
    w = np.clip(weights, 0.1, 1.0)
    values = np.stack([w, w * shifts[:, 0], w * shifts[:, 1]])
    for dr, dc, share in ((0, 0, (1 - fu) * (1 - fv)), (0, 1, fu * (1 - fv)),
                          (1, 0, (1 - fu) * fv), (1, 1, fu * fv)):
        for k in range(3):
            np.add.at(mass[k], (r0 + dr, c0 + dc), values[k] * share)
    blurred = {}
    for sigma_pt in (FIELD_SIGMA_PT, WIDE_SIGMA_PT):
        sigma = sigma_pt / FIELD_STEP_PT
        peak = 2 * np.pi * sigma * sigma          # a point's own weight stays 1 at its node
        blurred[sigma_pt] = [peak * cv2.GaussianBlur(mass[k], (0, 0), sigma,
                                                     borderType=cv2.BORDER_CONSTANT).astype(np.float64)
                             for k in range(3)]
    near, wide = blurred[FIELD_SIGMA_PT], blurred[WIDE_SIGMA_PT]
    # near circles decide where there are some; between sparse circles (options a row apart)
    # the wide average takes over; far from every circle the field fades to no shift
    alpha = near[0] / (near[0] + NEAR_ENOUGH)
    out = []
    for k in (1, 2):
        local = near[k] / np.maximum(near[0], 1e-9)
        broad = wide[k] / (wide[0] + WIDE_FLOOR)
        out.append(alpha * local + (1 - alpha) * broad)
    return Displacement(origin, FIELD_STEP_PT, out[0], out[1])


def _scale_at(homography: np.ndarray, point: np.ndarray) -> float:
    a = _apply(homography, np.array([point, point + (1.0, 0.0), point + (0.0, 1.0)]))
    u, v = a[1] - a[0], a[2] - a[0]
    return float(np.sqrt(abs(u[0] * v[1] - u[1] * v[0])))
