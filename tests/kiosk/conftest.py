"""The kiosk tests' own fixtures: real recordings as the voice page sends them.

The recordings are real MediaRecorder output (re-recorded with tests/kiosk/audio_samples/record.py);
the Ogg Opus file (what Firefox records) is one of the kiosk's read-aloud clips.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import kiosk

AUDIO_SAMPLES = Path(__file__).resolve().parent / "audio_samples"
#: name -> (file, the media type the kiosk must recognise it as)
RECORDINGS = {
    "webm": (AUDIO_SAMPLES / "chromium-opus.webm", "audio/webm"),
    "mp4": (AUDIO_SAMPLES / "chromium-opus.mp4", "audio/mp4"),
    "ogg": (Path(kiosk.__file__).resolve().parent / "static" / "audio" / "satisfaction-v1-desk.ogg", "audio/ogg"),
}


@pytest.fixture(scope="session")
def webm_recording() -> Path:
    """Chromium's voice recording (Opus in WebM)."""
    return RECORDINGS["webm"][0]


@pytest.fixture(scope="session")
def mp4_recording() -> Path:
    """Safari-style voice recording (AAC/Opus in MP4)."""
    return RECORDINGS["mp4"][0]


@pytest.fixture(scope="session")
def ogg_recording() -> Path:
    """Ogg Opus, what Firefox records."""
    return RECORDINGS["ogg"][0]


@pytest.fixture(scope="session")
def video_recording() -> Path:
    """A WebM with a video track: not a voice recording."""
    return AUDIO_SAMPLES / "chromium-video.webm"


@pytest.fixture(params=sorted(RECORDINGS))
def recording(request) -> tuple[Path, str]:
    """Each recording the voice page can send, with its media type."""
    return RECORDINGS[request.param]
