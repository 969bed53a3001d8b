"""From files to stored answers: the scanner's I/O edge around the pure page reader.

`scan_paths` reads every page of every file (in worker processes when asked), and with
`store=True` writes each readable sheet into the office ledger in one transaction: the
response, its comment and evidence crops, and one review item per flagged question.  Rejected
pages are reported, never stored; forged and never-issued sheets also leave an audit record.
Blank sheets (nothing marked or written) are reported and not stored, so their serial stays
free for the day someone fills them in.
"""
from __future__ import annotations

import logging
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import cv2
import numpy as np

from forms import SheetCode, builtin_catalog, load_key
from forms.office_identity import read_office
from forms.responses import paper_response, review_item
from ledger import Ledger, default_ledger_path
from ledger.centre_sent import CentreSent
from ledger.published_content import office_forms

from .images import PDF_DPI, expand_inputs, iter_pages, pages_from_bytes
from .page import Lookups, PageResult, read_sheets

logger = logging.getLogger(__name__)
SECURITY_REASONS = {"forged_code", "never_issued", "unknown_office", "revoked_sheet"}
SHEET_IMAGE_MAX_SIDE = 1400   # the whole-sheet image kept for review: enough to read by eye


def make_lookups(home: Path, ledger: Ledger | None) -> Lookups:
    """Look-ups against this installation's keys and ledger (if it has one yet)."""
    keys: dict[str, bytes | None] = {}

    own = read_office(home)

    def office_key(office: str) -> bytes | None:
        if own is not None and office != own:
            return None  # another office's sheet: `unknown_office`, never stored under its code
        if office not in keys:
            keys[office] = load_key(home, office)
        return keys[office]

    def issued(code: SheetCode) -> bool | None:
        if ledger is None:
            return None
        return ledger.sheet_issued(code.office, code.form, code.form_version, code.serial)

    def stored(code: SheetCode) -> str | None:
        if ledger is None:
            return None
        found = ledger.find("survey_response", "sheet", code.sheet_id)
        return found[-1].uuid if found else None

    def revoked(code: SheetCode) -> bool:
        if ledger is None:
            return False
        sent = CentreSent(ledger)
        return sent.is_sheet_revoked(code.text()) or sent.is_sheet_revoked(code.sheet_id)

    # every version ever issued here reads with its own definition: built-in or published
    catalog = office_forms(ledger) if ledger is not None else builtin_catalog()
    return Lookups(catalog=catalog, office_key=office_key, issued=issued, stored=stored,
                   revoked=revoked)


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError("could not encode a crop as PNG")
    return data.tobytes()


