"""A kiosk visit from first touch to its end: one visitor, one survey response, nothing left over.

A visit ends when the visitor finishes the survey, taps «صفحه اصلی» or «شروع دوباره», when the
page's idle timer runs out (it calls ``/reset``), or when the server expires it untouched
(:class:`~kiosk.visits.VisitStore`).  However it ends, :meth:`VisitLifecycle.end`

1. stores the survey answers given, if any, as one ``survey_response`` record under the UUID
   the visit drew when it began -- *complete* only if it was sent with every required question
   answered (:mod:`kiosk.survey`); a visit with no answer stores nothing;
2. clears everything the visit held (survey answers, case and report drafts with their
   identity fields, the receipt, the follow-up lookup) and forgets it, so the next person
   starts from nothing; the page itself holds no visitor data (a recording lives only in the
   voice page and goes with it).

Survey answers are also written, as they are given, to the private draft file
(:mod:`kiosk.survey_drafts`).  Whatever is there without a live visit -- after a restart, a
crash, or a failed write -- is stored as an incomplete response by :meth:`store_orphans` (at
start-up and by the sweeper thread).  Because every path stores under the visit's own UUID and
builds the body from the same draft entry, a response is stored exactly once whichever path
gets there first; and two visits never share a UUID, so two visitors are never one response.
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from forms import Form
from ledger.ledger import Ledger, LedgerConflict

from .survey import survey_response_body
from .survey_drafts import SurveyDrafts
from .visits import Visit, VisitStore
from .writer import LedgerWriter

__all__ = ["VisitLifecycle"]

log = logging.getLogger("seda.kiosk")


class VisitLifecycle:
    """The live visits, their survey drafts on disk, and storing what each visit answered."""

    def __init__(self, *, form: Form, forms: Callable[[str, int], Form], drafts_path: Path,
                 writer: LedgerWriter, office: str, kiosk_id: str, expire_after: float) -> None:
        self.form = form
        self._forms = forms
        self._writer = writer
        self._office = office
        self._kiosk_id = kiosk_id
        self.drafts = SurveyDrafts(drafts_path)
        self.visits = VisitStore(expire_after=expire_after, on_expire=self._expired)
        self._lock = threading.Lock()
        #: Draft keys a live visit owns (or that are being stored): not orphans.
        self._owned: set[str] = set()
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()

    # -- visits -------------------------------------------------------------------------------

    def begin(self, display_from: Visit | None = None) -> Visit:
        return self.visits.start(display_from)

    def find(self, visit_id: str | None) -> Visit | None:
        return self.visits.get(visit_id)

    def record_answer(self, visit: Visit, question_id: str, value: Any) -> bool:
        """Keep (or, with ``None``, withdraw) one answer, on disk before this returns; False if
        the visit has already ended (a late request of the previous visitor changes nothing)."""
        with visit.lock:
            if visit.ended:
                return False
            if value is None:
                visit.survey_answers.pop(question_id, None)
            else:
                visit.survey_answers[question_id] = value
            key = visit.survey_record_uuid
            if not visit.survey_answers:
                self.drafts.remove(key)
                return True
            visit.survey_answered_at = datetime.now(timezone.utc)
            form = visit.survey_form or self.form
            with self._lock:
                self._owned.add(key)
            self.drafts.put(key, {
                "visit": visit.public_id, "form": form.id, "form_version": form.version,
                "answers": dict(visit.survey_answers),
                "answered_at": visit.survey_answered_at.isoformat(), "submitted": False})
        self._ensure_sweeper()
        return True

    def end(self, visit: Visit, *, submitted: bool = False) -> bool:
        """End ``visit`` (see the module docstring); True if a survey response was stored.

        With ``submitted`` the visitor sent the survey, so a failure to store it is raised:
        they must not be thanked.  Otherwise a failure is logged and the answers wait in the
        draft file for the sweeper or the next start.
        """
        with visit.lock:
            if visit.ended:
                return False
            visit.ended = True
            key = visit.survey_record_uuid
            answered = bool(visit.survey_answers)
            if answered and submitted:
                entry = self.drafts.get(key)
                if entry is not None:
                    self.drafts.put(key, {**entry, "submitted": True})
            visit.survey_answers.clear()
            visit.drafts.clear()
            visit.receipt = None
        self.visits.end(visit.id)
        if not answered:
            return False
        try:
            return self._store(key)
        except Exception:
            if submitted:
                raise
            log.exception("kiosk: could not store the survey answers of an ended visit; "
                          "they stay in %s and are stored later", self.drafts.path)
            return False
        finally:
            with self._lock:
                self._owned.discard(key)

    def _expired(self, visit: Visit) -> None:
        self.end(visit)

    # -- drafts without a visit -----------------------------------------------------------------

    def store_orphans(self) -> int:
        """Store every draft no live visit owns, as an incomplete response; how many were stored.

        At start-up that is every visit the previous server run left behind."""
        stored = 0
        for key in self.drafts.entries():
            with self._lock:
                if key in self._owned:
                    continue
                self._owned.add(key)
            try:
                stored += self._store(key)
            except Exception:
                log.exception("kiosk: could not store abandoned survey answers from %s; "
                              "they stay there and are tried again", self.drafts.path)
            finally:
                with self._lock:
                    self._owned.discard(key)
        return stored

    def _store(self, key: str) -> bool:
        """Write the draft ``key`` to the ledger (once, whoever calls) and drop it from disk."""
        entry = self.drafts.get(key)
        if entry is None:
            return False
        form = self._form_of(entry)
        body = survey_response_body(form, entry["answers"], submitted=entry["submitted"],
                                    kiosk_id=self._kiosk_id, visit=entry["visit"])
        answered_at = datetime.fromisoformat(entry["answered_at"])
        office = self._office

        def append(ledger: Ledger):
            try:
                return ledger.append("survey_response", body, office=office, uuid=key,
                                     created_at=answered_at)
            except LedgerConflict:
                return None  # stored before (a crash came between ledger and draft file)

        record = self._writer.submit(append)
        self.drafts.remove(key)
        return record is not None

    def _form_of(self, entry: dict[str, Any]) -> Form:
        if (entry["form"], entry["form_version"]) == (self.form.id, self.form.version):
            return self.form
        return self._forms(entry["form"], entry["form_version"])

    # -- the sweeper ------------------------------------------------------------------------------

    def sweep(self) -> None:
        """Expire untouched visits and store what they and any orphan drafts answered."""
        self.visits.sweep()
        self.store_orphans()

    def _ensure_sweeper(self) -> None:
        """A daemon thread that sweeps while answers are in progress, so a visit abandoned on
        a screen whose idle timer never ran is stored within minutes, not at the next touch."""
        with self._lock:
            if self._sweeper is not None and self._sweeper.is_alive():
                return
            interval = max(1.0, min(60.0, self.visits.expire_after / 4))
            self._sweeper = threading.Thread(
                target=_sweep_until_stopped, args=(weakref.ref(self), self._stop, interval),
                name="seda-kiosk-visit-sweeper", daemon=True)
            self._sweeper.start()

    def close(self) -> None:
        self._stop.set()


def _sweep_until_stopped(lifecycle_ref: Callable[[], VisitLifecycle | None],
                         stop: threading.Event, interval: float) -> None:
    """Holds the lifecycle only weakly: an app that is gone takes its sweeper with it."""
    while not stop.wait(interval):
        lifecycle = lifecycle_ref()
        if lifecycle is None:
            return
        try:
            lifecycle.sweep()
        except Exception:  # noqa: BLE001 - a sweep must never kill the thread
            log.exception("kiosk: sweeping ended visits failed")
        del lifecycle
