"""How fast Seda prints survey sheets, and how big the PDF gets.

    .venv/bin/python bench/print_sheets.py --count 1000
    .venv/bin/python bench/print_sheets.py --count 1000 --survey-link https://portal.example.ir

Runs the real issuance path (key, ledger serials, signing, layout, PDF) into a throw-away
$SEDA_HOME, then times its parts on their own.  Target: at least 100 sheets a second, so an
office prints a month of sheets in well under a minute.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TARGET_SHEETS_PER_SECOND = 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="sheets to print (default 1000)")
    parser.add_argument("--office", default="BENCH-01", help="office code (default BENCH-01)")
    parser.add_argument("--form", default="satisfaction", help="form id (default satisfaction)")
    parser.add_argument("--survey-link", default="", metavar="PORTAL_URL",
                        help="print every sheet with its survey link (a signed token, a second QR code)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="seda-bench-") as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "home"
        os.environ["SEDA_HOME"] = str(home)  # before importing Seda: all state stays in tmp

        started = time.perf_counter()
        from forms import build_layout, builtin_catalog, render_sheets, sign
        from forms.identity_keys import ensure_office_key
        from ledger.issuance import print_sheets
        imported = time.perf_counter() - started

        form = builtin_catalog().get(args.form)
        if args.survey_link:
            ensure_office_key(home)

        # End to end, as `seda forms print` does it (first run: fonts are registered here).
        out = tmp_path / "sheets.pdf"
        started = time.perf_counter()
        run = print_sheets(home, form, args.office, args.count, out, portal_url=args.survey_link)
        total = time.perf_counter() - started
        size = out.stat().st_size

        # The parts, each on its own (warm: fonts registered, modules imported).
        started = time.perf_counter()
        layout = build_layout(form)
        layout_seconds = time.perf_counter() - started

        from forms import load_key
        key = load_key(home, args.office)
        started = time.perf_counter()
        codes = [sign(form.id, form.version, args.office, serial, key) for serial in run.serials]
        sign_seconds = time.perf_counter() - started

        started = time.perf_counter()
        render_sheets(form, layout, codes, tmp_path / "render-only.pdf")
        render_seconds = time.perf_counter() - started

    rate = args.count / total
    links = f", survey links to {args.survey_link}" if args.survey_link else ""
    print(f"form {form.id} v{form.version}, office {args.office}, {args.count} sheets{links}")
    print(f"  total (print_sheets)  {total:8.3f} s   {rate:8.1f} sheets/s")
    print(f"  PDF size              {size / 1024:8.1f} KiB  {size / args.count:8.0f} bytes/sheet")
    print("  breakdown:")
    print(f"    import forms+sync   {imported * 1000:8.1f} ms")
    print(f"    build_layout        {layout_seconds * 1000:8.1f} ms")
    print(f"    sign codes          {sign_seconds * 1000:8.1f} ms")
    print(f"    render only         {render_seconds:8.3f} s   "
          f"{args.count / render_seconds:8.1f} sheets/s")
    met = rate >= TARGET_SHEETS_PER_SECOND
    print(f"  target >= {TARGET_SHEETS_PER_SECOND:.0f} sheets/s: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
