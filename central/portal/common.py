"""What every portal page shares: rendering a page or a message, the caller's address, the
refusal of a request over the limits, the survey's service list."""
from __future__ import annotations

from flask import Response, render_template, request

from ..portal_survey import survey_form
from ..throttle import Verdict
from ..web.i18n import t

__all__ = ["address", "message", "page", "service_ids", "services", "too_many"]


def page(template: str, status: int = 200, **values) -> Response:
    return Response(render_template(f"portal/{template}", **values), status=status,
                    mimetype="text/html")


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
