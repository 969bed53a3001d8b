"""How fast the central server takes in office records, end to end on loopback.

    .venv/bin/python bench/sync_ingest.py                 # 50 offices x 10,000 records, SQLite
    .venv/bin/python bench/sync_ingest.py --store both    # ... and PostgreSQL ($SEDA_TEST_POSTGRES_URL)
    .venv/bin/python bench/sync_ingest.py --quick         # a small run (a few seconds)

Two figures, each from a real `seda central serve` (waitress) process and real office clients
(their own processes, their own ledgers, signing and compressing every batch):

1. ingest: N offices push M records each at the same time (survey responses, and one case in
   20, which the server routes to a unit and gives a deadline as it stores it); records/s from
   the first request to the last acknowledgement (targets: >= 20,000 records/s on SQLite);
2. backlog: one office back after a week offline with 5,000 records and 500 image
   attachments; seconds for one `sync once` to deliver all of it (target: <= 10 s).

Preparing the offices' ledgers is not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central import open_store  # noqa: E402
from sync.client import sync_once  # noqa: E402
from forms.identity_keys import ensure_office_key  # noqa: E402
from forms.signatures import public_key_hex  # noqa: E402
from ledger.ledger import Ledger, default_ledger_path  # noqa: E402
from ledger.sync_settings import SyncSettings, write_settings  # noqa: E402

SEDA = str(Path(sys.executable).with_name("seda"))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def central_server(store_url: str, home: Path, threads: int):
    port = free_port()
    env = {**os.environ, "SEDA_HOME": str(home)}
    proc = subprocess.Popen([SEDA, "central", "serve", "--store", store_url, "--port", str(port),
                             "--threads", str(threads)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/v1/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("central server did not start")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def store_url_for(backend: str, folder: Path):
    if backend == "sqlite":
        yield str(folder / "central.sqlite3")
        return
    base = os.environ.get("SEDA_BENCH_POSTGRES_URL") or os.environ.get("SEDA_TEST_POSTGRES_URL")
    if not base:
        raise SystemExit("PostgreSQL run needs SEDA_BENCH_POSTGRES_URL or SEDA_TEST_POSTGRES_URL")
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


#: One record in this many is a case (a complaint, request, ...): the central server routes it
#: and sets its deadline in the same transaction, which costs more than a survey response.
CASE_EVERY = 20


def case_item(office: str, i: int) -> dict:
    """A kiosk-shaped case record; the tracking code only has to be unique per office."""
    return {"kind": "case", "office": office,
            "body": {"tracking_code": f"{i:012d}", "type": ("complaint", "request", "suggestion")[i % 3],
                     "service": "smart_id_card", "text": f"متن نمونه‌ی شکایت شماره {i}", "anonymous": False,
                     "mobile": "09121234567", "channel": "kiosk", "route": "office", "attachments": []}}


def prepare_office(args: tuple[str, str, str, int, int, int, int]) -> str:
    """Make an office folder with ``records`` records and ``images`` attachments (untimed)."""
    home, code, url, records, images, image_bytes, batch = args
    home_path = Path(home)
    write_settings(home_path, SyncSettings(office=code, central_url=url, batch_records=batch,
                                           timeout_seconds=300))
    key, _ = ensure_office_key(home_path)
    with Ledger.open(default_ledger_path(home_path)) as ledger:
        items = [case_item(code, i) if i % CASE_EVERY == CASE_EVERY - 1 else
                 {"kind": "survey_response", "office": code,
                  "body": {"form": "satisfaction", "answers": {"q1": i % 5, "q2": [1, 3], "q3": "خوب"},
                           "sheet": f"S1-{code}-{i}"}} for i in range(records)]
        ledger.append_many(items)
        with ledger.transaction():
            for i in range(images):
                ledger.add_attachment(os.urandom(image_bytes), "image/png", office=code,
                                      meta={"of": f"comment-{i}"})
    return public_key_hex(key)


def push(home: str) -> tuple[int, float]:
    started = time.perf_counter()
    report = sync_once(Path(home))
    if report.waiting:
        raise RuntimeError(f"{home}: {report.waiting} records still waiting")
    return report.records_new + report.records_duplicate, time.perf_counter() - started


def run_ingest(backend: str, offices: int, records: int, batch: int, workers: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="seda-bench-") as folder, \
            store_url_for(backend, Path(folder)) as url:
        root = Path(folder)
        store = open_store(url)
        with central_server(url, root / "central", threads) as central_url:
            codes = [f"B{n:03d}-01" for n in range(offices)]
            homes = [str(root / code) for code in codes]
            with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
                keys = list(pool.map(prepare_office, [(h, c, central_url, records, 0, 0, batch)
                                                       for h, c in zip(homes, codes)]))
            for code, key in zip(codes, keys):
                store.add_office(code, key)
            started = time.perf_counter()
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(push, homes))
            elapsed = time.perf_counter() - started
        stored = store.record_count()
        with store.connect() as db:
            routed = db.one("SELECT count(*) FROM cases")[0]
        store.close()
    sent = sum(n for n, _ in results)
    if stored != offices * records:
        raise SystemExit(f"expected {offices * records} records centrally, found {stored}")
    if routed != offices * (records // CASE_EVERY):
        raise SystemExit(f"expected {offices * (records // CASE_EVERY)} cases routed, found {routed}")
    return {"backend": backend, "offices": offices, "records": sent, "seconds": round(elapsed, 2),
            "records_per_second": round(sent / elapsed)}


def run_backlog(backend: str, records: int, images: int, image_bytes: int, batch: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="seda-bench-") as folder, \
            store_url_for(backend, Path(folder)) as url:
        root = Path(folder)
        store = open_store(url)
        with central_server(url, root / "central", 8) as central_url:
            home = root / "WEEK-01"
            key = prepare_office((str(home), "WEEK-01", central_url, records, images, image_bytes, batch))
            store.add_office("WEEK-01", key)
            started = time.perf_counter()
            report = sync_once(home)
            elapsed = time.perf_counter() - started
        stored = store.record_count()
        store.close()
    if stored != records + images or report.blobs_sent != images:
        raise SystemExit(f"backlog incomplete: {stored} records, {report.blobs_sent} blobs")
    return {"backend": backend, "records": records, "attachments": images,
            "attachment_bytes": images * image_bytes, "seconds": round(elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="5 offices x 1,000 records; small backlog")
    parser.add_argument("--offices", type=int, default=50)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2000, help="records per batch")
    parser.add_argument("--workers", type=int, default=min(50, 2 * (os.cpu_count() or 2)),
                        help="office client processes pushing at once")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args()
    if args.quick:
        args.offices, args.records = 5, 1000
    backlog = (500, 50) if args.quick else (5000, 500)
    backends = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    if not args.json and hasattr(os, "getloadavg"):  # other work on the machine skews the figures
        print(f"{os.cpu_count()} CPUs, load average before the run: "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    for backend in backends:
        ingest = run_ingest(backend, args.offices, args.records, args.batch, args.workers, args.threads)
        week = run_backlog(backend, *backlog, image_bytes=40_000, batch=args.batch)
        if args.json:
            print(json.dumps({"ingest": ingest, "backlog": week}))
            continue
        print(f"[{backend}] ingest: {ingest['offices']} offices x {args.records:,} records = "
              f"{ingest['records']:,} records in {ingest['seconds']} s -> "
              f"{ingest['records_per_second']:,} records/s end to end")
        print(f"[{backend}] backlog: {week['records']:,} records + {week['attachments']} images "
              f"({week['attachment_bytes'] / 1e6:.0f} MB) delivered in {week['seconds']} s")
    shutil.rmtree(ROOT / "bench" / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
