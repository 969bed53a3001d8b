"""Sign in, sign out, the language toggle and the home page that sends each role to its work.

Signing in starts a fresh session row (a new random cookie and CSRF token, so a token planted
before sign-in is worthless after it) and is audited; so is every failed try.  Guesses are
slowed per account and client (:func:`accounts.begin_login`); a browser that signed in as a
user before carries a signed device cookie, so an attacker elsewhere who slows that name down
does not slow its owner.
"""
from __future__ import annotations

import secrets

from flask import (Response, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from itsdangerous import BadSignature, URLSafeSerializer

from forms.persian import normalize_input

from .. import accounts
from . import auth
from .root import bp
from .i18n import LANG_COOKIE, LOCALES, current_lang, t

__all__ = ["DEVICE_COOKIE"]

#: A signed ``{"u": name, "d": random id}`` given at a good sign-in: this browser is known for u.
DEVICE_COOKIE = "seda_central_device"
_DEVICE_SALT = "seda-central-device"

#: Where each role starts (endpoint); analysts go to the analysis pages when installed.
HOME = {"admin": "web.admin.triage", "responder": "web.cases.inbox", "oversight": "web.cases.inbox",
        "auditor": "web.auditlog.log"}


@bp.route("/")
@auth.require()
def home() -> Response | str:
    user = auth.current_user()
    if user.role in HOME:
        return redirect(url_for(HOME[user.role]))
    if any(rule.rule.startswith("/analysis") for rule in _app_rules()):
        return redirect("/analysis/")
    return render_template("central/home.html")


def _app_rules():
    from flask import current_app
    return current_app.url_map.iter_rules()


def _device_id(name: str) -> str | None:
    """The device id of this browser if its device cookie was given for ``name``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not current_app.secret_key:
        return None
    try:
        value = URLSafeSerializer(current_app.secret_key, salt=_DEVICE_SALT).loads(raw)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("u") != name or not isinstance(value.get("d"), str):
        return None
    return value["d"]


def _set_device_cookie(response: Response, name: str, device: str | None) -> None:
    token = URLSafeSerializer(current_app.secret_key, salt=_DEVICE_SALT).dumps(
        {"u": name, "d": device or secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, token, max_age=365 * 24 * 3600, httponly=True,
                        samesite="Strict", secure=auth.https_only(), path="/login")


@bp.route("/login", methods=["GET", "POST"])
def login() -> tuple[str, int] | Response:
    store = auth.store()
    error, status = None, 200
    target = auth.safe_next(request.args.get("next"))
    if request.method == "POST":
        if not auth.csrf_ok():
            return auth.csrf_refused()
        name = normalize_input(request.form.get("name", "")).lower()[:64]
        password = request.form.get("password", "")
        address = request.remote_addr or "-"
        device = _device_id(name)
        client = f"device:{device}" if device else f"ip:{address}"
        tried = accounts.sign_in(store, name, password, client=client, address=address,
                                 throttle_address=device is None, replacing=request.cookies.get(auth.COOKIE),
                                 now=auth.now())  # throttled and audited there
        if tried.wait:
            error, status = _wait_text(tried.wait), 429
        elif tried.user is None:
            error, status = t("login_bad"), 401
        else:
            session.clear()  # the pre-login CSRF token dies with the anonymous page
            response = redirect(target)
            auth.set_session_cookie(response, tried.token)
            _set_device_cookie(response, tried.user.name, device)
            g.pop("seda_clear_cookie", None)
            return response
    elif auth.current_user() is not None:
        return redirect(target)
    return render_template("central/login.html", error=error, name=request.form.get("name", ""),
                           next=target), status


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return t("login_wait_seconds", seconds=seconds)
    return t("login_wait", minutes=max(1, (seconds + 59) // 60))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if not auth.csrf_ok():
        return auth.csrf_refused()
    accounts.sign_out(auth.store(), request.cookies.get(auth.COOKIE), auth.current_user(), now=auth.now())
    session.clear()
    flash(t("logged_out"))
    response = redirect(url_for("web.login"))
    response.delete_cookie(auth.COOKIE, path="/", samesite="Strict", httponly=True, secure=auth.https_only())
    return response


@bp.route("/lang", endpoint="lang")
def switch_language() -> Response:
    """Toggle Persian/English (or set ``?to=fa|en``) and go back where the person was."""
    wanted = request.args.get("to")
    if wanted not in LOCALES:
        wanted = "en" if current_lang() == "fa" else "fa"
    response = redirect(auth.safe_next(request.args.get("next")))
    response.set_cookie(LANG_COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Strict", httponly=True,
                        path="/", secure=auth.https_only())
    return response
