"""Finding every sheet in an image: side by side, overlapping, turned, with corners cut off.

The corner markers seen are grouped into sheets (markers of one sheet agree on where the
others must be, and face the same way), each group's QR code is read where its markers put
it, and when something is left unexplained (a group without a code, or room in the image for
another sheet) the whole image is searched for sheet codes too.  A code found apart from any
group is a sheet of its own, placed by its symbol's corners.  Each sheet comes out as a
`Placement`: a first registration from its markers and code corners, which the printed
structure then refines (`scanner.structure`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from forms.layout import PAGE_HEIGHT, PAGE_WIDTH

from .qr import CodeSighting, find_codes, read_code_at, symbol_corners_pt
from .registration import (
    MIN_MARKERS,
    MarkerSearch,
    MarkerSighting,
    Registration,
    fiducial_page_corners,
    fit_page,
)

PREDICT_TOLERANCE = 0.35     # of the distance: where one marker says another must be
MAX_TURN_DEG = 35.0          # markers of one sheet face the same way within this
MAX_SIZE_RATIO = 2.0
UNCOVERED_FOR_SEARCH = 0.3   # image share outside every sheet found that may hold another
CODE_MATCH_PT = 60.0         # a code this close to where a group's code should be is its code
ATTACH_SIDES = 2.0           # a lone marker this close (in its own sides) to where a sheet says
SEDA_PREFIX = "SEDA:"


@dataclass
class Placement:
    """One sheet in the image, as far as its markers and code place it."""

    rough: Registration | None
    markers: list[MarkerSighting] = field(default_factory=list)
    code: CodeSighting | None = None

    @property
    def exact(self) -> bool:
        """Four markers and a fit within a point: the markers alone place the page."""
        return (self.rough is not None and len(self.markers) == 4 and self.rough.structure is None
                and self.rough.trusted)

    def anchors(self, fiducial_boxes: dict, qr_box) -> tuple[np.ndarray, np.ndarray]:
        """(page points, image pixels) known for this sheet: marker and code symbol corners."""
        page, image = [], []
        for sighting in self.markers:
            page.append(fiducial_page_corners(fiducial_boxes[sighting.id]))
            image.append(sighting.corners)
        if self.code is not None and self.code.corners is not None:
            page.append(symbol_corners_pt(self.code.text, qr_box))
            image.append(self.code.corners)
        if not page:
            return np.empty((0, 2)), np.empty((0, 2))
        return np.concatenate(page), np.concatenate(image)

    def quad(self) -> np.ndarray | None:
        """The page's outline in the image, as far as the rough registration tells."""
        if self.rough is None:
            return None
        corners = np.array([(0, 0), (PAGE_WIDTH, 0), (PAGE_WIDTH, PAGE_HEIGHT), (0, PAGE_HEIGHT)],
                           np.float64)
        return cv2.perspectiveTransform(corners.reshape(-1, 1, 2), self.rough.homography).reshape(-1, 2)


def _similarity(sighting: MarkerSighting, fiducial_boxes: dict) -> np.ndarray | None:
    """Page -> image similarity from one marker's four corners."""
    matrix, _ = cv2.estimateAffinePartial2D(fiducial_page_corners(fiducial_boxes[sighting.id]),
                                            sighting.corners)
    return matrix


def _angle(sighting: MarkerSighting) -> float:
    top = sighting.corners[1] - sighting.corners[0]
    return float(np.degrees(np.arctan2(top[1], top[0])))


def _compatible(a: MarkerSighting, b: MarkerSighting, fiducial_boxes: dict,
                similarity: dict[int, np.ndarray | None]) -> float | None:
    """How far `b` is from where `a` says it must be (in units of the distance), or None when
    they cannot belong to one sheet."""
    if a.id == b.id:
        return None
    ratio = a.side / max(b.side, 1e-6)
    if not 1 / MAX_SIZE_RATIO <= ratio <= MAX_SIZE_RATIO:
        return None
    turn = abs((_angle(a) - _angle(b) + 180) % 360 - 180)
    if turn > MAX_TURN_DEG:
        return None
    errors = []
    for one, other in ((a, b), (b, a)):
        matrix = similarity[id(one)]
        if matrix is None:
            return None
        centre = fiducial_page_corners(fiducial_boxes[other.id]).mean(axis=0)
        predicted = matrix[:, :2] @ centre + matrix[:, 2]
        distance = np.linalg.norm(predicted - one.centre)
        error = np.linalg.norm(predicted - other.centre) / max(distance, 1e-6)
        if error > PREDICT_TOLERANCE:
            return None
        errors.append(error)
    return max(errors)


