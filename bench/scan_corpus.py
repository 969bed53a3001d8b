"""Make a labelled corpus of filled Seda sheets, as scans, PDFs, TIFFs and phone photos.

    python bench/scan_corpus.py OUT_DIR [--sheets N] [--seed S] [--conditions a,b,c]

Real sheets of the `satisfaction` form are printed for office CORPUS-01 with
`ledger.issuance.print_sheets` (SEDA_HOME is OUT_DIR/home, so the office key and ledger live
there), rasterised with pypdfium2 at each condition's resolution, filled with random truthful
answers drawn as pen marks of many kinds at the layout map's box positions, degraded per
condition, and written to OUT_DIR/images/<condition>/.  OUT_DIR/truth.jsonl has one line per
page with what a perfect reader would report.  The same --seed gives the same corpus.

`--sheets` is the number of sheets per condition (default 150: 19 sheet conditions make 2,850
sheets, plus non-sheet pages; `two_sheets` puts two sheets in each photo).  A truth line is
one sheet: the sheets of one photo share its file and page.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _marks  # noqa: E402

OFFICE = "CORPUS-01"
FORM_ID = "satisfaction"


@dataclass(frozen=True)
class Condition:
    name: str
    dpi: int
    per_file: tuple[int, int] = (1, 1)   # sheets per file, inclusive range
    note: str = ""


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("scan200", 200, note="clean 200 dpi scan, JPEG q85"),
    Condition("scan300", 300, note="clean 300 dpi scan, JPEG q85"),
    Condition("scan150", 150, note="clean 150 dpi scan, JPEG q85"),
    Condition("rotated", 200, note="whole page turned 0/90/180/270"),
    Condition("skew", 200, note="skewed up to +-15 degrees"),
    Condition("scale94", 200, note="printed at 94-99% scale"),
    Condition("blur", 200, note="out of focus, sigma 1.0-2.2 px"),
    Condition("noise", 200, note="sensor noise + salt and pepper"),
    Condition("jpeg40", 200, note="JPEG quality 40-95"),
    Condition("bw", 200, note="1-bit threshold, PNG or G4 TIFF"),
    Condition("photocopy", 200, note="darkened, contrast, grey background, toner specks"),
    Condition("tiff_multipage", 200, per_file=(2, 6), note="multi-page TIFF"),
    Condition("pdf", 200, per_file=(2, 6), note="multi-page PDF from images"),
    Condition("phone", 300, note="phone photo on a table, 3000x4000 JPEG"),
    Condition("nonsheet", 200, note="blank page, photo texture, unrelated text"),
    # sheets that were hard before issue 17 (appended: the conditions above keep their seeds)
    Condition("two_sheets", 300, per_file=(2, 2),
              note="two sheets in one phone photo: side by side, overlapping, one upside down"),
    Condition("cut_corners", 200, note="fed 8-13 degrees crooked at 94-99%: corners cut off"),
    Condition("crumpled", 200, note="crumpled and smoothed: displacement field of 1-4 mm"),
    Condition("letter", 200, note="on US Letter: printed with --paper letter, or scaled to fit"),
    Condition("crossed", 200, note="an answer struck out with a heavy scribble, a new one marked"),
)}
SHEET_CONDITIONS = [c for c in CONDITIONS if c != "nonsheet"]
TWO_SHEET_ARRANGEMENTS = ("side_by_side", "overlapping", "turned")
CRUMPLE_MM = (1.0, 4.0)



@dataclass(frozen=True)
class Mix:
    """How people mark: the sheet's instrument, weights for the pen mark kinds, the extras.

    One person fills one sheet with one instrument: a sheet is a pen sheet (its answers are
    pen marks of the kinds in `pen_weights`) or a pencil sheet (every answer light pencil),
    and a share of sheets mixes the two mark by mark (someone who changed pens, or went over
    a pencil draft in places).  Erasures and stray dots happen on every kind of sheet.
    """

    pen_weights: dict
    pencil_sheet_rate: float      # sheets filled in pencil throughout
    mixed_sheet_rate: float       # sheets where each mark picks pen or pencil on its own
    mixed_pencil_share: float     # on a mixed sheet, the chance that a mark is pencil
    blank_rate: float
    multiple_rate: float
    digit_multiple_rate: float
    stray_rate: float
    erased_rate: float
    writing_rate: float = 0.5


MIXES = {
    # what a sheet that asks for a filled circle in pen mostly gets back: the review-rate
    # targets are judged on this mix.  About 3% of answers are pencil, as before the
    # instrument was chosen per sheet.
    "field": Mix({"full": 0.74, "partial": 0.16, "tick": 0.05, "cross": 0.05},
                 pencil_sheet_rate=0.025, mixed_sheet_rate=0.02, mixed_pencil_share=0.3,
                 blank_rate=0.10, multiple_rate=0.01, digit_multiple_rate=0.005,
                 stray_rate=0.03, erased_rate=0.01),
    # every hard case often, to hunt silent errors: many pencil sheets, many mixed sheets,
    # and on mixed sheets a second mark's instrument is independent of the first's
    "stress": Mix({"full": 0.57, "partial": 0.19, "tick": 0.12, "cross": 0.12},
                  pencil_sheet_rate=0.10, mixed_sheet_rate=0.10, mixed_pencil_share=0.5,
                  blank_rate=0.10, multiple_rate=0.03, digit_multiple_rate=0.02,
                  stray_rate=0.06, erased_rate=0.05),
}


# -- truth ----------------------------------------------------------------------------------


def _layout():
    import forms
    return forms.build_layout(forms.builtin_catalog().get(FORM_ID))


def _pen_kind(rng: np.random.Generator, mix: Mix) -> str:
    kinds = list(mix.pen_weights)
    weights = np.array([mix.pen_weights[k] for k in kinds])
    return str(rng.choice(kinds, p=weights / weights.sum()))


def sheet_instrument(rng: np.random.Generator, allow_pencil: bool, mix: Mix) -> str:
    """pen, pencil or mixed: what this sheet was filled with."""
    if not allow_pencil:
        return "pen"
    roll = rng.random()
    if roll < mix.pencil_sheet_rate:
        return "pencil"
    if roll < mix.pencil_sheet_rate + mix.mixed_sheet_rate:
        return "mixed"
    return "pen"


def _mark_kind(rng: np.random.Generator, instrument: str, mix: Mix) -> str:
    """The kind of one answer mark on a sheet filled with `instrument`."""
    if instrument == "pencil" or (instrument == "mixed" and rng.random() < mix.mixed_pencil_share):
        return "pencil"
    return _pen_kind(rng, mix)


def _second_mark(rng: np.random.Generator, instrument: str, first: str, mix: Mix) -> str:
    """The kind of a second mark in one question: same instrument, except on mixed sheets."""
    if instrument == "pencil":
        return "pencil"
    if instrument == "mixed":
        return _mark_kind(rng, instrument, mix) if rng.random() < 0.5 else first
    return str(rng.choice(["full", "full", "partial", first]))


def plan_sheet(rng: np.random.Generator, layout, allow_pencil: bool = True,
               mix: Mix = MIXES["stress"]) -> dict:
    """Random truthful answers for one sheet and the marks that express them.

    Returns {"answers", "multiple", "mark_kinds", "has_writing", "draws": [(box, kind)],
    "writing_box", "instrument"}.
    """
    instrument = sheet_instrument(rng, allow_pencil, mix)
    answers: dict = {}
    multiple: list[str] = []
    mark_kinds: dict[str, str] = {}
    draws: list[tuple[tuple, str]] = []
    writing_box = None
    has_writing = False
    for q in layout.questions:
        if q.kind == "text":
            has_writing = bool(rng.random() < mix.writing_rate)
            writing_box = q.box
            answers[q.id] = None
            continue
        kind = _mark_kind(rng, instrument, mix)
        extras: list[str] = []
        used: set[tuple] = set()
        if q.kind == "digits":
            columns = q.columns
            blank = rng.random() < (0.35 if q.id == "mobile" else 0.12)
            if blank:
                answers[q.id] = None
                kind = "blank"
                marked_rows: list[int | None] = [None] * len(columns)
            else:
                if q.id == "mobile":
                    value = "09" + "".join(str(d) for d in rng.integers(0, 10, 9))
                else:
                    value = "".join(str(d) for d in rng.integers(0, 10, len(columns)))
                answers[q.id] = value
                marked_rows = [int(ch) for ch in value]
                for col, digit in zip(columns, marked_rows):
                    box = col[digit][1]
                    draws.append((box, kind))
                    used.add(box)
                if rng.random() < mix.digit_multiple_rate:
                    c = int(rng.integers(0, len(columns)))
                    other = (marked_rows[c] + int(rng.integers(1, 10))) % 10
                    box = columns[c][other][1]
                    second = _second_mark(rng, instrument, kind, mix)
                    draws.append((box, "full" if second in ("tick", "cross") else second))
                    used.add(box)
                    answers[q.id] = None
                    multiple.append(q.id)
                    extras.append("multiple")
            if rng.random() < mix.erased_rate:
                c = int(rng.integers(0, len(columns)))
                d = marked_rows[c]
                near = [x for x in ((d - 1, d + 1) if d is not None else range(10)) if 0 <= x <= 9]
                box = columns[c][int(rng.choice(near))][1]
                if box not in used:
                    draws.append((box, "erased"))
                    used.add(box)
                    extras.append("erased")
            if rng.random() < mix.stray_rate:
                c = int(rng.integers(0, len(columns)))
                box = columns[c][int(rng.integers(0, 10))][1]
                if box not in used:
                    draws.append((box, "stray_dot"))
                    used.add(box)
                    extras.append("stray_dot")
        else:
            options = q.options
            n = len(options)
            if n == 1:
                blank = rng.random() >= 0.4
                two = False
            else:
                roll = rng.random()
                blank = roll < mix.blank_rate
                two = (not blank) and roll < mix.blank_rate + mix.multiple_rate
            if blank:
                answers[q.id] = None
                kind = "blank"
                chosen = None
            else:
                chosen = int(rng.integers(0, n))
                value, box = options[chosen]
                answers[q.id] = value
                draws.append((box, kind))
                used.add(box)
                if two:
                    second = (chosen + int(rng.integers(1, n))) % n
                    box2 = options[second][1]
                    draws.append((box2, _second_mark(rng, instrument, kind, mix)))
                    used.add(box2)
                    answers[q.id] = None
                    multiple.append(q.id)
                    extras.append("multiple")
            if n > 1 and rng.random() < mix.erased_rate:
                near = ([chosen - 1, chosen + 1] if chosen is not None else list(range(n)))
                near = [i for i in near if 0 <= i < n and options[i][1] not in used]
                if near:
                    box = options[int(rng.choice(near))][1]
                    draws.append((box, "erased"))
                    used.add(box)
                    extras.append("erased")
            if rng.random() < mix.stray_rate:
                free = [b for _, b in options if b not in used]
                if free:
                    box = free[int(rng.integers(0, len(free)))]
                    draws.append((box, "stray_dot"))
                    used.add(box)
                    extras.append("stray_dot")
        mark_kinds[q.id] = "+".join([kind] + extras)
    return {"answers": answers, "multiple": multiple, "mark_kinds": mark_kinds,
            "has_writing": has_writing, "draws": draws, "writing_box": writing_box,
            "instrument": instrument, "changed": []}


def cross_out_answers(rng: np.random.Generator, layout, plan: dict) -> None:
    """Change one or two answers the way people do: the old choice struck out with a heavy
    scribble, the new one marked cleanly.  The question must go to review as "changed"."""
    used = {box for box, _ in plan["draws"]}
    choices = [q for q in layout.questions if q.kind == "single" and len(q.options) > 1
               and plan["answers"].get(q.id) is not None and q.id not in plan["multiple"]]
    for n in rng.permutation(len(choices))[: int(rng.integers(1, 3))]:
        q = choices[int(n)]
        free = [box for _, box in q.options if box not in used]
        if not free:
            continue
        box = free[int(rng.integers(0, len(free)))]
        plan["draws"].append((box, "crossed_out"))
        used.add(box)
        plan["changed"].append(q.id)
        plan["mark_kinds"][q.id] += "+crossed_out"


def draw_sheet(page: np.ndarray, plan: dict, s: float, rng: np.random.Generator) -> None:
    ink = _marks.pen_ink(rng)      # one pen per visitor, mostly
    for box, kind in plan["draws"]:
        pen = ink if rng.random() < 0.9 else None
        _marks.draw_mark(page, box, s, kind, rng, ink=pen if kind not in ("erased", "pencil") else None)
    if plan["has_writing"] and plan["writing_box"]:
        _marks.draw_handwriting(page, plan["writing_box"], s, rng)


# -- rendering and degrading ------------------------------------------------------------------

_DOCS: dict[str, object] = {}


def render_sheet(pdf_path: str, index: int, dpi: int) -> np.ndarray:
    """Page `index` (0-based) of the printed PDF as a grey image at `dpi`."""
    import pypdfium2

    doc = _DOCS.get(pdf_path)
    if doc is None:
        doc = _DOCS[pdf_path] = pypdfium2.PdfDocument(pdf_path)
    bitmap = doc[index].render(scale=dpi / 72, grayscale=True)
    gray = np.array(bitmap.to_numpy(), copy=True)
    if gray.ndim == 3:
        gray = gray[..., 0]
    return gray


def _jpeg(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return buf.tobytes()


def degrade(condition: str, img: np.ndarray, rng: np.random.Generator, s: float) -> tuple[np.ndarray, dict]:
    """The condition's print/scan effects on one page image; returns (image, params)."""
    params: dict = {}
    if condition in ("scan200", "scan300", "scan150", "tiff_multipage", "pdf"):
        return _marks.scanner_effect(img, rng, s), params
    if condition == "rotated":
        k = int(rng.integers(0, 4))
        params["rotation"] = 90 * k
        return np.ascontiguousarray(np.rot90(_marks.scanner_effect(img, rng, s), k)), params
    if condition == "skew":
        angle = float(rng.uniform(-15, 15))
        params["skew_deg"] = round(angle, 2)
        return _marks.rotate_any(_marks.scanner_effect(img, rng, s), angle), params
    if condition == "scale94":
        scale = float(rng.uniform(0.94, 0.99))
        params["scale"] = round(scale, 4)
        return _marks.scanner_effect(_marks.shrink_on_page(img, scale), rng, s), params
    if condition == "blur":
        sigma = float(rng.uniform(1.0, 2.2))
        params["blur_sigma_px"] = round(sigma, 2)
        return cv2.GaussianBlur(_marks.scanner_effect(img, rng, s), (0, 0), sigma), params
    if condition == "noise":
        sigma, salt = float(rng.uniform(8, 20)), float(rng.uniform(0.001, 0.005))
        params.update(noise_sigma=round(sigma, 1), salt=round(salt, 4))
        return _marks.add_noise(_marks.scanner_effect(img, rng, s), rng, sigma, salt), params
    if condition == "jpeg40":
        return _marks.scanner_effect(img, rng, s), params
    if condition == "bw":
        return _marks.threshold_bw(_marks.scanner_effect(img, rng, s), rng), params
    if condition == "photocopy":
        return _marks.photocopy(_marks.scanner_effect(img, rng, s), rng, s), params
    if condition == "cut_corners":
        out, params = _marks.crooked_feed(img, rng, s, _answer_boxes() + [_layout().qr])
        return _marks.scanner_effect(out, rng, s), params
    if condition == "crumpled":
        out, params = _marks.crumple(img, rng, s, float(rng.uniform(*CRUMPLE_MM)))
        return _marks.scanner_effect(out, rng, s), params
    if condition == "letter":
        out, params = _marks.on_letter(img, rng, s, printed_for_letter=bool(rng.random() < 0.5))
        return _marks.scanner_effect(out, rng, s), params
    if condition == "crossed":
        return _marks.scanner_effect(img, rng, s), params
    raise ValueError(condition)


