"""The staff pages' blueprint and what every staff page needs: the signed-in account, the CSRF
token on every form, and :func:`login_required`.

kiosk/staff.py and kiosk/phone_scan.py add their routes to :data:`bp`; kiosk/app.py registers
it once.  A staff session is a row in the accounts file (kiosk/accounts.py); the cookie carries
only its random token, and a request that drops the token ends the session on the server too.
"""
from __future__ import annotations

import hmac
import secrets
import time
from functools import wraps

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for

from .accounts import Account
from .i18n import translate
from .state import accounts

__all__ = ["bp", "csrf_token", "login_required"]

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _(key: str, **values: object) -> str:
    return translate(key, g.lang, **values)


@bp.before_request
def load_staff() -> None:
    g.lang = session.get("staff_lang", "fa")
    g.staff = accounts().session_account(session.get("staff_token"), now=time.time())
    if g.staff is None:
        session.pop("staff_token", None)  # expired, signed out elsewhere, or disabled
    if request.method == "POST" and not _csrf_ok():
        flash(_("staff_csrf"))
        return redirect(url_for(".login" if g.staff is None else ".dashboard"))
    return None


@bp.before_app_request
def _remember_staff_token() -> None:
    g.staff_token_at_start = session.get("staff_token")


@bp.after_app_request
def _end_dropped_staff_session(response: Response) -> Response:
    """A request that dropped the staff token from the cookie (sign-out, or the visitor reset
    clearing the whole cookie) ends the session on the server too, so a copy of the old
    cookie is worthless."""
    token = g.get("staff_token_at_start")
    if token and session.get("staff_token") != token:
        accounts().end_session(token)
    return response


def csrf_token() -> str:
    """One random token per staff session, compared in constant time on every POST."""
    token = session.get("staff_csrf")
    if not token:
        token = session["staff_csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    expected = session.get("staff_csrf")
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and hmac.compare_digest(expected, given)


@bp.app_context_processor
def _staff_globals():
    return {"csrf_token": csrf_token}


def login_required(role: str):
    """Views for ``role``; office managers may open everything."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            account: Account | None = g.staff
            if account is None:
                return redirect(url_for(".login", next=request.path))
            if not account.can(role):
                return render_template("staff/forbidden.html"), 403
            return view(*args, **kwargs)
        return wrapper
    return decorator
