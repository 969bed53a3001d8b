"""Who is asking, and may they: the contract every central web page is built on.

Page modules (ours and the analysis pages in ``web/insight.py``) use only this:

- ``@require(*roles)`` on a view: not signed in -> the sign-in page (with ``next``); signed in
  with another role -> a Persian 403 page; POST without the session's CSRF token -> refused.
  ``@require()`` with no roles admits any signed-in user.
- :func:`current_user` -> :class:`User` ``(name, display_name, role, unit)`` or None; in
  templates as ``current_user``.
- no auditing: the service a page calls writes the audit entry, with the actor the page
  passes (``auth.current_user().name``), so the command line and any API are audited alike.
- ``{{ csrf_field() }}`` in every form, ``{{ t(key) }}`` for words, ``|fa_digits`` and
  ``|jalali`` for numbers and dates, ``central/base.html`` (blocks ``title``, ``content``).

Everything is looked up lazily on first use in a request and cached on ``flask.g``, so a
blueprint registered beside ours (not inside it) gets the same checks.  The store and the
clock live in ``app.extensions["seda.web"]``; tests put a fake clock in
``app.config["SEDA_WEB_CLOCK"]`` (tests/central/conftest.py does) instead of sleeping.
"""
from __future__ import annotations

import hmac
import os
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (Flask, Response, current_app, g, redirect, render_template, request, session,
                   url_for)
from markupsafe import Markup, escape

from ..store import Store
from .. import accounts
from ..accounts import Session, User
from .i18n import t

__all__ = ["COOKIE", "LANG_COOKIE", "User", "WebState", "csrf_field", "csrf_token",
           "current_session", "current_user", "forbidden", "now", "register_nav", "require",
           "safe_next", "store", "user_can"]

COOKIE = "seda_central_session"
LANG_COOKIE = "seda_lang"
CSRF_FIELD = "csrf_token"
#: Set to 1 when a TLS-terminating proxy is in front: every cookie is then marked Secure.
HTTPS_ENV = "SEDA_CENTRAL_HTTPS"
_PRELOGIN_CSRF = "prelogin_csrf"


@dataclass
class WebState:
    """What the web pages share per app: the store, the clock and the navigation."""

    store: Store
    clock: Callable[[], datetime] | None = None
    nav: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)


def _state() -> WebState:
    return current_app.extensions["seda.web"]


def store() -> Store:
    """The central store the pages read and write."""
    return _state().store


def now() -> datetime:
    """The current UTC time; tests fake it through ``app.config["SEDA_WEB_CLOCK"]``."""
    clock = current_app.config.get("SEDA_WEB_CLOCK") or _state().clock
    moment = clock() if clock else datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc)


# -- who is asking ------------------------------------------------------------------------


def current_session() -> Session | None:
    """The live session of this request (cached); expired sessions end here."""
    if "seda_session" not in g:
        token = request.cookies.get(COOKIE)
        found = accounts.session_for(store(), token, now=now()) if token else None
        if token and found is None:
            g.seda_clear_cookie = True  # the cookie outlived its session: remove it
        g.seda_session = found
    return g.seda_session


def current_user() -> User | None:
    """The signed-in user, or None."""
    found = current_session()
    return None if found is None else found.user


class TemplateUser(User):
    """``current_user`` in templates: the user, usable as ``current_user.name`` and as
    ``current_user().name`` alike (page authors write either)."""

    def __call__(self) -> "TemplateUser":
        return self


class _NoUser:
    """``current_user`` in templates when nobody is signed in: false, and None when called."""

    def __bool__(self) -> bool:
        return False

    def __call__(self) -> None:
        return None

    def __getattr__(self, name: str) -> None:
        return None


def template_user() -> TemplateUser | _NoUser:
    user = current_user()
    return _NoUser() if user is None else TemplateUser(*[getattr(user, f) for f in (
        "name", "display_name", "role", "unit", "disabled", "created_at")])


def user_can(*roles: str) -> bool:
    """True if someone is signed in and (when roles are given) has one of them."""
    user = current_user()
    return user is not None and (not roles or user.role in roles)


# -- CSRF ---------------------------------------------------------------------------------


