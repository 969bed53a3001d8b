"""Turning files into page images: PDFs, multi-page TIFFs, JPEG/PNG, phone photos.

This is the scanner's input edge.  Every page comes out as its own `PageImage`, with either a
grey image or the reason it could not be read, so one corrupt file, a decompression bomb or a
500-page PDF never stops the pages around it.
"""
from __future__ import annotations

import ctypes
import io
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

PDF_DPI = 200
MAX_PIXELS = 60_000_000          # about A4 at 900 dpi; larger is refused, not decoded
MAX_PAGES_PER_FILE = 1000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow then raises on bombs instead of allocating
PAGE_BUFFER_BYTES = 32 * 1024 * 1024     # page images up to this size reuse freed memory
HEAP_KEEP_BYTES = 128 * 1024 * 1024      # free memory the process keeps for the next page


@dataclass
class PageImage:
    source: str
    page: int
    gray: np.ndarray | None = None
    error: str | None = None         # a reason word from scanner.reasons
    detail: str = ""


@cache
def keep_page_memory() -> bool:
    """Let each page reuse the memory of the page before instead of asking the OS anew.

    A 200 dpi A4 page is a 4 MB buffer.  glibc maps a buffer that size fresh for every page
    and unmaps it when it is freed (or trims the heap it came from), so every page paid for
    about a thousand page faults: 4 ms on this machine, 40% of decoding a scan.  With these
    two thresholds raised, freed page buffers stay in the heap and the next page reuses
    them.  It changes where memory comes from, never what is read; the process keeps at
    most `HEAP_KEEP_BYTES` of free memory.  glibc only; elsewhere it does nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, PAGE_BUFFER_BYTES)
                    and libc.mallopt(m_trim_threshold, HEAP_KEEP_BYTES))
    except (OSError, AttributeError):   # not glibc (musl, macOS): nothing to tune
        return False


def _pil_to_gray(image: Image.Image) -> np.ndarray:
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # Pillow's own conversion to 8 bits clips (a 16-bit page turns white): scale instead
        array = np.asarray(image).astype(np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        return np.clip(array * (255.0 / top), 0, 255).astype(np.uint8)
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image)


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """libjpeg-turbo straight to grey: about twice as fast as Pillow for big scans.

    simplejpeg calls libjpeg-turbo's own decoder (about a tenth faster than OpenCV's
    imdecode on a 200 dpi scan, the same pixels: grey out of libjpeg, accurate DCT); a file
    it will not take goes to OpenCV.  Only used when the file carries no EXIF rotation
    (OpenCV would apply it, but we keep one rule for every format); returns None to fall
    back to Pillow.
    """
    if data.find(b"Exif", 0, 128 * 1024) >= 0:
        return None
    try:
        return simplejpeg.decode_jpeg(data, colorspace="GRAY")[:, :, 0]
    except ValueError:    # CMYK, arithmetic coding and other rare kinds
        array = np.frombuffer(data, np.uint8)
        return cv2.imdecode(array, cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)


def _image_pages(path: Path, data: bytes) -> Iterator[PageImage]:
    source = str(path)
    if data[:3] == b"\xff\xd8\xff":
        try:
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
        except Image.DecompressionBombError as exc:
            yield PageImage(source, 1, error="image_too_large", detail=str(exc)[:200])
            return
        except Exception as exc:  # noqa: BLE001 - any decoder failure is one bad page
            yield PageImage(source, 1, error="unreadable_image", detail=str(exc)[:200])
            return
        if width * height > MAX_PIXELS:
            yield PageImage(source, 1, error="image_too_large", detail=f"{width}x{height}")
            return
        if data.rstrip(b"\x00\r\n")[-2:] == b"\xff\xd9":
            gray = decode_jpeg(data)
            if gray is not None:
                yield PageImage(source, 1, gray=gray)
                return
        # No end marker where it belongs: OpenCV would fill a cut-off file with grey and
        # carry on, Pillow refuses it (and still reads a file with data after its end).
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        yield PageImage(source, 1, error="image_too_large", detail=str(exc)[:200])
        return
    except UnidentifiedImageError:
        yield PageImage(source, 1, error="not_an_image", detail="unrecognised file format")
        return
    except OSError as exc:
        yield PageImage(source, 1, error="unreadable_image", detail=str(exc)[:200])
        return
    with image:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > MAX_PAGES_PER_FILE:
                yield PageImage(source, number, error="too_many_pages",
                                detail=f"more than {MAX_PAGES_PER_FILE}")
                return
            try:
                if frame.size[0] * frame.size[1] > MAX_PIXELS:
                    yield PageImage(source, number, error="image_too_large",
                                    detail=f"{frame.size[0]}x{frame.size[1]}")
                    continue
                yield PageImage(source, number, gray=_pil_to_gray(frame))
            except Image.DecompressionBombError as exc:
                yield PageImage(source, number, error="image_too_large", detail=str(exc)[:200])
            except (OSError, ValueError, SyntaxError) as exc:
                yield PageImage(source, number, error="unreadable_image", detail=str(exc)[:200])
                return


def _pdf_pages(path: Path, dpi: int) -> Iterator[PageImage]:
    import pypdfium2

    source = str(path)
    try:
        document = pypdfium2.PdfDocument(str(path))
    except Exception as exc:  # noqa: BLE001 - pdfium reports every failure as its own type
        yield PageImage(source, 1, error="unreadable_image", detail=str(exc)[:200])
        return
    try:
        for index in range(len(document)):
            number = index + 1
            if number > MAX_PAGES_PER_FILE:
                yield PageImage(source, number, error="too_many_pages",
                                detail=f"more than {MAX_PAGES_PER_FILE}")
                return
            try:
                page = document[index]
                width, height = page.get_size()
                scale = dpi / 72
                if width * scale * height * scale > MAX_PIXELS:
                    yield PageImage(source, number, error="image_too_large",
                                    detail=f"{width:.0f}x{height:.0f} pt at {dpi} dpi")
                    continue
                bitmap = page.render(scale=scale, grayscale=True)
                gray = np.array(bitmap.to_numpy(), copy=True)
                if gray.ndim == 3:
                    gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY) if gray.shape[2] >= 3 else gray[..., 0]
                yield PageImage(source, number, gray=gray)
            except Exception as exc:  # noqa: BLE001
                yield PageImage(source, number, error="unreadable_image", detail=str(exc)[:200])
    finally:
        document.close()


def iter_pages(path: str | Path, *, dpi: int = PDF_DPI) -> Iterator[PageImage]:
    """Every page of one file, each with its image or its own error."""
    keep_page_memory()
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        yield PageImage(str(path), 1, error="unreadable_image", detail=str(exc)[:200])
        return
    if head.startswith(b"%PDF"):
        yield from _pdf_pages(path, dpi)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield PageImage(str(path), 1, error="unreadable_image", detail=str(exc)[:200])
        return
    yield from _image_pages(path, data)


def count_pages(path: str | Path) -> int:
    """How many pages a file holds, without rendering any (a PDF's page tree, an image's
    frames); an unreadable file counts as one page (reading it reports why)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
        if head.startswith(b"%PDF"):
            import pypdfium2

            document = pypdfium2.PdfDocument(str(path))
            try:
                return max(1, len(document))
            finally:
                document.close()
        with Image.open(path) as image:
            return max(1, int(getattr(image, "n_frames", 1)))
    except Exception:  # noqa: BLE001 - any decoder failure: one page, read (and refused) later
        return 1


def pages_from_bytes(name: str, data: bytes) -> Iterator[PageImage]:
    """Every page of an image received as bytes (a phone's upload), each with its image or
    its own error; PDFs are not taken this way."""
    keep_page_memory()
    if data[:4] == b"%PDF":
        yield PageImage(name, 1, error="not_an_image", detail="a PDF, not a photo")
        return
    yield from _image_pages(Path(name), data)


def expand_inputs(inputs: list[str | Path]) -> list[Path]:
    """Files named, and the supported files inside folders named, in a stable order."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            files.append(path)
    return files
