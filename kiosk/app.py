"""The kiosk's Flask application factory.

``create_app(config)`` wires the pieces together and holds no global state: the visit store,
rate limits and per-thread ledger connections hang off the app object (kiosk/state.py), so
tests can run several independent kiosks in one process.  The views are module-level
blueprints (kiosk/visitor.py; the staff pages in kiosk/staff.py and kiosk/phone_scan.py on the
blueprint of kiosk/staff_session.py); they import kiosk/state.py, never this module.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface

from forms.flask_messages import current_locale, install_messages
from forms.tracking_codes import format_tracking_code

from . import i18n
from . import phone_scan, staff, staff_cases  # noqa: F401 - imported for their routes on the staff blueprint
from .config import KioskConfig
from .health import install_heartbeat
from .staff_session import bp as staff_bp
from .state import KioskState
from .visitor import bp as visitor_bp

__all__ = ["create_app"]

#: Content-Security-Policy: everything from this server, nothing inline, nothing external.
#: ``blob:`` media is the visitor's own recording being played back before sending.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


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
    install_messages(app, i18n.MESSAGES, _lang)
    from . import published
    app.jinja_env.globals.update(t=_t, num=_num, jdate=_jdate, kiosk_config=config,
                                 published=published)
    app.jinja_env.filters["tracking"] = format_tracking_code
    app.jinja_env.filters["scan_time"] = _from_timestamp
    _add_read_aloud_helpers(app)

    app.register_blueprint(visitor_bp)
    app.register_blueprint(staff_bp)
    install_heartbeat(app)
    app.after_request(_security_headers)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(500, _server_error)
    return app


def _lang() -> str:
    """Flask-Babel's locale selector: the visit's (or the staff session's) language."""
    return getattr(g, "lang", "fa")


def _t(key: str, **values: object) -> str:
    return i18n.translate(key, current_locale(), **values)


def _num(value: int | str, grouping: bool = False) -> str:
    return i18n.number(value, current_locale(), grouping)


def _jdate(moment, with_time: bool = False) -> str:
    return i18n.jalali(moment, current_locale(), with_time)


def _from_timestamp(seconds: float):
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


def _add_read_aloud_helpers(app: Flask) -> None:
    """Template helpers for reading screens aloud (:mod:`kiosk.read_aloud`) and the kiosk's
    question labels (:func:`kiosk.survey_flow.kiosk_label`)."""
    from flask import url_for

    from .read_aloud import code_clips, screen_clip, speech_available
    from .survey_flow import kiosk_label
    app.jinja_env.globals.update(screen_clip=screen_clip, code_clips=code_clips,
                                 speech_available=speech_available)
    app.jinja_env.filters["kiosk_label"] = kiosk_label
    app.jinja_env.filters["static_url"] = lambda name: url_for("static", filename=name)
