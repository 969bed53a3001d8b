"""Visits: everything one person at the kiosk has entered, kept on the server, never in the page.

The browser holds only a random visit id (in the signed session cookie) and, in each form, a
second random form token.  Ending a visit (submit, idle reset, "start again") deletes its
state here, so back/forward, refresh or a re-sent form cannot bring the previous visitor's
answers back: the server no longer has them, and a form posted with an old token is refused.

A visit is also ended on the server if nobody touched it for ``expire_after`` seconds, in case
the page's idle timer never ran (script blocked, screen asleep).
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Visit", "VisitStore"]


@dataclass
class Visit:
    """One visitor's session at the kiosk; mutable, owned by its :class:`VisitStore`."""

    id: str
    form_token: str
    #: Public, unlinkable name of the visit written with its survey response.
    public_id: str
    started: float
    last_seen: float
    lang: str = "fa"
    large_text: bool = False
    high_contrast: bool = False
    survey_answers: dict[str, Any] = field(default_factory=dict)
    #: UUID the survey response is stored under: a re-sent form cannot store it twice.
    survey_record_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    cases_filed: int = 0
    #: The case the receipt screen shows: {"tracking_code", "type", "created_at", ...}.
    receipt: dict[str, Any] | None = None
    #: Drafts of half-filled forms kept across a validation error (same visitor only).
    drafts: dict[str, dict[str, str]] = field(default_factory=dict)

    def is_pristine(self) -> bool:
        """Nothing entered and no display preference changed: no need to reset it."""
        return (not self.survey_answers and not self.drafts and self.receipt is None
                and self.lang == "fa" and not self.large_text and not self.high_contrast)


class VisitStore:
    """Thread-safe map of visit id to :class:`Visit`, with expiry."""

    def __init__(self, expire_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.expire_after = expire_after
        self._clock = clock
        self._lock = threading.Lock()
        self._visits: dict[str, Visit] = {}

    def start(self) -> Visit:
        now = self._clock()
        visit = Visit(id=secrets.token_urlsafe(24), form_token=secrets.token_urlsafe(24),
                      public_id=str(uuid.uuid4()), started=now, last_seen=now)
        with self._lock:
            self._sweep(now)
            self._visits[visit.id] = visit
        return visit

    def get(self, visit_id: str | None) -> Visit | None:
        """The live visit with this id (touching it), or None if it ended or expired."""
        if not visit_id:
            return None
        now = self._clock()
        with self._lock:
            visit = self._visits.get(visit_id)
            if visit is None:
                return None
            if now - visit.last_seen > self.expire_after:
                del self._visits[visit_id]
                return None
            visit.last_seen = now
            return visit

    def end(self, visit_id: str | None) -> None:
        if visit_id:
            with self._lock:
                self._visits.pop(visit_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._visits)

    def _sweep(self, now: float) -> None:
        expired = [k for k, v in self._visits.items() if now - v.last_seen > self.expire_after]
        for key in expired:
            del self._visits[key]
