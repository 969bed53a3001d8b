"""When each long-running part of an office last showed it was alive.

The kiosk server notes the time it last answered (at most once a minute), so the sync client
can tell the centre "the kiosk was last alive at ..." and ``seda doctor`` can say a kiosk has
stopped.  One small private file per part under ``$SEDA_HOME/heartbeats/``; a file, not the
ledger, so a beat never competes with a visitor's record for the ledger's write lock.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from .private_files import private_folder, write_private

__all__ = ["PARTS", "last_beat", "note_beat"]

#: The parts that beat.
PARTS = ("kiosk",)


def _path(home: Path, part: str) -> Path:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}")
    return Path(home) / "heartbeats" / part


def note_beat(home: Path, part: str, now: datetime | None = None) -> datetime:
    """Record that ``part`` is alive now; returns the time written (UTC)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    path = _path(home, part)
    private_folder(path.parent)
    write_private(path, moment.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
    return moment


def last_beat(home: Path, part: str) -> datetime | None:
    """When ``part`` last beat, or None if it never did (or the file is unreadable)."""
    try:
        text = _path(home, part).read_text(encoding="utf-8").strip()
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (OSError, ValueError):
        return None
