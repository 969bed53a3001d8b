"""Reading one page: image in, page result out.  The pure core of the scanner.

It never guesses.  A page is `rejected` when it is not a sheet we may read (with the reason),
`review` when any answer is not certain (each such question flagged with why), `blank` when
it is a genuine sheet nobody filled in (no mark, no doubt, no writing: not a response), and
`accepted` only when every box was judged with a margin.  What a look-up needs from the installation
(office keys, issued serials, stored sheets) comes in as plain functions, so the core has no
I/O of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
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
from forms.layout import FIDUCIAL_IDS, QR_SIZE, QR_X, QR_Y, fiducial_boxes
from forms.persian import is_valid_mobile

from .instrument import features_medians, refine, tone_as_printed
from .marks import BoxState, calibrate, judge, measure
from .reasons import message
from .tone import reference_darkness
from .registration import (
    Registration,
    find_fiducials,
    fit_page,
    page_to_image,
)

FIDUCIAL_BOXES = dict(fiducial_boxes())
QR_BOX = (QR_X, QR_Y, QR_SIZE, QR_SIZE)
CROP_PX_PER_PT = 150 / 72      # evidence and comment crops are kept at 150 dpi
WRITING_PX_PER_PT = 100 / 72   # enough to tell handwriting from an empty box
MIN_SIDE_PX = 400               # an A4 page below ~50 dpi: no box could be judged
WRITING_DARKNESS = 0.35
WRITING_MIN_FRACTION = 0.003


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

    def to_json(self) -> dict[str, Any]:
        """The contract in ARCHITECTURE.md, plus a few keys that help a human."""
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
        if self.registration is not None:
            out["registration"] = {"markers": list(self.registration.markers),
                                   "residual_pt": round(self.registration.residual_pt, 3)}
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
                     (2 * window + 1, 2 * window + 1)).astype(np.float32)
    dark = cv2.medianBlur(inner, 3).astype(np.float32) < np.maximum(paper, 1.0) * (1 - WRITING_DARKNESS)
    return float(dark.mean()) >= WRITING_MIN_FRACTION


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


def _read_choice(groups, readings, kind: str) -> tuple[Any, str | None, Any]:
    """(answer, flag, candidate) for a single or multi choice question."""
    (group,) = groups
    marked = [value for row, value in group if readings[row].state is BoxState.MARKED]
    unsure = [value for row, value in group if readings[row].state is BoxState.UNCERTAIN]
    if unsure:
        candidate = marked + unsure if kind == "multi" else (marked or unsure)[0]
        return None, ("erased?" if marked else "faint"), candidate
    if kind == "multi":
        return marked, None, None
    if len(marked) > 1:
        return None, "multiple", marked
    return (marked[0] if marked else None), None, None


def _read_digits(question_id: str, groups, readings) -> tuple[Any, str | None, Any]:
    digits: list[str | None] = []
    flag = None
    for column in groups:
        marked = [v for row, v in column if readings[row].state is BoxState.MARKED]
        unsure = [v for row, v in column if readings[row].state is BoxState.UNCERTAIN]
        if unsure:
            flag = flag or ("erased?" if marked else "faint")
        if len(marked) > 1:
            flag = flag or "multiple"
        digits.append(marked[0] if len(marked) == 1 else None)
    candidate = "".join(d or "?" for d in digits)
    if flag:
        return None, flag, candidate
    if all(d is None for d in digits):
        return None, None, None
    if any(d is None for d in digits):
        return None, "partial", candidate
    value = "".join(digits)  # type: ignore[arg-type]
    if question_id == "mobile" and not is_valid_mobile(value):
        return None, "invalid", value
    return value, None, None


def read_page(gray: np.ndarray, lookups: Lookups, *, source: str = "", page: int = 1,
              rescan: bool = False, seen: set[str] | None = None,
              want_crops: bool = False) -> PageResult:
    """Read one grey page image; never raises for a bad page, only reports it."""
    result = PageResult(source=source, page=page)
    if gray.ndim != 2 or min(gray.shape) < MIN_SIDE_PX:
        return _reject(result, "image_too_small", "x".join(map(str, gray.shape[:2])))
    found = find_fiducials(gray)
    registration = fit_page(found, FIDUCIAL_BOXES)
    result.registration = registration
    from .qr import read_code_text  # late: keeps pyzbar's native library off import paths
    text = read_code_text(gray, registration, QR_BOX)
    if text is None:
        if registration is not None and registration.trusted:
            return _reject(result, "unreadable_code")
        return _reject(result, "blank_page" if is_blank(gray) else "not_seda_form")
    if not _verify_code(result, text, lookups, rescan, seen):
        return result
    boxes = _boxes(result.form)
    question_ids = [q.id for q in result.form.questions]
    if seen is not None:
        seen.add(result.code.sheet_id)
    if registration is None or not registration.trusted:
        result.status, result.reason = "review", "registration"
        result.detail = (f"{len(found)} of {len(FIDUCIAL_IDS)} corner markers found"
                         if registration is None else f"residual {registration.residual_pt:.2f} pt")
        result.answers = {qid: None for qid in question_ids}
        result.flags = {qid: "registration" for qid in question_ids}
        return result
    features = measure(gray, registration, boxes.array)
    calibration = calibrate(features.fills)
    readings = [judge(float(f), calibration, float(d), float(s))
                for f, d, s in zip(features.fills, features.dark_shares, features.spreads)]
    if boxes.band is not None:
        # the sheet's own evidence: pen or pencil sheet, and whether its greys were bent
        printed_tone = tone_as_printed(*reference_darkness(gray, registration, boxes.band))
        readings = refine(readings, features_medians(features), boxes.answer_groups,
                          printed_tone)
    for qid in question_ids:
        kind = boxes.kinds[qid]
        if kind == "text":
            # judged on a 100 dpi cut (handwriting is far wider than its pixels); the crop a
            # person reads is cut at 150 dpi only when it will be kept
            result.writing[qid] = has_writing(
                rectify(gray, registration, boxes.text_boxes[qid], WRITING_PX_PER_PT),
                WRITING_PX_PER_PT)
            result.answers[qid] = None
            if want_crops:
                result.crops[qid] = rectify(gray, registration, boxes.text_boxes[qid])
            continue
        if kind == "digits":
            answer, flag, candidate = _read_digits(qid, boxes.rows[qid], readings)
        else:
            answer, flag, candidate = _read_choice(boxes.rows[qid], readings, kind)
        result.answers[qid] = answer
        if flag:
            result.flags[qid] = flag
            result.candidates[qid] = candidate
            if want_crops:
                result.crops[qid] = rectify(gray, registration, boxes.question_areas[qid])
    if result.flags:
        result.status = "review"
    elif is_unfilled(result):
        # Nobody filled this sheet in: it is not a response, and its serial stays free, so the
        # same sheet handed to a visitor later is read then like any other.
        result.status, result.reason = "blank", "blank_sheet"
        result.crops = {}
        if seen is not None:
            seen.discard(result.code.sheet_id)
    else:
        result.status = "accepted"
    return result


def is_unfilled(result: PageResult) -> bool:
    """No box marked (or doubtful) and no handwriting anywhere: a sheet nobody filled in."""
    return (not result.flags and not any(result.writing.values())
            and all(value is None or value == [] for value in result.answers.values()))
