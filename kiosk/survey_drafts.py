"""Survey answers of visits still in progress, kept on disk so a restart does not lose them.

``$SEDA_HOME/kiosk/survey_drafts.json`` (mode 0600, in the kiosk's 0700 state folder) holds, per
visit that has answered at least one survey question and not yet been stored::

    {"visits": {"<record uuid>": {"visit": "<public visit id>", "form": "satisfaction",
                                  "form_version": 1, "answers": {"workflow": 4},
                                  "answered_at": "2026-12-01T08:00:00+00:00",
                                  "submitted": false}}}

Survey answers only: never a case form, identity field, follow-up code or the visit's cookie
id.  An entry lives from the visit's first answer until its response is in the ledger (at most
the server's visit expiry, about ten minutes, plus one sweep), so the file is normally empty.

Every change rewrites the file through a temporary file, fsync and an atomic replace: a power
cut leaves either the old or the new version, never half of one.  A file that cannot be read
(edited by hand, disk damage) is renamed aside with a ``.damaged-<time>`` suffix and named in
the log; the kiosk starts with no drafts rather than not at all.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["SurveyDrafts", "FILE_NAME"]

FILE_NAME = "survey_drafts.json"
_ENTRY_FIELDS = {"visit": str, "form": str, "form_version": int, "answers": dict,
                 "answered_at": str, "submitted": bool}

log = logging.getLogger("seda.kiosk")


class SurveyDrafts:
    """The draft file and its in-memory copy; thread-safe, one writer per kiosk server."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = self._load()

    def entries(self) -> dict[str, dict[str, Any]]:
        """A snapshot: record uuid -> entry."""
        with self._lock:
            return {key: dict(entry) for key, entry in self._entries.items()}

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            return dict(entry) if entry is not None else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Write ``entry`` under ``key``; on disk when this returns."""
        with self._lock:
            self._entries[key] = dict(entry)
            self._write()

    def remove(self, key: str) -> None:
        with self._lock:
            if self._entries.pop(key, None) is not None:
                self._write()

    # -- disk ---------------------------------------------------------------------------------

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            entries = json.loads(raw.decode("utf-8"))["visits"]
            if not isinstance(entries, dict) or not all(
                    isinstance(k, str) and _valid_entry(v) for k, v in entries.items()):
                raise ValueError("not a map of survey drafts")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, aside)
            log.error("kiosk: %s could not be read (%s); kept as %s, starting with no survey drafts",
                      self.path, exc, aside)
            return {}
        return entries

    def _write(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = json.dumps({"visits": self._entries}, ensure_ascii=False, sort_keys=True).encode("utf-8")
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                     0o600)
        try:
            _private(temporary)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)


def _valid_entry(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    for name, kind in _ENTRY_FIELDS.items():
        value = entry.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return False
    return True


def _private(path: Path) -> None:
    """0600 even if the file existed with wider rights (a umask cannot widen it either)."""
    try:
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - Windows keeps its own ACLs
        pass
