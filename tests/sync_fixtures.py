"""Shared pieces of the sync tests: central stores on SQLite and PostgreSQL, a real server on
127.0.0.1, office installations in temporary folders, and the "exactly the union" check.

Import the fixtures by name in a test module (``from sync_fixtures import store_url, ...``).
PostgreSQL variants run when ``SEDA_TEST_POSTGRES_URL`` is set (scripts/postgres-for-tests.sh
prints it) and are skipped otherwise; each test gets its own schema, dropped afterwards.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from central import Store, create_app, open_store
from sync.identity import ensure_office_key, public_key_hex
from ledger.ledger import Ledger, default_ledger_path
from sync.settings import SyncSettings, write_settings

POSTGRES_ENV = "SEDA_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


# -- central stores -------------------------------------------------------------


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
        app = create_app(store, home=home)  # home: the central installation's keys
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


# -- offices -------------------------------------------------------------------------


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


# -- a fault-injecting proxy between office and central ------------------------------------

FAULT_MODES = ("pass", "delay", "drop_request", "truncate_request", "drop_response",
               "truncate_response", "duplicate", "error_5xx", "error_5xx_after")


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that misbehaves on purpose, one HTTP request per connection.

    ``plan()`` picks each connection's fate from :data:`FAULT_MODES`:

    - ``pass`` / ``delay``: forward (after 0.2 s);
    - ``drop_request``: hang up before forwarding anything;
    - ``truncate_request``: forward the headers and half the body, then hang up on both;
    - ``drop_response``: forward the whole request, let the server finish, answer nothing;
    - ``truncate_response``: forward, then relay only half the server's answer;
    - ``duplicate``: send the request to the server twice at once, relay the second answer;
    - ``error_5xx``: answer 503 without asking the server;
    - ``error_5xx_after``: let the server do the work, then answer 502 anyway.
    """

    def __init__(self, upstream_port: int | list[int], plan) -> None:
        # Several upstream ports make it a round-robin load balancer over server processes.
        self.upstream_ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
        self._turn = itertools.count()
        self.plan = plan
        self.seen: list[str] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._listener.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.plan()
                self.seen.append(mode)
                port = self.upstream_ports[next(self._turn) % len(self.upstream_ports)]
            threading.Thread(target=self._handle, args=(client, mode, port), daemon=True).start()

    @staticmethod
    def _read_request(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    @staticmethod
    def _forward(request: bytes, port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as upstream:
            upstream.sendall(request)
            response = b""
            while True:
                chunk = upstream.recv(1 << 20)
                if not chunk:
                    return response
                response += chunk

    def _handle(self, client: socket.socket, mode: str, port: int) -> None:
        client.settimeout(30)
        try:
            request = self._read_request(client)
            if not request or mode == "drop_request":
                return
            if mode == "error_5xx":
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
                               b"Content-Length: 19\r\nConnection: close\r\n\r\n<h1>try later</h1>\n")
                return
            if mode == "truncate_request":
                head, _, body = request.partition(b"\r\n\r\n")
                with socket.create_connection(("127.0.0.1", port), timeout=5) as upstream:
                    upstream.sendall(head + b"\r\n\r\n" + body[: len(body) // 2])
                return
            if mode == "delay":
                time.sleep(0.2)
            if mode == "duplicate":
                results: list[bytes] = []
                twin = threading.Thread(target=lambda: results.append(self._forward(request, port)))
                twin.start()
                response = self._forward(request, port)
                twin.join()
            else:
                response = self._forward(request, port)
            if mode == "drop_response":
                return
            if mode == "truncate_response":
                response = response[: max(1, len(response) // 2)]
            if mode == "error_5xx_after":
                response = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                            b"Connection: close\r\n\r\n")
            client.sendall(response)
        except OSError:
            pass
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()


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


def publish_signed(central: "ThreadedServer", feed: str, key: str, content: dict, *, office: str = "") -> int:
    """Publish a content item as the central web app does: signed by the central key."""
    from central.content_publisher import publish_content

    return publish_content(central.store, central.keys, feed, key, content, office=office)
