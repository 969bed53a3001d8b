"""Kiosk under load: latency of the visitor pages and of filing a case, many clients at once.

    .venv/bin/python bench/kiosk_load.py                 # 20 clients, 30 seconds
    .venv/bin/python bench/kiosk_load.py --clients 50 --seconds 10

The kiosk runs in its own process under waitress (as `seda kiosk serve` does) on 127.0.0.1,
with a fresh $SEDA_HOME; the clients run here, each a visitor walking home -> screen ->
complaint -> receipt -> start again, with keep-alive connections and their own cookies.

Two latencies are reported per request kind: the *server* time (measured inside the server
process, around the WSGI call, and sent back in a Server-Timing header) and the *client*
time (round trip seen by the visitor, which also includes the client's own Python threads).
The target in issue 4 is server p95 < 50 ms.  Afterwards every tracking code a client was
shown is looked up in the ledger: an accepted case that is not there is a failure.

    .venv/bin/python bench/kiosk_load.py --clients 4 --uploads 4 --seconds 60

adds staff uploaders (issue 11 item 8): each signs in as a scanner operator and keeps
uploading an 8-page PDF of 2700 x 2700 pt pages (a 3 KB file that renders to 56 million
pixels a page, just under the scanner's limit: the kind of upload that once held every
waitress thread for over a minute).  Visitor pages must stay under the same p95 target while
the uploads are read; a "queue full" answer (503) is counted, not an error.  The load average
before and after is printed beside the figures.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
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
sys.path.insert(0, str(ROOT))

SERVER_CODE = r"""
import logging, sys, time, waitress
logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" chatter
from pathlib import Path
from kiosk import KioskConfig, create_app

from kiosk.accounts import AccountStore

home, port, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.setswitchinterval(float(sys.argv[4]))
config = KioskConfig.load(home, office="BENCH-01", kiosk_id="bench", secret_key="bench",
                          max_cases_per_minute=0, max_cases_per_visit=0)
with AccountStore(config.state_folder / "accounts.sqlite3") as accounts:
    if accounts.get("bench") is None:
        accounts.add("bench", "scanner_operator", "bench scanner password")
app = create_app(config)

def timed(environ, start_response):
    started = time.perf_counter()
    def start(status, headers, exc_info=None):
        # The body of these pages is produced before start_response, so this is the app's time.
        ms = (time.perf_counter() - started) * 1000
        return start_response(status, headers + [("Server-Timing", f"app;dur={ms:.3f}")], exc_info)
    return app(environ, start)

print("ready", flush=True)
waitress.serve(timed, host="127.0.0.1", port=port, threads=threads, ident="seda-bench",
               _quiet=True)
