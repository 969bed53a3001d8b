"""Reading one page: image in, a result for every sheet on it out.  The pure core of the scanner.

`read_sheets` reads a clean scan straight away; anything else is searched for every sheet it
holds (`scanner.sheets`), each placed by its markers or its printed circles
(`scanner.structure`) and read on its own.  It never guesses.  A page is `rejected` when it is
not a sheet we may read (with the reason), `review` when any answer is not certain (each such
question flagged with why), `blank` when it is a genuine sheet nobody filled in (no mark, no
doubt, no writing: not a response), and `accepted` only when every box was judged with a
margin.  What a look-up needs from the installation
(office keys, issued serials, stored sheets) comes in as plain functions, so the core has no
I/O of its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable

import cv2
import numpy as np

from forms import (
    Form,
    FormCatalog,
    SheetCode,
    SheetCodeError,
    UnknownForm,
    build_layout,
    parse_sheet_code,
    verify_sheet_code,
)
from forms.layout import PAGE_HEIGHT, PAGE_WIDTH, QR_SIZE, QR_X, QR_Y, fiducial_boxes

from .answers import read_choice, read_digits
from .instrument import features_medians, refine, tone_as_printed
from .marks import (
    OUTLINE_NEAR_OFFSETS_PT,
    OUTLINE_NEAR_SEEN,
    RING_RADII,
    BoxFeatures,
    calibrate,
    judge,
    measure,
    outline_seen,
)
from .quality import is_bilevel
from .reasons import message
from .registration import MarkerSearch, Registration, fit_page, page_to_image
from .sheets import Placement, locate_sheets
from .structure import refine as refine_by_structure
from .tone import printed_references

logger = logging.getLogger(__name__)
FIDUCIAL_BOXES = dict(fiducial_boxes())
QR_BOX = (QR_X, QR_Y, QR_SIZE, QR_SIZE)
CROP_PX_PER_PT = 150 / 72      # evidence and comment crops are kept at 150 dpi
WRITING_PX_PER_PT = 100 / 72   # enough to tell handwriting from an empty box
MIN_SIDE_PX = 400               # an A4 page below ~50 dpi: no box could be judged
WRITING_DARKNESS = 0.35
WRITING_MIN_FRACTION = 0.003
OUTLINE_CHECK_STEP = 4          # a clean page's registration is checked on every fourth box


@dataclass
class Lookups:
    """What the core may ask of the installation; each answers for one sheet code."""

    catalog: FormCatalog
    office_key: Callable[[str], bytes | None]
    issued: Callable[[SheetCode], bool | None] = lambda code: None   # None: cannot tell
    stored: Callable[[SheetCode], str | None] = lambda code: None    # uuid of a stored scan
    revoked: Callable[[SheetCode], bool] = lambda code: False        # by the central office


@dataclass
class PageResult:
    source: str
    page: int
    status: str = "rejected"
    reason: str | None = None
    code: SheetCode | None = None
    form: Form | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    candidates: dict[str, Any] = field(default_factory=dict)
    writing: dict[str, bool] = field(default_factory=dict)
    registration: Registration | None = None
    crops: dict[str, np.ndarray] = field(default_factory=dict)   # question id -> image
    detail: str = ""
    warnings: list[str] = field(default_factory=list)   # about the scan itself (reason words)
    crossed_out: dict[str, Any] = field(default_factory=dict)   # question -> the struck answer
    sheet_index: int = 1          # this sheet's place among the sheets found in the image
    sheets_found: int = 1

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of docs/scanner.md, plus a few keys that help a human."""
        out: dict[str, Any] = {
            "source": self.source,
            "page": self.page,
            "status": self.status,
            "reason": self.reason,
            "sheet": self.code.sheet_id if self.code else None,
            "form": self.code.form if self.code else None,
            "answers": self.answers,
            "flags": self.flags,
        }
        if self.code:
            out["form_version"] = self.code.form_version
            out["office"] = self.code.office
            out["serial"] = self.code.serial
        if self.reason:
            out["message"] = message(self.reason, "en", self.detail)
            out["message_fa"] = message(self.reason, "fa", self.detail)
        if self.candidates:
            out["candidates"] = self.candidates
        if self.writing:
            out["writing"] = self.writing
        if self.crossed_out:
            out["crossed_out"] = self.crossed_out
        if self.registration is not None:
            out["registration"] = self.registration.describe()
        if self.sheets_found > 1:
            out["sheet_index"] = self.sheet_index
            out["sheets_found"] = self.sheets_found
        if self.warnings:
            out["warnings"] = [{"reason": w, "message": message(w, "en"),
                                "message_fa": message(w, "fa")} for w in self.warnings]
        return out


