"""Reading the sheet code from the page's QR region, and finding every sheet code in an image.

The QR is decoded from a small crop around where the layout says it is (about 20x faster than
the whole page), with pyzbar first and OpenCV's detector as a fallback.  When the page could
not be placed from its markers, the whole image is searched: every code found, with where the
symbol's corners are, which anchors the page even when its corner markers are cut off.
Because the scanner knows exactly what symbol was printed for a code (`forms.paper.qr_matrix`),
it checks the symbol's orientation module by module instead of trusting a decoder's corners.

A sheet printed with a survey link carries a second QR code (the portal's one-time link,
forms/survey_tokens.py).  It is no sheet code and no sheet: every reader here passes it by, so
it is never taken for the sheet's code nor reported as a sheet that could not be read.
"""
from __future__ import annotations

from ctypes import c_void_p, cast, string_at
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from pyzbar import pyzbar
from pyzbar import wrapper as zbar

from forms.paper import QR_QUIET_MODULES, qr_matrix
from forms.survey_tokens import is_sheet_survey_link

from .registration import Registration, page_to_image

CROP_MARGIN_PT = 10.0
SEARCH_MAX_SIDE = 1800          # the whole-image search looks at a copy this size at most
SEARCH_TURNS = (0.0, 45.0)  # zbar misses some codes far from upright or sideways
MIN_MODULE_AGREEMENT = 0.85     # share of modules that must read as printed for a placement
# A code read where four markers put it is tried first on every other row and column (half
# zbar's work: a crop at decoder resolution has about five pixels a module); only a crop that
# does not read that way goes through the full-density readers.
QUICK_DENSITY = 2
_GREY_FOURCC = ord("Y") | ord("8") << 8 | ord("0") << 16 | ord("0") << 24


@dataclass(frozen=True)
class CodeSighting:
    """A sheet code seen in the image, and where its symbol's corners are (image pixels, in
    the symbol's own order: top-left, top-right, bottom-right, bottom-left), if known."""

    text: str
    corners: np.ndarray | None = None

    @property
    def centre(self) -> np.ndarray | None:
        return None if self.corners is None else self.corners.mean(axis=0)


@cache
def _opencv_detector() -> cv2.QRCodeDetector:
    return cv2.QRCodeDetector()


def _pyzbar_symbols(image: np.ndarray) -> list:
    try:
        return pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
    except Exception:  # pyzbar raises on odd buffers; a failed read is just "no code"
        return []


def _pyzbar(image: np.ndarray) -> list[str]:
    return [text for text in (s.data.decode("ascii", "replace") for s in _pyzbar_symbols(image))
            if not is_sheet_survey_link(text)]


def _opencv(image: np.ndarray) -> list[str]:
    try:
        text, _, _ = _opencv_detector().detectAndDecode(image)
    except cv2.error:
        return []
    return [text] if text and not is_sheet_survey_link(text) else []


def _quick_texts(image: np.ndarray, density: int = QUICK_DENSITY) -> list[str]:
    """QR texts zbar finds scanning every `density`-th row and column (no corners asked),
    survey links passed by like every reader here."""
    pixels = np.ascontiguousarray(image, dtype=np.uint8).tobytes()
    height, width = image.shape[:2]
    scanner = zbar.zbar_image_scanner_create()
    try:
        config = zbar.zbar_image_scanner_set_config
        config(scanner, zbar.ZBarSymbol.NONE, zbar.ZBarConfig.CFG_ENABLE, 0)
        config(scanner, zbar.ZBarSymbol.QRCODE, zbar.ZBarConfig.CFG_ENABLE, 1)
        config(scanner, zbar.ZBarSymbol.NONE, zbar.ZBarConfig.CFG_X_DENSITY, density)
        config(scanner, zbar.ZBarSymbol.NONE, zbar.ZBarConfig.CFG_Y_DENSITY, density)
        picture = zbar.zbar_image_create()
        try:
            zbar.zbar_image_set_format(picture, _GREY_FOURCC)
            zbar.zbar_image_set_size(picture, width, height)
            zbar.zbar_image_set_data(picture, cast(pixels, c_void_p), len(pixels), None)
            if zbar.zbar_scan_image(scanner, picture) <= 0:
                return []
            texts = []
            symbol = zbar.zbar_image_first_symbol(picture)
            while symbol:
                data = string_at(zbar.zbar_symbol_get_data(symbol),
                                 zbar.zbar_symbol_get_data_length(symbol))
                text = data.decode("ascii", "replace")
                if not is_sheet_survey_link(text):
                    texts.append(text)
                symbol = zbar.zbar_symbol_next(symbol)
            return texts
        finally:
            zbar.zbar_image_destroy(picture)
    finally:
        zbar.zbar_image_scanner_destroy(scanner)


