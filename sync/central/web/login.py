"""Sign in, sign out, the language toggle and the home page that sends each role to its work.

Signing in starts a fresh session row (a new random cookie and CSRF token, so a token planted
before sign-in is worthless after it) and is audited; so is every failed try, and those
failures are what :func:`accounts.login_wait` counts to make a guessed name wait.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for

from forms.persian import normalize_input

from . import accounts, auth
from . import audit as audit_log
from .i18n import LANG_COOKIE, LOCALES, current_lang, t

__all__ = ["register"]

#: Where each role starts (endpoint); analysts go to the analysis pages when installed.
HOME = {"admin": "web.admin.triage", "responder": "web.cases.inbox", "oversight": "web.cases.inbox",
        "auditor": "web.auditlog.log"}


def register(bp: Blueprint) -> None:
    """Add the sign-in, sign-out, language and home routes to ``bp``."""
    bp.add_url_rule("/", "home", home)
    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    bp.add_url_rule("/lang", "lang", switch_language)


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


def login() -> tuple[str, int] | Response:
    store = auth.store()
    error, status = None, 200
    target = auth.safe_next(request.args.get("next"))
    if request.method == "POST":
        if not auth.csrf_ok():
            return auth.csrf_refused()
        name = normalize_input(request.form.get("name", "")).lower()[:64]
        password = request.form.get("password", "")
        now = auth.now()
        wait = accounts.login_wait(store, name, now=now)
        if wait:
            audit_log.record(store, name or "-", "login_throttled", f"user:{name}", now=now)
            minutes = max(1, (wait + 59) // 60)
            error, status = t("login_wait", minutes=minutes), 429
        else:
            user = accounts.authenticate(store, name, password)
            if user is None:
                audit_log.record(store, name or "-", "login_failed", f"user:{name}",
                                 request.remote_addr or "", now=now)
                error, status = t("login_bad"), 401
            else:
                accounts.end_session(store, request.cookies.get(auth.COOKIE))
                token, _ = accounts.start_session(store, user, now=now)
                audit_log.record(store, user.name, "login", f"user:{user.name}",
                                 request.remote_addr or "", now=now)
                session.clear()  # the pre-login CSRF token dies with the anonymous page
                response = redirect(target)
                auth.set_session_cookie(response, token)
                g.pop("seda_clear_cookie", None)
                return response
    elif auth.current_user() is not None:
        return redirect(target)
    return render_template("central/login.html", error=error, name=request.form.get("name", ""),
                           next=target), status


def logout() -> Response:
    if not auth.csrf_ok():
        return auth.csrf_refused()
    user = auth.current_user()
    if user is not None:
        auth.audit("logout", f"user:{user.name}")
    accounts.end_session(auth.store(), request.cookies.get(auth.COOKIE))
    session.clear()
    flash(t("logged_out"))
    response = redirect(url_for("web.login"))
    response.delete_cookie(auth.COOKIE, path="/", samesite="Strict", httponly=True, secure=auth.https_only())
    return response


def switch_language() -> Response:
    """Toggle Persian/English (or set ``?to=fa|en``) and go back where the person was."""
    wanted = request.args.get("to")
    if wanted not in LOCALES:
        wanted = "en" if current_lang() == "fa" else "fa"
    response = redirect(auth.safe_next(request.args.get("next")))
    response.set_cookie(LANG_COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Strict", httponly=True,
                        path="/", secure=auth.https_only())
    return response
