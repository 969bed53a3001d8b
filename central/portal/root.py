"""The portal's frame: its home page, health, fonts, the language switch, and what every
response carries (security headers, error pages, the template helpers).

``bp`` is registered on the portal app by the factory (central/portal/app.py); its
``app_*`` hooks apply to every page of the portal, whichever blueprint serves it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, Response, redirect, request, send_from_directory
from werkzeug.exceptions import HTTPException

from forms.cases import format_tracking_code, status_label

from ..web.i18n import LANG_COOKIE, current_lang, fa_digits, jalali, t
from . import state
from .common import message, shared_page

__all__ = ["bp"]

log = logging.getLogger("seda.central.portal")
_FONTS = Path(__file__).resolve().parent.parent / "static" / "central" / "fonts"
_CSP = ("default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:;"
        " form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

bp = Blueprint("portal", __name__)


@bp.app_context_processor
def helpers() -> dict:
    lang = current_lang()
    return {"t": t, "lang": lang, "num": fa_digits, "jdate": jalali,
            "tracking": lambda code: format_tracking_code(code),
            "status_text": lambda s: status_label(s)[0 if lang == "fa" else 1],
            "settings": state.settings(), "today": datetime.now(timezone.utc)}


@bp.after_app_request
def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.method == "POST" or request.path.startswith(("/f/", "/s/", "/follow")):
        response.headers["Cache-Control"] = "no-store"
    elif request.path.startswith("/static/") or request.path.startswith("/fonts/"):
        response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    if error.code == 413:
        return message(t("portal_too_large"), 413)
    if error.code == 404:
        return message(t("portal_not_found"), 404)
    return message(t("portal_error"), error.code or 400)


@bp.app_errorhandler(Exception)
def fault(error: Exception) -> Response:
    log.exception("portal fault")  # never the address or the form: only the fault
    return message(t("portal_error"), 500)


@bp.get("/health")
def health() -> Response:
    state.store().ping()
    return Response('{"ok": true}', mimetype="application/json")


@bp.get("/favicon.svg")
def favicon() -> Response:
    return send_from_directory(_FONTS.parent, "favicon.svg")


@bp.get("/fonts/<name>")
def fonts(name: str) -> Response:
    return send_from_directory(_FONTS, name)


@bp.get("/lang")
def lang() -> Response:
    target = request.args.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    answer = redirect(target)
    answer.set_cookie(LANG_COOKIE, "en" if current_lang() == "fa" else "fa",
                      max_age=365 * 86400, samesite="Lax", httponly=True)
    return answer


@bp.get("/")
def home_page() -> Response:
    return shared_page("home.html")
