"""Reading the sheet code from the page's QR region.

The QR is decoded from a small crop around where the layout says it is (about 20x faster than
the whole page), with pyzbar first and OpenCV's detector as a fallback; only when the page
could not be registered is the whole image searched, to tell a damaged Seda sheet from a
foreign page.
"""
from __future__ import annotations

from functools import cache

import cv2
import numpy as np
from pyzbar import pyzbar

from .registration import Registration, page_to_image

CROP_MARGIN_PT = 10.0


@cache
def _opencv_detector() -> cv2.QRCodeDetector:
    return cv2.QRCodeDetector()


def _pyzbar(image: np.ndarray) -> list[str]:
    try:
        symbols = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
    except Exception:  # pyzbar raises on odd buffers; a failed read is just "no code"
        return []
    return [s.data.decode("ascii", "replace") for s in symbols]


def _opencv(image: np.ndarray) -> list[str]:
    try:
        text, _, _ = _opencv_detector().detectAndDecode(image)
    except cv2.error:
        return []
    return [text] if text else []


def decode_any(image: np.ndarray) -> list[str]:
    """Every QR text found in `image`, trying cheap readers first, then harder ones."""
    found = _pyzbar(image)
    if found:
        return found
    _, binary = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return _pyzbar(binary) or _opencv(image)


def qr_crop(gray: np.ndarray, registration: Registration,
            qr_box: tuple[float, float, float, float]) -> np.ndarray:
    """The QR region, rectified upright at the image's own resolution (capped at 2.2 px/pt)."""
    x, y, w, h = qr_box
    m = CROP_MARGIN_PT
    corners_pt = np.array([(x - m, y - m), (x + w + m, y - m), (x + w + m, y + h + m),
                           (x - m, y + h + m)], dtype=np.float64)
    corners_px = page_to_image(registration, corners_pt).astype(np.float32)
    # ~5 px per module is all a decoder needs; more only costs time
    scale = min(2.2, max(1.5, registration.px_per_pt))
    out_w, out_h = int((w + 2 * m) * scale), int((h + 2 * m) * scale)
    target = np.array([(0, 0), (out_w, 0), (out_w, out_h), (0, out_h)], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(corners_px, target)
    return cv2.warpPerspective(gray, warp, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def read_code_text(gray: np.ndarray, registration: Registration | None,
                   qr_box: tuple[float, float, float, float]) -> str | None:
    """The first QR text on the sheet, or None if no code could be read."""
    if registration is not None:
        found = decode_any(qr_crop(gray, registration, qr_box))
        if found:
            return found[0]
    found = _pyzbar(gray)
    return found[0] if found else None
