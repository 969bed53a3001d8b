"""Error pages of the central web app: Persian (or English, if chosen) HTML, never JSON.

:func:`central.app.create_app` sends every error of a path outside the sync API (``/v1``)
and Open311 (``/open311``) here, so an unknown address, a refused form, a wrong method or an
unexpected fault shows the ``central/error.html`` page with the right status instead of
Werkzeug's English page or the API's JSON.  The API paths keep their JSON answers.
"""
from __future__ import annotations

import logging

from flask import Response, g, render_template
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from .i18n import current_lang, t

__all__ = ["is_api_path", "page_for", "page_for_status"]

log = logging.getLogger("seda.central.web")

#: status -> (title key, text key); other 4xx statuses read as 400, other 5xx as 500.
_KEYS = {
    400: ("error_bad_request_title", "error_bad_request_text"),
    403: ("forbidden_title", "forbidden_text"),
    404: ("not_found_title", "not_found_text"),
    405: ("error_method_title", "error_method_text"),
    413: ("error_too_large_title", "error_too_large_text"),
    500: ("error_internal_title", "error_internal_text"),
    503: ("error_unavailable_title", "error_unavailable_text"),
}


def is_api_path(path: str) -> bool:
    """True for the sync API and Open311, whose errors stay JSON."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in ("/v1", "/open311"))


def page_for_status(status: int) -> Response:
    """The error page for ``status`` in the person's language."""
    title_key, text_key = _KEYS.get(status) or _KEYS[500 if status >= 500 else 400]
    try:
        html = render_template("central/error.html", title=t(title_key), text=t(text_key))
    except Exception:  # noqa: BLE001 - e.g. the store is down, so who is signed in is unknown
        g.seda_session = None  # draw the page as for somebody not signed in
        try:
            html = render_template("central/error.html", title=t(title_key), text=t(text_key))
        except Exception:  # noqa: BLE001 - the last resort: a page without the frame
            log.exception("could not draw the error page")
            lang = current_lang()
            html = (f'<!doctype html><html lang="{lang}" dir="{"ltr" if lang == "en" else "rtl"}">'
                    f'<meta charset="utf-8"><title>{escape(t(title_key))}</title>'
                    f'<h1>{escape(t(title_key))}</h1><p>{escape(t(text_key))}</p></html>')
    return Response(html, status=status, mimetype="text/html")


def page_for(error: BaseException) -> Response:
    """The page for an HTTP error (``abort(404)``, an unknown URL, 405) or any other fault (500)."""
    if not isinstance(error, HTTPException):
        return page_for_status(500)
    if error.response is not None or error.code is None or error.code < 400:
        return error.get_response()  # a ready answer (abort(Response(...))) or a redirect
    response = page_for_status(error.code)
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value  # e.g. Allow on 405
    return response
