"""Drawing pen marks and print/scan/photo effects on rendered sheet images, for the bench scripts.

Everything takes a numpy Generator so a corpus is reproducible from its seed.  Geometry is in
PDF points (origin top-left, as in the layout map) and converted with `px_per_pt`; images are
grey uint8 arrays, paper 255, ink dark.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

PEN_KINDS = ("full", "partial", "tick", "cross", "pencil")


def pen_ink(rng: np.random.Generator) -> int:
    """Blue or black ballpoint, as a grey scanner sees it."""
    return int(rng.integers(20, 91))


# -- compositing ---------------------------------------------------------------------------


def _blend(page: np.ndarray, x0: int, y0: int, alpha: np.ndarray, ink: np.ndarray | float) -> None:
    """Lay ink over the page region at (x0, y0): out = page*(1-a) + ink*a, never lighter."""
    h, w = alpha.shape
    ph, pw = page.shape
    ax0, ay0 = max(0, -x0), max(0, -y0)
    px0, py0 = max(0, x0), max(0, y0)
    px1, py1 = min(pw, x0 + w), min(ph, y0 + h)
    if px1 <= px0 or py1 <= py0:
        return
    a = alpha[ay0:ay0 + (py1 - py0), ax0:ax0 + (px1 - px0)]
    if isinstance(ink, np.ndarray):
        ink = ink[ay0:ay0 + (py1 - py0), ax0:ax0 + (px1 - px0)]
    region = page[py0:py1, px0:px1].astype(np.float32)
    out = region * (1 - a) + np.asarray(ink, np.float32) * a
    page[py0:py1, px0:px1] = np.minimum(region, out).clip(0, 255).astype(np.uint8)


class _Patch:
    """A square drawing surface around a box centre, supersampled 2x for smooth strokes."""

    SS = 2

    def __init__(self, cx: float, cy: float, half: float):
        self.half = int(math.ceil(half)) + 2
        self.x0 = int(round(cx)) - self.half
        self.y0 = int(round(cy)) - self.half
        side = 2 * self.half + 1
        self.mask = np.zeros((side * self.SS, side * self.SS), np.uint8)
        # centre in supersampled patch coordinates
        self.ox = (cx - self.x0) * self.SS
        self.oy = (cy - self.y0) * self.SS

    def pt(self, dx: float, dy: float) -> tuple[int, int]:
        """A point at offset (dx, dy) pixels from the centre, in cv2 fixed point (shift=2)."""
        return (int(round((self.ox + dx * self.SS) * 4)), int(round((self.oy + dy * self.SS) * 4)))

    def alpha(self) -> np.ndarray:
        side = self.mask.shape[0] // self.SS
        small = cv2.resize(self.mask, (side, side), interpolation=cv2.INTER_AREA)
        return small.astype(np.float32) / 255.0


def _blob(rng: np.random.Generator, radius: float, n: int = 28, wobble: float = 0.06) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 0.2)
    radial = radius * (1 + rng.normal(0, wobble, n))
    return np.stack([np.cos(angles) * radial, np.sin(angles) * radial], axis=1)


def _poly(patch: _Patch, points: np.ndarray) -> np.ndarray:
    return np.array([patch.pt(x, y) for x, y in points], np.int32)


def _stroke_px(rng: np.random.Generator, s: float, lo: float = 0.7, hi: float = 1.5) -> int:
    """Stroke width in supersampled patch pixels for a pen of lo..hi points."""
    return max(1, int(round(rng.uniform(lo, hi) * s * _Patch.SS)))


# -- mark kinds ----------------------------------------------------------------------------


def draw_mark(page: np.ndarray, box, s: float, kind: str, rng: np.random.Generator,
              ink: int | None = None) -> None:
    """Draw one mark of `kind` into the box [x, y, w, h] (points) of a page at s px/pt."""
    x, y, w, h = box
    jx, jy = rng.uniform(-1, 1, 2)
    cx, cy = (x + w / 2 + jx) * s, (y + h / 2 + jy) * s
    r = w / 2 * s
    ink = pen_ink(rng) if ink is None else ink
    patch = _Patch(cx, cy, r * (1.9 if kind == "crossed_out" else 1.6))
    m = patch.mask
    if kind == "full":
        cv2.fillPoly(m, [_poly(patch, _blob(rng, r * rng.uniform(0.85, 1.08)))], 255,
                     cv2.LINE_AA, shift=2)
        # a couple of strokes that overshoot the circle, as quick fills do
        for _ in range(int(rng.integers(0, 3))):
            a = rng.uniform(0, 2 * np.pi)
            p0 = patch.pt(np.cos(a) * r * 0.3, np.sin(a) * r * 0.3)
            p1 = patch.pt(np.cos(a) * r * rng.uniform(1.0, 1.3), np.sin(a) * r * rng.uniform(1.0, 1.3))
            cv2.line(m, p0, p1, 255, _stroke_px(rng, s), cv2.LINE_AA, shift=2)
        alpha = patch.alpha() * rng.uniform(0.92, 1.0)
        _blend(page, patch.x0, patch.y0, alpha, ink)
    elif kind == "partial":
        _scribble(patch, rng, s, r, rng.uniform(0.6, 0.9))
        _blend(page, patch.x0, patch.y0, patch.alpha(), ink)
    elif kind == "tick":
        pts = np.array([(-0.55, -0.05), (-0.1, 0.5), (0.75, -0.8)]) * r
        pts += rng.normal(0, 0.08 * r, pts.shape)
        cv2.polylines(m, [_poly(patch, pts)], False, 255, _stroke_px(rng, s, 0.8, 1.6),
                      cv2.LINE_AA, shift=2)
        _blend(page, patch.x0, patch.y0, patch.alpha(), ink)
    elif kind == "cross":
        ext = rng.uniform(0.6, 0.95) * r
        width = _stroke_px(rng, s, 0.8, 1.6)
        for sign in (1, -1):
            a = np.array([(-ext, -sign * ext), (ext, sign * ext)]) + rng.normal(0, 0.07 * r, (2, 2))
            cv2.line(m, patch.pt(*a[0]), patch.pt(*a[1]), 255, width, cv2.LINE_AA, shift=2)
        _blend(page, patch.x0, patch.y0, patch.alpha(), ink)
    elif kind == "pencil":
        grey = rng.uniform(140, 190)
        if rng.random() < 0.5:
            cv2.fillPoly(m, [_poly(patch, _blob(rng, r * rng.uniform(0.85, 1.05)))], 255,
                         cv2.LINE_AA, shift=2)
        else:
            _scribble(patch, rng, s, r, rng.uniform(0.8, 1.0))
        alpha = patch.alpha()
        grain = rng.normal(0, 12, alpha.shape).astype(np.float32)
        _blend(page, patch.x0, patch.y0, alpha, np.clip(grey + grain, 100, 230))
    elif kind == "stray_dot":
        # a small dot inside the box or touching its ring; not an answer
        dist = rng.choice([rng.uniform(0, 0.6), rng.uniform(0.85, 1.1)]) * r
        a = rng.uniform(0, 2 * np.pi)
        dr = rng.uniform(0.6, 1.6) * s
        cv2.circle(m, patch.pt(np.cos(a) * dist - jx * s, np.sin(a) * dist - jy * s),
                   int(dr * _Patch.SS * 4), 255, -1, cv2.LINE_AA, shift=2)
        _blend(page, patch.x0, patch.y0, patch.alpha(), ink)
    elif kind == "erased":
        # what an eraser leaves of a filled circle: a smudged light-grey residue
        if rng.random() < 0.6:
            cv2.fillPoly(m, [_poly(patch, _blob(rng, r * rng.uniform(0.8, 1.05), wobble=0.1))], 255,
                         cv2.LINE_AA, shift=2)
        else:
            _scribble(patch, rng, s, r, rng.uniform(0.6, 0.95))
        alpha = patch.alpha()
        sigma = rng.uniform(0.6, 1.6) * s
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
        alpha = np.clip(alpha * rng.uniform(1.0, 1.4), 0, 1)
        residue = rng.uniform(200, 235)
        grain = rng.normal(0, 5, alpha.shape).astype(np.float32)
        _blend(page, patch.x0, patch.y0, alpha, np.clip(residue + grain, 190, 255))
    elif kind == "crossed_out":
        # an answer struck out: a filled circle under a dense zig-zag of heavy strokes that
        # runs well past the outline, sometimes with a big cross over it
        cv2.fillPoly(m, [_poly(patch, _blob(rng, r * rng.uniform(0.85, 1.0)))], 255,
                     cv2.LINE_AA, shift=2)
        reach = rng.uniform(1.15, 1.5) * r
        width = rng.uniform(1.2, 2.2) * s
        spacing = width * rng.uniform(0.6, 1.0)
        a = rng.uniform(0, np.pi)
        b = a + np.pi / 2 + rng.uniform(-0.3, 0.3)
        pts = []
        n = int(2 * reach / spacing) + 2
        for i in range(n):
            t = -reach + i * spacing
            along = (1 if i % 2 == 0 else -1) * reach * rng.uniform(0.8, 1.05)
            pts.append((np.cos(a) * t + np.cos(b) * along, np.sin(a) * t + np.sin(b) * along))
        cv2.polylines(m, [_poly(patch, np.array(pts))], False, 255,
                      max(1, int(width * _Patch.SS)), cv2.LINE_AA, shift=2)
        if rng.random() < 0.4:
            for sign in (1, -1):
                cv2.line(m, patch.pt(-reach, -sign * reach), patch.pt(reach, sign * reach), 255,
                         max(1, int(width * _Patch.SS)), cv2.LINE_AA, shift=2)
        _blend(page, patch.x0, patch.y0, patch.alpha(), ink)
    else:
        raise ValueError(f"unknown mark kind {kind!r}")


def _scribble(patch: _Patch, rng: np.random.Generator, s: float, r: float, fraction: float) -> None:
    """Zig-zag pen strokes covering about `fraction` of the circle, cut by a random chord."""
    side = patch.mask.shape[0]
    region = np.zeros_like(patch.mask)
    cv2.circle(region, patch.pt(0, 0), int(r * 0.98 * _Patch.SS * 4), 255, -1, shift=2)
    # chord offset d (in radii) so the kept segment has area `fraction` of the circle
    d = _segment_offset(fraction)
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    u = ((xx - patch.ox) * np.cos(a) + (yy - patch.oy) * np.sin(a)) / (r * _Patch.SS)
    region[u > d] = 0
    strokes = np.zeros_like(patch.mask)
    width = rng.uniform(1.3, 2.4) * s
    spacing = width * rng.uniform(0.75, 1.2)
    b = a + np.pi / 2 + rng.uniform(-0.5, 0.5)
    n = int(2.4 * r / spacing) + 2
    pts = []
    for i in range(n):
        t = -1.2 * r + i * spacing
        side_sign = 1 if i % 2 == 0 else -1
        along = side_sign * 1.25 * r + rng.normal(0, 0.1 * r)
        pts.append((np.cos(a) * t + np.cos(b) * along, np.sin(a) * t + np.sin(b) * along))
    cv2.polylines(strokes, [_poly(patch, np.array(pts))], False, 255,
                  max(1, int(width * _Patch.SS)), cv2.LINE_AA, shift=2)
    patch.mask[:] = np.maximum(patch.mask, np.minimum(strokes, region))


def _segment_offset(fraction: float) -> float:
    """Offset d in radii such that {u <= d} covers `fraction` of the unit disc."""
    lo, hi = -1.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        covered = (math.acos(-mid) - (-mid) * math.sqrt(max(0.0, 1 - mid * mid))) / math.pi
        if covered < fraction:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def draw_handwriting(page: np.ndarray, box, s: float, rng: np.random.Generator) -> None:
    """A few lines of cursive-like pen strokes inside the comment box."""
    x, y, w, h = box
    ink = pen_ink(rng)
    width = max(1, int(round(rng.uniform(0.7, 1.3) * s)))
    lines = int(rng.integers(1, 7))
    pitch = rng.uniform(16, 24)
    for line in range(lines):
        base = y + 22 + line * pitch
        if base > y + h - 12:
            break
        right = x + w - rng.uniform(8, 20)
        left = x + rng.uniform(8, max(9, w * 0.6))
        cursor = right
        while cursor > left:
            word = rng.uniform(15, 50)
            n = max(4, int(word / 2.5))
            xs = np.linspace(cursor, max(left, cursor - word), n)
            ys = base + np.cumsum(rng.normal(0, 2.2, n)) * 0.6 + rng.uniform(-5, 3, n)
            pts = np.stack([xs, ys], axis=1) * s
            cv2.polylines(page, [np.round(pts * 4).astype(np.int32)], False, ink, width,
                          cv2.LINE_AA, shift=2)
            cursor -= word + rng.uniform(4, 10)


# -- print, scan and photo effects ---------------------------------------------------------


def scanner_effect(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """A flatbed or sheet-feeder scan: paper tone, a little skew and offset, optics, sensor noise."""
    h, w = img.shape
    angle = rng.uniform(-0.8, 0.8)
    shift = rng.uniform(-2, 2, 2) * 72 / 25.4 * s
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += shift
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.35, 0.7))
    tone = rng.uniform(238, 252) / 255
    f = out.astype(np.float32) * tone + rng.standard_normal(out.shape, dtype=np.float32) * rng.uniform(1.5, 3.5)
    return np.clip(f, 0, 255).astype(np.uint8)


def rotate_any(img: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre, growing the canvas so no corner is cut (white fill)."""
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s_ = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s_ + w * c), int(h * c + w * s_)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)


