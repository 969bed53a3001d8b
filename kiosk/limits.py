"""Flood and guessing limits for a kiosk that anyone can walk up to.

Two things are limited, both in memory (a restart forgets them, which is harmless: the
limits protect against a person standing at the screen, not against a patient attacker
with a network, who cannot reach the kiosk's loopback address anyway):

* **wrong follow-up codes** -- per visit, after a few free tries every further wrong try must
  wait, and the wait doubles (2, 4, 8, ... seconds, capped).  Starting a new visit escapes
  that, so the whole kiosk also has a ceiling, far higher (100 wrong codes an hour by
  default), as a token bucket: once it is spent, wrong tries are spaced out to its rate
  (one per 36 s) instead of being locked out, so one person can never lock everyone out.
* **submissions** -- cases per visit, and cases per minute for the whole kiosk.

Every refusal carries how long to wait, so the screen can say so politely.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "Refusal", "TokenBucket", "WindowLimit"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class Refusal:
    """Why a try was refused, and in how many whole seconds the next one is allowed."""

    reason: str
    retry_after: int


class Backoff:
    """Exponential slow-down of repeated failures per key (a visit, or the whole kiosk)."""

    def __init__(self, free_tries: int, max_delay: int, clock: Clock = time.monotonic,
                 forget_after: float = 3600.0) -> None:
        self.free_tries = free_tries
        self.max_delay = max_delay
        self._clock = clock
        self._forget_after = forget_after
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float]] = {}  # key -> (failures, last failure time)

    def _delay(self, failures: int) -> float:
        if failures < self.free_tries:
            return 0.0
        return float(min(self.max_delay, 2 ** (failures - self.free_tries + 1)))

    def check(self, key: str) -> Refusal | None:
        """None if ``key`` may try now; otherwise the time still to wait."""
        with self._lock:
            failures, last = self._state.get(key, (0, 0.0))
            now = self._clock()
            if failures and now - last > self._forget_after:
                self._state.pop(key, None)
                return None
            wait = last + self._delay(failures) - now
        if wait > 0:
            return Refusal("too_many_wrong_tries", max(1, int(wait + 0.999)))
        return None

    def attempt(self, key: str) -> Refusal | None:
        """Check and count one try of ``key`` in one step (a refusal counts nothing).

        The try is counted as a failure before it is judged, so parallel tries cannot all
        pass one check; :meth:`succeed` or :meth:`forgive` take it back if it was good.
        """
        with self._lock:
            failures, last = self._state.get(key, (0, 0.0))
            now = self._clock()
            if failures and now - last > self._forget_after:
                failures = 0
            wait = last + self._delay(failures) - now if failures else 0.0
            if wait > 0:
                return Refusal("too_many_wrong_tries", max(1, int(wait + 0.999)))
            self._count_failure(key, failures, now)
        return None

    def forgive(self, key: str) -> None:
        """Take one counted failure of ``key`` back (the try turned out to be a good one)."""
        with self._lock:
            failures, last = self._state.get(key, (0, 0.0))
            if failures <= 1:
                self._state.pop(key, None)
            else:
                self._state[key] = (failures - 1, last)

    def fail(self, key: str) -> None:
        with self._lock:
            failures, _ = self._state.get(key, (0, 0.0))
            self._count_failure(key, failures, self._clock())

    def _count_failure(self, key: str, failures: int, now: float) -> None:
        """Record failure number ``failures + 1`` of ``key`` (the caller holds the lock)."""
        self._state[key] = (failures + 1, now)
        if len(self._state) > 10_000:  # visits come and go; never grow without bound
            oldest = min(self._state, key=lambda k: self._state[k][1])
            self._state.pop(oldest, None)

    def succeed(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)

    def failures(self, key: str) -> int:
        with self._lock:
            return self._state.get(key, (0, 0.0))[0]


class WindowLimit:
    """At most ``limit`` events per ``window`` seconds (a sliding window); 0 means no limit."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._events: deque[float] = deque()

    def take(self) -> Refusal | None:
        """Count one event now, or refuse it (and count nothing) if the window is full."""
        if not self.limit:
            return None
        with self._lock:
            now = self._clock()
            while self._events and now - self._events[0] >= self.window:
                self._events.popleft()
            if len(self._events) >= self.limit:
                wait = self._events[0] + self.window - now
                return Refusal("kiosk_busy", max(1, int(wait + 0.999)))
            self._events.append(now)
        return None

    def give_back(self) -> None:
        """Undo the last :meth:`take` (the submission failed validation, nothing was filed)."""
        with self._lock:
            if self._events:
                self._events.pop()


class TokenBucket:
    """At most ``per_window`` events per ``window`` seconds on average, in bursts of up to
    ``per_window``; 0 means no limit.  Unlike :class:`Backoff` the wait never grows beyond one
    token's refill time (``window / per_window``), however many events came before."""

    def __init__(self, per_window: int, window: float, clock: Clock = time.monotonic) -> None:
        self.capacity = per_window
        self._refill = per_window / window if per_window else 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(per_window)
        self._updated = clock()

    def _top_up(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._refill)
        self._updated = now

    def check(self) -> Refusal | None:
        """None if an event may happen now; otherwise how long until one may."""
        if not self.capacity:
            return None
        with self._lock:
            now = self._clock()
            self._top_up(now)
            if self._tokens >= 1:
                return None
            wait = (1 - self._tokens) / self._refill
        return Refusal("too_many_wrong_tries", max(1, int(wait + 0.999)))

    def spend(self) -> None:
        """Count one event (it may drive the bucket below empty: the wait grows by one refill)."""
        if not self.capacity:
            return
        with self._lock:
            self._top_up(self._clock())
            self._tokens = max(-1.0, self._tokens - 1)