def _answer_boxes() -> list:
    """Every mark box of the form, in points."""
    boxes = []
    for q in _layout().questions:
        boxes += [b for _, b in q.options] + [b for column in q.columns for _, b in column]
    return boxes


def covered_questions(layout, warp: np.ndarray, mask: np.ndarray, s: float) -> list[str]:
    """Questions of a sheet (page pixels -> photo by `warp`) that another sheet's `mask` covers
    in part, or that fall outside the photo: nobody can read them from this photo."""
    h, w = mask.shape
    covered = []
    for q in layout.questions:
        boxes = [b for _, b in q.options] + [b for column in q.columns for _, b in column]
        if q.kind == "text":
            continue
        points = []
        for x, y, bw, bh in boxes:
            r = bw / 2 * 1.6
            cx, cy = x + bw / 2, y + bh / 2
            points += [(cx + dx * r, cy + dy * r) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        px = cv2.perspectiveTransform(np.array(points, np.float32).reshape(-1, 1, 2) * s,
                                      warp).reshape(-1, 2)
        inside = (px[:, 0] >= 0) & (px[:, 0] < w - 1) & (px[:, 1] >= 0) & (px[:, 1] < h - 1)
        if not inside.all():
            covered.append(q.id)
            continue
        if (mask[px[:, 1].astype(int), px[:, 0].astype(int)] > 0.02).any():
            covered.append(q.id)
    return covered


@dataclass(frozen=True)
class Job:
    out_dir: str
    pdf_path: str
    condition: str
    index: int
    sheets: tuple[int, ...]     # 0-based page indices in the printed PDF (serial - 1)
    seed: int
    nonsheet: str = ""          # blank | texture | text for the nonsheet condition
    mix: str = "field"


def _rng(*parts: int) -> np.random.Generator:
    return np.random.default_rng([int(p) for p in parts])


def make_file(job: Job) -> list[dict]:
    """Write one corpus file and return its truth lines."""
    cond = CONDITIONS[job.condition]
    cond_no = list(CONDITIONS).index(job.condition)
    rng = _rng(job.seed, cond_no, job.index)
    folder = Path(job.out_dir) / "images" / job.condition
    stem = f"{job.condition}_{job.index:04d}"
    s = cond.dpi / 72
    if job.condition == "nonsheet":
        w, h = int(round(595.28 * s)), int(round(841.89 * s))
        maker = {"blank": _marks.blank_page, "texture": _marks.texture_page,
                 "text": _marks.text_page}[job.nonsheet]
        img = maker(rng, w, h)
        name = f"{stem}_{job.nonsheet}.jpg" if job.nonsheet != "blank" else f"{stem}_blank.png"
        path = folder / name
        if name.endswith(".png"):
            cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        else:
            path.write_bytes(_jpeg(img, 85))
        reason = "blank_page" if job.nonsheet == "blank" else "not_seda_form"
        return [{"file": str(path.relative_to(job.out_dir)), "page": 1, "condition": job.condition,
                 "expect": "rejected", "reason": reason, "kind": job.nonsheet}]
    layout = _layout()
    lines: list[dict] = []
    images: list[np.ndarray] = []
    for n, sheet_index in enumerate(job.sheets, start=1):
        page_rng = _rng(job.seed, cond_no, job.index, n)
        img = render_sheet(job.pdf_path, sheet_index, cond.dpi)
        plan = plan_sheet(page_rng, layout, allow_pencil=job.condition != "bw",
                          mix=MIXES[job.mix])
        if job.condition == "crossed":
            cross_out_answers(page_rng, layout, plan)
        draw_sheet(img, plan, s, page_rng)
        params: dict = {}
        if job.condition == "two_sheets":
            images.append(img)          # composed into one photo below
        elif job.condition == "phone":
            photo, params = _marks.phone_photo(img, page_rng, s)
            images.append(photo)
        else:
            img, params = degrade(job.condition, img, page_rng, s)
            images.append(img)
        lines.append({
            "page": n, "condition": job.condition, "expect": "sheet",
            "sheet": {"office": OFFICE, "form": FORM_ID, "serial": sheet_index + 1},
            "answers": plan["answers"], "multiple": plan["multiple"],
            "mark_kinds": plan["mark_kinds"], "has_writing": plan["has_writing"],
            "instrument": plan["instrument"], "params": params, "changed": plan["changed"],
        })
    if job.condition == "two_sheets":
        arrangement = TWO_SHEET_ARRANGEMENTS[job.index % len(TWO_SHEET_ARRANGEMENTS)]
        photo, params, warps, top_mask = _marks.two_sheet_photo(
            images[0], images[1], rng, arrangement, s=s, qr_box=layout.qr)
        images = [photo]
        lines[1]["covered"] = covered_questions(layout, warps[1], top_mask, s)
        for line in lines:
            line["page"] = 1                       # both sheets are on the one photo
            line["params"].update(params)
    path, extra = _write(job.condition, folder, stem, images, rng, cond.dpi)
    for line in lines:
        line["file"] = str(path.relative_to(job.out_dir))
        line["params"].update(extra)
    return lines


def _write(condition: str, folder: Path, stem: str, images: list[np.ndarray],
           rng: np.random.Generator, dpi: int) -> tuple[Path, dict]:
    if condition == "tiff_multipage":
        path = folder / f"{stem}.tif"
        pil = [Image.fromarray(i) for i in images]
        compression = str(rng.choice(["tiff_lzw", "jpeg"]))
        opts = {"quality": 85} if compression == "jpeg" else {}
        pil[0].save(path, save_all=True, append_images=pil[1:], compression=compression,
                    dpi=(dpi, dpi), **opts)
        return path, {"compression": compression, "pages_in_file": len(images)}
    if condition == "pdf":
        path = folder / f"{stem}.pdf"
        pil = [Image.fromarray(i) for i in images]
        fixed = time.strptime("2026-01-01", "%Y-%m-%d")   # fixed dates: same seed, same bytes
        pil[0].save(path, save_all=True, append_images=pil[1:], resolution=float(dpi), quality=85,
                    creationDate=fixed, modDate=fixed)
        return path, {"pages_in_file": len(images)}
    (img,) = images
    if condition == "bw":
        pil = Image.fromarray(img).convert("1", dither=Image.Dither.NONE)
        if rng.random() < 0.5:
            path = folder / f"{stem}.png"
            pil.save(path)
            return path, {"format": "png-1bit"}
        path = folder / f"{stem}.tif"
        pil.save(path, compression="group4", dpi=(dpi, dpi))
        return path, {"format": "tiff-g4"}
    if condition == "rotated" and rng.random() < 0.3:
        path = folder / f"{stem}.png"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        return path, {"format": "png"}
    if condition == "two_sheets":
        quality = int(rng.integers(82, 93))
        path = folder / f"{stem}.jpg"
        path.write_bytes(_jpeg(img, quality))
        return path, {"jpeg_quality": quality}
    if condition == "phone":
        quality = int(rng.integers(82, 93))
        path = folder / f"{stem}.jpg"
        if rng.random() < 0.25:
            # stored sideways with an EXIF orientation tag, as many phones do
            orientation = int(rng.choice([3, 6, 8]))
            k = {3: 2, 6: 1, 8: -1}[orientation]
            stored = np.ascontiguousarray(np.rot90(img, k))
            pil = Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB))
            exif = Image.Exif()
            exif[0x0112] = orientation
            pil.save(path, quality=quality, exif=exif.tobytes())
            return path, {"jpeg_quality": quality, "exif_orientation": orientation}
        path.write_bytes(_jpeg(img, quality))
        return path, {"jpeg_quality": quality}
    quality = int(rng.integers(40, 96)) if condition == "jpeg40" else 85
    path = folder / f"{stem}.jpg"
    path.write_bytes(_jpeg(img, quality))
    return path, {"jpeg_quality": quality}