@dataclass(frozen=True)
class _Boxes:
    """All mark boxes of a layout as one array, and which rows belong to which question."""

    array: np.ndarray
    rows: dict[str, list[list[tuple[int, Any]]]]   # question -> groups -> (row, value)
    kinds: dict[str, str]
    text_boxes: dict[str, tuple[float, float, float, float]]
    question_areas: dict[str, tuple[float, float, float, float]]
    answer_groups: tuple[tuple[tuple[int, Any], ...], ...]   # groups that hold one answer
    band: tuple[float, float, float, float] | None            # the printed 7% grey band


@lru_cache(maxsize=32)
def _boxes(form: Form) -> _Boxes:
    layout = build_layout(form)
    array: list[tuple[float, float, float, float]] = []
    rows: dict[str, list[list[tuple[int, Any]]]] = {}
    areas: dict[str, tuple[float, float, float, float]] = {}
    texts: dict[str, tuple[float, float, float, float]] = {}
    kinds: dict[str, str] = {}
    for question in layout.questions:
        kinds[question.id] = question.kind
        if question.kind == "text":
            texts[question.id] = question.box
            areas[question.id] = question.box
            continue
        groups = [question.options] if question.kind != "digits" else question.columns
        rows[question.id] = []
        for group in groups:
            indexed = []
            for value, box in group:
                indexed.append((len(array), value))
                array.append(box)
            rows[question.id].append(indexed)
        members = [array[i] for group in rows[question.id] for i, _ in group]
        x0 = min(b[0] for b in members)
        y0 = min(b[1] for b in members)
        x1 = max(b[0] + b[2] for b in members)
        y1 = max(b[1] + b[3] for b in members)
        # evidence crop: the boxes plus room for their printed labels on the left
        areas[question.id] = (max(0.0, x0 - 110), y0 - 22, x1 - x0 + 120, y1 - y0 + 28)
    answer_groups = tuple(tuple(group) for qid, groups in rows.items()
                          if kinds[qid] in ("single", "digits") for group in groups)
    band = tuple(layout.frames[0]) if layout.frames else None
    return _Boxes(np.array(array, dtype=np.float64), rows, kinds, texts, areas, answer_groups,
                  band)


