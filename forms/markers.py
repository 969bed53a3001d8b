"""The corner fiducials: ArUco markers from OpenCV's 4x4 dictionary.

ArUco markers are told apart by their id and are not symmetric, so one found marker already
gives the page's orientation, and four give a homography even from a phone photo.
"""
from __future__ import annotations

from functools import cache

import cv2

ARUCO_DICTIONARY = cv2.aruco.DICT_4X4_50
MARKER_CELLS = 6  # 4x4 data cells plus the one-cell black border


@cache
def marker_cells(marker_id: int) -> tuple[tuple[bool, ...], ...]:
    """Which of the 6x6 cells of marker `marker_id` are black, row by row from the top."""
    dictionary = cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY)
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, MARKER_CELLS)
    return tuple(tuple(bool(v < 128) for v in row) for row in image)