def group_markers(sightings: list[MarkerSighting], fiducial_boxes: dict) -> list[list[MarkerSighting]]:
    """Sightings grouped into sheets: every pair in a group agrees on the sheet's geometry,
    and a group holds each id at most once.  The closest agreements are joined first."""
    similarity = {id(s): _similarity(s, fiducial_boxes) for s in sightings}
    pairs = []
    for i, a in enumerate(sightings):
        for b in sightings[i + 1:]:
            error = _compatible(a, b, fiducial_boxes, similarity)
            if error is not None:
                pairs.append((error, a, b))
    pairs.sort(key=lambda p: p[0])
    group_of: dict[int, list[MarkerSighting]] = {id(s): [s] for s in sightings}
    for _, a, b in pairs:
        ga, gb = group_of[id(a)], group_of[id(b)]
        if ga is gb or {s.id for s in ga} & {s.id for s in gb}:
            continue
        if any(_compatible(x, y, fiducial_boxes, similarity) is None for x in ga for y in gb):
            continue
        ga.extend(gb)
        for s in gb:
            group_of[id(s)] = ga
    groups, seen = [], set()
    for s in sightings:
        group = group_of[id(s)]
        if id(group) not in seen:
            seen.add(id(group))
            groups.append(sorted(group, key=lambda m: m.id))
    return sorted(groups, key=lambda g: -len(g))


def rough_registration(markers: list[MarkerSighting], fiducial_boxes: dict,
                       code: CodeSighting | None = None, qr_box=None) -> Registration | None:
    """A first registration from markers (a homography from two or more, a similarity from
    one) and the code symbol's corners when known."""
    found = {m.id: m.corners for m in markers}
    code_pts = code is not None and code.corners is not None and qr_box is not None
    if len(found) >= 4 or (len(found) >= MIN_MARKERS and not code_pts):
        return fit_page(found, fiducial_boxes)
    page, image = [], []
    for m in markers:
        page.append(fiducial_page_corners(fiducial_boxes[m.id]))
        image.append(m.corners)
    if code_pts:
        page.append(symbol_corners_pt(code.text, qr_box))
        image.append(code.corners)
    if not page:
        return None
    src, dst = np.concatenate(page), np.concatenate(image)
    if len(src) >= 8:
        homography, _ = cv2.findHomography(src, dst, 0)
    else:
        matrix, _ = cv2.estimateAffinePartial2D(src, dst)
        homography = None if matrix is None else np.vstack([matrix, [0, 0, 1]])
    if homography is None:
        return None
    if len(markers) < 2:
        # one marker or the code alone cannot tell perspective: a similarity is safer
        matrix, _ = cv2.estimateAffinePartial2D(src, dst)
        if matrix is not None:
            homography = np.vstack([matrix, [0, 0, 1]])
    projected = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(-1, 2)
    step = cv2.perspectiveTransform(np.array([[[PAGE_WIDTH / 2, PAGE_HEIGHT / 2]],
                                              [[PAGE_WIDTH / 2 + 1, PAGE_HEIGHT / 2]]]),
                                    homography).reshape(-1, 2)
    px_per_pt = float(np.linalg.norm(step[1] - step[0]))
    residual = float(np.mean(np.linalg.norm(projected - dst, axis=1))) / max(px_per_pt, 1e-6)
    return Registration(homography=homography, markers=tuple(sorted(found)), residual_pt=residual,
                        inliers=len(src), points=len(src), px_per_pt=px_per_pt, structure=0.0,
                        code_anchor=bool(code_pts))


def _read_groups(gray: np.ndarray, search: MarkerSearch, fiducial_boxes: dict,
                 qr_box, earlier: list[Placement] | None = None) -> list[Placement]:
    """A placement per group of markers, with its code read where the markers put it (a
    group read `earlier` is not read again)."""
    def key(group: list[MarkerSighting]) -> tuple:
        return tuple((m.id, *np.round(m.centre).astype(int)) for m in group)

    done = {key(p.markers): p for p in earlier or []}
    placements = []
    for group in group_markers(search.sightings, fiducial_boxes):
        if key(group) in done:
            placements.append(done[key(group)])
            continue
        rough = rough_registration(group, fiducial_boxes)
        code = None
        if rough is not None:
            margin = 10.0 if len(group) >= 3 else 45.0
            code = read_code_at(gray, rough, qr_box, margin, corners=len(group) < 4)
        placements.append(Placement(rough, group, code))
    return placements


def _uncovered(placements: list[Placement], shape: tuple[int, int]) -> float:
    """Share of the image outside every sheet placed (by two markers or a marker and its code)."""
    quads = [p.quad() for p in placements if len(p.markers) >= MIN_MARKERS or p.code is not None]
    return 1.0 - _covered_share([q for q in quads if q is not None], shape)