def rectify(gray: np.ndarray, registration: Registration,
            box: tuple[float, float, float, float], px_per_pt: float = CROP_PX_PER_PT) -> np.ndarray:
    """A page region cut out upright and undistorted, for a person to look at."""
    x, y, w, h = box
    corners = page_to_image(registration, np.array([(x, y), (x + w, y), (x + w, y + h), (x, y + h)]))
    out_w, out_h = max(1, int(w * px_per_pt)), max(1, int(h * px_per_pt))
    target = np.array([(0, 0), (out_w, 0), (out_w, out_h), (0, out_h)], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(gray, warp, (out_w, out_h), flags=cv2.INTER_AREA,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def has_writing(crop: np.ndarray, px_per_pt: float = CROP_PX_PER_PT) -> bool:
    """Whether a comment box holds handwriting: enough ink that is not specks or the frame."""
    inset = max(2, int(6 * px_per_pt))
    inner = crop[inset:-inset, inset:-inset]
    if inner.size == 0:
        return False
    # the paper's own brightness nearby (a max filter wider than any pen stroke, smoothed),
    # so a shadow across the box is not taken for ink
    window = max(3, int(5 * px_per_pt)) | 1
    paper = cv2.blur(cv2.dilate(inner, np.ones((window, window), np.uint8)),
                     (2 * window + 1, 2 * window + 1))
    dark = cv2.medianBlur(inner, 3) < cv2.LUT(paper, _writing_limits())
    return float(dark.mean()) >= WRITING_MIN_FRACTION


@lru_cache(maxsize=1)
def _writing_limits() -> np.ndarray:
    """For each paper level, the first grey that is no longer ink: a pixel is ink where it is
    darker than (1 - WRITING_DARKNESS) of its paper.  Pixels and paper levels are whole grey
    values, so one table of 256 answers every comparison exactly (g < t  <=>  g < ceil(t))."""
    limits = np.maximum(np.arange(256, dtype=np.float32), 1.0) * (1 - WRITING_DARKNESS)
    return np.ceil(limits).astype(np.uint8)


def is_blank(gray: np.ndarray) -> bool:
    """A page with (almost) nothing printed on it, like the back of a duplex scan."""
    # every 4th pixel, not an average: averaging would turn noise or a photo into flat grey
    sample = gray[::4, ::4]
    paper = float(np.percentile(sample, 90)) or 1.0
    return float((sample < paper * 0.7).mean()) < 0.002


def _reject(result: PageResult, reason: str, detail: str = "") -> PageResult:
    result.status, result.reason, result.detail = "rejected", reason, detail
    return result


def _verify_code(result: PageResult, text: str, lookups: Lookups, rescan: bool,
                 seen: set[str] | None) -> bool:
    """Check the code's authenticity and history; on failure the result says why."""
    try:
        code = parse_sheet_code(text)
    except SheetCodeError as exc:
        _reject(result, "not_seda_form" if exc.reason == "not_seda" else "unreadable_code",
                str(exc))
        return False
    result.code = code
    key = lookups.office_key(code.office)
    if key is None:
        _reject(result, "unknown_office", code.office)
        return False
    if not verify_sheet_code(code, key):
        _reject(result, "forged_code", code.office)
        return False
    try:
        result.form = lookups.catalog.get(code.form, code.form_version)
    except UnknownForm as exc:
        _reject(result, "unknown_form_version", str(exc))
        return False
    if lookups.issued(code) is False:
        _reject(result, "never_issued", code.sheet_id)
        return False
    if lookups.revoked(code):
        _reject(result, "revoked_sheet", code.sheet_id)
        return False
    if seen is not None and code.sheet_id in seen:
        _reject(result, "duplicate_sheet", code.sheet_id)
        return False
    if not rescan and lookups.stored(code):
        _reject(result, "duplicate_sheet", code.sheet_id)
        return False
    return True


def _question_rows(boxes: _Boxes, qid: str) -> list[int]:
    return [row for group in boxes.rows.get(qid, []) for row, _ in group]


def _outside_image(gray: np.ndarray, registration: Registration, boxes: _Boxes) -> np.ndarray:
    """Boxes whose paper ring reaches beyond the image: cut off by the scanner's edge."""
    centres = boxes.array[:, :2] + boxes.array[:, 2:] / 2
    reach = boxes.array[:, 2:3] / 2 * RING_RADII[-1]
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    around = np.concatenate([centres + reach * (np.cos(a), np.sin(a)) for a in angles])
    pixels = page_to_image(registration, around).reshape(len(angles), len(centres), 2)
    h, w = gray.shape
    inside = (pixels[..., 0] >= 0) & (pixels[..., 0] < w) & (pixels[..., 1] >= 0) & (pixels[..., 1] < h)
    return ~inside.all(axis=0)


def _writing_crop(gray: np.ndarray, registration: Registration,
                  box: tuple[float, float, float, float], px_per_pt: float) -> np.ndarray:
    """The comment box cut out upright; through the local corrections where there are some."""
    if registration.field is None:
        return rectify(gray, registration, box, px_per_pt)
    x, y, w, h = box
    out_w, out_h = max(1, int(w * px_per_pt)), max(1, int(h * px_per_pt))
    xs = x + (np.arange(out_w) + 0.5) / px_per_pt
    ys = y + (np.arange(out_h) + 0.5) / px_per_pt
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    pixels = page_to_image(registration, grid).reshape(out_h, out_w, 2).astype(np.float32)
    if registration.px_per_pt > 2 * px_per_pt:   # a much finer image: average, do not alias
        shrink = px_per_pt * 1.5 / registration.px_per_pt
        small = cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        return cv2.remap(small, pixels[..., 0] * shrink, pixels[..., 1] * shrink,
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return cv2.remap(gray, pixels[..., 0], pixels[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=255)


@dataclass
class _Marks:
    """What the boxes of one sheet read, before the answers are put together."""

    features: BoxFeatures
    readings: list
    struck: frozenset[int]
    bilevel: bool = False           # the sheet's printed grey band came out black and white


def _measure_marks(gray: np.ndarray, registration: Registration, boxes: _Boxes,
                   outlines: int = 1) -> _Marks:
    features = measure(gray, registration, boxes.array, outlines)
    calibration = calibrate(features.fills)
    readings = [judge(float(f), calibration, float(d), float(s))
                for f, d, s in zip(features.fills, features.dark_shares, features.spreads)]
    bilevel = False
    if boxes.band is not None:
        # the sheet's own evidence: pen or pencil sheet, and whether its greys were bent
        references = printed_references(gray, registration, boxes.band)
        readings = refine(readings, features_medians(features), boxes.answer_groups,
                          tone_as_printed(references.band, references.ink))
        # a 1-bit scan turns the band white, or (dithered) into specks: then the whole page
        # tells whether it holds only black and white (an overexposed photo's band is white
        # too, but the rest of it is not)
        bilevel = (references.bilevel or references.speckled) and is_bilevel(gray)
    struck = features.struck()
    return _Marks(features, readings, frozenset(int(i) for i in np.flatnonzero(struck)), bilevel)


def _fill_answers(result: PageResult, gray: np.ndarray, registration: Registration,
                  boxes: _Boxes, marks: _Marks, want_crops: bool,
                  unplaced: np.ndarray | None = None) -> None:
    """Answers, flags and crops of one registered sheet; `unplaced` boxes (not found where
    the registration puts them, cut off or covered) send their question to review."""
    result.registration = registration
    if marks.bilevel and "bilevel_scan" not in result.warnings:
        result.warnings.append("bilevel_scan")
    for question in result.form.questions:
        qid = question.id
        kind = boxes.kinds[qid]
        if kind == "text":
            # judged on a 100 dpi cut (handwriting is far wider than its pixels); the crop a
            # person reads is cut at 150 dpi only when it will be kept
            result.writing[qid] = has_writing(
                _writing_crop(gray, registration, boxes.text_boxes[qid], WRITING_PX_PER_PT),
                WRITING_PX_PER_PT)
            result.answers[qid] = None
            if want_crops:
                result.crops[qid] = rectify(gray, registration, boxes.text_boxes[qid])
            continue
        if unplaced is not None and unplaced[_question_rows(boxes, qid)].any():
            answer, flag, candidate, crossed = None, "registration", None, None
        elif kind == "digits":
            answer, flag, candidate, crossed = read_digits(question, boxes.rows[qid], marks.readings,
                                                           marks.struck)
        else:
            answer, flag, candidate, crossed = read_choice(boxes.rows[qid], marks.readings, kind,
                                                           marks.struck)
        result.answers[qid] = answer
        if flag:
            result.flags[qid] = flag
            result.candidates[qid] = candidate
            if crossed is not None:
                result.crossed_out[qid] = crossed
            if want_crops:
                result.crops[qid] = rectify(gray, registration, boxes.question_areas[qid])
    result.status = "review" if result.flags else "accepted"


def _all_to_review(result: PageResult, reason: str, detail: str) -> PageResult:
    result.status, result.reason, result.detail = "review", reason, detail
    ids = [q.id for q in result.form.questions]
    result.answers = {qid: None for qid in ids}
    result.flags = {qid: reason for qid in ids}
    return result


def _blocks(boxes: _Boxes) -> list[list[int]]:
    """Rows of boxes that sit together on the page: each question's boxes."""
    return [_question_rows(boxes, qid) for qid in boxes.rows]


def _structure_fit(gray: np.ndarray, placement: Placement, boxes: _Boxes,
                   start: Registration):
    page_pts, image_pts = placement.anchors(FIDUCIAL_BOXES, QR_BOX)
    return refine_by_structure(gray, start, boxes.array, _blocks(boxes), page_pts, image_pts)


def _read_placed(gray: np.ndarray, result: PageResult, placement: Placement,
                 want_crops: bool, others: list[np.ndarray] | None = None) -> PageResult:
    """Read one sheet whose code is verified: by its markers when they place it exactly and
    every circle is where they say, otherwise by its printed structure.  `others` are the
    outlines of other sheets in the image: circles under them are not held against this
    sheet's registration (they go to review as covered if this sheet is underneath)."""
    boxes = _boxes(result.form)
    if placement.exact:
        registration = placement.rough
        # a look at every few boxes' printed outlines: where the markers placed the page
        # well, they are where the markers say (a crumpled sheet's are not, somewhere)
        marks = _measure_marks(gray, registration, boxes, outlines=OUTLINE_CHECK_STEP)
        if marks.features.in_place().all():
            _fill_answers(result, gray, registration, boxes, marks, want_crops)
            return result
        start = registration     # the markers are right, something inside is not: refine
    else:
        start = placement.rough
    if start is None:
        return _all_to_review(result, "registration", "no corner marker or code corners found")
    fit = _structure_fit(gray, placement, boxes, start)
    registration = fit.registration
    if others:
        pixels = page_to_image(registration, boxes.array[:, :2] + boxes.array[:, 2:] / 2)
        hidden = np.zeros(len(pixels), bool)
        for outline in others:
            contour = outline.reshape(-1, 1, 2).astype(np.float32)
            hidden |= np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0
                                for x, y in pixels])
        if hidden.any() and not hidden.all():
            registration = replace(registration, structure=float(fit.supported[~hidden].mean()))
    result.registration = registration
    if not registration.trusted:
        return _all_to_review(result, "registration",
                              f"{fit.supported.sum()} of {len(fit.supported)} answer circles found")
    marks = _measure_marks(gray, registration, boxes, outlines=0)
    # a circle is read only where the registration is seen to hold: placed by the circles
    # found, inside the image, and its own printed outline within 2 pt of where it is read
    near = outline_seen(gray, registration, boxes.array, marks.features.papers,
                        OUTLINE_NEAR_OFFSETS_PT) >= OUTLINE_NEAR_SEEN
    unplaced = ~fit.supported | _outside_image(gray, registration, boxes) | ~near
    _fill_answers(result, gray, registration, boxes, marks, want_crops, unplaced)
    return result


def read_sheets(gray: np.ndarray, lookups: Lookups, *, source: str = "", page: int = 1,
                rescan: bool = False, seen: set[str] | None = None,
                want_crops: bool = False) -> list[PageResult]:
    """Every sheet in one grey image, each read on its own; never raises for a bad page.

    A clean scan (four markers in the image's corners, the code where they put it) is read
    straight away.  Anything else is searched for every sheet code and marker group it holds
    (`scanner.sheets`), and each sheet found is read or reported: none is dropped in silence.
    """
    if gray.ndim != 2 or min(gray.shape) < MIN_SIDE_PX:
        return [_reject(PageResult(source=source, page=page), "image_too_small",
                        "x".join(map(str, gray.shape[:2])))]
    search = MarkerSearch(gray).run()
    registration = fit_page(search.found, FIDUCIAL_BOXES)
    if search.from_corners and registration is not None and registration.trusted:
        from .qr import read_code_text  # late: keeps pyzbar's native library off import paths
        text = read_code_text(gray, registration, QR_BOX)
        if text is not None:
            placement = Placement(registration, search.sightings, None)
            result = _read_sheet(gray, placement, text, lookups, source, page, rescan, seen,
                                 want_crops)
            _settle_blank([result], seen)
            return _with_scan_warnings(gray, [result])
    placements = locate_sheets(gray, search, FIDUCIAL_BOXES, QR_BOX)
    results: list[PageResult] = []
    if not placements:
        result = PageResult(source=source, page=page)
        return _with_scan_warnings(gray, [_reject(result, "blank_page" if is_blank(gray)
                                                  else "not_seda_form")])
    readable = [p for p in placements if p.code is not None]
    outlines = [p.quad() for p in placements]
    for placement, outline in zip(placements, outlines):
        others = [o for o in outlines if o is not None and o is not outline]
        if placement.code is None:
            result = PageResult(source=source, page=page, registration=placement.rough)
            markers = len(placement.markers)
            if readable:
                _reject(result, "unreadable_sheet", f"{markers} corner markers")
            else:
                _reject(result, "unreadable_code", f"{markers} corner markers")
        elif len(placements) == 1:
            result = _read_sheet(gray, placement, placement.code.text, lookups, source, page,
                                 rescan, seen, want_crops, others)
        else:
            try:
                result = _read_sheet(gray, placement, placement.code.text, lookups, source,
                                     page, rescan, seen, want_crops, others)
            except Exception as exc:  # noqa: BLE001 - one sheet's failure never hides the others
                logger.exception("reading a sheet of %s page %s failed", source, page)
                result = _reject(PageResult(source=source, page=page), "read_failed",
                                 f"{type(exc).__name__}: {exc}"[:200])
        results.append(result)
    _mark_covered(gray, results, placements)
    _settle_blank(results, seen)
    for index, result in enumerate(results, start=1):
        result.sheet_index, result.sheets_found = index, len(results)
    return _with_scan_warnings(gray, results)


def _with_scan_warnings(gray: np.ndarray, results: list[PageResult]) -> list[PageResult]:
    """A 1-bit scan is said so on every sheet of the page: a sheet that was read knows from
    its own printed band; otherwise the whole image is looked at (blank and rejected pages
    are rare, and telling the operator costs little there)."""
    bilevel = any("bilevel_scan" in r.warnings for r in results)
    if not bilevel and any(r.status == "rejected" and r.reason != "blank_page" for r in results):
        bilevel = is_bilevel(gray)
    if bilevel:
        for result in results:
            if "bilevel_scan" not in result.warnings:
                result.warnings.append("bilevel_scan")
    return results


def _read_sheet(gray: np.ndarray, placement: Placement, text: str, lookups: Lookups,
                source: str, page: int, rescan: bool, seen: set[str] | None,
                want_crops: bool, others: list[np.ndarray] | None = None) -> PageResult:
    result = PageResult(source=source, page=page, registration=placement.rough)
    if not _verify_code(result, text, lookups, rescan, seen):
        return result
    if seen is not None:
        seen.add(result.code.sheet_id)
    return _read_placed(gray, result, placement, want_crops, others)


def _mark_covered(gray: np.ndarray, results: list[PageResult],
                  placements: list[Placement]) -> None:
    """Where two sheets in a photo overlap, the questions of the one underneath that lie under
    the other cannot be read from this photo: they go to review as `covered`."""
    read = [(r, p) for r, p in zip(results, placements)
            if r.status in ("accepted", "review") and r.registration is not None]
    if len(read) < 2:
        return
    outlines = {}
    for result, _ in read:
        corners = np.array([(0, 0), (PAGE_WIDTH, 0), (PAGE_WIDTH, PAGE_HEIGHT), (0, PAGE_HEIGHT)])
        outlines[id(result)] = page_to_image(result.registration, corners).astype(np.float32)
    for result, _ in read:
        boxes = _boxes(result.form)
        centres = boxes.array[:, :2] + boxes.array[:, 2:] / 2
        reach = boxes.array[:, 2:3] / 2 * 1.6       # the box and the paper ring it is read by
        around = [centres + reach * np.array(d) for d in
                  ((0, 0), (-1, -1), (1, -1), (1, 1), (-1, 1), (0, -1), (1, 0), (0, 1), (-1, 0))]
        pixels = page_to_image(result.registration, np.concatenate(around))
        for other, _ in read:
            if other is result:
                continue
            outline = outlines[id(other)].reshape(-1, 1, 2)
            inside = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), False) >= 0
                               for x, y in pixels])
            under = inside.reshape(len(around), len(centres)).any(axis=0)
            if not under.any() or not _underneath(gray, result, other, under):
                continue
            for qid in boxes.rows:
                if under[_question_rows(boxes, qid)].any():
                    result.answers[qid] = None
                    result.flags[qid] = "covered"
                    result.candidates.pop(qid, None)
                    result.crossed_out.pop(qid, None)
            result.status = "review"


