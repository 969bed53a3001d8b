"""Where an installation keeps its state: one folder, `$SEDA_HOME`.

Everything an office owns (ledger, keys, attachments, settings) lives under it, so a backup is
one copy and a test or a demo is one temporary folder.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def seda_home(environ: dict[str, str] | None = None) -> Path:
    """`$SEDA_HOME`, or the platform's per-user data folder (Windows included)."""
    env = os.environ if environ is None else environ
    if env.get("SEDA_HOME"):
        return Path(env["SEDA_HOME"]).expanduser()
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "Seda"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Seda"
    return Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "seda"
