"""Shared helpers for the kiosk tests: a fresh $SEDA_HOME, the app, staff accounts, a live server.

Test modules import the fixtures they use by name (``from kiosk_fixtures import ...``); the live
server is real waitress on 127.0.0.1 and a random port, as on the office machine.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk import KioskConfig, create_app
from kiosk.accounts import AccountStore
from kiosk.server import start_in_thread
from ledger import Ledger, default_ledger_path

import kiosk

OFFICE = "LOR-01"
MANAGER = ("manager", "correct horse battery")
OPERATOR = ("operator", "scanner staple 42x")
VALID_NATIONAL_ID = "0499370899"
VALID_MOBILE = "09123456789"

#: Real recordings as the voice page sends them (see tests/audio_samples/record.py), and an
#: Ogg Opus file (what Firefox records): one of the kiosk's read-aloud clips.
AUDIO_SAMPLES = Path(__file__).resolve().parent / "audio_samples"
WEBM_RECORDING = AUDIO_SAMPLES / "chromium-opus.webm"
MP4_RECORDING = AUDIO_SAMPLES / "chromium-opus.mp4"
VIDEO_RECORDING = AUDIO_SAMPLES / "chromium-video.webm"
OGG_RECORDING = Path(kiosk.__file__).resolve().parent / "static" / "audio" / "satisfaction-v1-desk.ogg"

# Flood limits stay on but high enough not to get in a functional test's way.
TEST_SETTINGS = dict(office=OFFICE, kiosk_id="test-kiosk", secret_key="test-secret",
                     testing=True, max_cases_per_minute=1000, max_cases_per_visit=100)


def make_config(home: Path, **overrides) -> KioskConfig:
    return KioskConfig.load(home, **{**TEST_SETTINGS, **overrides})


def add_staff(home: Path) -> None:
    config = make_config(home)
    with AccountStore(config.state_folder / "accounts.sqlite3") as store:
        store.add(MANAGER[0], "office_manager", MANAGER[1])
        store.add(OPERATOR[0], "scanner_operator", OPERATOR[1])


def open_ledger(home: Path) -> Ledger:
    return Ledger.open(default_ledger_path(home))


@pytest.fixture
def kiosk_home(tmp_path: Path) -> Path:
    home = tmp_path / "seda-home"
    home.mkdir()
    return home


@pytest.fixture
def app(kiosk_home: Path):
    return create_app(make_config(kiosk_home))


@pytest.fixture
def client(app):
    return app.test_client()


def visit_token(html: str) -> str:
    """The form token the server put into a page (every visitor POST must carry it)."""
    match = re.search(r'name="visit" value="([^"]+)"', html) or \
        re.search(r'data-visit-token="([^"]+)"', html)
    assert match, "page has no visit token"
    return match.group(1)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def staff_login(client, who=MANAGER):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post("/staff/login", data={"name": who[0], "password": who[1],
                                             "csrf_token": csrf_token(page)})


@dataclass
class LiveKiosk:
    url: str
    home: Path
    config: KioskConfig
    app: object


def start_live(home: Path, **overrides) -> tuple[LiveKiosk, callable]:
    """Serve the kiosk with waitress in a thread; returns the server and a stop function."""
    config = make_config(home, **overrides)
    app = create_app(config)
    server = start_in_thread(app, threads=8)
    return LiveKiosk(url=server.url, home=home, config=config, app=app), server.stop


@pytest.fixture
def live_kiosk(kiosk_home: Path) -> Iterator[LiveKiosk]:
    live, stop = start_live(kiosk_home)
    try:
        yield live
    finally:
        stop()