def decode_any(image: np.ndarray) -> list[str]:
    """Every QR text found in `image`, trying cheap readers first, then harder ones."""
    found = _pyzbar(image)
    if found:
        return found
    _, binary = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return _pyzbar(binary) or _opencv(image)


def _decode_with_polygons(image: np.ndarray,
                          thorough: bool = True) -> list[tuple[str, np.ndarray | None]]:
    """(text, 4 corner pixels or None) for every code in `image`, cheap readers first (the
    harder ones only when `thorough`: they are slow on a whole image)."""
    def ours(found: list) -> list:
        return [s for s in found if not is_sheet_survey_link(s.data.decode("ascii", "replace"))]

    symbols = ours(_pyzbar_symbols(image))
    if not symbols and not thorough:
        return []
    if not symbols:
        _, binary = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        symbols = ours(_pyzbar_symbols(binary))
    out = []
    for symbol in symbols:
        polygon = np.array([(p.x, p.y) for p in symbol.polygon], np.float64)
        if len(polygon) != 4:
            polygon = cv2.boxPoints(cv2.minAreaRect(polygon.astype(np.float32))).astype(np.float64) \
                if len(polygon) >= 3 else None
        out.append((symbol.data.decode("ascii", "replace"), polygon))
    if not out:
        try:
            text, points, _ = _opencv_detector().detectAndDecode(image)
        except cv2.error:
            text, points = "", None
        if text and not is_sheet_survey_link(text):
            out.append((text, None if points is None else points.reshape(-1, 2).astype(np.float64)))
    return out


