"""How long the office waits before trying the central server again.

Exponential backoff with jitter: after the n-th failure in a row wait a random time between
half and all of min(cap, base * 2**(n-1)).  The randomness matters when the central server comes
back after an outage: hundreds of offices must not all retry in the same second.  The cap
keeps an office that was offline for days trying every few minutes, not every few weeks.
"""
from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["backoff_delay"]


def backoff_delay(failures: int, *, base: float = 2.0, cap: float = 900.0,
                  rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after ``failures`` failures in a row (``failures`` >= 1)."""
    if failures < 1:
        return 0.0
    ceiling = min(cap, base * 2 ** min(failures - 1, 62))
    return ceiling * (0.5 + 0.5 * rand())
