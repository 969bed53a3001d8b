"""Health at the centre with many offices: p50/p95 latency of the offices page and /metrics.

    .venv/bin/python bench/central_health.py                        # 500 offices, SQLite
    .venv/bin/python bench/central_health.py --offices 2000 --repeat 50
    .venv/bin/python bench/central_health.py --store postgresql     # $SEDA_TEST_POSTGRES_URL (own schema)

A fresh central store gets N registered offices, each with a health report (waiting, refused,
stranded, version, kiosk heartbeat, the feed cursor it pulled up to), batches and records,
some refusals, a feed with shared and per-office items (so every office has a lag and an
oldest unpulled item), open cases past their deadline in several units and "not solved"
verdicts.  The central app is served over HTTP on 127.0.0.1 (werkzeug, threaded); an
administrator signs in through the login form, then the offices page and /metrics (with the
bearer token) are each fetched --repeat times, one at a time, after one warm-up fetch.

Target (issue #16): p95 < 200 ms for each, at 500 offices; printed beside the figures with the
load average, since the machine may be shared.
"""
from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from collections.abc import Iterator
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from central import accounts, open_store  # noqa: E402
from central.app import create_app  # noqa: E402
from central.store import Store  # noqa: E402
from forms.signatures import public_key_hex  # noqa: E402
from sync.batch import format_time  # noqa: E402

