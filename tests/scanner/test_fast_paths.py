"""The scanner's faster ways of working out a page decide exactly as the plain ones do."""
from __future__ import annotations

import numpy as np

from scanner.page import WRITING_DARKNESS, _writing_limits


def test_handwriting_is_told_by_whole_grey_levels_exactly_as_by_the_float_rule():
    paper = np.arange(256, dtype=np.float32)[:, None]
    grey = np.arange(256, dtype=np.float32)[None, :]
    by_float = grey < np.maximum(paper, 1.0) * (1 - WRITING_DARKNESS)

    by_table = np.arange(256, dtype=np.uint8)[None, :] < _writing_limits()[:, None]

    assert (by_table == by_float).all()
