"""What centrally published content costs an office, measured on loopback with real parts.

    .venv/bin/python bench/published_content.py            # 200 services x 5 versions, 500 contacts
    .venv/bin/python bench/published_content.py --quick    # a small run

Figures printed:
1. publish: catalogue versions signed and published per second (central store, SQLite);
2. sync: seconds for one office `sync once` to pull, check every signature and shape, and store
   the whole publication (target: <= 5 s for the full run);
3. kiosk: latency percentiles of the kiosk's service list and one service page, read from the
   ledger on every request (target: p95 <= 50 ms), and of the home page with announcements.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    services, versions, contacts, requests = (20, 2, 50, 100) if args.quick else (200, 5, 500, 500)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SEDA_HOME"] = str(Path(folder) / "central-home")
        from central.content_publisher import publish_content
        from central.store import open_store
        from conftest import ThreadedServer, make_config, make_office, service_entry  # tests/conftest.py
        from kiosk import create_app
        from sync.client import sync_once

        store = open_store(Path(folder) / "central.sqlite3")
        central = ThreadedServer(store)
        office = make_office(Path(folder), "THR-012", central.url, store)
        start = time.perf_counter()
        for s in range(services):
            for v in range(1, versions + 1):
                publish_content(store, central.keys, "catalogue", f"svc-{s:03d}@{v}",
                                service_entry(f"svc-{s:03d}", version=v, fee=1000 * v,
                                              effective_from=f"2026-0{v}-01"))
        for c in range(contacts):
            publish_content(store, central.keys, "contact", f"c-{c}", {
                "name": {"fa": f"مدیر {c}", "en": f"Manager {c}"}, "title": {"fa": "مدیر", "en": "Manager"},
                "phone": "021-1", "email": "m@example.org", "office": "THR-012" if c % 2 else ""})
        publish_content(store, central.keys, "announcement", "a1", {
            "id": "a1", "text": {"fa": "اطلاعیه", "en": "Notice"}, "starts_on": "2020-01-01",
            "ends_on": "2099-01-01"})
        published = services * versions + contacts + 1
        elapsed = time.perf_counter() - start
        print(f"publish: {published} items in {elapsed:.2f} s = {published / elapsed:.0f} items/s")
        start = time.perf_counter()
        report = sync_once(office.home)
        print(f"sync: {report.items_pulled} items pulled, checked and stored in {time.perf_counter() - start:.2f} s")
        kiosk = create_app(make_config(office.home, office="THR-012")).test_client()
        for name, path in (("service list", "/services"), ("service page", "/services/svc-007"),
                           ("home", "/")):
            kiosk.get(path)
            samples = []
            for _ in range(requests):
                t0 = time.perf_counter()
                assert kiosk.get(path).status_code == 200
                samples.append(time.perf_counter() - t0)
            print(f"kiosk {name}: {requests} requests, {percentiles(samples)},"
                  f" mean {statistics.mean(samples) * 1000:.1f} ms")
        central.stop()
    print(f"(today {date.today().isoformat()}; load: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
