"""Scan uploads read off the request threads, in a bounded queue, each within a page and time
budget, so a staff member's upload can never stall the visitor's screens (issue 11 item 8).

A staff page that read an upload itself held a waitress thread for as long as the scanner
took; four uploads of a hostile 8-page PDF held all four threads and the visitor's home page
waited 87 seconds.  Here a request only saves the files and queues the job (or says at once,
in Persian, that the queue is full); one worker thread runs the jobs one at a time, each in a
*process of its own* at low priority: the CPU-heavy reading competes neither for waitress's
threads nor for this process's interpreter lock, and a job over its time budget is stopped
outright.  Every job keeps its state on disk (``$SEDA_HOME/kiosk/scans/<id>/job.json``) and
the staff page lists each one -- queued, being read, done with each page's result, refused
for too many pages, stopped at the time budget with the pages read so far -- so nothing
uploaded is dropped in silence, not even by a restart.

The worker process uses only the scanner's public API (``scanner.pipeline.scan_paths``,
``scanner.images.count_pages``) and writes the office ledger itself, one transaction per page,
as ``seda scan`` does.  ``spawn`` processes only: the same code runs on Windows.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["JOB_STATES", "ScanJob", "ScanQueue"]

log = logging.getLogger("seda.kiosk.scans")

#: queued -> running -> done | over_budget | timed_out | failed; "interrupted" after a restart.
JOB_STATES = ("queued", "running", "done", "over_budget", "timed_out", "failed", "interrupted")
FINISHED = ("done", "over_budget", "timed_out", "failed", "interrupted")
#: Finished jobs kept for the staff page (their files are deleted as soon as they finish).
KEEP_FINISHED = 50


@dataclass
class ScanJob:
    """One upload: its files, where it stands, and what each page gave."""

    id: str
    by: str
    files: list[str]
    submitted_at: float
    state: str = "queued"
    started_at: float | None = None
    finished_at: float | None = None
    total_pages: int | None = None
    pages: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class ScanQueue:
    """At most ``max_waiting`` uploads waiting and one being read; see the module docstring."""

    def __init__(self, home: Path, folder: Path, *, max_waiting: int = 3, max_pages: int = 50,
                 max_seconds: float = 120.0, worker: Callable[..., None] | None = None) -> None:
        self.home = Path(home)
        self.folder = Path(folder)
        self.max_waiting = max_waiting
        self.max_pages = max_pages
        self.max_seconds = max_seconds
        self._worker_target = worker or _read_job
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._jobs: dict[str, ScanJob] = {}
        self._waiting: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._busy = 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self._recover()

    # -- for the staff page ------------------------------------------------------------

    def submit(self, by: str, uploads: Iterable[tuple[str, Callable[[Path], None]]]) -> ScanJob | None:
        """Queue an upload: ``uploads`` are ``(name, save_to(path))`` pairs.  None (and nothing
        saved) when the queue is full."""
        with self._lock:
            if self._busy > self.max_waiting:  # one running plus max_waiting waiting
                return None
            self._busy += 1
        job_id = uuid.uuid4().hex[:12]
        folder = self.folder / job_id
        try:
            folder.mkdir(parents=True)
            names = []
            for index, (name, save) in enumerate(uploads):
                save(folder / f"{index:03d}-{name}")
                names.append(name)
            job = ScanJob(id=job_id, by=by, files=names, submitted_at=time.time())
            self._save(job)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            with self._lock:
                self._busy -= 1
            raise
        with self._lock:
            self._jobs[job_id] = job
        self._waiting.put(job_id)
        self._ensure_worker()
        return job

    def jobs(self) -> list[ScanJob]:
        """Every known job, newest first (copies: the worker keeps changing its own)."""
        with self._lock:
            jobs = [ScanJob(**{**asdict(j), "pages": list(j.pages)}) for j in self._jobs.values()]
        return sorted(jobs, key=lambda j: j.submitted_at, reverse=True)

    def position(self, job_id: str) -> int:
        """1 for the next job to be read, 2 for the one after it, ... (0: not waiting)."""
        waiting = sorted((j for j in self.jobs() if j.state == "queued"), key=lambda j: j.submitted_at)
        return next((i for i, j in enumerate(waiting, start=1) if j.id == job_id), 0)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no job is queued or running (tests, the bench); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self._stop.set()
        self._waiting.put("")
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the worker ------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="seda-scan-queue", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            job_id = self._waiting.get()
            if not job_id:
                continue
            job = self._jobs.get(job_id)
            if job is not None and job.state == "queued":
                try:
                    self._read(job)
                except Exception as exc:  # noqa: BLE001 - one job's fault never stops the queue
                    log.exception("scan job %s failed", job_id)
                    self._finish(job, "failed", f"{type(exc).__name__}: {exc}"[:300])
            with self._idle:
                self._busy = max(0, self._busy - 1)
                self._idle.notify_all()

    def _read(self, job: ScanJob) -> None:
        folder = self.folder / job.id
        paths = sorted(str(p) for p in folder.iterdir() if p.name != "job.json")
        self._update(job, state="running", started_at=time.time())
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=self._worker_target, name=f"seda-scan-{job.id}",
                                  args=(str(self.home), paths, self.max_pages, sender), daemon=True)
        process.start()
        sender.close()
        deadline = time.monotonic() + self.max_seconds
        outcome, detail = "failed", "the reading process ended without a word"
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    outcome, detail = "timed_out", ""
                    break
                if not receiver.poll(min(left, 0.5)):
                    if not process.is_alive() and not receiver.poll(0):
                        break
                    continue
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    break
                if kind == "count":
                    self._update(job, total_pages=int(payload))
                elif kind == "page":
                    payload["source"] = Path(str(payload.get("source", ""))).name[4:]
                    with self._lock:
                        job.pages.append(payload)
                    self._save(job)
                elif kind == "over_budget":
                    outcome, detail = "over_budget", ""
                    break
                elif kind == "done":
                    outcome, detail = "done", ""
                    break
                elif kind == "error":
                    outcome, detail = "failed", str(payload)[:300]
                    break
        finally:
            if process.is_alive():
                process.terminate()  # over the time budget: stopped, whatever it was doing
            process.join(timeout=10)
            receiver.close()
        self._finish(job, outcome, detail)

    def _finish(self, job: ScanJob, state: str, detail: str = "") -> None:
        self._update(job, state=state, finished_at=time.time(), detail=detail)
        for path in (self.folder / job.id).iterdir():  # the uploaded files go; the record stays
            if path.name != "job.json":
                path.unlink(missing_ok=True)
        self._forget_old()

    # -- state on disk ------------------------------------------------------------------------

    def _update(self, job: ScanJob, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(job, name, value)
        self._save(job)

    def _save(self, job: ScanJob) -> None:
        with self._lock:
            text = json.dumps(asdict(job), ensure_ascii=False)
        path = self.folder / job.id / "job.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        _private(tmp)
        os.replace(tmp, path)

    def _recover(self) -> None:
        """Jobs from before a restart: queued ones are read now, a running one is reported as
        interrupted (the pages it had read are stored; re-uploading the file finds them)."""
        for path in sorted(self.folder.glob("*/job.json")):
            try:
                job = ScanJob(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                log.warning("unreadable scan job %s left as it is", path)
                continue
            self._jobs[job.id] = job
            if job.state == "running":
                self._finish(job, "interrupted")
            elif job.state == "queued":
                self._busy += 1
                self._waiting.put(job.id)
        if not self._waiting.empty():
            self._ensure_worker()
        self._forget_old()

    def _forget_old(self) -> None:
        with self._lock:
            finished = sorted((j for j in self._jobs.values() if j.finished),
                              key=lambda j: j.submitted_at, reverse=True)
            old = finished[KEEP_FINISHED:]
            for job in old:
                self._jobs.pop(job.id, None)
        for job in old:
            shutil.rmtree(self.folder / job.id, ignore_errors=True)


def _private(path: Path) -> None:
    try:
        path.chmod(0o600)
    except OSError:  # pragma: no cover - Windows ignores POSIX modes
        pass


def _read_job(home: str, paths: list[str], max_pages: int, channel) -> None:
    """The worker process: count the pages, refuse an upload over the budget, else read and
    store every page, reporting each as it is done."""
    if hasattr(os, "nice"):
        try:
            os.nice(10)  # the visitor's screens come first
        except OSError:
            pass
    try:
        from scanner.images import count_pages
        from scanner.pipeline import scan_paths

        total = sum(count_pages(path) for path in paths)
        channel.send(("count", total))
        if total > max_pages:
            channel.send(("over_budget", total))
            return
        for page in scan_paths(paths, home=Path(home), store=True):
            channel.send(("page", page.to_json()))
        channel.send(("done", None))
    except (BrokenPipeError, EOFError):
        return  # the kiosk stopped (or stopped this job): nobody is listening any more
    except Exception as exc:  # noqa: BLE001 - reported on the staff page, not lost
        try:
            channel.send(("error", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
    finally:
        channel.close()


def save_upload(stream: BinaryIO) -> Callable[[Path], None]:
    """A ``save_to(path)`` for :meth:`ScanQueue.submit` from a file-like upload."""
    def save(path: Path) -> None:
        with open(path, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        _private(path)
    return save
