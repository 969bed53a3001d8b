"""The survey form pages: every form with its versions, upload a new version, see its paper
preview and what it changes, publish.

Administrators (the role that edits the catalogue, catalogue_pages.py) upload and publish;
the service (central/form_versions.py) checks, stores, signs and audits.  A draft shows the
sheet as offices will print it and its questions against the version offices use now, so a
removed Article 9 question is seen before it reaches a single office.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from forms.messages import MessageError

from .. import form_versions
from . import auth
from .catalogue_pages import central_keys
from .common import error_text, flash_error, flash_ok
from .i18n import t

__all__ = ["bp"]

bp = Blueprint("forms", __name__, url_prefix="/content/forms")


def index() -> tuple[str, int]:
    store = auth.store()
    rows = [{"id": form_id, "current": form_versions.current(store, form_id),
             "draft": next((v for v in found if v.status == "draft"), None),
             "published": [v for v in found if v.status == "published"]}
            for form_id, found in form_versions.known_forms(store).items()]
    return render_template("central/content_forms.html", rows=rows), 200


def upload() -> Response | tuple[str, int]:
    sent = request.files.get("definition")
    if sent is None or not sent.filename:
        flash_error(t("forms_upload_missing"))
        return index()[0], 400
    data = sent.stream.read(form_versions.MAX_UPLOAD_BYTES + 1)
    try:
        version = form_versions.upload(auth.store(), data, actor=auth.current_user().name,
                                       name=_file_name(sent.filename))
    except MessageError as exc:
        flash_error(error_text(exc))
        return index()[0], 400
    flash_ok("forms_draft_saved", form=version.form.id, version=version.number)
    return redirect(url_for(".draft", form_id=version.form.id))


def draft(form_id: str) -> tuple[str, int]:
    store = auth.store()
    found = form_versions.draft(store, form_id)
    current = form_versions.current(store, form_id)
    if found is None and current is None:
        abort(404)
    history = [v for v in form_versions.versions(store, form_id) if v.status == "published"]
    changes = form_versions.question_changes(current, found.form) if found else []
    return render_template("central/content_form.html", form_id=form_id, draft=found, current=current,
                           changes=changes, history=history), 200


def preview(form_id: str) -> Response:
    """The draft's sheet, page 1, as a PNG for the draft page."""
    return Response(form_versions.preview_png(_draft_or_404(form_id).form), mimetype="image/png")


def preview_pdf(form_id: str) -> Response:
    """The draft's sheet as a PDF, to print and try before publishing."""
    found = _draft_or_404(form_id)
    with tempfile.TemporaryDirectory(prefix="seda-form-preview-") as folder:
        data = form_versions.preview_pdf(found.form, Path(folder) / "preview.pdf").read_bytes()
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{form_id}-v{found.number}-preview.pdf"'
    return response


def _draft_or_404(form_id: str) -> form_versions.FormVersion:
    found = form_versions.draft(auth.store(), form_id)
    if found is None:
        abort(404)
    return found


def publish(form_id: str) -> Response | tuple[str, int]:
    try:
        version = form_versions.publish_draft(auth.store(), central_keys(), form_id, actor=auth.current_user().name)
    except MessageError as exc:
        flash_error(error_text(exc))
        return draft(form_id)[0], 400
    flash_ok("forms_published", form=form_id, version=version.number)
    return redirect(url_for(".draft", form_id=form_id))


def discard(form_id: str) -> Response:
    if form_versions.discard_draft(auth.store(), form_id, actor=auth.current_user().name):
        flash_ok("forms_discarded")
    return redirect(url_for(".index"))


def _file_name(name: str) -> str:
    """The uploaded file's own name (no folders), as errors name it."""
    return name.replace("\\", "/").rsplit("/", 1)[-1][:120] or "upload"


# the views above, each for the administrator only
admin_only = auth.require("admin")
for rule, endpoint, view, methods in (
        ("", "index", index, ["GET"]),
        ("", "upload", upload, ["POST"]),
        ("/<form_id>", "draft", draft, ["GET"]),
        ("/<form_id>/preview.png", "preview", preview, ["GET"]),
        ("/<form_id>/preview.pdf", "preview_pdf", preview_pdf, ["GET"]),
        ("/<form_id>/publish", "publish", publish, ["POST"]),
        ("/<form_id>/discard", "discard", discard, ["POST"])):
    bp.add_url_rule(rule, endpoint, admin_only(view), methods=methods)
