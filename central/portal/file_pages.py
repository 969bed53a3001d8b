"""Filing on the portal: ``/file`` (a request, complaint, suggestion or criticism) and
``/report`` (a misconduct report, sealed, anonymous by default).

The pages read and check the form; central/portal_intake.py stores the filing.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from forms.case_form import MAX_TEXT, WRITTEN_TYPES, FieldError, check_case_form

from ..portal_intake import (AttachmentRefused, Filed, check_attachment, file_case, file_report,
                             new_submission_id)
from ..web.i18n import t
from . import state
from .common import address, message, page, service_ids, services, too_many
from .offices import office_choices

__all__ = ["bp"]

bp = Blueprint("file", __name__)


def filing_form(report: bool, status: int = 200, errors=(), values=None) -> Response:
    settings = state.settings()
    return page("file.html", status, report=report, errors=list(errors), values=values or {},
                types=WRITTEN_TYPES, services=services(), offices=office_choices(state.store()),
                submission=new_submission_id(), max_text=MAX_TEXT,
                max_mb=round(settings.max_attachment_bytes / (1024 * 1024), 1))


def receive(report: bool) -> Response:
    form = request.form
    if form.get("website"):  # the honeypot: people never see it, bots fill it
        return message(t("portal_honeypot"), 400)
    submission = form.get("submission", "")
    if len(submission) != 32:
        return message(t("portal_form_expired"), 400)
    case_type = "misconduct" if report else form.get("type", "")
    values = dict(form.items())
    # The page always shows the box (ticked for a report): an unticked box sends nothing.
    values["anonymous"] = "1" if form.get("anonymous") else ""
    draft, errors = check_case_form(values, case_type, service_ids(), channel="portal")
    attachment = None
    upload = request.files.get("attachment")
    try:
        attachment = check_attachment(upload.read() if upload else b"",
                                      state.settings().max_attachment_bytes)
    except AttachmentRefused as exc:
        errors.append(FieldError("attachment", exc.message_fa, exc.message_en))
    if errors or draft is None:
        return filing_form(report, 400, errors, values)
    verdict = state.limits().filing(address())
    if not verdict.allowed:
        return too_many(verdict)
    store = state.store()
    extra = {}
    office = form.get("office", "")
    if office and office in office_choices(store):
        extra["office_about"] = office
    try:
        if report:
            filed = file_report(store, state.keys(), draft, submission=submission,
                                attachment=attachment)
        else:
            filed = file_case(store, draft, submission=submission, attachment=attachment,
                              extra=extra)
    except ValueError:
        return message(t("portal_form_expired"), 400)
    return filed_page(filed)


def filed_page(filed: Filed) -> Response:
    base = state.settings().public_url or request.host_url.rstrip("/")
    return page("filed.html", 201, filed=filed, follow_url=f"{base}/f/{filed.tracking_code}")


@bp.get("/file")
def file_page() -> Response:
    chosen = request.args.get("type", "")
    return filing_form(False, values={"type": chosen} if chosen in WRITTEN_TYPES else {})


@bp.post("/file")
def file_post() -> Response:
    return receive(report=False)


@bp.get("/report")
def report_page() -> Response:
    return filing_form(True, values={"anonymous": "1"})


@bp.post("/report")
def report_post() -> Response:
    return receive(report=True)
