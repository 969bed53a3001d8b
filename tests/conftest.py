"""Fixtures every package's tests share; tests ask for them by name (see ``pytest --fixtures``).

- Every test runs with its own ``$SEDA_HOME``, so nothing (keys the central server makes on start,
  settings, ledgers) is ever written to the real user's data folder.  A test that needs a
  particular home sets ``SEDA_HOME`` itself (``monkeypatch.setenv``), which wins over this one.
- Central stores on SQLite and PostgreSQL (``store_url``, ``store``), a real central server on
  127.0.0.1 (``central``, ``serve_central``), office installations (``make_office``) and the
  "exactly the union" check.  PostgreSQL variants run when ``SEDA_TEST_POSTGRES_URL`` is set
  (scripts/postgres-for-tests.sh prints it) and are skipped otherwise; each test gets its own
  schema, dropped afterwards, so tests run in parallel (pytest-xdist) without meeting.
- The kiosk: a fresh home, the app, staff accounts, a live waitress server on a random port.
- Paper: sheets printed once per module with the real issuing code (``printed_sheets``) and the
  pen-and-scanner tools that mark and distort their images (``fill``, ``rotate``, ``save`` ...).
- A central installation whose oversight key offices pin (``central_install``, ``sealed_office``).
- Debian's Chromium through Playwright (``browser``, one per test process), axe-core and the
  screenshots folder (``$SEDA_SCREENSHOTS``, a temporary folder unless set).

Plain helpers are offered as session fixtures that return the function (``_offer``).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from werkzeug.serving import make_server

import forms
from central import Store, create_app as create_central_app, open_store
from central.keys import CentralKeys
from kiosk import KioskConfig, create_app
from kiosk.accounts import AccountStore
from kiosk.server import start_in_thread
from ledger.issuance import print_sheets
from ledger.ledger import Ledger, default_ledger_path
from forms.identity_keys import ensure_office_key
from forms.office_identity import write_office
from forms.signatures import public_key_hex
from ledger.sync_settings import SyncSettings, write_settings
from sync.trust import pin_central


def _offer(helper: Callable, name: str | None = None):
    """A session fixture that hands tests ``helper`` by name (plain helpers, no import)."""

    def fixture():
        return helper

    fixture.__doc__ = helper.__doc__
    return pytest.fixture(scope="session", name=name or helper.__name__)(fixture)


def _value(value: Any, name: str, doc: str):
    """A session fixture that hands tests a constant by name."""

    def fixture():
        return value

    fixture.__doc__ = doc
    return pytest.fixture(scope="session", name=name)(fixture)


@pytest.fixture(autouse=True)
def private_seda_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SEDA_HOME", str(tmp_path_factory.mktemp("seda-home")))


# -- central stores ---------------------------------------------------------------------------

POSTGRES_ENV = "SEDA_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def fresh_store_url(backend: str, folder: Path) -> Iterator[str]:
    """A URL for an empty central store of ``backend``; PostgreSQL gets a private schema."""
    if backend == "sqlite":
        yield str(folder / "central.sqlite3")
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI"):  # CI must prove the PostgreSQL store, never skip it
            pytest.fail(f"{POSTGRES_ENV} is not set in CI (scripts/test.sh starts PostgreSQL)")
        pytest.skip(f"{POSTGRES_ENV} is not set (run scripts/postgres-for-tests.sh)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path: Path) -> Iterator[str]:
    with fresh_store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


# -- a real central server in a thread ---------------------------------------------


class ThreadedServer:
    """The central app on 127.0.0.1 with a real HTTP server (werkzeug, threaded)."""

    def __init__(self, store: Store, home: Path | None = None) -> None:
        self.store = store
        app = create_central_app(store, home=home)  # home: the central installation's keys
        self.keys = app.extensions["seda.central_keys"]  # the sync key offices pin
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def central(store: Store) -> Iterator[ThreadedServer]:
    server = ThreadedServer(store)
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


fresh_store_url_fixture = _offer(fresh_store_url)
serve_central = _offer(ThreadedServer, "serve_central")
free_port_fixture = _offer(free_port)


# -- offices ------------------------------------------------------------------------------------


@dataclass
class Office:
    """One office installation: its own $SEDA_HOME, ledger, key and settings."""

    code: str
    home: Path

    @property
    def ledger_path(self) -> Path:
        return default_ledger_path(self.home)

    def ledger(self) -> Ledger:
        return Ledger.open(self.ledger_path)

    def add_records(self, count: int, *, attachments: int = 0, kind: str = "survey_response") -> None:
        """Append ``count`` records and ``attachments`` attachment records in one transaction."""
        with self.ledger() as ledger, ledger.transaction():
            for i in range(count):
                ledger.append(kind, {"answers": {"q1": i % 5}, "n": uuid.uuid4().hex}, office=self.code)
            for _ in range(attachments):
                ledger.add_attachment(os.urandom(256) + b"PNG", "image/png", office=self.code,
                                      meta={"of": "comment"})

    def uuids(self) -> set[str]:
        with self.ledger() as ledger:
            return {r.uuid for r in ledger.records() if r.office == self.code}


def make_office(root: Path, code: str, central_url: str, store: Store | None = None, *,
                batch_records: int = 1000, timeout: float = 10.0) -> Office:
    """Set up an office folder (settings, key) and register it with ``store`` if given."""
    home = root / code
    write_office(home, code)  # as `seda office setup` does (the ledger is left unbound here)
    write_settings(home, SyncSettings(office=code, central_url=central_url, batch_records=batch_records,
                                      interval_seconds=0.05, max_backoff_seconds=0.2,
                                      timeout_seconds=timeout))
    key, _ = ensure_office_key(home)
    if store is not None:
        store.add_office(code, public_key_hex(key))
    with Ledger.open(default_ledger_path(home)):
        pass
    return Office(code, home)


# -- the property every scenario ends with ---------------------------------------------


def assert_exactly_the_union(store: Store, offices: list[Office]) -> None:
    """The central store holds every office record exactly once, as written, with its blobs."""
    expected: dict[str, dict] = {}
    for office in offices:
        with office.ledger() as ledger:
            for record in ledger.records():
                if record.office == office.code:
                    expected[record.uuid] = {"kind": record.kind, "office": record.office,
                                             "body": record.body}
    stored = store.records()
    uuids = [r["uuid"] for r in stored]
    assert len(uuids) == len(set(uuids)), "a record is stored twice"
    assert set(uuids) == set(expected), (
        f"missing {len(set(expected) - set(uuids))}, unexpected {len(set(uuids) - set(expected))}")
    for record in stored:
        want = expected[record["uuid"]]
        assert (record["kind"], record["office"], record["body"]) == (
            want["kind"], want["office"], want["body"])
        if record["kind"] == "attachment":
            data = store.blob(record["body"]["sha256"])
            assert data is not None, "attachment bytes missing centrally"
            assert hashlib.sha256(data).hexdigest() == record["body"]["sha256"]
            assert len(data) == record["body"]["size"]



def sync_until_done(home: Path, attempts: int = 60) -> int:
    """Run sync_once until one complete contact succeeds; returns how many tries it took."""
    from sync.client import sync_once
    from sync.transport import TransportError

    for attempt in range(1, attempts + 1):
        try:
            report = sync_once(home)
        except TransportError:
            continue
        if report.waiting == 0:
            return attempt
    raise AssertionError(f"{home} did not finish syncing in {attempts} attempts")


def service_entry(service_id: str = "passport", *, version: int = 1, fee: int = 1000,
                  effective_from: str = "2026-01-01", documents: tuple[str, ...] = ("کارت ملی",)) -> dict:
    """A well-formed catalogue version body (sync/content.py)."""
    return {"id": service_id, "name": {"fa": "گذرنامه", "en": "Passport"},
            "documents": [{"fa": d, "en": d} for d in documents], "fee_rials": fee,
            "time": {"fa": "۷ روز", "en": "7 days"}, "legal_basis": {"fa": "قانون", "en": "Act"},
            "version": version, "effective_from": effective_from}


def publish_signed(central: ThreadedServer, feed: str, key: str, content: dict, *, office: str = "") -> int:
    """Publish a content item as the central web app does: signed by the central key."""
    from central.content_publisher import publish_content

    return publish_content(central.store, central.keys, feed, key, content, office=office)


office_install = _offer(Office, "office_install")
service_entry_fixture = _offer(service_entry)
publish_signed_fixture = _offer(publish_signed)
make_office_fixture = _offer(make_office)
assert_exactly_the_union_fixture = _offer(assert_exactly_the_union)
sync_until_done_fixture = _offer(sync_until_done)


# -- the kiosk -----------------------------------------------------------------------------------

OFFICE = "LOR-01"
MANAGER = ("manager", "correct horse battery")
OPERATOR = ("operator", "scanner staple 42x")
VALID_NATIONAL_ID = "0499370899"
VALID_MOBILE = "09123456789"

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


office_code = _value(OFFICE, "office_code", "The office code of the test kiosk and its printed sheets.")
manager_account = _value(MANAGER, "manager_account", "(name, password) of the office manager add_staff makes.")
operator_account = _value(OPERATOR, "operator_account", "(name, password) of the scanner operator add_staff makes.")
valid_national_id = _value(VALID_NATIONAL_ID, "valid_national_id", "A national ID whose check digit is right.")
valid_mobile = _value(VALID_MOBILE, "valid_mobile", "A well-formed Iranian mobile number.")
make_config_fixture = _offer(make_config)
add_staff_fixture = _offer(add_staff)
open_ledger_fixture = _offer(open_ledger)
visit_token_fixture = _offer(visit_token)
csrf_token_fixture = _offer(csrf_token)
staff_login_fixture = _offer(staff_login)
start_live_fixture = _offer(start_live)


# -- paper: printed sheets and what pens and scanners do to them --------------------------------

FORM_ID = "satisfaction"
SHEET_COUNT = 12
DPI = 150                      # the scanner's low end: fast, and what cheap scanners give
PEN = 25                       # a blue/black ballpoint fill, as grey
FAINT = 200                    # a light pencil touch: neither clearly empty nor clearly marked

FILLED_ANSWERS: dict[str, Any] = {
    "service": "smart_id_card",
    "workflow": 4,
    "matched_announcement": "partly",
    "staff_behaviour": 5,
    "waiting_time": "10_30",
    "overall": 2,
    "desk": "07",
    "mobile": VALID_MOBILE,
    "follow_up_consent": "yes",
}


def form():
    return forms.builtin_catalog().get(FORM_ID)


def satisfaction_v2() -> dict[str, Any]:
    """A second version of the shipped form as the central office would upload it: «waiting_time»
    swapped for a cleanliness question (adding one would not fit the sheet)."""
    import yaml

    raw = yaml.safe_load((forms.definition.builtin_definitions_folder() / "satisfaction.v1.yaml").read_text(encoding="utf-8"))
    scale = raw["questions"][1]["options"]
    raw["questions"] = [q for q in raw["questions"] if q["id"] != "waiting_time"]
    raw["questions"].insert(4, {"id": "cleanliness", "kind": "single", "scale": True, "options": scale,
                                "label": {"fa": "نظافت و آراستگی محل چگونه بود؟",
                                          "en": "How clean and tidy was the office?"}})
    raw.pop("version")
    return raw


def all_null() -> dict[str, Any]:
    """Every question of the form, unanswered: what a blank sheet reads."""
    return {q.id: None for q in form().questions}


def layout():
    return forms.build_layout(form())


def question_ids() -> list[str]:
    return [q.id for q in form().questions]


# -- printing ---------------------------------------------------------------------------------


@dataclass
class Printed:
    """One print run: its home (key + ledger), the PDF, and the page images by dpi."""

    home: Path
    pdf: Path
    serials: range
    key: bytes
    _pages: dict[int, list[np.ndarray]] = field(default_factory=dict)

    def page(self, index: int, dpi: int = DPI) -> np.ndarray:
        """A fresh (writable) grey image of sheet `index` (0-based) at `dpi`."""
        if dpi not in self._pages:
            self._pages[dpi] = rasterise(self.pdf, dpi)
        return self._pages[dpi][index].copy()

    def copy_home(self, target: Path) -> Path:
        """A private copy of the installation, for a test that writes to the ledger."""
        shutil.copytree(self.home, target)
        return target


def print_run(tmp: Path, count: int = SHEET_COUNT) -> Printed:
    home = tmp / "home"
    pdf = tmp / "sheets.pdf"
    run = print_sheets(home, form(), OFFICE, count, pdf)
    key = forms.load_key(home, OFFICE)
    assert key is not None
    return Printed(home=home, pdf=pdf, serials=run.serials, key=key)


@pytest.fixture(scope="session")
def printed_sheets(tmp_path_factory) -> Printed:
    """Sheets printed once per test process and rasterised once per dpi, read-only: a test
    that writes to the ledger works on its own copy of the home (`copy_home`)."""
    return print_run(tmp_path_factory.mktemp("printed"))


def render_code_pages(out: Path, codes: Iterable[forms.SheetCode], the_form=None) -> Path:
    """A PDF with one sheet per given code, without touching any ledger (forgeries, oddities)."""
    the_form = the_form or form()
    forms.render_sheets(the_form, forms.build_layout(the_form), list(codes), out)
    return out


def rasterise(pdf: Path, dpi: int = DPI) -> list[np.ndarray]:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [np.array(page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
                for page in document]
    finally:
        document.close()


# -- filling in -------------------------------------------------------------------------------


def pt_to_px(value: float, dpi: int = DPI) -> float:
    return value * dpi / 72


def boxes_for(answers: Mapping[str, Any]) -> list[tuple[float, float, float, float]]:
    """Layout boxes (points) to mark for `answers`: an option value, or a digit string for a
    grid (one digit per column; a None/space in the string leaves that column empty)."""
    by_id = {q.id: q for q in layout().questions}
    boxes = []
    for qid, value in answers.items():
        question = by_id[qid]
        if question.kind == "digits":
            for column, digit in zip(question.columns, value):
                if digit in (None, " "):
                    continue
                boxes.extend(box for v, box in column if v == digit)
        else:
            values = value if isinstance(value, (list, tuple)) else [value]
            found = [box for v, box in question.options if v in values]
            assert len(found) == len(values), f"{qid}: no box for {value!r}"
            boxes.extend(found)
    return boxes


def draw_marks(image: np.ndarray, boxes: Iterable[tuple[float, float, float, float]],
               dpi: int = DPI, grey: int = PEN, fill: float = 0.9) -> np.ndarray:
    """Fill disks (radius `fill` of the box radius) at page-point boxes, in place."""
    for x, y, w, h in boxes:
        centre = (round(pt_to_px(x + w / 2, dpi)), round(pt_to_px(y + h / 2, dpi)))
        radius = max(1, round(pt_to_px(w / 2, dpi) * fill))
        cv2.circle(image, centre, radius, int(grey), thickness=-1, lineType=cv2.LINE_AA)
    return image


def fill(image: np.ndarray, answers: Mapping[str, Any], dpi: int = DPI,
         grey: int = PEN) -> np.ndarray:
    return draw_marks(image, boxes_for(answers), dpi, grey)


def write_comment(image: np.ndarray, dpi: int = DPI) -> np.ndarray:
    """A few lines of scribble inside the comment box, like handwriting."""
    (text_box,) = [q.box for q in layout().questions if q.kind == "text"]
    x, y, w, h = text_box
    rng = np.random.default_rng(7)
    for line in range(4):
        base_y = y + 30 + line * 22
        points = []
        for step in range(40):
            px = x + 15 + step * (w - 30) / 40
            py = base_y + rng.uniform(-5, 5)
            points.append((round(pt_to_px(px, dpi)), round(pt_to_px(py, dpi))))
        cv2.polylines(image, [np.array(points, np.int32)], False, 30, thickness=max(2, dpi // 75))
    return image


def blank_out(image: np.ndarray, box: tuple[float, float, float, float], dpi: int = DPI,
              margin: float = 4.0) -> np.ndarray:
    """Paint a white rectangle over a page-point box (plus margin), in place."""
    x, y, w, h = box
    p0 = (round(pt_to_px(x - margin, dpi)), round(pt_to_px(y - margin, dpi)))
    p1 = (round(pt_to_px(x + w + margin, dpi)), round(pt_to_px(y + h + margin, dpi)))
    cv2.rectangle(image, p0, p1, 255, thickness=-1)
    return image


# -- print-and-scan effects -------------------------------------------------------------------


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise by `degrees`, growing the canvas, white outside the page."""
    quarter = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180,
               270: cv2.ROTATE_90_CLOCKWISE}
    if degrees % 360 in quarter:
        return cv2.rotate(image, quarter[degrees % 360])
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def shrink_on_page(image: np.ndarray, scale: float) -> np.ndarray:
    """The sheet printed at `scale` (e.g. 0.95 "fit to page") on a page of the same size."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    page = np.full_like(image, 255)
    top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    page[top:top + small.shape[0], left:left + small.shape[1]] = small
    return page


# -- saving -----------------------------------------------------------------------------------


def save(image: np.ndarray, path: Path, **params) -> Path:
    """Save one grey image in the format named by the suffix (JPEG, PNG, TIFF, PDF)."""
    path = Path(path)
    pil = Image.fromarray(image)
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        pil.save(path, "JPEG", quality=params.pop("quality", 90), **params)
    elif suffix == ".pdf":
        save_pdf([image], path)
    else:
        pil.save(path, **params)
    return path


def save_tiff(images: list[np.ndarray], path: Path) -> Path:
    first, *rest = [Image.fromarray(i) for i in images]
    first.save(path, format="TIFF", save_all=True, append_images=rest, compression="tiff_lzw")
    return path


def save_pdf(images: list[np.ndarray], path: Path, dpi: int = DPI) -> Path:
    """A scanned-to-PDF stack: each image one page at its true size for `dpi`."""
    first, *rest = [Image.fromarray(i) for i in images]
    first.save(path, format="PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return path


def jpeg_bytes(image: np.ndarray, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, **kwargs)
    return buffer.getvalue()


# -- sheets that are not alone, not whole, not flat -------------------------------------------


def place_on_canvas(pages: list[np.ndarray], size: tuple[int, int], placements: list[tuple],
                    background: int = 90) -> np.ndarray:
    """Pages laid on a darker table, later ones on top: each placement is (centre_x, centre_y,
    degrees turned counter-clockwise, scale)."""
    width, height = size
    canvas = np.full((height, width), background, np.uint8)
    for page, (cx, cy, degrees, scale) in zip(pages, placements):
        h, w = page.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
        matrix[:, 2] += (cx - w / 2, cy - h / 2)
        warped = cv2.warpAffine(page, matrix, (width, height), flags=cv2.INTER_AREA, borderValue=0)
        mask = cv2.warpAffine(np.full_like(page, 255), matrix, (width, height),
                              flags=cv2.INTER_NEAREST, borderValue=0)
        canvas[mask > 0] = warped[mask > 0]
    return canvas


def crooked_feed(page: np.ndarray, degrees: float, scale: float = 0.96,
                 lid: int = 245) -> np.ndarray:
    """The sheet fed crooked into a scanner whose window is the page's own size: the corners
    that stick out are cut off."""
    h, w = page.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    return cv2.warpAffine(page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=lid)


def crumple(page: np.ndarray, amplitude_pt: float, dpi: int = DPI, seed: int = 3) -> np.ndarray:
    """A smooth random displacement of up to `amplitude_pt` (knots about 70 mm apart)."""
    h, w = page.shape
    rng = np.random.default_rng(seed)
    knots = (max(3, h // int(200 * dpi / 72) + 3), max(3, w // int(200 * dpi / 72) + 3))
    dx = cv2.resize(rng.normal(0, 1, knots).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(rng.normal(0, 1, knots).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    peak = float(np.sqrt(dx * dx + dy * dy).max())
    dx *= pt_to_px(amplitude_pt, dpi) / peak
    dy *= pt_to_px(amplitude_pt, dpi) / peak
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(page, xx + dx, yy + dy, cv2.INTER_LINEAR, borderValue=255)


def on_letter(page: np.ndarray, scale: float, dpi: int = DPI) -> np.ndarray:
    """The A4 page on a US Letter page (612 x 792 pt) at `scale`, centred; what does not fit
    is cut off."""
    h, w = page.shape
    out_w, out_h = round(pt_to_px(612, dpi)), round(pt_to_px(792, dpi))
    matrix = np.array([[scale, 0, (out_w - w * scale) / 2], [0, scale, (out_h - h * scale) / 2]],
                      np.float32)
    return cv2.warpAffine(page, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=255)


def strike_out(image: np.ndarray, box: tuple[float, float, float, float], dpi: int = DPI) -> np.ndarray:
    """An answer struck out: the circle filled, then a heavy zig-zag scribbled well past it."""
    draw_marks(image, [box], dpi)
    x, y, w, h = box
    cx, cy, reach = x + w / 2, y + h / 2, w / 2 * 1.4
    points = []
    for n in range(12):
        px = cx - reach + n * (2 * reach / 11)
        py = cy - reach if n % 2 == 0 else cy + reach
        points.append((round(pt_to_px(px, dpi)), round(pt_to_px(py, dpi))))
    cv2.polylines(image, [np.array(points, np.int32)], False, PEN,
                  thickness=max(2, round(pt_to_px(2.0, dpi))))
    return image


def one_bit(image: np.ndarray, threshold: int = 150, dithered: bool = False) -> np.ndarray:
    """A 1-bit (black and white) scan of the page: a fixed threshold, or greys dithered into
    black dots as many scanners do."""
    if dithered:
        return np.array(Image.fromarray(image).convert("1")).astype(np.uint8) * 255
    return np.where(image > threshold, 255, 0).astype(np.uint8)


filled_answers = _value(FILLED_ANSWERS, "filled_answers", "A whole sheet's answers, every kind of question marked.")
faint_grey = _value(FAINT, "faint_grey", "A light pencil touch: neither clearly empty nor clearly marked.")
scan_dpi = _value(DPI, "scan_dpi", "The resolution sheets are rasterised at (a cheap scanner's).")
form_id = _value(FORM_ID, "form_id", "The form the sheets are printed from.")
satisfaction_form = _value(form(), "satisfaction_form", "The shipped satisfaction form's definition.")
satisfaction_layout = _value(layout(), "satisfaction_layout", "The satisfaction form's layout map.")
blank_answers = _value(all_null(), "blank_answers", "Every question unanswered: what a blank sheet reads.")
question_ids_fixture = _value(question_ids(), "question_ids", "The satisfaction form's question ids in order.")
for _helper in (satisfaction_v2, render_code_pages, rasterise, pt_to_px, boxes_for, draw_marks, fill, write_comment, blank_out,
                rotate, shrink_on_page, save, save_tiff, save_pdf, jpeg_bytes, place_on_canvas, crooked_feed,
                crumple, on_letter, strike_out, one_bit):
    globals()[f"{_helper.__name__}_fixture"] = _offer(_helper)


# -- a central installation that offices trust ---------------------------------------------------


@dataclass
class CentralInstall:
    home: Path
    store: Store
    keys: CentralKeys

    def document(self, *, with_oversight: bool = True) -> dict:
        document = self.keys.setup_document()
        if not with_oversight:
            document = {k: v for k, v in document.items() if k != "oversight_key"}
        return document

    def set_up(self, office_home: Path, *, with_oversight: bool = True, office: str = OFFICE) -> None:
        """What `seda sync setup --office OFFICE --central-file FILE` does at the office."""
        settings = SyncSettings(office=office, central_url="")
        write_settings(office_home, settings)
        pin_central(office_home, settings, self.document(with_oversight=with_oversight))


def make_central_install(home: Path) -> CentralInstall:
    """A central installation in ``home`` (close ``.store`` when done)."""
    store = open_store(home / "central.sqlite3")
    install = CentralInstall(home, store, CentralKeys(home, store))
    install.keys.oversight_statement()  # made with the store, as the server does at start
    return install


@pytest.fixture
def central_install(tmp_path: Path):
    install = make_central_install(tmp_path / "central-home")
    yield install
    install.store.close()


@pytest.fixture
def sealed_office(kiosk_home: Path, central_install: CentralInstall) -> Path:
    central_install.set_up(kiosk_home)
    return kiosk_home


@pytest.fixture
def central_key_office(kiosk_home: Path, central_install: CentralInstall) -> Path:
    central_install.set_up(kiosk_home, with_oversight=False)
    return kiosk_home


make_central_install_fixture = _offer(make_central_install)


# -- Debian's Chromium ---------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
#: Tests write their screenshots outside the tracked tree; `scripts/screenshots.sh` points this
#: at docs/screenshots/ to refresh the pictures the docs show.
SCREENSHOTS = Path(os.environ.get("SEDA_SCREENSHOTS") or Path(tempfile.gettempdir()) / "seda-screenshots")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run",
        # the voice page records from a fake microphone, allowed without asking
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

@pytest.fixture(scope="session")
def browser():
    """Chromium with our flags, one per test process (each test opens its own context)."""
    if not CHROMIUM.exists():  # pragma: no cover - the install script provides it
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the browser tests: /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where browser tests write their screenshots (``$SEDA_SCREENSHOTS``, else a temp folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def axe_violations(page, *, with_summary: bool = False) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    node = "n.target.join(' ') + ' :: ' + n.failureSummary" if with_summary else "n.target.join(' ')"
    return page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        f" nodes: v.nodes.map(n => {node}).slice(0, 5)}}))", WCAG)


axe_violations_fixture = _offer(axe_violations)


@pytest.fixture(autouse=True)
def quick_password_hashes(request, monkeypatch):
    """argon2 at its production cost (64 MiB, 3 passes) takes about a second a hash on a busy
    2-core machine, and a page test signs in half a dozen people: hashes made by tests use the
    cheapest parameters instead.  Tests that check the production cost are marked ``real_argon2``
    and see the real hasher."""
    if request.node.get_closest_marker("real_argon2"):
        return
    from argon2 import PasswordHasher

    import central.accounts
    import kiosk.accounts

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(central.accounts, "_hasher", quick)
    monkeypatch.setattr(kiosk.accounts, "_hasher", quick)