# -- the corpus -------------------------------------------------------------------------------


def print_corpus_sheets(home: Path, count: int, out_pdf: Path, seed: int, survey_link: str = "") -> None:
    """Print `count` real sheets into `out_pdf`; the office key is derived from the seed.
    With `survey_link` (a portal address) every sheet also carries its survey link's QR code."""
    import forms
    from forms.identity_keys import ensure_office_key
    from forms.office_keys import key_path
    from ledger.issuance import print_sheets

    key_file = key_path(home, OFFICE)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(hashlib.sha256(f"seda-corpus-{seed}".encode()).hexdigest() + "\n",
                        encoding="ascii")
    form = forms.builtin_catalog().get(FORM_ID)
    if survey_link:
        ensure_office_key(home)
    print_sheets(home, form, OFFICE, count, out_pdf, portal_url=survey_link)


def plan_jobs(out_dir: Path, pdf_path: Path, conditions: list[str], sheets: int,
              seed: int, mix: str = "field") -> list[Job]:
    jobs: list[Job] = []
    next_sheet = 0
    for cond_no, name in enumerate(conditions):
        cond = CONDITIONS[name]
        if name == "nonsheet":
            per_kind = max(1, sheets // 15)
            kinds = ["blank", "texture", "text"] * per_kind
            for i, kind in enumerate(kinds):
                jobs.append(Job(str(out_dir), str(pdf_path), name, i, (), seed, kind))
            continue
        rng = _rng(seed, 7919, list(CONDITIONS).index(name))
        left, index = sheets, 0
        while left > 0:
            k = min(left, int(rng.integers(cond.per_file[0], cond.per_file[1] + 1)))
            if name == "two_sheets":
                k = 2                      # two per photo, always (an odd count rounds up)
            jobs.append(Job(str(out_dir), str(pdf_path), name, index,
                            tuple(range(next_sheet, next_sheet + k)), seed, mix=mix))
            next_sheet += k
            left -= k
            index += 1
    return jobs


def build_corpus(out_dir: Path, sheets: int = 150, seed: int = 1,
                 conditions: list[str] | None = None, workers: int = 2,
                 log=print, mix: str = "field", survey_link: str = "") -> dict:
    """Print, fill, degrade and write the corpus; return a summary."""
    started = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    conditions = conditions or list(CONDITIONS)
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions {unknown}; known: {', '.join(CONDITIONS)}")
    home = out_dir / "home"
    for old in (home, out_dir / "images"):
        shutil.rmtree(old, ignore_errors=True)
    for name in conditions:
        (out_dir / "images" / name).mkdir(parents=True, exist_ok=True)
    os.environ["SEDA_HOME"] = str(home)
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}; known: {', '.join(MIXES)}")
    pdf_path = out_dir / "sheets.pdf"
    jobs = plan_jobs(out_dir, pdf_path, conditions, sheets, seed, mix)
    # as many sheets as the plan uses: two_sheets rounds an odd count up to whole photos
    total = max((sheet + 1 for job in jobs for sheet in job.sheets), default=0)
    if total:
        print_corpus_sheets(home, total, pdf_path, seed, survey_link)
    lines: list[dict] = []
    if workers > 1 and len(jobs) > 1:
        with Pool(workers) as pool:
            for n, result in enumerate(pool.imap(make_file, jobs, chunksize=1), start=1):
                lines.extend(result)
                if n % 200 == 0:
                    log(f"  {n}/{len(jobs)} files, {time.perf_counter() - started:.0f} s")
    else:
        for job in jobs:
            lines.extend(make_file(job))
    with open(out_dir / "truth.jsonl", "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    summary = {"out_dir": str(out_dir), "files": len(jobs), "pages": len(lines),
               "sheet_pages": sum(1 for l in lines if l["expect"] == "sheet"),
               "seconds": round(time.perf_counter() - started, 1)}
    return summary


def load_truth(out_dir: Path) -> list[dict]:
    with open(Path(out_dir) / "truth.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--sheets", type=int, default=150, help="sheets per condition (150)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--conditions", default=",".join(CONDITIONS),
                        help="comma-separated: " + ",".join(CONDITIONS))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--mix", choices=sorted(MIXES), default="field",
                        help="field: how sheets come back in practice (the review-rate targets); "
                             "stress: every hard mark often, to hunt silent errors")
    parser.add_argument("--survey-link", default="", metavar="PORTAL_URL",
                        help="print every sheet with its survey link's QR code to this portal "
                             "(the scanner must pass it by: compare with a corpus without)")
    args = parser.parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    summary = build_corpus(args.out_dir, args.sheets, args.seed, conditions, args.workers,
                           mix=args.mix, survey_link=args.survey_link)
    print(f"wrote {summary['pages']} pages ({summary['sheet_pages']} sheet pages) in "
          f"{summary['files']} files to {summary['out_dir']} in {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
