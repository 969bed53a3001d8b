"""What an office tells the centre about itself after each contact (the centre's offices page).

Counts and times only, never a record's content: how many records wait or were refused here,
how many are stranded under another office code, where the pull cursor stands, which software
runs, when the kiosk was last alive, and the last refusal's code.  The request is signed like
every other (sync/request_auth.py), so its ``Seda-Date`` is the office clock the centre
compares with its own.
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from forms.heartbeat import last_beat

from .batch import format_time
from .office_state import OfficeSyncState

__all__ = ["HEALTH_PATH", "health_report", "software_version"]

#: Where the report is posted (central/office_health.py answers it).
HEALTH_PATH = "/v1/office-health"


def software_version() -> str:
    """The installed Seda version ("unknown" when run from a bare source tree)."""
    try:
        return metadata.version("seda")
    except metadata.PackageNotFoundError:
        return "unknown"


def health_report(home: Path, state: OfficeSyncState, office: str) -> dict[str, Any]:
    """This office's health figures now, as sent to ``POST /v1/office-health``."""
    kiosk = last_beat(home, "kiosk")
    refusal = state.get("last_refusal") or {}
    return {
        "version": software_version(),
        "waiting": state.waiting_count(office),
        "refused_batches": len(state.batch_refusals()),
        "refused_blobs": len(state.refused_blobs()),
        "stranded": state.foreign_count(office),
        "pull_cursor": state.pull_cursor(),
        "kiosk_seen_at": format_time(kiosk) if kiosk else None,
        "last_refusal": refusal.get("code"),
    }