def _sheet_jpeg(gray: np.ndarray) -> bytes:
    scale = min(1.0, SHEET_IMAGE_MAX_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("could not encode the sheet image")
    return data.tobytes()


@dataclass
class _Read:
    """A page result and what storing it needs; built in a worker, stored in the main process."""

    result: PageResult
    sheet_image: bytes | None = None
    crops: dict[str, bytes] | None = None


def store_result(ledger: Ledger, read: _Read, *, replaces: str | None = None) -> str | None:
    """Write one page into the ledger atomically; return the response uuid (None if rejected)."""
    result = read.result
    office = result.code.office if result.code else "UNKNOWN"
    if result.status == "blank":
        return None  # not a response: nothing to keep, and the serial stays usable
    if result.status == "rejected":
        if result.reason in SECURITY_REASONS:
            ledger.append("audit", {"event": "scan_rejected", "reason": result.reason,
                                    "claimed_sheet": result.code.sheet_id
                                    if result.code else None,
                                    "source": result.source, "page": result.page},
                          office=ledger.bound_office or office)  # the audit is this office's
        return None
    with ledger.transaction():
        attachments: dict[str, str] = {}
        for question, png in (read.crops or {}).items():
            record = ledger.add_attachment(png, "image/png", office=office,
                                           meta={"role": "scan_crop", "question": question,
                                                 "of_sheet": result.code.sheet_id})
            attachments[question] = record.body["sha256"]
        sheet_image = None
        if read.sheet_image is not None:
            record = ledger.add_attachment(read.sheet_image, "image/jpeg", office=office,
                                           meta={"role": "sheet_image",
                                                 "of_sheet": result.code.sheet_id})
            sheet_image = record.body["sha256"]
        scan: dict[str, Any] = {"file": Path(result.source).name, "page": result.page}
        if result.sheets_found > 1:
            scan["sheet_index"] = result.sheet_index
        if result.warnings:
            scan["warnings"] = list(result.warnings)
        body = paper_response(
            form=result.code.form, form_version=result.code.form_version,
            sheet=result.code.sheet_id, serial=result.code.serial, status=result.status,
            reason=result.reason, answers=result.answers, flags=result.flags,
            candidates=result.candidates, writing=result.writing, attachments=attachments,
            sheet_image=sheet_image, scan=scan, crossed_out=result.crossed_out,
            registration=None if result.registration is None else result.registration.describe(),
            replaces=replaces)
        response = ledger.append("survey_response", body, office=office)
        for question, reason in result.flags.items():
            ledger.append("review_item", review_item(
                response=response.uuid, sheet_id=result.code.sheet_id, question=question,
                reason=reason, machine_value=result.candidates.get(question),
                crop=attachments.get(question), sheet_image=sheet_image,
                crossed_out=result.crossed_out.get(question)), office=office)
        if replaces:
            ledger.append("audit", {"event": "rescan", "sheet_id": result.code.sheet_id,
                                    "replaced": replaces, "by": response.uuid}, office=office)
    return response.uuid


def _read_file(path: Path, lookups: Lookups, dpi: int, rescan: bool, want_crops: bool,
               seen: set[str]) -> Iterator[_Read]:
    for page in iter_pages(path, dpi=dpi):
        if page.gray is None:
            result = PageResult(source=page.source, page=page.page, status="rejected",
                                reason=page.error, detail=page.detail)
            yield _Read(result)
            continue
        try:
            results = read_sheets(page.gray, lookups, source=page.source, page=page.page,
                                  rescan=rescan, seen=seen, want_crops=want_crops)
        except Exception as exc:  # noqa: BLE001 - one bad page never stops the batch
            logger.exception("reading %s page %s failed", page.source, page.page)
            result = PageResult(source=page.source, page=page.page, status="rejected",
                                reason="read_failed", detail=f"{type(exc).__name__}: {exc}"[:200])
            yield _Read(result)
            continue
        for result in results:
            yield _with_images(result, page.gray, want_crops)


def _with_images(result: PageResult, gray: np.ndarray, want_crops: bool) -> _Read:
    """A result with the images storing it keeps: its crops, and the whole sheet for review."""
    read = _Read(result)
    if want_crops and result.status not in ("rejected", "blank"):
        read.crops = {q: _png(img) for q, img in result.crops.items()}
        result.crops = {}
        if result.status == "review":
            read.sheet_image = _sheet_jpeg(gray)
    return read


# -- worker processes: each opens its own read-only look-ups -----------------------------------

_worker_state: dict = {}


def _worker_init(home: str) -> None:
    home_path = Path(home)
    ledger_path = default_ledger_path(home_path)
    ledger = Ledger.open(ledger_path) if ledger_path.exists() else None
    _worker_state["lookups"] = make_lookups(home_path, ledger)


def _worker_read(args: tuple[str, int, bool, bool]) -> list[_Read]:
    path, dpi, rescan, want_crops = args
    # duplicates inside one run are caught in the main process, so each file gets its own set
    return list(_read_file(Path(path), _worker_state["lookups"], dpi, rescan, want_crops, set()))


def scan_paths(paths: Iterable[str | Path], *, home: Path, store: bool = False,
               rescan: bool = False, dpi: int = PDF_DPI, workers: int = 1) -> Iterator[PageResult]:
    """Read every page of every file (folders expanded); store readable sheets if asked.

    Results come back in input order.  A sheet seen twice in one run is a duplicate the second
    time, whether or not it is stored.
    """
    files = expand_inputs(list(paths))
    ledger_path = default_ledger_path(home)
    ledger = Ledger.open(ledger_path) if (store or ledger_path.exists()) else None
    try:
        lookups = make_lookups(home, ledger)
        seen: set[str] = set()
        if workers > 1 and len(files) > 1:
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_worker_init, initargs=(str(home),)) as pool:
                jobs = [(str(f), dpi, rescan, store) for f in files]
                for reads in pool.imap(_worker_read, jobs, chunksize=1):
                    for read in reads:
                        yield _finish(read, ledger, store, rescan, seen, lookups)
        else:
            for path in files:
                for read in _read_file(path, lookups, dpi, rescan, store, set()):
                    yield _finish(read, ledger, store, rescan, seen, lookups)
    finally:
        if ledger is not None:
            ledger.close()


