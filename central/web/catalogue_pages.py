"""The service catalogue pages: list, edit a service as a draft, see what would change, publish.

Administrators edit; every save, discard and publish is audited.  A draft shows its diff
against the version offices show now (the newest published one, else the built-in entry), so
nobody publishes a fee change by accident.  Published versions are never edited: question (2)
is compared with the version in force on the visit day (central/service_catalogue.py).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.catalogue import service_diff
from forms.digits import ungrouped
from forms.persian import InvalidInput, normalize_letters, parse_jalali_date

from .. import service_catalogue as catalogue
from ..messages import MESSAGES
from ..service_catalogue import CatalogueInputError
from . import auth
from .common import error_text, field, flash_error, flash_ok


__all__ = ["bp", "central_keys", "lines", "text"]

admin_only = auth.require("admin")


bp = Blueprint("catalogue", __name__, url_prefix="/content/catalogue")


def central_keys():
    return current_app.extensions["seda.central_keys"]


def text(name: str) -> str:
    """A text field as typed (Persian digits stay: «۳×۴» is what a citizen reads), with
    Arabic ye/kaf made Persian and the ends trimmed."""
    return normalize_letters(request.form.get(name, "") or "").strip()


def lines(name: str) -> list[str]:
    """A textarea's non-empty lines, each trimmed."""
    return [line.strip() for line in text(name).replace("\r", "").split("\n") if line.strip()]


def _known_ids() -> list[str]:
    ids = set(catalogue.builtin_services()) | set(catalogue.versions_by_service(catalogue_store(), published_only=False))
    return sorted(ids)


def catalogue_store():
    return auth.store()


def index() -> str:
    store = auth.store()
    shown = catalogue.catalogue_on(store)
    rows = []
    for service_id in _known_ids():
        latest = catalogue.latest_published(store, service_id)
        rows.append({"id": service_id, "service": shown.get(service_id) or (latest.service if latest else None),
                     "latest": latest, "draft": catalogue.draft(store, service_id)})
    return render_template("central/content_catalogue.html", rows=rows)


def _base(service_id: str):
    """What offices show now: the newest published version, else the built-in entry."""
    latest = catalogue.latest_published(auth.store(), service_id)
    return latest.service if latest else catalogue.builtin_services().get(service_id)


def _form_of(service, offices: tuple[str, ...] = ()) -> MultiDict:
    if service is None:
        return MultiDict()
    return MultiDict({
        "name_fa": service.name.fa, "name_en": service.name.en,
        "documents_fa": "\n".join(d.fa for d in service.documents),
        "documents_en": "\n".join(d.en for d in service.documents),
        "steps_fa": "\n".join(s.fa for s in service.steps), "steps_en": "\n".join(s.en for s in service.steps),
        "fee_rials": str(service.fee_rials), "time_fa": service.time.fa, "time_en": service.time.en,
        "legal_fa": service.legal_basis.fa, "legal_en": service.legal_basis.en,
        "offices": " ".join(offices)})


def edit(service_id: str, form: MultiDict | None = None) -> tuple[str, int]:
    store = auth.store()
    draft = catalogue.draft(store, service_id)
    base = _base(service_id)
    if draft is None and base is None and form is None and service_id not in _known_ids():
        abort(404)
    history = [v for v in catalogue.versions(store, service_id) if v.status == "published"]
    if form is None:
        form = _form_of(draft.service if draft else base, draft.offices if draft else
                        (history[0].offices if history else ()))
    diff = service_diff(base, draft.service) if draft else []
    return render_template("central/content_service.html", service_id=service_id, form=form, draft=draft,
                           base=base, history=history, diff=diff, offices=auth.store().offices()), 200


def _paired(name: str) -> list[dict[str, str]]:
    fa, en = lines(f"{name}_fa"), lines(f"{name}_en")
    if len(fa) != len(en):
        raise CatalogueInputError(_LINES_DIFFER[name])
    return [{"fa": a, "en": b} for a, b in zip(fa, en)]


_LINES_DIFFER = {"documents": "catalogue_lines_differ_documents", "steps": "catalogue_lines_differ_steps"}


def _body(service_id: str) -> dict[str, Any]:
    fee_text = ungrouped(field("fee_rials"))
    if not fee_text.isdigit():
        raise CatalogueInputError("catalogue_fee_not_whole")
    effective = parse_jalali_date(field("effective_from")).isoformat()  # InvalidInput: said by the page
    return {"id": service_id, "name": {"fa": text("name_fa"), "en": text("name_en")},
            "documents": _paired("documents"), "steps": _paired("steps"), "fee_rials": int(fee_text),
            "time": {"fa": text("time_fa"), "en": text("time_en")},
            "legal_basis": {"fa": text("legal_fa"), "en": text("legal_en")}, "effective_from": effective}


def _offices() -> list[str]:
    wanted = [o.upper() for o in field("offices").replace(",", " ").split()]
    known = {o.code for o in auth.store().offices()}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise CatalogueInputError("catalogue_offices_unknown",
                                  codes=lambda locale: MESSAGES.text("list_comma", locale).join(unknown))
    return wanted


def save(service_id: str) -> Response | tuple[str, int]:
    try:
        catalogue.save_draft(auth.store(), _body(service_id), offices=_offices(), actor=auth.current_user().name)
    except (CatalogueInputError, InvalidInput) as exc:
        flash_error(error_text(exc))
        return edit(service_id, form=request.form)[0], 400
    flash_ok("catalogue_draft_saved")
    return redirect(url_for(".edit", service_id=service_id) + "#diff")


def publish(service_id: str) -> Response | tuple[str, int]:
    try:
        version = catalogue.publish_draft(auth.store(), central_keys(), service_id, actor=auth.current_user().name)
    except CatalogueInputError as exc:
        flash_error(error_text(exc))
        return edit(service_id)[0], 400
    flash_ok("catalogue_published", version=version.number)
    return redirect(url_for(".edit", service_id=service_id))


def discard(service_id: str) -> Response:
    if catalogue.discard_draft(auth.store(), service_id, actor=auth.current_user().name):
        flash_ok("catalogue_discarded")
    return redirect(url_for(".edit", service_id=service_id))


# the views above, each for the administrator only
for rule, endpoint, view, methods in (
        ("", "index", index, ["GET"]),
        ("/<service_id>", "edit", edit, ["GET"]),
        ("/<service_id>", "save", save, ["POST"]),
        ("/<service_id>/publish", "publish", publish, ["POST"]),
        ("/<service_id>/discard", "discard", discard, ["POST"])):
    bp.add_url_rule(rule, endpoint, admin_only(view), methods=methods)