def shrink_on_page(img: np.ndarray, scale: float) -> np.ndarray:
    """A sheet printed at `scale` (e.g. 0.97): shrunk about its centre onto a white page."""
    h, w = img.shape
    m = np.array([[scale, 0, (1 - scale) * w / 2], [0, scale, (1 - scale) * h / 2]], np.float32)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_AREA, borderValue=255)


def add_noise(img: np.ndarray, rng: np.random.Generator, sigma: float, salt: float) -> np.ndarray:
    f = img.astype(np.float32) + rng.normal(0, sigma, img.shape).astype(np.float32)
    out = np.clip(f, 0, 255).astype(np.uint8)
    n = int(salt * img.size)
    if n:
        ys = rng.integers(0, img.shape[0], n)
        xs = rng.integers(0, img.shape[1], n)
        out[ys, xs] = np.where(rng.random(n) < 0.5, 0, 255).astype(np.uint8)
    return out


def threshold_bw(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1-bit scan: the scanner's fixed threshold (no dithering)."""
    t = rng.uniform(120, 175)
    return np.where(cv2.GaussianBlur(img, (0, 0), 0.6) > t, 255, 0).astype(np.uint8)


def photocopy(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    """Darkening, extra contrast, a grey background and toner speckles."""
    h, w = img.shape
    f = img.astype(np.float32) / 255
    f = f ** rng.uniform(1.2, 1.9)                     # darkens greys and light ink
    contrast = rng.uniform(1.05, 1.3)
    f = np.clip((f - 0.5) * contrast + 0.5, 0, 1)
    bg = rng.uniform(195, 232)
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * rng.uniform(-10, 10)
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * rng.uniform(-10, 10)
    out = f * (bg + gx + gy)
    # toner speckles: small dark dots all over
    n = int(rng.integers(300, 2500))
    ys = rng.integers(0, h, n)
    xs = rng.integers(0, w, n)
    dots = np.zeros((h, w), np.uint8)
    for yy, xx, rr in zip(ys, xs, rng.uniform(0.3, 1.0, n) * s):
        cv2.circle(dots, (int(xx), int(yy)), max(1, int(rr)), 255, -1)
    out = np.where(dots > 0, np.minimum(out, rng.uniform(30, 110)), out)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 0.9))
    out += rng.normal(0, 2.5, out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def _table(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A textured, darkish table top: wood-like grain or a cloth, lower contrast than paper."""
    base = rng.uniform(35, 140)
    grain = rng.normal(0, 1, (max(4, h // 40), max(4, w // 6))).astype(np.float32)
    if rng.random() < 0.5:
        grain = grain.T
        grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_CUBIC)
    else:
        grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.normal(0, 1, (h // 4, w // 4)).astype(np.float32), (w, h))
    out = base + grain * rng.uniform(6, 20) + fine * rng.uniform(2, 8)
    return np.clip(out, 0, 255).astype(np.float32)


def phone_photo(img: np.ndarray, rng: np.random.Generator, s: float,
                size: tuple[int, int] = (3000, 4000)) -> tuple[np.ndarray, dict]:
    """The page photographed on a table: 3-D tilt up to 30 degrees, uneven light, a shadow band.

    Returns a BGR photo and the parameters used.
    """
    ph, pw = img.shape
    landscape = rng.random() < 0.25
    out_w, out_h = (size[1], size[0]) if landscape else size
    tilt = math.radians(rng.uniform(0, 30))
    direction = rng.uniform(0, 2 * np.pi)
    spin = rng.uniform(-12, 12) + (rng.choice([90, -90]) if landscape else 0)
    if rng.random() < 0.1:
        spin += 180
    # page corners in 3-D (page units: pixels of the rendered page), centred
    corners = np.array([(-pw / 2, -ph / 2, 0), (pw / 2, -ph / 2, 0), (pw / 2, ph / 2, 0),
                        (-pw / 2, ph / 2, 0)], np.float64)
    axis = np.array([math.cos(direction), math.sin(direction), 0.0])
    rot, _ = cv2.Rodrigues(axis * tilt)
    cz, sz = math.cos(math.radians(spin)), math.sin(math.radians(spin))
    spin_m = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    pts = corners @ spin_m.T @ rot.T
    distance = max(pw, ph) * rng.uniform(1.1, 1.6)       # a phone held close: strong perspective
    focal = distance
    proj = pts[:, :2] * focal / (distance + pts[:, 2:3])
    # fit the quad in the frame with a margin of table around it
    fill = rng.uniform(0.72, 0.92)
    span = proj.max(axis=0) - proj.min(axis=0)
    k = fill * min(out_w / span[0], out_h / span[1])
    proj = (proj - proj.min(axis=0)) * k
    room = np.array([out_w, out_h]) - (proj.max(axis=0))
    proj += room * rng.uniform(0.2, 0.8, 2)
    src = np.array([(0, 0), (pw, 0), (pw, ph), (0, ph)], np.float32)
    warp = cv2.getPerspectiveTransform(src, proj.astype(np.float32))
    paper = cv2.warpPerspective(img, warp, (out_w, out_h), flags=cv2.INTER_AREA,
                                borderValue=0).astype(np.float32)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), warp, (out_w, out_h),
                               flags=cv2.INTER_LINEAR, borderValue=0).astype(np.float32) / 255
    table = _table(rng, out_w, out_h)
    photo = paper
    photo -= table
    photo *= mask
    photo += table                                   # paper where the mask is, table elsewhere
    bgr = _photo_light(photo, rng, out_w, out_h)
    params = {"tilt_deg": round(math.degrees(tilt), 1), "spin_deg": round(spin, 1),
              "size": [out_w, out_h]}
    return bgr, params


def _photo_light(photo: np.ndarray, rng: np.random.Generator, out_w: int,
                 out_h: int) -> np.ndarray:
    """Uneven light, a shadow band, lens blur, sensor noise and a warm tint: grey in, BGR out."""
    # uneven light: a linear gradient and a vignette, computed small (it is smooth) and enlarged
    lh, lw = out_h // 8, out_w // 8
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    grad = ((xx / lw - 0.5) * math.cos(a) + (yy / lh - 0.5) * math.sin(a))
    light = rng.uniform(0.78, 0.98) + grad * rng.uniform(0.15, 0.4)
    vign = 1 - rng.uniform(0.05, 0.2) * (((xx / lw - 0.5) ** 2 + (yy / lh - 0.5) ** 2) * 2)
    light *= vign
    # a soft shadow band (an arm or the phone) across part of the page
    shadow = np.ones((lh, lw), np.float32)
    b = rng.uniform(0, np.pi)
    cxs, cys = rng.uniform(0.2, 0.8) * lw, rng.uniform(0.2, 0.8) * lh
    band_w = rng.uniform(0.06, 0.2) * lw
    dist = np.abs((xx - cxs) * math.cos(b) + (yy - cys) * math.sin(b))
    shadow[dist < band_w] = rng.uniform(0.55, 0.8)
    shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(6, 18))
    light = cv2.resize(light * shadow, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    photo *= light
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.7, 1.4))
    noise = np.empty_like(photo)
    cv2.setRNGSeed(int(rng.integers(1, 2 ** 30)))
    cv2.randn(noise, 0.0, float(rng.uniform(2, 5)))
    photo += noise
    np.maximum(photo, 0, out=photo)
    tint = (rng.uniform(0.85, 1.0), rng.uniform(0.95, 1.0), 1.0)  # warm light: B < G < R
    bgr = cv2.merge([cv2.convertScaleAbs(photo, alpha=float(k)) for k in tint])
    return bgr


# -- sheets that are cut, crumpled, on other paper or not alone ------------------------------

MM = 72 / 25.4
LETTER_PT = (612.0, 792.0)
A4_PT = (595.28, 841.89)


def crumple(img: np.ndarray, rng: np.random.Generator, s: float,
            amplitude_mm: float) -> tuple[np.ndarray, dict]:
    """A sheet crumpled and smoothed out again: every point moved by a smooth random field of
    at most `amplitude_mm`, with the light shading and the faint lines its creases leave in a
    scan.  Paper does not stretch: its print moves by millimetres over several centimetres
    (the field's knots are 60-120 mm apart), which still bends rows of circles visibly."""
    h, w = img.shape
    cell = rng.uniform(60, 120) * MM * s
    gh, gw = int(h / cell) + 3, int(w / cell) + 3
    fields = []
    for _ in range(2):
        small = rng.normal(0, 1, (gh, gw)).astype(np.float32)
        fields.append(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))
    dx, dy = fields
    peak = float(np.sqrt(dx * dx + dy * dy).max()) or 1.0
    scale = amplitude_mm * MM * s / peak
    dx *= scale
    dy *= scale
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(img, xx + dx, yy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=255).astype(np.float32)
    # the crumpled paper's relief: a few per cent of light and shade, and thin crease lines
    relief = cv2.resize(rng.normal(0, 1, (gh, gw)).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    out *= 1.0 - 0.025 * np.abs(relief)
    for _ in range(int(rng.integers(3, 9))):
        p0 = rng.uniform(0, 1, 2) * (w, h)
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.2, 0.8) * max(w, h)
        p1 = p0 + length * np.array([np.cos(angle), np.sin(angle)])
        crease = np.zeros((h, w), np.uint8)
        cv2.line(crease, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 255,
                 max(1, int(round(0.4 * s))), cv2.LINE_AA)
        out -= crease.astype(np.float32) / 255 * rng.uniform(8, 25)
    return np.clip(out, 0, 255).astype(np.uint8), {"crumple_mm": round(amplitude_mm, 2)}


def crooked_feed(img: np.ndarray, rng: np.random.Generator, s: float,
                 boxes: list) -> tuple[np.ndarray, dict]:
    """A sheet printed at 94-99% and fed 8-13 degrees crooked into a scanner whose window is the
    page's own size: the corners that stick out are cut off, often with their markers.  Every
    answer box and the QR code stay inside the window (`boxes` in points, the code's box
    last), as on the sheets that prompted this: a sheet whose code is cut off cannot be named.
    """
    h, w = img.shape
    for _ in range(50):
        scale = float(rng.uniform(0.94, 0.99))
        angle = float(rng.choice([-1, 1]) * rng.uniform(8, 13))
        shift = rng.uniform(-6, 6, 2) * MM * s
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[:, 2] += shift
        # each box with the paper ring it is read by (11 pt from a circle's centre), every
        # corner of it inside the window, a few points in
        corners = []
        for x, y, bw, bh in boxes:
            grow = max(3.0, 11.0 - bw / 2)
            corners += [(x - grow, y - grow), (x + bw + grow, y - grow),
                        (x + bw + grow, y + bh + grow), (x - grow, y + bh + grow)]
        moved = (np.array(corners) * s) @ m[:, :2].T + m[:, 2]
        if (moved.min(axis=0) >= 0).all() and (moved <= np.array([w, h])).all():
            break
    lid = float(rng.choice([250.0, 235.0, 70.0]))   # the scanner lid behind the cut corners
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=lid)
    corners = fiducial_centres_px(s) @ m[:, :2].T + m[:, 2]
    inside = [bool(0 <= x < w and 0 <= y < h) for x, y in corners]
    return out, {"angle": round(angle, 2), "scale": round(scale, 4),
                 "markers_inside": int(sum(inside))}


def fiducial_centres_px(s: float) -> np.ndarray:
    inset, size = 22.0, 34.0
    far_x, far_y = A4_PT[0] - inset - size / 2, A4_PT[1] - inset - size / 2
    near = inset + size / 2
    return np.array([(near, near), (far_x, near), (far_x, far_y), (near, far_y)]) * s


def on_letter(img: np.ndarray, rng: np.random.Generator, s: float,
              printed_for_letter: bool) -> tuple[np.ndarray, dict]:
    """The A4 sheet on US Letter paper: as `seda forms print --paper letter` lays it out (the
    A4 page scaled to the Letter page's height and centred), or an A4 PDF printed with the
    print dialog's "fit to page", which also leaves room for the printer's own margins."""
    h, w = img.shape
    out_w, out_h = int(round(LETTER_PT[0] * s)), int(round(LETTER_PT[1] * s))
    scale = min(LETTER_PT[0] / A4_PT[0], LETTER_PT[1] / A4_PT[1])
    if not printed_for_letter:
        scale *= float(rng.uniform(0.95, 0.99))
    m = np.array([[scale, 0, (out_w - w * scale) / 2], [0, scale, (out_h - h * scale) / 2]],
                 np.float32)
    out = cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=255)
    return out, {"letter": "paper_letter" if printed_for_letter else "fit_to_page",
                 "scale": round(scale, 4)}


