"""Office upkeep figures: receipts drawn for the thermal printer, and backup/restore speed.

    python bench/office_ops.py [--receipts 200] [--records 100000]

Prints latency percentiles of one receipt (model -> 576-dot raster -> ESC/POS bytes; the
visitor waits for this before the printer starts) and records/s of `seda backup` and
`seda restore` on a ledger of --records cases.  Targets: receipt p95 <= 150 ms; a year of a
busy office (100,000 records) backed up in <= 30 s.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from kiosk.receipt_model import receipt_model
from kiosk.receipt_printer import escpos_bytes
from ledger.ledger import Ledger, default_ledger_path
from ledger.office_binding import claim_office
from seda.backup import restore_home, write_backup


def receipts(count: int) -> None:
    times = []
    for n in range(count):
        model = receipt_model({"tracking_code": f"{100000000 + n}", "type": "complaint", "route": "office",
                               "created_at": datetime.now(timezone.utc)}, office="LOR-03")
        start = time.perf_counter()
        escpos_bytes(model)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"receipt for the thermal printer: p50 {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * len(times)) - 1]:.1f} ms over {count} (target p95 <= 150 ms)")


def backups(records: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        claim_office(home, "LOR-03")
        with Ledger.open(default_ledger_path(home)) as ledger, ledger.transaction():
            for n in range(records):
                ledger.append("case", {"tracking_code": f"{n:09d}", "text": "صف طولانی بود " * 8},
                              office="LOR-03")
        out = Path(folder) / "b.sedabackup"
        start = time.perf_counter()
        write_backup(home, out)
        made = time.perf_counter() - start
        start = time.perf_counter()
        restore_home(out, Path(folder) / "fresh")
        restored = time.perf_counter() - start
        print(f"backup of {records:,} records: {made:.1f} s ({records / made:,.0f} records/s, "
              f"{out.stat().st_size / 1e6:.1f} MB, checked); restore {restored:.1f} s (target backup <= 30 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    receipts(args.receipts)
    backups(args.records)