TARGET_MS = 200.0
TOKEN = "bench-metrics-token"
PASSWORD = "bench-password-1234"
UNITS = ("cards", "births", "records", "certificates", "oversight-bench")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def fresh_store(kind: str) -> Iterator[Store]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = open_store(Path(folder) / "central.sqlite3")
            yield store
            store.close()
        return
    import psycopg

    base = os.environ.get("SEDA_TEST_POSTGRES_URL")
    if not base:
        sys.exit("--store postgresql needs $SEDA_TEST_POSTGRES_URL")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    store = open_store(f"{base}{separator}options={quote(f'-csearch_path={schema}')}")
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def load(store: Store, offices: int, seed: int = 7) -> None:
    """N offices with everything the offices page and /metrics read."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    codes = [f"OF-{i:04d}" for i in range(offices)]
    key = public_key_hex(Ed25519PrivateKey.generate().public_key())  # one key serves: never verified here
    for code in codes:
        store.add_office(code, key)
    stamp = format_time(now)
    with store.write() as db:
        for unit in UNITS:
            db.execute("INSERT INTO units (code, name_fa, name_en, kind, created_at)"
                       " VALUES (?, ?, ?, 'unit', ?)", (unit, f"واحد {unit}", f"Unit {unit}", stamp))
        cursors = db.one("SELECT value FROM counters WHERE name = 'feed'")[0]
        feed_rows = []
        for i in range(offices * 4):  # a quarter shared, the rest per office
            cursors += 1
            office = "" if i % 4 == 0 else rng.choice(codes)
            moment = format_time(now - timedelta(minutes=offices * 4 - i))
            feed_rows.append((cursors, "case_update" if office else "catalogue", f"k{i}", office, 0,
                              json.dumps({"n": i}), moment))
        db.executemany("INSERT INTO feed (cursor, feed, key, office, deleted, body, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)", feed_rows)
        db.execute("UPDATE counters SET value = ? WHERE name = 'feed'", (cursors,))
        batches, records, refusals, health, cases, feedback = [], [], [], [], [], []
        for n, code in enumerate(codes):
            last = now - timedelta(hours=rng.choice((1, 2, 5, 30, 80)))
            for seq in range(1, 4):
                batches.append((code, "%064x" % rng.getrandbits(256), seq, 10, 10, 0, 0, "http",
                                format_time(last)))
            for _ in range(10):
                uid = str(uuid.uuid4())
                records.append((uid, code, "survey_response", format_time(last), "{}",
                                "%064x" % rng.getrandbits(256), None, "bench", format_time(last)))
            if n % 5 == 0:
                refusals.append((format_time(last), code, "bad_signature", "bench", "http"))
            report = {"waiting": rng.randrange(50), "refused_batches": rng.randrange(2),
                      "refused_blobs": 0, "stranded": 0, "pull_cursor": rng.randrange(cursors),
                      "version": "1.0.0", "kiosk_seen_at": format_time(last)}
            health.append((code, format_time(last), rng.randrange(-30, 30), json.dumps(report, sort_keys=True)))
            for c in range(4):
                uid = str(uuid.uuid4())
                unit = UNITS[(n + c) % len(UNITS)]
                due = now - timedelta(days=rng.randrange(-10, 10))
                cases.append((uid, code, f"{n:06d}{c:06d}", "complaint", "smart_id_card", unit,
                              rng.choice(("routed", "in_progress", "answered")),
                              format_time(due - timedelta(days=14)), format_time(due), stamp))
                if c == 0:
                    feedback.append((uid, unit, stamp, rng.randrange(2), "kiosk", format_time(last)))
        db.executemany("INSERT INTO batches (office, content_sha256, seq, count, new, duplicate, conflict,"
                       " source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batches)
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint, tracking_code,"
                       " receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", records)
        db.executemany("INSERT INTO refusals (received_at, office, code, detail, source) VALUES (?, ?, ?, ?, ?)",
                       refusals)
        db.executemany("INSERT INTO office_health (office, received_at, clock_offset, report)"
                       " VALUES (?, ?, ?, ?)", health)
        db.executemany("INSERT INTO cases (uuid, office, tracking_code, case_type, service, unit, status,"
                       " received_at, due_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cases)
        db.executemany("INSERT INTO case_feedback (case_uuid, unit, at, solved, channel, answered_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", feedback)
    accounts.add_user(store, "benchadmin", "admin", PASSWORD, display_name="Bench")


class Client:
    """One keep-alive HTTP connection with the session cookie."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                kept = [c for c in self.cookie.split("; ") if c and c.split("=")[0] != pair.split("=")[0]]
                self.cookie = "; ".join([*kept, pair])
        return response.status, data

    def sign_in(self) -> None:
        _, page = self.request("GET", "/login")
        status, _ = self.request("POST", "/login", urlencode(
            {"name": "benchadmin", "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)}))
        if status != 302:
            sys.exit(f"sign-in failed: HTTP {status}")


def timed(client: Client, path: str, repeat: int, headers: dict[str, str] | None = None,
          check: str = "") -> list[float]:
    status, body = client.request("GET", path, headers=headers)  # warm-up: caches, templates
    if status != 200 or check not in body:
        sys.exit(f"GET {path}: HTTP {status}, {check!r} missing")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        status, _ = client.request("GET", path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            sys.exit(f"GET {path}: HTTP {status}")
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(kind: str, offices: int, repeat: int) -> bool:
    with fresh_store(kind) as store:
        start = time.perf_counter()
        load(store, offices)
        print(f"[{kind}] loaded {offices} offices in {time.perf_counter() - start:.1f} s")
        app = create_app(store, metrics_token=TOKEN)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            client = Client(server.server_port)
            client.sign_in()
            results = {
                "offices page": timed(client, "/offices/", repeat, check='data-office="OF-0000"'),
                "/metrics": timed(client, "/metrics", repeat, {"Authorization": f"Bearer {TOKEN}"},
                                  check='seda_office_feed_oldest_unpulled_age_seconds{office="OF-0000"}'),
            }
        finally:
            server.shutdown()
    ok = True
    for name, times in results.items():
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        met = p95 < TARGET_MS
        ok &= met
        print(f"[{kind}] {name:13s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (target p95 < {TARGET_MS:.0f} ms"
              f" at 500 offices: {'met' if met else 'MISSED'})  load {os.getloadavg()[0]:.2f}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    kinds = ("sqlite", "postgresql") if args.store == "both" else (args.store,)
    ok = all([run(kind, args.offices, args.repeat) for kind in kinds])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
