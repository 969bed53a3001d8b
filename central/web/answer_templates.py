"""The unit's answer templates page, and what the case page needs of them.

A unit head adds and removes the unit's templates (central/answer_templates.py); every
member of the unit reads them, and on a case page picks one (a plain link, no script),
which puts the filled text in the wide answer box to be edited and sent.  Also here:
which case comes next after an answer ("save and next").  (The inbox's short preview of a
case's text is the service's: ``Casework.previews``, which audits it.)
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from forms.tracking_codes import format_tracking_code

from .. import answer_templates as store_templates
from ..casework import Case, Casework
from . import auth
from .common import error_text, flash_error, flash_ok, service_name, unit_name
from .i18n import fa_digits, jalali

__all__ = ["bp", "for_case", "next_case"]


bp = Blueprint("templates", __name__, url_prefix="/templates")
unit_members = auth.require("responder", "oversight")


def _facts(cw: Casework, case: Case) -> dict[str, str]:
    unit = cw.unit(case.unit)
    return {"code": fa_digits(format_tracking_code(case.tracking_code)) if case.tracking_code else "",
            "service": service_name(case.service) if case.service else "",
            "office": case.office, "received": jalali(case.received_at, False),
            "unit": unit_name(unit) if unit else case.unit}


def for_case(cw: Casework, case: Case) -> list[tuple[str, str]]:
    """``(title, filled text)`` of the case's unit's templates."""
    facts = _facts(cw, case)
    return [(tpl.title, store_templates.fill(tpl, facts))
            for tpl in store_templates.load(auth.store(), case.unit)]


def next_case(cw: Casework, unit_codes: list[str], user_name: str, after: str) -> str | None:
    """The case to open after answering ``after``: the oldest open case assigned to the user,
    else the oldest open unassigned one of their units; ``None`` when the inbox is done."""
    now = auth.now()
    mine = [c for c in cw.inbox(units=unit_codes, status="open", assignee=user_name, limit=200, now=now)
            if c.uuid != after]
    if mine:
        return min(mine, key=lambda c: c.received_at).uuid
    free = [c for c in cw.inbox(units=unit_codes, status="open", limit=200, now=now)
            if c.uuid != after and not c.assignee]
    return min(free, key=lambda c: c.received_at).uuid if free else None


def _unit_and_head() -> tuple[str, bool]:
    user = auth.current_user()
    unit = user.unit or ("oversight" if user.role == "oversight" else "")
    found = Casework(auth.store()).unit(unit) if unit else None
    return unit, bool(found and found.head == user.name)


@bp.route("/", endpoint="list")
@unit_members
def templates_page(status: int = 200) -> tuple[str, int]:
    unit, head = _unit_and_head()
    templates = store_templates.load(auth.store(), unit) if unit else []
    return render_template("central/answer_templates.html", templates=templates, head=head,
                           placeholders=store_templates.PLACEHOLDERS, form=request.form), status


@bp.route("/", methods=["POST"])
@unit_members
def add() -> Response | tuple[str, int]:
    unit, head = _unit_and_head()
    if not head:
        return auth.forbidden()
    try:
        template = store_templates.parse(request.form.get("title", ""), request.form.get("text", ""))
        store_templates.add(auth.store(), unit, template, actor=auth.current_user().name, now=auth.now())
    except store_templates.TemplateError as exc:
        flash_error(error_text(exc))
        return templates_page(400)
    flash_ok("templates_added")
    return redirect(url_for(".list"))


@bp.route("/<int:index>/delete", methods=["POST"])
@unit_members
def delete(index: int) -> Response | tuple[str, int]:
    unit, head = _unit_and_head()
    if not head:
        return auth.forbidden()
    if store_templates.delete(auth.store(), unit, index, actor=auth.current_user().name, now=auth.now()) is None:
        return redirect(url_for(".list"))
    flash_ok("templates_deleted")
    return redirect(url_for(".list"))
