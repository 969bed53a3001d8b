"""What the kiosk app keeps between requests, and the accessors its views use.

One :class:`KioskState` per app (``app.extensions["seda_kiosk"]``), made by the factory in
kiosk/app.py; the views (kiosk/visitor.py, kiosk/staff.py, kiosk/phone_scan.py) reach it only
through :func:`state`, :func:`ledger` and :func:`accounts`, so no view imports the factory.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import current_app

from forms import Form, builtin_catalog
from forms.catalogue import load_directory, load_services
from ledger.ledger import Ledger, default_ledger_path
from ledger.published_content import office_forms
from ledger.report_key import ReportKey, report_key

from .accounts import AccountStore
from .config import KioskConfig
from .lifecycle import VisitLifecycle
from .limits import Backoff, TokenBucket, WindowLimit
from .scan_queue import ScanQueue
from .survey_drafts import FILE_NAME as SURVEY_DRAFTS_FILE
from .writer import LedgerWriter

__all__ = ["KioskState", "STAFF_LOGIN_FREE_TRIES", "STAFF_LOGIN_KIOSK_FREE_TRIES", "accounts",
           "ledger", "state"]

#: Wrong passwords for one staff name before each further try must wait (2, 4, 8 ... s).
STAFF_LOGIN_FREE_TRIES = 5
#: Wrong staff passwords, whatever the name, before the whole kiosk's staff login waits.
STAFF_LOGIN_KIOSK_FREE_TRIES = 20


class _PerThread:
    """One object per server thread: SQLite connections may not cross threads, and opening
    the ledger on every request would re-run its schema checks each time."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._local = threading.local()

    def get(self) -> Any:
        value = getattr(self._local, "value", None)
        if value is None:
            value = self._factory()
            self._local.value = value
        return value


class KioskState:
    """Everything the app keeps between requests, owned by one app instance."""

    def __init__(self, config: KioskConfig) -> None:
        self.config = config
        #: The built-in survey form: what a visit answers until the centre publishes a version
        #: (kiosk/published.py survey_form), and the check that the configured form exists.
        self.form = builtin_catalog().get(config.survey_form)
        #: The files shown until the centre's catalogue and directory arrive (kiosk/published.py).
        self.builtin_services = load_services(config.data_file("services"))
        self.builtin_directory = load_directory(config.data_file("directory"))
        self.ledger_path = default_ledger_path(config.home)
        self.follow_up_visit = Backoff(config.follow_up_free_tries, config.follow_up_max_delay)
        #: Far above what one visit may try, so one person cannot lock everyone out; once
        #: spent, wrong codes are spaced out for the whole kiosk rather than locked.
        self.follow_up_kiosk = TokenBucket(config.follow_up_kiosk_wrong_per_hour, 3600.0)
        self.case_flood = WindowLimit(config.max_cases_per_minute, 60.0)
        #: Wrong staff passwords: per name, and (a larger allowance) for the whole kiosk, so
        #: one person cannot try a few passwords on every name.
        self.staff_logins = Backoff(STAFF_LOGIN_FREE_TRIES, 300)
        self.staff_logins_kiosk = Backoff(STAFF_LOGIN_KIOSK_FREE_TRIES, 300)
        #: Cases and survey responses are written by one thread in group commits.
        self.writer = LedgerWriter(self.ledger_path)
        # The server forgets a visit after this long even if the page's idle timer never ran.
        expire = max(600, 5 * config.idle_seconds) if config.idle_seconds else 3600
        self._ledgers = _PerThread(lambda: Ledger.open(self.ledger_path))
        self.lifecycle = VisitLifecycle(
            form=self.form, forms=self.form_version, writer=self.writer, office=config.office,
            kiosk_id=config.kiosk_id, expire_after=expire,
            drafts_path=config.state_folder / SURVEY_DRAFTS_FILE)
        self.visits = self.lifecycle.visits
        # Visits the previous run of this server left mid-survey: stored now, as incomplete.
        self.lifecycle.store_orphans()
        self._scans: ScanQueue | None = None
        self._scans_lock = threading.Lock()
        self._accounts = _PerThread(lambda: AccountStore(config.state_folder / "accounts.sqlite3"))

    @property
    def scans(self) -> ScanQueue:
        """The scan-upload queue, made (and any jobs left by a restart resumed) on first use."""
        with self._scans_lock:
            if self._scans is None:
                config = self.config
                self._scans = ScanQueue(config.home, config.state_folder / "scans",
                                        max_waiting=config.scan_queue_size,
                                        max_pages=config.scan_max_pages,
                                        max_seconds=config.scan_max_seconds)
            return self._scans

    def ledger(self) -> Ledger:
        return self._ledgers.get()

    def form_version(self, form_id: str, version: int) -> Form:
        """One version of a form, built-in or published by the centre (a survey draft names
        the version its visit answered, which may since have been superseded)."""
        return office_forms(self.ledger()).get(form_id, version)

    def report_key(self) -> ReportKey | None:
        """The key misconduct reports are sealed to right now (it can arrive with any sync),
        or None when this office was never set up and so takes no misconduct report."""
        return report_key(self.config.home, self.ledger())

    def accounts(self) -> AccountStore:
        return self._accounts.get()



def state() -> KioskState:
    """The running app's state (inside a request or an app context)."""
    return current_app.extensions["seda_kiosk"]


def ledger() -> Ledger:
    """The office ledger for this thread."""
    return state().ledger()


def accounts() -> AccountStore:
    return state().accounts()