def _covered_share(quads: list[np.ndarray], shape: tuple[int, int]) -> float:
    """Share of the image inside any of the quads (measured on a small copy)."""
    scale = 200 / max(shape)
    mask = np.zeros((max(1, int(shape[0] * scale)), max(1, int(shape[1] * scale))), np.uint8)
    for quad in quads:
        cv2.fillConvexPoly(mask, np.round(quad * scale).astype(np.int32), 255)
    return float((mask > 0).mean())


def locate_sheets(gray: np.ndarray, search: MarkerSearch, fiducial_boxes: dict,
                  qr_box) -> list[Placement]:
    """Every sheet in the image, each with what places it so far and its code if read."""
    search.run()
    placements = _read_groups(gray, search, fiducial_boxes, qr_box)
    if _uncovered(placements, gray.shape) > UNCOVERED_FOR_SEARCH and not search.exhaustive:
        # room for another sheet in the image: look harder for its markers
        search.run(everything=True)
        placements = _read_groups(gray, search, fiducial_boxes, qr_box, placements)
    placements = _merge_by_code(placements, fiducial_boxes, qr_box)
    readable = [p for p in placements if p.code is not None]
    unexplained = [p for p in placements if p.code is None]
    known = {p.code.text for p in readable}
    if unexplained or not readable:
        # markers no code explains, or no code at all: search the whole image for codes
        found = find_codes(gray, expected=max(1, len(placements)))
    elif _uncovered(placements, gray.shape) > UNCOVERED_FOR_SEARCH:
        # every marker explained, but room for a sheet whose markers are all hidden
        found = find_codes(gray, expected=0, covered=[p.quad() for p in readable])
    else:
        found = []
    for code in found:
        if code.text not in known:
            known.add(code.text)
            _attach(code, placements, fiducial_boxes, qr_box)
    for placement in placements:
        if placement.code is not None and (placement.code.corners is not None or placement.rough is None):
            better = rough_registration(placement.markers, fiducial_boxes, placement.code, qr_box)
            if better is not None and not placement.exact:
                placement.rough = better
    # a lone marker with nothing else is noise (a pattern on a tablecloth), not a sheet
    return [p for p in placements if p.code is not None or len(p.markers) >= MIN_MARKERS]


def _merge_by_code(placements: list[Placement], fiducial_boxes: dict, qr_box) -> list[Placement]:
    """Groups that read the same code are one sheet (strong perspective can split a sheet's
    markers into groups); markers left alone join the sheet whose placement predicts them."""
    merged: list[Placement] = []
    for placement in placements:
        same = next((m for m in merged if m.code is not None and placement.code is not None
                     and m.code.text == placement.code.text), None)
        if same is None:
            merged.append(placement)
            continue
        ids = {s.id for s in same.markers}
        same.markers += [s for s in placement.markers if s.id not in ids]
        if same.code.corners is None:
            same.code = placement.code
    for placement in merged:
        if placement.code is not None and len(merged) > 1:
            loose = [m for m in merged if m.code is None and len(m.markers) == 1]
            for other in loose:
                sighting = other.markers[0]
                if sighting.id in {s.id for s in placement.markers} or placement.rough is None:
                    continue
                predicted = cv2.perspectiveTransform(
                    fiducial_page_corners(fiducial_boxes[sighting.id]).reshape(-1, 1, 2),
                    placement.rough.homography).reshape(-1, 2).mean(axis=0)
                if np.linalg.norm(predicted - sighting.centre) <= ATTACH_SIDES * sighting.side:
                    placement.markers.append(sighting)
                    other.markers = []
    merged = [m for m in merged if m.markers or m.code is not None]
    for placement in merged:
        if placement.code is not None:
            placement.markers.sort(key=lambda m: m.id)
            placement.rough = rough_registration(placement.markers, fiducial_boxes) \
                if len(placement.markers) >= MIN_MARKERS else placement.rough
    return merged


def _attach(code: CodeSighting, placements: list[Placement], fiducial_boxes: dict, qr_box) -> None:
    """Give a code found in the whole image to the group of markers it belongs to, or make it
    a sheet of its own."""
    if code.corners is not None:
        for placement in placements:
            if placement.code is not None or placement.rough is None:
                continue
            try:
                inverse = np.linalg.inv(placement.rough.homography)
            except np.linalg.LinAlgError:
                continue
            centre = cv2.perspectiveTransform(code.centre.reshape(1, 1, 2), inverse).reshape(2)
            x, y, w, h = qr_box
            if np.linalg.norm(centre - (x + w / 2, y + h / 2)) <= CODE_MATCH_PT:
                placement.code = code
                return
    if not code.text.upper().startswith(SEDA_PREFIX) and placements:
        return      # a foreign code beside a sheet (a product label): not a sheet of ours
    placements.append(Placement(rough_registration([], fiducial_boxes, code, qr_box)
                                if code.corners is not None else None, [], code))
