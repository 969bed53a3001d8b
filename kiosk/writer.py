"""Group commit: one writer thread stores what many visitors submit at the same moment.

Every case and survey response must be durable before the visitor is told "received", and
the ledger commits with ``synchronous=FULL`` (one fsync per transaction).  If each request
committed on its own, concurrent visitors would queue for the write lock -- in SQLite's busy
handler, which sleeps in growing steps up to 100 ms -- and pay one fsync each.

Instead, request threads hand their write to :class:`LedgerWriter` and wait; its thread takes
everything queued, writes it in *one* transaction and commits once, then releases all the
waiting requests together.  Each request still returns only after its record is committed.
If anything in a batch fails, the batch is rolled back and each write is retried on its own,
so one bad submission can never take its neighbours down with it.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from ledger.ledger import Ledger

__all__ = ["LedgerWriter"]

T = TypeVar("T")
_STOP = object()


class LedgerWriter:
    """Runs write jobs ``job(ledger) -> result`` in batches on one thread and connection."""

    def __init__(self, path: Path, max_batch: int = 64, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.max_batch = max_batch
        self.timeout = timeout
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # how many transactions were committed (for tests and the bench)

    def submit(self, job: Callable[[Ledger], T]) -> T:
        """Run ``job`` inside a committed transaction and return its result (or raise)."""
        self._ensure_started()
        future: Future = Future()
        self._queue.put((job, future))
        return future.result(timeout=self.timeout)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=self.timeout)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                ready: Future = Future()
                self._thread = threading.Thread(target=self._run, args=(ready,),
                                                name="seda-ledger-writer", daemon=True)
                self._thread.start()
                ready.result(timeout=self.timeout)  # the ledger opened, or raise why not

    def _run(self, ready: Future) -> None:
        try:
            ledger = Ledger.open(self.path)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
            ready.set_exception(exc)
            with self._lock:
                self._thread = None
            return
        ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch = [item]
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._queue.put(_STOP)
                        break
                    batch.append(more)
                self._write(ledger, batch)
        finally:
            ledger.close()

    def _write(self, ledger: Ledger, batch: list) -> None:
        try:
            with ledger.transaction():
                results = [job(ledger) for job, _ in batch]
        except BaseException:  # noqa: BLE001 - retried one by one below
            for job, future in batch:
                try:
                    with ledger.transaction():
                        result = job(ledger)
                except BaseException as exc:  # noqa: BLE001 - reported to its own request
                    future.set_exception(exc)
                else:
                    self.batches += 1
                    future.set_result(result)
            return
        self.batches += 1
        for (_, future), result in zip(batch, results):
            future.set_result(result)
