"""The citizens' portal under load: phones browsing, filing and following up at once.

    .venv/bin/python bench/portal_load.py                      # 50 phones, 60 s, SQLite
    .venv/bin/python bench/portal_load.py --clients 20 --seconds 10
    .venv/bin/python bench/portal_load.py --store postgresql://...

The portal runs under waitress in --workers forked processes (as ``seda central portal serve`` does) on
127.0.0.1 with a fresh central store; the clients run here (in --client-processes processes),
each a phone walking home ->
catalogue -> filing form -> file a complaint -> follow it up with its code and last four
digits -> start again, over keep-alive connections.  All phones share one address, so the
per-address limits are raised for the run (they are tested in tests/central/test_portal.py).

Printed: requests/s, client latency p50/p95/p99 for pages and for filing, errors, and the
load average before and after.  Targets (issue #14): p95 < 100 ms for pages, < 200 ms for
filing, 0 errors, every filed case stored once (checked in the store afterwards).
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SUBMISSION = re.compile(rb'name="submission" value="([0-9a-f]{32})"')
CODE = re.compile(rb'data-code="(\d+)"')


def serve(store_url: str, port_file: str, workers: int, threads: int) -> None:
    """The server process: the portal on a random port, limits raised for one address, served
    by ``workers`` forked processes as ``seda central portal serve --workers`` does."""
    sys.path.insert(0, str(ROOT))
    from central.portal.app import create_portal_app
    from central.portal.settings import PortalSettings
    from central.prefork import listening_sockets, serve_workers
    from central.server import waitress_options
    from central.store import open_store

    settings = PortalSettings(filings_per_address_per_hour=10 ** 9,
                              lookups_per_address_per_minute=10 ** 9)
    open_store(store_url).close()  # the schema, once, before the workers start
    sockets = listening_sockets("127.0.0.1", 0, workers)
    Path(port_file).write_text(str(sockets[0].getsockname()[1]))
    serve_workers(sockets, lambda: create_portal_app(open_store(store_url), settings=settings),
                  threads=threads, ident="seda-portal", options=waitress_options)


class Phone(threading.Thread):
    def __init__(self, port: int, stop_at: float, results: dict, filed: list, lock) -> None:
        super().__init__(daemon=True)
        self.port, self.stop_at = port, stop_at
        self.results, self.filed, self.lock = results, filed, lock
        self.errors: list[str] = []

    def _request(self, conn, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = {"Connection": "keep-alive"}
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()

    def timed(self, conn, kind: str, method: str, path: str, body: dict | None = None,
              expected: int = 200) -> bytes:
        start = time.perf_counter()
        status, content = self._request(conn, method, path, body)
        elapsed = time.perf_counter() - start
        with self.lock:
            self.results[kind].append(elapsed)
            self.results[f"{method} {path}"].append(elapsed)  # the breakdown per route
        if status != expected:
            self.errors.append(f"{method} {path}: {status}")
        return content

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        n = 0
        while time.time() < self.stop_at:
            try:
                self.timed(conn, "page", "GET", "/")
                self.timed(conn, "page", "GET", "/services")
                form = self.timed(conn, "page", "GET", "/file")
                submission = SUBMISSION.search(form).group(1).decode()
                n += 1
                mobile = f"0912{n % 10_000_000:07d}"
                filed = self.timed(conn, "filing", "POST", "/file", {
                    "submission": submission, "type": "complaint", "service": "smart_id_card",
                    "text": f"صف طولانی بود {n}", "mobile": mobile}, expected=201)
                code = CODE.search(filed).group(1).decode()
                with self.lock:
                    self.filed.append(code)
                self.timed(conn, "page", "POST", "/follow", {"code": code, "last4": mobile[-4:]})
            except (OSError, http.client.HTTPException, AttributeError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()


def run_phones(port: int, stop_at: float, count: int) -> tuple[dict[str, list[float]], list[str], list[str]]:
    """``count`` phones in this process until ``stop_at``: their timings, filed codes, errors."""
    results: dict[str, list[float]] = defaultdict(list)
    filed: list[str] = []
    lock = threading.Lock()
    phones = [Phone(port, stop_at, results, filed, lock) for _ in range(count)]
    for phone in phones:
        phone.start()
    for phone in phones:
        phone.join()
    return dict(results), filed, [e for phone in phones for e in phone.errors]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--store", default=None, help="postgresql://... (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes (default: the number of CPUs, as the portal's serve)")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the phones are spread over (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process (default 4, as serve)")
    parser.add_argument("--serve", nargs=4, metavar=("STORE", "PORT_FILE", "WORKERS", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]), int(args.serve[3]))
        return 0
    work = Path(tempfile.mkdtemp(prefix="seda-portal-bench-"))
    store_url = args.store or str(work / "central.sqlite3")
    port_file = work / "port"
    env = {**os.environ, "SEDA_HOME": str(work)}
    server = subprocess.Popen([sys.executable, __file__, "--serve", store_url, str(port_file), str(args.workers),
                               str(args.threads)], env=env)
    try:
        for _ in range(300):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.1)
        port = int(port_file.read_text())
        load_before = os.getloadavg()
        results: dict[str, list[float]] = defaultdict(list)
        filed: list[str] = []
        errors: list[str] = []
        # Phones are separate devices: spread over processes, so that one Python process's
        # lock on its threads does not queue the phones' own requests and inflate the figures.
        shares = [args.clients // args.client_processes + (i < args.clients % args.client_processes)
                  for i in range(args.client_processes)]
        started = time.time()
        before = os.times()
        with multiprocessing.get_context("fork").Pool(len(shares)) as pool:
            for timings, codes, failures in pool.starmap(
                    run_phones, [(port, started + args.seconds, n) for n in shares if n]):
                for kind, values in timings.items():
                    results[kind].extend(values)
                filed.extend(codes)
                errors.extend(failures)
        elapsed = time.time() - started
        phones_done = os.times()
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(10)
    server_done = os.times()
    sys.path.insert(0, str(ROOT))
    from central.store import open_store

    store = open_store(store_url)
    with store.connect() as db:
        stored = dict(db.all("SELECT tracking_code, count(*) FROM records WHERE kind = 'case'"
                             " GROUP BY tracking_code"))
    missing = [c for c in filed if stored.get(c) != 1]
    total = sum(len(v) for k, v in results.items() if " " not in k)
    print(f"portal load: {args.clients} phones, {elapsed:.0f} s, store {store.dialect},"
          f" {args.workers} server processes x {args.threads} threads, phones in {args.client_processes} processes")
    print(f"  requests: {total} ({total / elapsed:.0f}/s), cases filed: {len(filed)} "
          f"({len(filed) / elapsed:.1f}/s), stored once: {len(filed) - len(missing)}/{len(filed)}")
    for kind, target in (("page", 100), ("filing", 200)):
        values = results[kind]
        if values:
            print(f"  {kind:<7} n={len(values):>6}  p50 {percentile(values, 50):6.1f} ms  "
                  f"p95 {percentile(values, 95):6.1f} ms  p99 {percentile(values, 99):6.1f} ms  "
                  f"mean {statistics.mean(values) * 1000:6.1f} ms  (target p95 < {target} ms)")
    print("  per route: " + ", ".join(
        f"{route} p50 {percentile(values, 50):.0f} / p95 {percentile(values, 95):.0f} ms"
        for route, values in sorted(results.items()) if " " in route))
    print(f"  errors: {len(errors)}" + (f" e.g. {errors[:3]}" if errors else ""))
    # CPU of the waited-for processes: the phones' pool, then the server and its workers
    phones_cpu = (phones_done.children_user + phones_done.children_system
                  - before.children_user - before.children_system)
    server_cpu = (server_done.children_user + server_done.children_system
                  - phones_done.children_user - phones_done.children_system)
    if total:
        print(f"  CPU per request: server {server_cpu / total * 1000:.2f} ms, phones {phones_cpu / total * 1000:.2f} ms"
              f" ({server_cpu / elapsed:.2f} + {phones_cpu / elapsed:.2f} of {os.cpu_count()} cores busy)")
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min), "
          f"{os.cpu_count()} cores")
    return 1 if errors or missing else 0


if __name__ == "__main__":
    sys.exit(main())