def qr_crop(gray: np.ndarray, registration: Registration,
            qr_box: tuple[float, float, float, float], margin_pt: float = CROP_MARGIN_PT,
            ) -> tuple[np.ndarray, np.ndarray]:
    """The QR region, rectified upright at the image's own resolution (capped at 2.2 px/pt),
    and the transform from image pixels to crop pixels."""
    x, y, w, h = qr_box
    m = margin_pt
    corners_pt = np.array([(x - m, y - m), (x + w + m, y - m), (x + w + m, y + h + m),
                           (x - m, y + h + m)], dtype=np.float64)
    corners_px = page_to_image(registration, corners_pt).astype(np.float32)
    # ~5 px per module is all a decoder needs; more only costs time
    scale = min(2.2, max(1.5, registration.px_per_pt))
    out_w, out_h = int((w + 2 * m) * scale), int((h + 2 * m) * scale)
    target = np.array([(0, 0), (out_w, 0), (out_w, out_h), (0, out_h)], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(corners_px, target)
    crop = cv2.warpPerspective(gray, warp, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return crop, warp


def read_code_text(gray: np.ndarray, registration: Registration | None,
                   qr_box: tuple[float, float, float, float]) -> str | None:
    """The sheet's QR text, read where the registration puts it, or None."""
    if registration is None:
        return None
    crop = qr_crop(gray, registration, qr_box)[0]
    found = _quick_texts(crop) or decode_any(crop)
    return found[0] if found else None


def read_code_at(gray: np.ndarray, registration: Registration,
                 qr_box: tuple[float, float, float, float],
                 margin_pt: float = CROP_MARGIN_PT, corners: bool = True) -> CodeSighting | None:
    """The code where a (perhaps rough) registration puts it, with its symbol's corners (if
    asked: four markers place a page better than a code's corners could)."""
    crop, warp = qr_crop(gray, registration, qr_box, margin_pt)
    for text, polygon in _decode_with_polygons(crop):
        if not corners:
            return CodeSighting(text)
        corners = None
        if polygon is not None:
            in_image = cv2.perspectiveTransform(polygon.reshape(-1, 1, 2),
                                                np.linalg.inv(warp)).reshape(-1, 2)
            corners = orient_symbol(gray, in_image, text)
        return CodeSighting(text, corners)
    return None


def find_codes(gray: np.ndarray, expected: int = 1,
               covered: list[np.ndarray | None] | None = None) -> list[CodeSighting]:
    """Every QR code in the whole image, with its symbol's corners.

    A reduced copy is searched upright first, then turned by 45 degrees (zbar misses some
    codes far from upright or sideways) until `expected` codes are found.  `covered` are
    outlines (image pixels) of sheets already read: painted out, and the copy made smaller,
    since what is left to find is only a sheet that may be there.
    """
    largest = SEARCH_MAX_SIDE if not covered else SEARCH_MAX_SIDE * 3 // 4
    factor = max(1.0, max(gray.shape) / largest)
    small = gray if factor == 1.0 else cv2.resize(gray, None, fx=1 / factor, fy=1 / factor,
                                                  interpolation=cv2.INTER_AREA)
    if covered:
        small = small.copy() if small is gray else small
        for outline in covered:
            if outline is not None:
                cv2.fillConvexPoly(small, np.round(outline / factor).astype(np.int32), 255)
    found: dict[str, CodeSighting] = {}
    for turn in SEARCH_TURNS:
        if turn and len(found) >= expected:
            break
        turned, back = _turned(small, turn)
        for text, polygon in _decode_with_polygons(turned, thorough=False):
            if text in found and found[text].corners is not None:
                continue
            corners = None
            if polygon is not None:
                in_small = cv2.transform(polygon.reshape(-1, 1, 2), back).reshape(-1, 2)
                corners = orient_symbol(gray, in_small * factor, text)
            found[text] = CodeSighting(text, corners)
    return list(found.values())


def _turned(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """`image` turned about its centre on a canvas that holds it all, and the 2x3 affine map
    from the turned image's pixels back to `image`'s."""
    if not degrees:
        return image, np.array([[1.0, 0, 0], [0, 1.0, 0]])
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * s + w * c), int(h * c + w * s)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    turned = cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                            borderValue=255)
    return turned, cv2.invertAffineTransform(matrix)


def symbol_corners_pt(text: str, qr_box: tuple[float, float, float, float]) -> np.ndarray:
    """Where the printed symbol's outer corners are on the page (points, TL, TR, BR, BL)."""
    x, y, size, _ = qr_box
    modules = len(qr_matrix(text))
    module = size / (modules + 2 * QR_QUIET_MODULES)
    lo, hi = QR_QUIET_MODULES * module, (QR_QUIET_MODULES + modules) * module
    return np.array([(x + lo, y + lo), (x + hi, y + lo), (x + hi, y + hi), (x + lo, y + hi)])


def orient_symbol(gray: np.ndarray, polygon: np.ndarray, text: str) -> np.ndarray | None:
    """The symbol's corners in its own order (TL, TR, BR, BL), from four corner pixels in any
    order: the order in which the modules read as the symbol printed for `text`."""
    try:
        expected = np.array(qr_matrix(text), dtype=bool)
    except ValueError:      # not a code the scanner prints (a foreign QR): no symbol to check
        return None
    n = expected.shape[0]
    # the four corners around their centre, in one turning direction
    centre = polygon.mean(axis=0)
    angles = np.arctan2(polygon[:, 1] - centre[1], polygon[:, 0] - centre[0])
    ring = polygon[np.argsort(angles)]
    grid = (np.stack(np.meshgrid(np.arange(n), np.arange(n)), axis=-1).reshape(-1, 2) + 0.5)
    unit = np.array([(0, 0), (n, 0), (n, n), (0, n)], np.float32)
    best, best_score = None, 0.0
    for order in (ring, ring[::-1]):
        for start in range(4):
            corners = np.roll(order, -start, axis=0)
            warp = cv2.getPerspectiveTransform(unit, corners.astype(np.float32))
            pixels = cv2.perspectiveTransform(grid.reshape(-1, 1, 2).astype(np.float64),
                                              warp).reshape(-1, 2).astype(np.float32)
            values = cv2.remap(gray, pixels[:, 0:1], pixels[:, 1:2], cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255).ravel()
            dark = values < (float(np.percentile(values, 10)) + float(np.percentile(values, 90))) / 2
            score = float((dark == expected.ravel()).mean())
            if score > best_score:
                best, best_score = corners, score
    return best.astype(np.float64) if best_score >= MIN_MODULE_AGREEMENT else None