"""

TOKEN = re.compile(r'name="visit" value="([^"]+)"')
CODE = re.compile(r'data-code="(\d+)"')
TIMING = re.compile(r"app;dur=([0-9.]+)")
PAGES = ["/", "/survey/1", "/survey/2", "/services", "/services/smart_id_card", "/contact",
         "/follow-up", "/report", "/voice"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Visitor:
    """One client: a keep-alive connection and the kiosk's session cookie."""

    def __init__(self, port: int, stats: "Stats") -> None:
        self.port = port
        self.stats = stats
        self.cookie = ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, kind: str, method: str, path: str, body: dict | None = None,
                expect: tuple[int, ...] = (200,)) -> str:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.stats.error(kind, f"{type(exc).__name__}: {exc}")
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return ""
        client_ms = (time.perf_counter() - started) * 1000
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        timing = TIMING.search(response.getheader("Server-Timing") or "")
        if response.status not in expect:
            self.stats.error(kind, f"HTTP {response.status} for {method} {path}")
            return text
        self.stats.add(kind, client_ms, float(timing.group(1)) if timing else None)
        return text

    def visit(self, n: int) -> None:
        self.request("page", "GET", PAGES[n % len(PAGES)])
        html = self.request("page", "GET", "/case")
        token = TOKEN.search(html)
        if not token:
            self.stats.error("case", "no visit token on /case")
            return
        self.request("case_submit", "POST", "/case", {
            "visit": token.group(1), "type": "complaint", "service": "smart_id_card",
            "text": f"بار آزمایشی شماره {n}: صف طولانی بود", "mobile": "09123456789",
        }, expect=(302,))
        receipt = self.request("page", "GET", "/receipt")
        code = CODE.search(receipt)
        if code:
            self.stats.accepted(code.group(1))
        else:
            self.stats.error("case", "no tracking code on the receipt")
        self.request("page", "GET", "/reset", expect=(302,))


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def heavy_pdf(pages: int = 8, side_pt: float = 2700.0) -> bytes:
    """A few kilobytes that render to ``pages`` pages of 56 megapixels each at 200 dpi."""
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(side_pt, side_pt))
    for number in range(pages):
        pdf.drawString(72, 72, f"page {number + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


class Uploader:
    """A scanner operator uploading the same heavy PDF again and again."""

    def __init__(self, port: int, stats: "Stats", pdf: bytes) -> None:
        self.visitor = Visitor(port, stats)
        self.pdf = pdf

    def sign_in(self) -> None:
        page = self.visitor.request("staff", "GET", "/staff/login")
        token = CSRF.search(page)
        self.visitor.request("staff", "POST", "/staff/login?next=/staff/scan",
                             {"name": "bench", "password": "bench scanner password",
                              "csrf_token": token.group(1) if token else ""}, expect=(302,))

    def upload(self) -> None:
        v = self.visitor
        page = v.request("staff", "GET", "/staff/scan")
        token = CSRF.search(page)
        if not token:
            v.stats.error("upload", "no csrf token on /staff/scan")
            return
        boundary = "sedabench"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                f"{token.group(1)}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"files\"; filename=\"heavy.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
                ).encode() + self.pdf + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Cookie": v.cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        started = time.perf_counter()
        try:
            v.conn.request("POST", "/staff/scan", body=body, headers=headers)
            response = v.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            v.stats.error("upload", f"{type(exc).__name__}: {exc}")
            v.conn.close()
            v.conn = http.client.HTTPConnection("127.0.0.1", v.port, timeout=30)
            return
        cookie = response.getheader("Set-Cookie")
        if cookie:
            v.cookie = cookie.split(";", 1)[0]
        v.stats.upload(response.status, (time.perf_counter() - started) * 1000)
        if response.status == 503:  # the queue is full: try again a little later
            time.sleep(1.0)


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client: dict[str, list[float]] = defaultdict(list)
        self.server: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.codes: list[str] = []
        self.uploads: dict[int, int] = defaultdict(int)
        self.upload_ms: list[float] = []

    def upload(self, status: int, ms: float) -> None:
        with self.lock:
            self.uploads[status] += 1
            self.upload_ms.append(ms)
            if status not in (303, 503):
                self.errors[f"upload answered HTTP {status}"] += 1

    def add(self, kind: str, client_ms: float, server_ms: float | None) -> None:
        with self.lock:
            self.client[kind].append(client_ms)
            if server_ms is not None:
                self.server[kind].append(server_ms)

    def error(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors[message] += 1

    def accepted(self, code: str) -> None:
        with self.lock:
            self.codes.append(code)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": round(cuts[49], 2), "p95": round(cuts[94], 2),
            "p99": round(cuts[98], 2), "max": round(max(values), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--server-threads", type=int, default=4,
                        help="waitress threads (default 4, as `seda kiosk serve`)")
    parser.add_argument("--switch-interval", type=float, default=0.005,
                        help="the server's sys.setswitchinterval (Python's default 0.005)")
    parser.add_argument("--uploads", type=int, default=0,
                        help="staff uploaders sending a heavy 8-page PDF over and over (default 0)")
    parser.add_argument("--home", type=Path, help="SEDA_HOME to use (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    home = args.home or Path(tempfile.mkdtemp(prefix="seda-kiosk-bench-"))
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER_CODE, str(home), str(port),
                               str(args.server_threads), str(args.switch_interval)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env={**os.environ, "SEDA_HOME": str(home)})
    try:
        assert server.stdout.readline().strip() == "ready"
        for _ in range(100):  # wait for the socket
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        stats = Stats()
        deadline = time.monotonic() + args.seconds

        def client(index: int) -> None:
            visitor = Visitor(port, stats)
            n = index
            while time.monotonic() < deadline:
                visitor.visit(n)
                n += args.clients

        pdf = heavy_pdf() if args.uploads else b""

        def uploader() -> None:
            staff = Uploader(port, stats, pdf)
            staff.sign_in()
            while time.monotonic() < deadline:
                staff.upload()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        threads += [threading.Thread(target=uploader) for _ in range(args.uploads)]
        load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    finally:
        server.terminate()
        server.wait(timeout=10)

    jobs: dict[str, int] = defaultdict(int)  # what became of each upload (kiosk/scan_queue.py)
    for job_file in (home / "kiosk" / "scans").glob("*/job.json"):
        jobs[json.loads(job_file.read_text(encoding="utf-8")).get("state", "?")] += 1

    from ledger import Ledger, default_ledger_path
    with Ledger.open(default_ledger_path(home)) as ledger:
        stored = {r.body["tracking_code"] for r in ledger.records("case")}
    missing = [code for code in stats.codes if code not in stored]
    duplicates = len(stats.codes) - len(set(stats.codes))

    requests = sum(len(v) for v in stats.client.values())
    figures = {
        "clients": args.clients, "seconds": round(elapsed, 1), "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "server_ms": {kind: percentiles(v) for kind, v in sorted(stats.server.items())},
        "client_ms": {kind: percentiles(v) for kind, v in sorted(stats.client.items())},
        "errors": dict(stats.errors),
        "cases_accepted": len(stats.codes), "cases_in_ledger": len(stored),
        "accepted_but_missing": len(missing), "duplicate_codes": duplicates,
        "uploaders": args.uploads, "uploads": {str(k): v for k, v in sorted(stats.uploads.items())},
        "upload_answer_ms": percentiles(stats.upload_ms), "upload_jobs": dict(jobs),
        "load_average_before": load_before, "load_average_after": load_after,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{args.clients} clients for {elapsed:.1f} s: {requests} requests "
              f"({figures['requests_per_second']}/s), server threads {args.server_threads}")
        for label, table in (("server", figures["server_ms"]), ("client", figures["client_ms"])):
            for kind, row in table.items():
                print(f"  {label:<6} {kind:<12} n={row['n']:<6} p50={row.get('p50')} ms  "
                      f"p95={row.get('p95')} ms  p99={row.get('p99')} ms  max={row.get('max')} ms")
        print(f"  errors: {sum(stats.errors.values())} {dict(stats.errors) or ''}")
        print(f"  cases accepted {len(stats.codes)}, in ledger {len(stored)}, "
              f"accepted but missing {len(missing)}, duplicate codes {duplicates}")
        if args.uploads:
            queued, full = stats.uploads.get(303, 0), stats.uploads.get(503, 0)
            row = figures["upload_answer_ms"]
            print(f"  uploads by {args.uploads} staff: {queued} queued, {full} refused as queue full; "
                  f"answer p50={row.get('p50')} ms p95={row.get('p95')} ms; jobs {dict(jobs)}")
            page = figures["server_ms"].get("page", {})
            client_page = figures["client_ms"].get("page", {})
            print(f"  visitor pages while uploads ran: server p50={page.get('p50')} ms "
                  f"p95={page.get('p95')} ms, client p50={client_page.get('p50')} ms "
                  f"p95={client_page.get('p95')} ms (target p95 < 50 ms)")
        if load_before and load_after:
            print("  load average (1, 5, 15 min): before " + " ".join(f"{x:.2f}" for x in load_before)
                  + ", after " + " ".join(f"{x:.2f}" for x in load_after))
    worst_p95 = max((row.get("p95", 0) for kind, row in figures["server_ms"].items()
                     if kind != "staff"), default=0)
    ok = not stats.errors and not missing and not duplicates and worst_p95 < 50
    print("PASS" if ok else "FAIL: target is server p95 < 50 ms, no errors, nothing missing")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