def _finish(read: _Read, ledger: Ledger | None, store: bool, rescan: bool, seen: set[str],
            lookups: Lookups) -> PageResult:
    """Run-wide duplicate check, then store; the main process is the only ledger writer."""
    result = read.result
    if result.status not in ("rejected", "blank") and result.code is not None:
        if result.code.sheet_id in seen:
            result.status, result.reason, result.detail = ("rejected", "duplicate_sheet",
                                                            result.code.sheet_id)
            result.answers, result.flags, result.candidates = {}, {}, {}
        else:
            seen.add(result.code.sheet_id)
    if store and ledger is not None:
        replaces = lookups.stored(result.code) if (rescan and result.code and
                                                   result.status not in ("rejected", "blank")) else None
        store_result(ledger, read, replaces=replaces)
    return result


# -- one photo from a phone: read it at once, or say why to take it again ----------------------

REFUSED_REASONS = SECURITY_REASONS | {"duplicate_sheet", "unknown_form_version", "not_an_image",
                                      "image_too_large"}


@dataclass
class PhotoReading:
    """What one phone photo came to: `read` (stored, every answer certain), `review` (stored,
    some answers go to a person), `retake` (nothing stored; `reason` says why to take it
    again) or `refused` (a sheet that may not be stored, such as one already read)."""

    verdict: str
    reason: str | None
    results: list[PageResult]
    milliseconds: float

    def to_json(self) -> dict:
        from .reasons import message

        out = {"verdict": self.verdict, "reason": self.reason,
               "milliseconds": round(self.milliseconds),
               "sheets": [r.to_json() for r in self.results]}
        if self.reason:
            out["message"] = message(self.reason, "en")
            out["message_fa"] = message(self.reason, "fa")
        return out


def read_photo(data: bytes, *, home: Path, name: str = "phone.jpg",
               store: bool = True) -> PhotoReading:
    """Read one photo of a sheet (or two) taken with a phone, and store what was read.

    A photo is only stored when every sheet in it is read whole: a sheet with a corner out of
    the picture, too dark or too blurred to read is not stored at all, and the answer says
    which, so the next photo can be better.
    """
    from .quality import retake_reason

    started = time.perf_counter()
    pages = list(pages_from_bytes(name, data))
    page = pages[0] if pages else None
    if page is None or page.gray is None:
        reason = page.error if page is not None else "unreadable_image"
        verdict = "refused" if reason in REFUSED_REASONS else "retake"
        result = PageResult(source=name, page=1, status="rejected", reason=reason,
                            detail=page.detail if page else "")
        return PhotoReading(verdict, reason, [result], _ms(started))
    ledger_path = default_ledger_path(home)
    ledger = Ledger.open(ledger_path) if (store or ledger_path.exists()) else None
    try:
        lookups = make_lookups(home, ledger)
        results = read_sheets(page.gray, lookups, source=name, page=1, want_crops=store)
        readable = [r for r in results if r.status != "rejected"]
        refused = [r for r in results if r.reason in REFUSED_REASONS]
        partly = [r for r in readable if r.reason == "registration"
                  or {"registration", "covered"} & set(r.flags.values())]
        # a dark or blurred photo that left questions unsure is better taken again than
        # handed to the review queue; one read with certainty is kept
        poor = retake_reason(page.gray) if any(r.status == "review" for r in readable) else None
        if partly or not readable or poor:
            if refused and not readable:
                return PhotoReading("refused", refused[0].reason, results, _ms(started))
            if all(r.reason == "blank_page" for r in results):
                reason = "no_sheet"
            else:
                reason = poor or retake_reason(page.gray) or (
                    "corners" if readable or _some_of_a_sheet(page.gray, results) else "no_sheet")
            return PhotoReading("retake", reason, results, _ms(started))
        if store and ledger is not None:
            for result in readable:
                store_result(ledger, _with_images(result, page.gray, True))
        verdict = "review" if any(r.status == "review" for r in readable) else "read"
        # beside what was read: a sheet that may not be stored, or one that could not be read
        others = [r.reason for r in results if r.status == "rejected"]
        reason = others[0] if others else None
        return PhotoReading(verdict, reason, results, _ms(started))
    finally:
        if ledger is not None:
            ledger.close()


def _some_of_a_sheet(gray: np.ndarray, results: list[PageResult]) -> bool:
    """Whether a photo that could not be read shows part of a Seda sheet (a code, a marker):
    then the rest of it was out of the picture."""
    from .registration import MarkerSearch

    if any(r.reason not in ("not_seda_form", "blank_page") for r in results):
        return True
    return bool(MarkerSearch(gray).run().sightings)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