def _quad(rng: np.random.Generator, pw: int, ph: int, centre, height: float, spin: float,
          tilt: float) -> np.ndarray:
    """Where a page lands in a photo: its corners, `height` px tall, turned `spin` degrees,
    each corner moved up to `tilt` of the height (a phone not held quite flat)."""
    k = height / ph
    corners = np.array([(-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2)]) * k
    c, s_ = math.cos(math.radians(spin)), math.sin(math.radians(spin))
    corners = corners @ np.array([[c, s_], [-s_, c]])
    corners += rng.uniform(-tilt, tilt, corners.shape) * height
    return (corners + np.asarray(centre)).astype(np.float32)


def two_sheet_photo(first: np.ndarray, second: np.ndarray, rng: np.random.Generator,
                    arrangement: str, size: tuple[int, int] = (4000, 3000),
                    qr_box: tuple = (66.0, 18.0, 84.0, 84.0), s: float = 1.0,
                    ) -> tuple[np.ndarray, dict, list[np.ndarray], np.ndarray]:
    """Two filled sheets in one phone photo on a table: side by side, overlapping (the first on
    top, the second's code left in view), or side by side with one upside down.

    Returns the BGR photo, the parameters, each sheet's page-pixel -> photo homography, and the
    first sheet's mask in the photo (what it covers of the second).
    """
    out_w, out_h = size
    ph, pw = first.shape
    for _ in range(60):
        spins = [float(rng.uniform(-8, 8)), float(rng.uniform(-8, 8))]
        if arrangement == "turned":
            spins[int(rng.integers(0, 2))] += 180.0
        if arrangement == "overlapping":
            height = out_h * rng.uniform(0.78, 0.9)
            offset = np.array([rng.uniform(0.35, 0.55), rng.uniform(0.12, 0.3)]) * height * pw / ph
            if rng.random() < 0.5:
                offset[1] = -offset[1]
            centre = np.array([out_w / 2, out_h / 2])
            # the first sheet (on top) to the right of the second
            centres = [centre + offset / 2, centre - offset / 2]
        else:
            height = out_h * rng.uniform(0.8, 0.9)
            gap = rng.uniform(0.02, 0.06) * out_w
            width = height * pw / ph
            left = (out_w - 2 * width - gap) / 2
            cy = out_h / 2 + rng.uniform(-0.03, 0.03) * out_h
            centres = [np.array([left + width / 2, cy]), np.array([left + 1.5 * width + gap, cy])]
            if rng.random() < 0.5:
                centres.reverse()
        quads = [_quad(rng, pw, ph, c, height, sp, 0.025) for c, sp in zip(centres, spins)]
        if any((q < 0).any() or (q[:, 0] > out_w).any() or (q[:, 1] > out_h).any() for q in quads):
            continue
        src = np.array([(0, 0), (pw, 0), (pw, ph), (0, ph)], np.float32)
        warps = [cv2.getPerspectiveTransform(src, q) for q in quads]
        if arrangement != "overlapping":
            break
        # the second sheet's code must stay in view, and the first must really cover some of it
        x, y, w, h = qr_box
        qr = np.array([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], np.float32) * s
        qr_in_photo = cv2.perspectiveTransform(qr.reshape(-1, 1, 2), warps[1]).reshape(-1, 2)
        top = quads[0].reshape(-1, 1, 2)
        if all(cv2.pointPolygonTest(top, tuple(map(float, p)), True) < -20 for p in qr_in_photo):
            break
    table = _table(rng, out_w, out_h)
    photo = table.copy()
    masks = []
    for page, warp in ((second, warps[1]), (first, warps[0])):      # the first lies on top
        paper = cv2.warpPerspective(page, warp, (out_w, out_h), flags=cv2.INTER_AREA,
                                    borderValue=0).astype(np.float32)
        mask = cv2.warpPerspective(np.full(page.shape, 255, np.uint8), warp, (out_w, out_h),
                                   flags=cv2.INTER_LINEAR, borderValue=0).astype(np.float32) / 255
        photo = photo * (1 - mask) + paper * mask
        masks.append(mask)
    bgr = _photo_light(photo.astype(np.float32), rng, out_w, out_h)
    params = {"arrangement": arrangement, "spins": [round(v, 1) for v in spins],
              "size": [out_w, out_h]}
    return bgr, params, warps, masks[1]


# -- pages that are not Seda sheets ---------------------------------------------------------


def blank_page(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    tone = rng.uniform(235, 252)
    out = np.full((h, w), tone, np.float32) + rng.normal(0, 2.5, (h, w)).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def texture_page(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Something photo-like: smooth blobs at several scales plus grain."""
    out = np.zeros((h, w), np.float32)
    for scale, amp in ((64, 60), (16, 35), (4, 15)):
        small = rng.normal(0, 1, (max(2, h // scale), max(2, w // scale))).astype(np.float32)
        out += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) * amp
    out += rng.uniform(90, 160) + rng.normal(0, 6, (h, w)).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def text_page(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A page of unrelated typed text (a letter, a receipt)."""
    out = np.full((h, w), 250, np.uint8)
    s = w / 595.0
    letters = "abcdefghijklmnopqrstuvwxyz      "
    y = int(60 * s)
    while y < h - 60 * s:
        n = int(rng.integers(30, 70))
        line = "".join(rng.choice(list(letters), n))
        cv2.putText(out, line, (int(50 * s), y), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * s,
                    int(rng.integers(10, 60)), max(1, int(s / 1.4)), cv2.LINE_AA)
        y += int(rng.uniform(14, 20) * s)
    return out
