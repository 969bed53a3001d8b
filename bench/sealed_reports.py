"""What sealing costs: misconduct reports filed, found and answered, with figures.

    .venv/bin/python bench/sealed_reports.py               # 20 reports, 2 screens filing at once
    .venv/bin/python bench/sealed_reports.py --reports 200 --clients 8 --json

Everything slow in sealing is Argon2id (64 MiB, 3 passes: forms/follow_up.py), once per report
filed, once per follow-up lookup of a code that is not an ordinary case, once per sealed answer
opened.  This prints:

- ``seal_ms``: sealing one report in memory (tracking code, locator, encryption), p50/p95;
- ``file_ms``: POST /report through a real kiosk (waitress, 4 threads), filing clients at once;
- ``home_ms``: GET / measured by one more visitor while those reports are being filed (the
  kiosk must stay fast for everyone else: the hashing runs outside the ledger's write lock);
- ``follow_up_ms``: POST /follow-up with a report's code, among all reports filed;
- ``open_answer_ms``: opening one sealed answer with the code;
- ``release_ms``: moving every held report into the ledger at the end of the hour.

Figures depend on the machine and its load: the `uptime` line is printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import KioskConfig, create_app  # noqa: E402
from kiosk.cases import CaseDraft, seal_report  # noqa: E402
from kiosk.server import start_in_thread  # noqa: E402
from ledger import Ledger, default_ledger_path  # noqa: E402
from central import open_store  # noqa: E402
from central.casework import misconduct_update  # noqa: E402
from central.keys import CentralKeys  # noqa: E402
from forms.follow_up import open_answer  # noqa: E402
from ledger.sync_settings import SyncSettings, write_settings  # noqa: E402
from sync.trust import pin_central  # noqa: E402
from ledger.report_key import report_key  # noqa: E402

OFFICE = "BENCH-01"
_TOKEN = re.compile(r'name="visit" value="([^"]+)"')
_CODE = re.compile(r'data-code="(\d{12})"')


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    cuts = statistics.quantiles(values, n=100) if len(values) > 1 else [values[0]] * 99
    return {"n": len(values), "p50": round(statistics.median(values), 1), "p95": round(cuts[94], 1),
            "max": round(max(values), 1)}


class Visitor:
    """One browser: its own cookies, form tokens read from the pages."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.url + path, timeout=60) as answer:
            return answer.read().decode("utf-8")

    def post(self, path: str, data: dict) -> str:
        body = urllib.parse.urlencode(data).encode("utf-8")
        with self.opener.open(self.url + path, data=body, timeout=60) as answer:
            return answer.read().decode("utf-8")

    def report(self, n: int) -> tuple[str, float]:
        token = _TOKEN.search(self.get("/report")).group(1)
        started = time.perf_counter()
        receipt = self.post("/report", {"visit": token, "service": "other",
                                        "text": f"گزارش شماره {n}: کارمند پول خواست."})
        elapsed = (time.perf_counter() - started) * 1000
        code = _CODE.search(receipt).group(1)
        self.get("/reset")
        return code, elapsed

    def follow_up(self, code: str) -> float:
        token = _TOKEN.search(self.get("/follow-up")).group(1)
        started = time.perf_counter()
        page = self.post("/follow-up", {"visit": token, "code": code})
        elapsed = (time.perf_counter() - started) * 1000
        assert "گزارش تخلف" in page, "the report was not found with its code"
        self.get("/reset")
        return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2,
                        help="visitors filing at once (one per kiosk screen on this server)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="seda-seal-bench-"))
    central_home, home = root / "central", root / "office"
    store = open_store(central_home / "central.sqlite3")
    keys = CentralKeys(central_home, store)
    settings = SyncSettings(office=OFFICE, central_url="")
    write_settings(home, settings)
    pin_central(home, settings, keys.setup_document())
    with Ledger.open(default_ledger_path(home)) as ledger:
        target = report_key(home, ledger)

    draft = CaseDraft(type="misconduct", service="other", text="متن گزارش", anonymous=True)
    seal_ms = []
    for _ in range(10):
        started = time.perf_counter()
        seal_report(draft, office=OFFICE, report_key=target)
        seal_ms.append((time.perf_counter() - started) * 1000)

    config = KioskConfig.load(home, office=OFFICE, secret_key="bench", max_cases_per_minute=0,
                              max_cases_per_visit=0)
    kiosk = start_in_thread(create_app(config), threads=4)
    file_ms: list[float] = []
    home_ms: list[float] = []
    codes: list[str] = []
    lock = threading.Lock()
    remaining = list(range(args.reports))
    filing = threading.Event()
    filing.set()

    def filer() -> None:
        visitor = Visitor(kiosk.url)
        while True:
            with lock:
                if not remaining:
                    return
                n = remaining.pop()
            code, elapsed = visitor.report(n)
            with lock:
                codes.append(code)
                file_ms.append(elapsed)

    def browser() -> None:
        visitor = Visitor(kiosk.url)
        while filing.is_set():
            started = time.perf_counter()
            visitor.get("/")
            home_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)

    watcher = threading.Thread(target=browser)
    watcher.start()
    filers = [threading.Thread(target=filer) for _ in range(args.clients)]
    started = time.perf_counter()
    for thread in filers:
        thread.start()
    for thread in filers:
        thread.join()
    filing_seconds = time.perf_counter() - started
    filing.clear()
    watcher.join()

    follow_visitor = Visitor(kiosk.url)
    follow_ms = [follow_visitor.follow_up(code) for code in codes[:10]]
    kiosk.stop()

    with Ledger.open(default_ledger_path(home)) as ledger:
        held = ledger.held_count()
        (case,) = ledger.held("follow_up", ledger.held("type", "misconduct")[0].body["follow_up"])
        started = time.perf_counter()
        released = ledger.release_held(datetime.now(timezone.utc) + timedelta(hours=2))
        release_ms = (time.perf_counter() - started) * 1000
    opened = keys.open_body(case.body)
    update = misconduct_update(case.body, "answered", "2026-01-01T10:00:00Z", answer="پاسخ",
                               opener=keys.open_body)
    open_ms = []
    for _ in range(5):
        started = time.perf_counter()
        assert open_answer(update["answer_sealed"], opened["tracking_code"], case.body["follow_up"]) == "پاسخ"
        open_ms.append((time.perf_counter() - started) * 1000)

    figures = {
        "uptime": os.popen("uptime").read().strip(),
        "reports": args.reports, "clients": args.clients, "held": held, "released": released,
        "reports_per_second": round(len(codes) / filing_seconds, 1),
        "seal_ms": percentiles(seal_ms), "file_ms": percentiles(file_ms),
        "home_ms_while_filing": percentiles(home_ms), "follow_up_ms": percentiles(follow_ms),
        "open_answer_ms": percentiles(open_ms), "release_ms": round(release_ms, 1),
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(f"load: {figures['uptime']}")
        print(f"{len(codes)} reports by {args.clients} clients in {filing_seconds:.1f} s "
              f"({figures['reports_per_second']}/s); {held} held, {released} released in {release_ms:.1f} ms")
        for name in ("seal_ms", "file_ms", "home_ms_while_filing", "follow_up_ms", "open_answer_ms"):
            row = figures[name]
            print(f"  {name:<22} n={row['n']:<4} p50={row.get('p50')} ms  p95={row.get('p95')} ms  "
                  f"max={row.get('max')} ms")
    ok = len(codes) == args.reports == held == released
    print("PASS" if ok else "FAIL: every report filed must be held, then released")
    store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
