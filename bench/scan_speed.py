"""How fast the scanner reads 200 dpi A4 JPEG scans of filled sheets.

    python bench/scan_speed.py [--pages N] [--dir DIR] [--json]

Makes N (default 300) filled-sheet scans with the corpus code (condition scan200), then
measures: decoding alone (cv2.imdecode to grey with the process's default memory settings, then
with `scanner.images.keep_page_memory`, which lets each page reuse the last one's buffer instead
of page-faulting fresh memory, then as the scanner decodes: `scanner.images.decode_jpeg`,
libjpeg-turbo through simplejpeg, the same pixels), a full read on one core
(scanner.images.iter_pages + scanner.page.read_page with the pipeline's look-ups, the process
pinned to one CPU so OpenCV's threads cannot borrow the other), and pages per second with both
cores (a Pool of 2 workers, each reading files end to end).  The one-core figures are printed as
wall time and as the process's own CPU time: on a shared machine the wall time also counts the
time other programs held the core.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scan_corpus  # noqa: E402

TARGET_PAGES_PER_S = 100.0
TARGET_MS_PER_PAGE_CORE = 15.0

_LOOKUPS = None


def _init(home: str) -> None:
    global _LOOKUPS
    from scanner.pipeline import make_lookups

    # the look-ups `seda scan` reads with (each office key read from disk once), no ledger
    _LOOKUPS = make_lookups(Path(home), None)
    # warm up imports (pyzbar's native library, cv2 detectors) outside the timing
    from scanner import qr  # noqa: F401


def read_file(path: str) -> tuple[int, int]:
    """(pages read, pages accepted or in review) for one file."""
    from scanner.images import iter_pages
    from scanner.page import read_page

    read = ok = 0
    for image in iter_pages(path):
        read += 1
        if image.gray is not None:
            result = read_page(image.gray, _LOOKUPS, source=path, page=image.page, seen=set())
            ok += result.status != "rejected"
    return read, ok


def make_scans(out_dir: Path, pages: int, seed: int = 7) -> list[Path]:
    scan_corpus.build_corpus(out_dir, sheets=pages, seed=seed, conditions=["scan200"],
                             log=lambda m: None)
    return sorted((out_dir / "images" / "scan200").glob("*.jpg"))


def measure(files: list[Path], home: Path) -> dict:
    import cv2
    import numpy as np

    datas = [f.read_bytes() for f in files]

    def decode_all(decode) -> tuple[float, float]:
        for data in datas[:5]:
            decode(data)
        t0, c0 = time.perf_counter(), time.process_time()
        for data in datas:
            decode(data)
        return ((time.perf_counter() - t0) * 1000 / len(datas),
                (time.process_time() - c0) * 1000 / len(datas))

    def opencv(data: bytes) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)

    pinned = hasattr(os, "sched_setaffinity")
    all_cpus = os.sched_getaffinity(0) if pinned else None
    if pinned:   # one core means one core: OpenCV's worker threads would use the other
        os.sched_setaffinity(0, {min(all_cpus)})
    try:
        decode_default_ms, _ = decode_all(opencv)   # fresh memory for every page (process default)
        from scanner.images import decode_jpeg, keep_page_memory
        keep_page_memory()
        decode_opencv_ms, _ = decode_all(opencv)    # OpenCV, page memory reused
        decode_ms, decode_cpu_ms = decode_all(decode_jpeg)   # as the scanner decodes: the floor

        # full read on one core (this process, warm)
        _init(str(home))
        for f in files[:5]:
            read_file(str(f))
        t0, c0 = time.perf_counter(), time.process_time()
        ok = 0
        for f in files:
            ok += read_file(str(f))[1]
        one_core_ms = (time.perf_counter() - t0) * 1000 / len(files)
        one_core_cpu_ms = (time.process_time() - c0) * 1000 / len(files)
    finally:
        if pinned:
            os.sched_setaffinity(0, all_cpus)

    # both cores: a pool of 2, files end to end
    with Pool(2, initializer=_init, initargs=(str(home),)) as pool:
        pool.map(read_file, [str(f) for f in files[:4]], chunksize=1)   # warm both workers
        t0 = time.perf_counter()
        results = pool.map(read_file, [str(f) for f in files], chunksize=4)
        wall = time.perf_counter() - t0
    pages = sum(r[0] for r in results)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"pages": len(files), "read_ok": ok, "decode_ms": decode_ms,
            "decode_cpu_ms": decode_cpu_ms, "one_core_cpu_ms": one_core_cpu_ms,
            "decode_default_ms": decode_default_ms, "decode_opencv_ms": decode_opencv_ms, "one_core_pinned": pinned,
            "mean_file_kb": sum(len(d) for d in datas) / len(datas) / 1024, "load_avg_1min": load,
            "one_core_ms": one_core_ms, "two_core_pages_per_s": pages / wall,
            "two_core_ms_per_page_per_core": wall * 1000 * 2 / pages,
            "cpus": os.cpu_count()}


def format_report(r: dict) -> str:
    ok = lambda met: "MET" if met else "MISSED"  # noqa: E731
    return "\n".join([
        f"{r['pages']} scans, 200 dpi A4 grey JPEG q85, mean {r['mean_file_kb']:.0f} KB "
        f"({r['read_ok']} read as sheets), {r['cpus']} CPUs, load average "
        f"{r['load_avg_1min'] if r['load_avg_1min'] is None else round(r['load_avg_1min'], 2)} "
        f"(other work on the machine inflates every figure)",
        f"  decode only (cv2.imdecode grey)   {r['decode_default_ms']:7.1f} ms/page   "
        f"(fresh memory per page: the process default)",
        f"  decode only, memory reused        {r['decode_opencv_ms']:7.1f} ms/page   (cv2.imdecode)",
        f"  decode only, as the scanner does  {r['decode_ms']:7.1f} ms/page   (the floor: "
        f"simplejpeg, page memory reused; {r['decode_cpu_ms']:.1f} ms CPU)",
        f"  full read, one core{' (pinned)' if r['one_core_pinned'] else '         '}      "
        f"{r['one_core_ms']:7.1f} ms/page   target <= "
        f"{TARGET_MS_PER_PAGE_CORE:.0f} ms/page/core: {ok(r['one_core_ms'] <= TARGET_MS_PER_PAGE_CORE)}",
        f"                                    {r['one_core_cpu_ms']:7.1f} ms/page   CPU time of the "
        f"process (what other work on the core cannot inflate)",
        f"  full read, two cores (Pool(2))    {r['two_core_pages_per_s']:7.1f} pages/s   target >= "
        f"{TARGET_PAGES_PER_S:.0f} pages/s: {ok(r['two_core_pages_per_s'] >= TARGET_PAGES_PER_S)}",
        f"                                    {r['two_core_ms_per_page_per_core']:7.1f} ms/page/core "
        f"with both cores busy",
        f"  read beyond decoding, one core    {r['one_core_ms'] - r['decode_ms']:7.1f} ms/page   "
        f"({r['one_core_cpu_ms'] - r['decode_cpu_ms']:.1f} ms CPU)",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--dir", type=Path, help="keep the scans here (default: a temp folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="seda-speed-") as tmp:
        out = args.dir or Path(tmp)
        files = make_scans(out, args.pages)
        result = measure(files, out / "home")
    print(json.dumps(result, indent=1) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
