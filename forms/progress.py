"""Progress of a long command (printing 2,000 sheets, scanning a folder, an export, the monthly
report): a bar on the operator's terminal, nothing at all when the output goes to a pipe, a
file or a scheduled task's log, so scripts read only what the command says.

Every command uses :func:`progress`; :func:`shows_progress` is the one decision.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO, TypeVar

import click

__all__ = ["Advance", "progress", "shows_progress", "tracked"]

T = TypeVar("T")

#: Called with how many more items are done (default one).
Advance = Callable[..., None]


def shows_progress(stream: TextIO | None = None, environ: dict[str, str] | None = None) -> bool:
    """A bar only on a terminal (stderr by default: standard output may be a JSON pipe) that
    can draw one; ``TERM=dumb`` and ``SEDA_NO_PROGRESS`` turn it off."""
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    if environ.get("SEDA_NO_PROGRESS") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _quiet(count: int = 1) -> None:
    """Advancing with no bar to draw."""


@contextmanager
def progress(length: int, label: str, stream: TextIO | None = None) -> Iterator[Advance]:
    """``with progress(n, "sheets") as advance: ... advance()`` - a bar of ``length`` items on
    stderr when :func:`shows_progress`, else a function that does nothing."""
    stream = sys.stderr if stream is None else stream
    if length <= 1 or not shows_progress(stream):
        yield _quiet
        return
    with click.progressbar(length=length, label=label, file=stream, show_pos=True, show_eta=True) as bar:
        yield lambda count=1: bar.update(count)


def tracked(items: Sequence[T], label: str, stream: TextIO | None = None) -> Iterator[T]:
    """``items`` one by one, the bar advancing as each is taken (for a loop inside a library
    function that a command hands its rows to)."""
    with progress(len(items), label, stream) as advance:
        for item in items:
            yield item
            advance()
