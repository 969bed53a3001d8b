"""Visits: everything one person at the kiosk has entered, kept on the server, never in the page.

The browser holds only a random visit id (in the signed session cookie) and, in each form, a
second random form token.  Ending a visit (submit, idle reset, "start again") deletes its
state here, so back/forward, refresh or a re-sent form cannot bring the previous visitor's
answers back: the server no longer has them, and a form posted with an old token is refused.

A visit is also ended on the server if nobody touched it for ``expire_after`` seconds, in case
the page's idle timer never ran (script blocked, screen asleep).  The store only keeps visits
in memory; what ending one means (storing its survey answers, clearing its drafts) is
:mod:`kiosk.lifecycle`'s, which the store calls back for every visit it expires.
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
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
    #: The form version this visit's survey is on, fixed at its first question: a version
    #: published mid-survey never mixes two versions in one response.
    survey_form: Any = None
    #: When the survey answers last changed (UTC): the stored response carries this time.
    survey_answered_at: datetime | None = None
    #: UUID the survey response is stored under: a re-sent form cannot store it twice.
    survey_record_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    cases_filed: int = 0
    #: The case the receipt screen shows: {"tracking_code", "type", "created_at", ...}.
    receipt: dict[str, Any] | None = None
    #: Drafts of half-filled forms kept across a validation error (same visitor only).
    drafts: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Set once, when the visit ends; a request still holding the visit then changes nothing.
    ended: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def is_pristine(self) -> bool:
        """Nothing entered and no display preference changed: no need to reset it."""
        return (not self.survey_answers and not self.drafts and self.receipt is None
                and self.lang == "fa" and not self.large_text and not self.high_contrast)


class VisitStore:
    """Thread-safe map of visit id to :class:`Visit`, with expiry.

    ``on_expire(visit)`` is called for every visit the store drops for being untouched, outside
    the store's lock (it may write to the ledger).
    """

    def __init__(self, expire_after: float, clock: Callable[[], float] = time.monotonic,
                 on_expire: Callable[[Visit], None] | None = None) -> None:
        self.expire_after = expire_after
        self._clock = clock
        self._on_expire = on_expire
        self._lock = threading.Lock()
        self._visits: dict[str, Visit] = {}

    def start(self, display_from: Visit | None = None) -> Visit:
        """A new visit; ``display_from`` hands over only the display choices (language, large
        text, contrast) of the same person's previous visit, nothing they entered."""
        now = self._clock()
        visit = Visit(id=secrets.token_urlsafe(24), form_token=secrets.token_urlsafe(24),
                      public_id=str(uuid.uuid4()), started=now, last_seen=now)
        if display_from is not None:
            visit.lang = display_from.lang
            visit.large_text = display_from.large_text
            visit.high_contrast = display_from.high_contrast
        with self._lock:
            expired = self._take_expired(now)
            self._visits[visit.id] = visit
        self._expire(expired)
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
            if now - visit.last_seen <= self.expire_after:
                visit.last_seen = now
                return visit
            del self._visits[visit_id]
        self._expire([visit])
        return None

    def end(self, visit_id: str | None) -> None:
        """Forget the visit (its owner has already dealt with what it held)."""
        if visit_id:
            with self._lock:
                self._visits.pop(visit_id, None)

    def sweep(self, now: float | None = None) -> int:
        """Expire every visit untouched for ``expire_after`` seconds; how many there were."""
        with self._lock:
            expired = self._take_expired(self._clock() if now is None else now)
        self._expire(expired)
        return len(expired)

    def __len__(self) -> int:
        with self._lock:
            return len(self._visits)

    def _take_expired(self, now: float) -> list[Visit]:
        expired = [v for v in self._visits.values() if now - v.last_seen > self.expire_after]
        for visit in expired:
            del self._visits[visit.id]
        return expired

    def _expire(self, visits: list[Visit]) -> None:
        if self._on_expire is not None:
            for visit in visits:
                self._on_expire(visit)
