"""Following a case on the portal: ``/follow`` (tracking code + the mobile's last four
digits), ``/f/<code>`` (from a receipt's QR code) and ``/verdict`` ("was it solved?").

central/portal_follow_up.py finds the case; central/verdicts.py keeps the citizen's verdict.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from forms.cases import normalize_tracking_code
from forms.persian import to_ascii_digits

from ..casework import CaseworkError
from ..portal_follow_up import find_case
from ..verdicts import MAX_COMMENT, record_verdict
from ..web.i18n import current_lang, jalali, t
from . import state
from .common import address, page, too_many

__all__ = ["bp"]

bp = Blueprint("follow", __name__)


def follow_form(status: int = 200, error: str = "", code: str = "", office: str = "",
                token: str = "") -> Response:
    return page("follow.html", status, error=error, code=code, office=office, token=token)


def show(code: str, last4: str, office: str, token: str = "", note: str = "") -> Response:
    limits = state.limits()
    code = normalize_tracking_code(code)
    last4 = to_ascii_digits(last4 or "").strip()
    verdict = limits.lookup(address())
    if not verdict.allowed:
        return too_many(verdict)
    waiting = limits.code_may_try(code) if code.isdigit() else None
    if waiting is not None and not waiting.allowed:
        return follow_form(429, t("portal_follow_wait", seconds=waiting.retry_after), code, office)
    found = find_case(state.store(), code, last4, office=office or None)
    if found.outcome == "wrong_digits":
        limits.wrong_try(code)
        return follow_form(403, t("portal_follow_wrong_digits"), code, office, token)
    if found.outcome == "held":
        return follow_form(200, t("portal_follow_held", hour=jalali(found.held_until)), code,
                           office, token)
    if found.outcome != "found":
        return follow_form(404, t("portal_follow_unknown"), code, office, token)
    return page("case.html", case=found.case, last4=last4, office=office, token=token, note=note,
                max_comment=MAX_COMMENT)


@bp.get("/follow")
def follow_page() -> Response:
    return follow_form()


@bp.post("/follow")
def follow_post() -> Response:
    return show(request.form.get("code", ""), request.form.get("last4", ""),
                request.form.get("office", ""), request.form.get("token", ""))


@bp.get("/f/<code>")
def follow_link(code: str) -> Response:
    office = request.args.get("o", "")
    return follow_form(code=normalize_tracking_code(code), office=office,
                       token=request.args.get("s", ""))


@bp.post("/verdict")
def verdict_post() -> Response:
    form = request.form
    code, last4, office = form.get("code", ""), form.get("last4", ""), form.get("office", "")
    answer = form.get("solved", "")
    if answer not in ("yes", "no"):
        return show(code, last4, office, note=t("portal_verdict_missing"))
    store = state.store()
    found = find_case(store, code, to_ascii_digits(last4), office=office or None)
    if found.outcome != "found" or found.case.sealed:
        return follow_form(404, t("portal_follow_unknown"), normalize_tracking_code(code), office)
    try:
        updated = record_verdict(store, found.case.case_uuid, solved=answer == "yes",
                                 comment=form.get("comment", ""), channel="portal")
    except CaseworkError as exc:
        return show(code, last4, office, note=exc.message_fa if current_lang() == "fa" else exc.message_en)
    note = (t("portal_verdict_thanks_yes") if answer == "yes"
            else t("portal_verdict_thanks_no", due=jalali(updated.due_at, False)))
    return show(code, last4, office, note=note)
