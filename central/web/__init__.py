"""The central office's web app: case inboxes, administration, the audit log, analysis.

Persian and right-to-left first (English is a toggle), served by the central Flask app
(:func:`central.app.create_app` registers :func:`web_blueprint`).  The pieces:

- the services they call live beside them in ``central``: :mod:`central.accounts` (users,
  argon2id passwords, sessions), :mod:`central.audit` (the log), :mod:`central.grants`
  (oversight role grants), :mod:`central.casework`, :mod:`central.analysis`;
- :mod:`.auth` the contract pages are built on (``require``, ``current_user``, ``audit``, CSRF);
- :mod:`.login` sign-in/out and the language toggle; :mod:`.admin` users, units, routing
  rules, holidays, deadlines and the triage queue; :mod:`.auditlog` the auditor's page;
  :mod:`.cases` unit inboxes and case pages; :mod:`.offices` each office's health;
- :mod:`.insight` the analysis pages under ``/analysis``.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Flask
from flask.sessions import SecureCookieSessionInterface

from forms.cases import format_tracking_code
from forms.flask_messages import install_messages
from ..store import Store
from . import auth, i18n, office_names

__all__ = ["web_blueprint"]

log = logging.getLogger("seda.central.web")

_SECRET_SETTING = "web.flask_secret_key"


def web_blueprint(store: Store, *, clock: Callable[[], datetime] | None = None) -> Blueprint:
    """The blueprint of every central web page, the analysis pages included.

    ``clock`` (tests) replaces the wall clock for session expiry and audit times.
    """
    from . import admin, answer_templates, auditlog, cases, grant_review, login, offices, triage_audio
    from . import announcement_pages, catalogue_pages, contact_pages, office_pages

    bp = Blueprint("web", __name__, url_prefix="")
    state = auth.WebState(store, clock)
    for endpoint, label_key, roles in (
            ("web.cases.inbox", "nav_inbox", ("responder", "oversight", "auditor")),
            ("web.admin.triage", "nav_triage", ("admin",)),
            ("web.admin.users", "nav_users", ("admin",)),
            ("web.admin.units", "nav_units", ("admin",)),
            ("web.admin.rules", "nav_rules", ("admin",)),
            ("web.admin.holidays", "nav_holidays", ("admin",)),
            ("web.admin.deadlines", "nav_deadlines", ("admin",)),
            ("web.offices.page", "nav_offices", ("admin",)),
            ("web.auditlog.log", "nav_audit", ("auditor",)),
            ("web.grants.review", "nav_grants", ("oversight",)),
            ("web.templates.list", "nav_templates", ("responder", "oversight")),
            ("web.catalogue.index", "nav_catalogue", ("admin",)),
            ("web.office_register.index", "nav_register", ("admin",)),
            ("web.contacts.index", "nav_contacts", ("admin",)),
            ("web.announcements.index", "nav_announcements", ("admin",))):
        auth.register_nav(state, endpoint, label_key, roles)
    login.register(bp)
    bp.register_blueprint(admin.blueprint())
    bp.register_blueprint(auditlog.blueprint())
    bp.register_blueprint(cases.blueprint())
    bp.register_blueprint(grant_review.blueprint())
    bp.register_blueprint(answer_templates.blueprint())
    bp.register_blueprint(triage_audio.blueprint())
    bp.register_blueprint(offices.blueprint())
    for content_pages in (catalogue_pages, office_pages, contact_pages, announcement_pages):
        bp.register_blueprint(content_pages.blueprint())

    @bp.record_once
    def _setup(setup_state) -> None:
        app: Flask = setup_state.app
        app.extensions["seda.web"] = state
        app.session_interface = _FlashCookies(store)
        app.config["SESSION_COOKIE_NAME"] = "seda_central_flash"  # Flask's default is "session"
        app.config["SESSION_COOKIE_HTTPONLY"] = True
        app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
        install_messages(app, i18n.MESSAGES, i18n.locale_selector)
        app.jinja_env.globals.update(t=i18n.t, csrf_field=auth.csrf_field, nav_items=auth.nav_items,
                                     current_lang=i18n.current_lang, office_name=office_names.office_name,
                                     office_label=office_names.office_label)
        app.jinja_env.filters.update(fa_digits=i18n.fa_digits, jalali=i18n.jalali,
                                     tracking=format_tracking_code)
        app.after_request(auth.finish_response)
        app.context_processor(lambda: {"current_user": auth.template_user()})
        _register_insight(app, store, state)

    return bp


def _register_insight(app: Flask, store: Store, state: auth.WebState) -> None:
    """The analysis pages (dashboard, comment browser) at /analysis."""
    from .insight import insight_blueprint

    blueprint = insight_blueprint(store)
    app.register_blueprint(blueprint, url_prefix="/analysis")
    auth.register_nav(state, "/analysis/", "nav_analysis", ("analyst", "admin"))


class _FlashCookies(SecureCookieSessionInterface):
    """Flask's signed cookie (flash messages only), keyed by a secret kept in the store.

    The key is read at the first page request, not when the app is made, so the server starts
    and the sync API answers 503 while the store is down; API requests have no cookie session.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def open_session(self, app: Flask, request):  # type: ignore[override]
        if request.path.startswith(("/v1/", "/open311/")):
            return None  # Flask gives these a null session
        if not app.secret_key:
            app.secret_key = _flask_secret(self._store)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure over HTTPS, or behind a TLS proxy when ``SEDA_CENTRAL_HTTPS=1``."""
        return super().get_cookie_secure(app) or auth.https_only()


def _flask_secret(store: Store) -> str:
    """The signing key of the small flash-message cookie, shared through ``settings`` so
    every server process on the store accepts every other's cookie."""
    candidate = secrets.token_hex(32)
    with store.write() as db:
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                   (_SECRET_SETTING, candidate))
        return db.one("SELECT value FROM settings WHERE key = ?", (_SECRET_SETTING,))[0]
