"""Counting tries in the central store, atomically, so every server process shares the count.

Two kinds of limit share one table (``throttles``, schema step 4), each row keyed by what it
limits:

- :func:`begin_attempt` -- growing delays for guesses (sign-in): the first ``free`` tries of a
  key go straight through, then each further try must wait twice as long as the one before
  (capped).  The try is counted *before* the password is checked, in the same transaction
  that checks the wait, so parallel requests cannot slip extra guesses in between the check
  and the count; :func:`clear` forgets the key after a success.
- :func:`take` -- a fixed-window rate limit (Open311 requests per key and minute).

A row is read and written under the store's write lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: the row is locked ``FOR UPDATE``), which is what makes the count atomic across
threads and processes.  Old rows are swept now and then by the same calls.
Counts are bookkeeping, written without waiting for the disk (``durable=False``): a power
cut may forget the last few tries, never a case or a batch.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sync.batch import format_time
from .db import throttles
from .store import Store

__all__ = ["Verdict", "begin_attempt", "clear", "delay_after", "forgive", "may_try", "take"]

#: A key without a try for this long starts again from nothing.
FORGET_AFTER = timedelta(hours=1)
_SWEEP_CHANCE = 0.02


@dataclass(frozen=True)
class Verdict:
    """Whether this try may go ahead, and if not, how many whole seconds to wait."""

    allowed: bool
    retry_after: int = 0
    count: int = 0


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def delay_after(count: int, *, free: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``count``-th counted try: 0 while ``count < free``, then
    ``base``, ``2 * base``, ``4 * base`` ... up to ``cap``."""
    if count < free:
        return 0.0
    return float(min(cap, base * 2 ** min(count - free, 40)))


def _locked_row(db, key: str, now: datetime) -> tuple[int, datetime, datetime]:
    """The row of ``key`` (created empty if missing), locked until the transaction ends."""
    count, since, next_at = throttles.locked_row(db, key, format_time(now))
    return int(count), _parse(since), _parse(next_at)


def _sweep(db, now: datetime) -> None:
    if random.random() < _SWEEP_CHANCE:
        old = format_time(now - FORGET_AFTER - FORGET_AFTER)
        throttles.sweep(db, old)


def begin_attempt(store: Store, key: str, *, free: int, base: float, cap: float,
                  now: datetime | None = None) -> Verdict:
    """Count one try of ``key`` now, or refuse it while ``key`` must still wait.

    A counted try pushes the next allowed moment ``delay_after(count)`` ahead; a refused try
    changes nothing (waiting out the delay is the only way forward, hammering gains nothing).
    """
    now = _utc(now)
    with store.write(durable=False) as db:
        count, last, next_at = _locked_row(db, key, now)
        if count and now - last > FORGET_AFTER and now >= next_at:
            count = 0  # quiet for an hour: start again
        if now < next_at:
            return Verdict(False, _seconds(next_at - now), count)
        count += 1
        wait = timedelta(seconds=delay_after(count, free=free, base=base, cap=cap))
        # A free try leaves the next allowed moment where it was: requests that read the clock
        # a moment earlier but reach the lock later must not be refused by a microsecond.
        allowed_from = now + wait if wait else min(next_at, now)
        throttles.set_row(db, key, count, format_time(max(now, last)), format_time(allowed_from))
        _sweep(db, now)
    return Verdict(True, 0, count)


def clear(store: Store, key: str) -> None:
    """Forget ``key`` (a sign-in succeeded)."""
    with store.write(durable=False) as db:
        throttles.delete(db, key)


def forgive(store: Store, key: str, *, free: int, base: float, cap: float,
            now: datetime | None = None) -> None:
    """Take one counted try of ``key`` back (it turned out to be a good one)."""
    now = _utc(now)
    with store.write(durable=False) as db:
        row = throttles.try_row(db, key)
        if row is None or int(row[0]) <= 0:
            return
        count = int(row[0]) - 1
        wait = timedelta(seconds=delay_after(count, free=free, base=base, cap=cap)) if count else timedelta(0)
        throttles.set_count(db, key, count, format_time(min(now, _parse(row[1])) + wait))


def take(store: Store, key: str, *, limit: int, window: timedelta,
         now: datetime | None = None) -> Verdict:
    """Count one event of ``key`` in the current window of ``window``, or refuse it when
    ``limit`` events were counted already (a refused event is not counted)."""
    now = _utc(now)
    with store.write(durable=False) as db:
        count, since, _ = _locked_row(db, key, now)
        if now - since >= window or count == 0:
            count, since = 0, now
        if count >= limit:
            return Verdict(False, _seconds(since + window - now), count)
        count += 1
        throttles.set_row(db, key, count, format_time(since), format_time(since + window))
        _sweep(db, now)
    return Verdict(True, 0, count)


def may_try(store: Store, key: str, *, now: datetime | None = None) -> Verdict:
    """Whether ``key`` may try now, without counting the try (it waits out a delay of
    :func:`begin_attempt`)."""
    with store.connect() as db:
        next_at = throttles.next_at(db, key)
    if next_at is None:
        return Verdict(True)
    wait = _parse(next_at) - _utc(now)
    if wait.total_seconds() > 0:
        return Verdict(False, _seconds(wait))
    return Verdict(True)
