"""The hot folder: where a sheet-feeding scanner drops its files.

A file is read only once it has stopped changing (size and time unchanged for `settle_seconds`
and openable), so a file still being written is left for later.  It is first renamed into
`.processing/` (a claim that survives a crash), read, and then moved to `done/` or `failed/`
with its results; after a crash the files still in `.processing/` are read again, and the
ledger's duplicate check keeps their sheets from being stored twice.  No file is ever deleted.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from forms.private_files import write_private
from ledger import Ledger, default_ledger_path

from .pipeline import scan_paths
from .reasons import MESSAGES, message

IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")


@dataclass(frozen=True)
class Outcome:
    name: str
    state: str          # done | failed
    summary: str


def _unique_target(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem}.{n}{suffix}"
        n += 1
    return target


def _where(result: dict) -> str:
    """"page 3", or "page 3, sheet 2 of 2" where one page held several sheets."""
    where = f"page {result['page']}"
    if result.get("sheets_found", 1) > 1:
        where += f", sheet {result['sheet_index']} of {result['sheets_found']}"
    return where


class HotFolder:
    def __init__(self, folder: Path, *, home: Path, store: bool = True,
                 settle_seconds: float = 2.0):
        self.folder = Path(folder)
        self.home = home
        self.store = store
        self.settle_seconds = settle_seconds
        self.processing = self.folder / ".processing"
        self.done = self.folder / "done"
        self.failed = self.folder / "failed"
        self._seen_sizes: dict[str, tuple[int, int, float]] = {}

    def _prepare(self) -> None:
        if not self.folder.is_dir():  # a mistyped folder is never made and watched forever
            raise FileNotFoundError(MESSAGES.line("scan_watch_no_folder", folder=str(self.folder)))
        for folder in (self.processing, self.done, self.failed):
            folder.mkdir(exist_ok=True)

    def _candidates(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.is_file()
                      and not p.name.startswith(IGNORED_PREFIXES)
                      and not p.name.lower().endswith(IGNORED_SUFFIXES))

    def _is_whole(self, path: Path, now: float) -> bool:
        """Unchanged since an earlier look at least `settle_seconds` ago, and openable."""
        try:
            stat = path.stat()
            with open(path, "rb"):
                pass
        except OSError:
            return False
        key = (stat.st_size, stat.st_mtime_ns)
        previous = self._seen_sizes.get(path.name)
        if previous is None or previous[:2] != key:
            self._seen_sizes[path.name] = (*key, now)
            return False
        return now - previous[2] >= self.settle_seconds and now - stat.st_mtime >= self.settle_seconds

    def ready_files(self, now: float | None = None) -> list[Path]:
        now = time.time() if now is None else now
        return [p for p in self._candidates() if self._is_whole(p, now)]

    def _stored_from(self, name: str, results: list[dict]) -> set[int]:
        """Pages reported as duplicates because this same file was stored before a crash."""
        pages = {r["page"] for r in results if r["reason"] == "duplicate_sheet" and r["sheet"]}
        if not pages or not self.store:
            return set()
        earlier: set[int] = set()
        with Ledger.open(default_ledger_path(self.home)) as ledger:
            for result in results:
                if result["page"] in pages:
                    for record in ledger.find("survey_response", "sheet", result["sheet"]):
                        scan = record.body.get("scan", {})
                        if scan.get("file") == name and scan.get("page") == result["page"]:
                            earlier.add(result["page"])
        return earlier

    def process(self, claimed: Path, *, after_crash: bool = False) -> Outcome:
        """Read one claimed file and move it out of `.processing/` with its results beside it.

        A file goes to `failed/` when nothing in it could be used; a file with some good pages
        goes to `done/`, and any pages rejected in it are listed in its `.reason.txt` too.
        """
        results = [r.to_json() for r in scan_paths([claimed], home=self.home, store=self.store)]
        stored_before = self._stored_from(claimed.name, results) if after_crash else set()
        for result in results:
            if result["page"] in stored_before:
                result["note"] = "stored before an interruption; not stored twice"
        usable = [r for r in results if r["status"] != "rejected" or r["page"] in stored_before]
        rejected = [r for r in results if r["status"] == "rejected" and r["page"] not in stored_before]
        file_failed = not usable
        target_folder = self.failed if file_failed else self.done
        target = _unique_target(target_folder, claimed.name)
        results_path = target.with_name(target.name + ".results.jsonl")
        write_private(results_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))
        warned = [(r, w) for r in results for w in r.get("warnings") or []]
        if rejected or warned or not results:
            lines = [f"{_where(r)}: {r['reason']}: {message(r['reason'], 'fa')} / "
                     f"{message(r['reason'], 'en')}" for r in rejected]
            # about the scan itself: the pages were read, but the operator should know
            lines += [f"{_where(r)}: {w['reason']}: {w['message_fa']} / {w['message']}"
                      for r, w in warned]
            write_private(target.with_name(target.name + ".reason.txt"),
                          "\n".join(lines or [MESSAGES.line("no_pages")]) + "\n")
        claimed.replace(target)
        counts = {s: sum(r["status"] == s for r in results) for s in ("accepted", "review", "rejected", "blank")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no pages"
        return Outcome(claimed.name, "failed" if file_failed else "done", summary)

    def poll(self) -> Iterator[Outcome]:
        """One look: first files left claimed by a crash, then every file that is whole."""
        self._prepare()
        for leftover in sorted(self.processing.iterdir()):
            if leftover.is_file():
                yield self.process(leftover, after_crash=True)
        for path in self.ready_files():
            claimed = _unique_target(self.processing, path.name)
            try:
                path.replace(claimed)
            except OSError:
                continue  # taken or locked by someone else: look again next time
            self._seen_sizes.pop(path.name, None)
            yield self.process(claimed)

    def run(self, *, interval: float = 2.0, once: bool = False) -> Iterator[Outcome]:
        """Poll forever (or, with `once`, until nothing more becomes ready)."""
        while True:
            produced = False
            for outcome in self.poll():
                produced = True
                yield outcome
            if once and not produced and not self._pending():
                return
            time.sleep(interval)

    def _pending(self) -> bool:
        return any(p.name in self._seen_sizes for p in self._candidates())