def csrf_token() -> str:
    """The token forms must send back: the session's, or before sign-in a cookie-bound one."""
    found = current_session()
    if found is not None:
        return found.csrf_token
    token = session.get(_PRELOGIN_CSRF)
    if not token:
        token = session[_PRELOGIN_CSRF] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    """``{{ csrf_field() }}``: the hidden input every POST form carries."""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def csrf_ok() -> bool:
    """Compare the form's (or X-CSRF-Token header's) token in constant time."""
    given = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    found = current_session()
    expected = found.csrf_token if found is not None else session.get(_PRELOGIN_CSRF, "")
    # as UTF-8 bytes: compare_digest raises TypeError on a str with non-ASCII characters
    return bool(expected) and bool(given) and hmac.compare_digest(
        expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


def csrf_refused() -> tuple[str, int]:
    return error_page("csrf_refused", "csrf_refused", 400)


# -- guards -------------------------------------------------------------------------------


def error_page(title_key: str, text_key: str, status: int) -> tuple[str, int]:
    return render_template("central/error.html", title=t(title_key), text=t(text_key)), status


def forbidden() -> tuple[str, int]:
    """The Persian 403 page."""
    return error_page("forbidden_title", "forbidden_text", 403)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a local path may follow sign-in (never ``//host``, ``https://...`` or ``/<tab>/host``).

    Anything with a control character, whitespace or a backslash is refused outright: browsers
    and Werkzeug drop or rewrite those (``/<tab>/evil`` becomes ``//evil``), and a header value
    with a newline cannot be sent at all.  What is left must be one ``/`` and a path.
    """
    if not target or any(ch == "\\" or ch.isspace() or unicodedata.category(ch) == "Cc"
                         for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def require(*roles: str) -> Callable:
    """View decorator: signed in (with one of ``roles`` if given) and, on POST, a CSRF token."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                target = request.full_path if request.query_string else request.path
                return redirect(url_for("web.login", next=target if request.method == "GET" else None))
            if roles and user.role not in roles:
                return forbidden()
            if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
                return csrf_refused()
            return view(*args, **kwargs)
        return wrapper
    return decorator


def register_nav(app_or_state: Flask | WebState, endpoint: str, label_key: str,
                 roles: tuple[str, ...]) -> None:
    """Add a navigation link (shown to ``roles``) to the base template's menu."""
    state = app_or_state if isinstance(app_or_state, WebState) else app_or_state.extensions["seda.web"]
    if all(existing[0] != endpoint for existing in state.nav):
        state.nav.append((endpoint, label_key, tuple(roles)))


def nav_items() -> list[tuple[str, str, bool]]:
    """``(url, label, current)`` for the signed-in user's role (base template)."""
    user = current_user()
    if user is None:
        return []
    items = []
    for endpoint, label_key, roles in _state().nav:
        if user.role not in roles:
            continue
        try:
            url = endpoint if endpoint.startswith("/") else url_for(endpoint)
        except Exception:  # noqa: BLE001 - a page module that is not installed: no link
            continue
        items.append((url, t(label_key), request.path == url or
                      (url != "/" and request.path.startswith(url.rstrip("/") + "/"))))
    return items


def finish_response(response: Response) -> Response:
    """Headers every web page gets: no caching of personal data, no framing, scripts and
    styles only from this server; and the removal of a dead session cookie."""
    if g.get("seda_clear_cookie"):
        response.delete_cookie(COOKIE, path="/", samesite="Strict", httponly=True, secure=https_only())
    if response.mimetype == "text/html" or request.cookies.get(COOKIE):
        response.headers.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline';"
            " script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def https_only() -> bool:
    """Mark cookies Secure: the request came over HTTPS, or ``SEDA_CENTRAL_HTTPS=1`` says a
    TLS-terminating proxy is in front (waitress does not trust ``X-Forwarded-Proto``, so behind
    a proxy every request looks like plain HTTP)."""
    return (bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure
            or os.environ.get(HTTPS_ENV, "").strip() == "1")


def set_session_cookie(response: Response, token: str) -> None:
    secure = https_only()
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/")
