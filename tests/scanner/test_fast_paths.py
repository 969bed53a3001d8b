"""The scanner's faster ways of working out a page decide exactly as the plain ones do."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from scanner.images import decode_jpeg
from scanner.page import WRITING_DARKNESS, _writing_limits


def test_handwriting_is_told_by_whole_grey_levels_exactly_as_by_the_float_rule():
    paper = np.arange(256, dtype=np.float32)[:, None]
    grey = np.arange(256, dtype=np.float32)[None, :]
    by_float = grey < np.maximum(paper, 1.0) * (1 - WRITING_DARKNESS)

    by_table = np.arange(256, dtype=np.uint8)[None, :] < _writing_limits()[:, None]

    assert (by_table == by_float).all()


@pytest.mark.parametrize("mode, options", [
    ("L", {}), ("RGB", {}), ("RGB", {"progressive": True}), ("RGB", {"subsampling": 2}),
    ("CMYK", {}),
])
def test_a_jpeg_decodes_to_the_grey_opencv_reads(mode, options):
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, **options)
    data = out.getvalue()

    gray = decode_jpeg(data)

    expected = cv2.imdecode(np.frombuffer(data, np.uint8),
                            cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)
    assert gray.dtype == np.uint8 and gray.flags.c_contiguous
    assert np.array_equal(gray, expected)
