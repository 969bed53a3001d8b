"""The kiosk's Flask application factory.

``create_app(config)`` wires the pieces together and holds no global state: the visit store,
rate limits and per-thread ledger connections hang off the app object, so tests can run
several independent kiosks in one process.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface

from forms import builtin_catalog
from ledger.ledger import Ledger, default_ledger_path

from . import i18n
from .accounts import AccountStore
from forms.catalogue import load_directory, load_services
from .config import KioskConfig
from .lifecycle import VisitLifecycle
from .limits import Backoff, TokenBucket, WindowLimit
from .scan_queue import ScanQueue
from sync.trust import ReportKey, report_key
from .survey_drafts import FILE_NAME as SURVEY_DRAFTS_FILE
from forms.tracking_codes import format_tracking_code
from .writer import LedgerWriter

__all__ = ["create_app", "KioskState", "ledger", "accounts", "state"]

T = TypeVar("T")

#: Content-Security-Policy: everything from this server, nothing inline, nothing external.
#: ``blob:`` media is the visitor's own recording being played back before sending.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


#: Wrong passwords for one staff name before each further try must wait (2, 4, 8 ... s).
STAFF_LOGIN_FREE_TRIES = 5
#: Wrong staff passwords, whatever the name, before the whole kiosk's staff login waits.
STAFF_LOGIN_KIOSK_FREE_TRIES = 20
#: Set to 1 when a TLS-terminating proxy is in front of the kiosk: its cookies are then marked
#: Secure (the same convention as the central app's ``SEDA_CENTRAL_HTTPS``).
HTTPS_ENV = "SEDA_KIOSK_HTTPS"


class _SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure over HTTPS or when ``SEDA_KIOSK_HTTPS=1`` says a
    TLS proxy is in front (waitress does not trust ``X-Forwarded-Proto``, so behind a proxy
    every request looks like plain HTTP)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return (super().get_cookie_secure(app) or (has_request_context() and request.is_secure)
                or os.environ.get(HTTPS_ENV, "").strip() == "1")


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
        catalog = builtin_catalog()
        self.form = catalog.get(config.survey_form)
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
        self.lifecycle = VisitLifecycle(
            form=self.form, forms=catalog.get, writer=self.writer, office=config.office,
            kiosk_id=config.kiosk_id, expire_after=expire,
            drafts_path=config.state_folder / SURVEY_DRAFTS_FILE)
        self.visits = self.lifecycle.visits
        # Visits the previous run of this server left mid-survey: stored now, as incomplete.
        self.lifecycle.store_orphans()
        self._ledgers = _PerThread(lambda: Ledger.open(self.ledger_path))
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

    def report_key(self) -> ReportKey | None:
        """The key misconduct reports are sealed to right now (it can arrive with any sync),
        or None when this office was never set up and so takes no misconduct report."""
        return report_key(self.config.home, self.ledger())

    def accounts(self) -> AccountStore:
        return self._accounts.get()

    @property
    def services(self):
        """The catalogue shown now: the centre's once synced (kiosk/published.py)."""
        from . import published
        return published.services()

    @property
    def directory(self):
        from . import published
        return published.directory()

    def service(self, service_id: str):
        from . import published
        return published.service(service_id)


def state() -> KioskState:
    from flask import current_app
    return current_app.extensions["seda_kiosk"]


def ledger() -> Ledger:
    """The office ledger for this thread."""
    return state().ledger()


def accounts() -> AccountStore:
    return state().accounts()


def create_app(config: KioskConfig | None = None) -> Flask:
    """Build the kiosk app for ``config`` (default: read from ``$SEDA_HOME``)."""
    config = config or KioskConfig.load()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.resolved_secret_key(),
        SESSION_COOKIE_NAME="seda_kiosk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=max(config.voice_max_bytes, 64 * 1024 * 1024) + 64 * 1024,
        TESTING=config.testing,
        SEND_FILE_MAX_AGE_DEFAULT=86400,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.session_interface = _SessionCookie()
    app.extensions["seda_kiosk"] = KioskState(config)
    from . import published
    app.jinja_env.globals.update(t=_t, num=_num, jdate=_jdate, kiosk_config=config,
                                 published=published)
    app.jinja_env.filters["tracking"] = format_tracking_code
    app.jinja_env.filters["scan_time"] = _from_timestamp

    from .staff import bp as staff_bp
    from .visitor import bp as visitor_bp
    app.register_blueprint(visitor_bp)
    app.register_blueprint(staff_bp)
    app.after_request(_security_headers)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(500, _server_error)
    return app


def _lang() -> str:
    return getattr(g, "lang", "fa")


def _t(key: str, **values: object) -> str:
    return i18n.translate(key, _lang(), **values)


def _num(value: int | str, grouping: bool = False) -> str:
    return i18n.number(value, _lang(), grouping)


def _jdate(moment, with_time: bool = False) -> str:
    return i18n.jalali(moment, _lang(), with_time)


def _from_timestamp(seconds: float):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(seconds, timezone.utc)


def _security_headers(response):
    """No page is ever cached: back/forward and refresh must ask the server again, and the
    server has forgotten the previous visitor.  Fonts, styles and scripts may be cached."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Content-Security-Policy"] = CSP
    headers["Permissions-Policy"] = "microphone=(self), camera=(), geolocation=()"
    if request.endpoint != "static" and not request.path.startswith("/audio/"):
        headers["Cache-Control"] = "no-store, max-age=0"
        headers["Pragma"] = "no-cache"
        headers["Expires"] = "0"
    return response


def _not_found(error):
    g.setdefault("lang", "fa")
    return render_template("error.html", title_key="not_found_title"), 404


def _server_error(error):
    g.setdefault("lang", "fa")
    return render_template("error.html", title_key="error_title"), 500


def static_folder() -> Path:
    return Path(__file__).parent / "static"
