"""The central office's web app: case inboxes, administration, the audit log, analysis.

Persian and right-to-left first (English is a toggle), served by the central Flask app
(:func:`central.app.create_app` calls :func:`init_app`).  Each page module holds a plain
blueprint ``bp`` with module-level views (Flask's tutorial app is the model); they reach the
store and the clock through ``current_app.extensions["seda.web"]`` (:mod:`.auth`).  The pieces:

- the services they call live beside them in ``central``: :mod:`central.accounts` (users,
  argon2id passwords, sessions), :mod:`central.audit` (the log), :mod:`central.grants`
  (oversight role grants), :mod:`central.casework`, :mod:`central.analysis`;
- :mod:`.auth` the contract pages are built on (``require``, ``current_user``, CSRF);
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

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from forms.cases import format_tracking_code
from forms.flask_messages import install_messages
from ..store import Store
from . import (admin, announcement_pages, answer_templates, auditlog, auth, cases, catalogue_pages,
               contact_pages, form_pages, grant_review, i18n, insight, insight_common, login, monthly,
               office_names, office_pages, offices, root, triage_audio)

__all__ = ["init_app"]

log = logging.getLogger("seda.central.web")

_SECRET_SETTING = "web.flask_secret_key"


# Every page blueprint nests under the root blueprint ``web`` once, when this package is
# imported; :func:`init_app` then registers the tree on each app (tests make many apps).
# (login hangs its views on root.bp itself; insight and monthly theirs on insight_common.bp.)
for _pages in (admin, auditlog, cases, grant_review, answer_templates, triage_audio, offices,
               catalogue_pages, office_pages, contact_pages, announcement_pages, form_pages):
    root.bp.register_blueprint(_pages.bp)

#: (endpoint, label, roles) of the menu in the top bar.
NAV = (("web.cases.inbox", "nav_inbox", ("responder", "oversight", "auditor")),
       ("web.admin.triage", "nav_triage", ("admin",)),
       ("web.admin.users", "nav_users", ("admin",)),
       ("web.admin.units", "nav_units", ("admin",)),
       ("web.admin.rules", "nav_rules", ("admin",)),
       ("web.admin.holidays", "nav_holidays", ("admin",)),
       ("web.admin.deadlines", "nav_deadlines", ("admin",)),
       ("web.offices.page", "nav_offices", ("admin",)),
       ("web.catalogue.index", "nav_content", ("admin",)),
       ("web.auditlog.log", "nav_audit", ("auditor",)),
       ("web.grants.review", "nav_grants", ("oversight",)),
       ("web.templates.list", "nav_templates", ("responder", "oversight")),
       ("/analysis/", "nav_analysis", ("analyst", "admin")))


def init_app(app: Flask, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
    """Serve every central web page, the analysis pages included, from ``app`` over ``store``.

    The pages reach the store and the clock through ``app.extensions["seda.web"]``
    (:func:`.auth.store`, :func:`.auth.now`); ``clock`` (tests) replaces the wall clock for
    session expiry and the times pages show.
    """
    state = auth.WebState(store, clock)
    for endpoint, label_key, roles in NAV:
        auth.register_nav(state, endpoint, label_key, roles)
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
    app.register_blueprint(root.bp)
    app.register_blueprint(insight_common.bp, url_prefix="/analysis")  # insight.py, monthly.py


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
    return store.shared_setting(_SECRET_SETTING, secrets.token_hex(32))
