"""What every portal page shares: rendering a page or a message, the caller's address, the
refusal of a request over the limits, the survey's service list."""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, render_template, request

from ..portal_survey import survey_form
from ..throttle import Verdict
from ..web.i18n import current_lang, t
from . import state

__all__ = ["address", "message", "page", "service_ids", "services", "shared_page", "too_many"]

#: Versions of shared pages kept at most (languages x versions); older ones are dropped.
_KEPT_PAGES = 32


def page(template: str, status: int = 200, **values) -> Response:
    return Response(render_template(f"portal/{template}", **values), status=status,
                    mimetype="text/html")


def shared_page(template: str, version: object = None,
                values: Callable[[], dict] = dict) -> Response:
    """A page everyone reading it in one language sees alike (the home page, the catalogue),
    rendered once per language and ``version`` of what it shows, not on every request: it is
    where every phone starts, and under load a fifth of the portal's work was drawing it again."""
    kept = state.rendered()
    key = (template, request.path, current_lang(), version)
    html = kept.get(key)
    if html is None:
        if len(kept) >= _KEPT_PAGES:
            kept.clear()
        html = kept[key] = render_template(f"portal/{template}", **values())
    return Response(html, mimetype="text/html")


def message(text: str, status: int, title: str | None = None) -> Response:
    return page("message.html", status, title=title or t("portal_title"), text=text)


def address() -> str:
    """The caller's address, only ever used as a count's key (central/portal/abuse.py)."""
    return request.remote_addr or "unknown"


def too_many(verdict: Verdict) -> Response:
    answer = message(t("portal_too_many", seconds=verdict.retry_after), 429)
    answer.headers["Retry-After"] = str(verdict.retry_after)
    return answer


def services() -> list[tuple[str, str, str]]:
    """``(code, Persian, English)`` of the services the survey (and a filing) may name."""
    question = survey_form().question("service")
    return [(str(o.value), o.label.fa, o.label.en) for o in question.options]


def service_ids() -> set[str]:
    return {code for code, _, _ in services()}