def _underneath(gray: np.ndarray, result: PageResult, other: PageResult,
                under: np.ndarray) -> bool:
    """Whether `result`'s sheet lies under `other` where they overlap: its circles there are
    not seen where they should be, while the other sheet's are."""
    mine = measure(gray, result.registration, _boxes(result.form).array[under]).in_place().mean()
    theirs_boxes = _boxes(other.form)
    centres = theirs_boxes.array[:, :2] + theirs_boxes.array[:, 2:] / 2
    pixels = page_to_image(other.registration, centres)
    outline = page_to_image(result.registration, np.array(
        [(0, 0), (PAGE_WIDTH, 0), (PAGE_WIDTH, PAGE_HEIGHT), (0, PAGE_HEIGHT)])).astype(np.float32)
    theirs_under = np.array([cv2.pointPolygonTest(outline.reshape(-1, 1, 2), (float(x), float(y)),
                                                  False) >= 0 for x, y in pixels])
    if not theirs_under.any():
        return True      # none of the other sheet's circles lie in the overlap: it is on top
    theirs = measure(gray, other.registration, theirs_boxes.array[theirs_under]).in_place().mean()
    return mine < theirs


def read_page(gray: np.ndarray, lookups: Lookups, *, source: str = "", page: int = 1,
              rescan: bool = False, seen: set[str] | None = None,
              want_crops: bool = False) -> PageResult:
    """The first sheet `read_sheets` finds in the image (most images hold one)."""
    return read_sheets(gray, lookups, source=source, page=page, rescan=rescan, seen=seen,
                       want_crops=want_crops)[0]


def is_unfilled(result: PageResult) -> bool:
    """No box marked (or doubtful), nothing crossed out and no handwriting anywhere: a sheet
    nobody filled in."""
    return (result.status == "accepted" and not result.flags and not result.crossed_out
            and not any(result.writing.values())
            and all(value is None or value == [] for value in result.answers.values()))


def _settle_blank(results: list[PageResult], seen: set[str] | None) -> None:
    """Nobody filled these sheets in: they are not responses, and their serials stay free, so
    the same sheet handed to a visitor later is read then like any other."""
    for result in results:
        if is_unfilled(result):
            result.status, result.reason = "blank", "blank_sheet"
            result.crops = {}
            if seen is not None and result.code is not None:
                seen.discard(result.code.sheet_id)
