"""The administrator's pages: users, units, routing rules, holidays, deadlines, triage queue.

Each page is a GET that lists and a few POSTs that change one thing; every change goes through
:mod:`.accounts` or :class:`~central.casework.Casework` (which hold the rules: a
misconduct rule is refused there, since misconduct always goes to the oversight unit), is
audited, and answers with a Persian flash message.  A refused change shows the page again with
what was typed still in the form and the reason, status 400.
"""
from __future__ import annotations

from typing import Any

import jdatetime
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.persian import InvalidInput, parse_jalali_date, to_ascii_digits

from ..casework import CASE_TYPES, TRIAGE, Casework, CaseworkError
from .. import accounts, grants
from . import auth
from .cases import recordings_of
from ..accounts import AccountError
from .common import (error_text, field, flash_error, flash_ok, service_name, services, type_name,
                     unit_name)


__all__ = ["bp"]

admin_only = auth.require("admin")


bp = Blueprint("admin", __name__, url_prefix="/admin")


def _cw() -> Casework:
    return Casework(auth.store())


def _actor() -> str:
    return auth.current_user().name


def _refused(page, exc: Exception, **extra: Any) -> tuple[str, int]:
    """Show ``page`` again, with the typed values and the reason (nothing typed is lost)."""
    flash_error(error_text(exc))
    return page(form=request.form, **extra)[0], 400


def _common() -> dict[str, Any]:
    return {"type_name": type_name, "service_name": service_name, "unit_name": unit_name,
            "services": services(), "case_types": CASE_TYPES}


# -- users -------------------------------------------------------------------------------


@bp.route("/users", endpoint="users", methods=["GET"])
@admin_only
def users(form: MultiDict | None = None) -> tuple[str, int]:
    units = _cw().units(include_inactive=True)
    return render_template("central/admin_users.html", users=accounts.list_users(auth.store()),
                           units=units, units_by_code={u.code: u for u in units},
                           roles=accounts.ROLES, form=form or MultiDict(),
                           grants=grants.pending_grants(auth.store(), now=auth.now()),
                           guarded=grants.GUARDED_ROLES, **_common()), 200


def _request_grant(name: str, role: str, display_name: str | None = None) -> Response:
    """The oversight role is never given by one person: record the request for a second."""
    grant = grants.request_grant(auth.store(), name, role, requested_by=_actor(),
                                 display_name=display_name, now=auth.now())
    flash_ok("admin_grant_requested", name=grant.user_name)
    return redirect(url_for(".users"))


@bp.route("/users", endpoint="user_add", methods=["POST"])
@admin_only
def user_add() -> Response | tuple[str, int]:
    password = request.form.get("password", "")
    try:
        if grants.needs_grant(field("role")):
            if accounts.get_user(auth.store(), field("name").lower(), include_disabled=True):
                raise AccountError("account_name_taken", name=field("name"))
            return _request_grant(field("name"), field("role"), field("display_name"))
        if password != request.form.get("password2", ""):
            raise AccountError("account_passwords_differ")
        user = accounts.add_user(auth.store(), field("name"), field("role"), password,
                                 unit=field("unit") or None, display_name=field("display_name"),
                                 actor=_actor(), now=auth.now())
    except AccountError as exc:
        return _refused(users, exc)
    flash_ok("admin_user_added", name=user.name)
    return redirect(url_for(".users"))


@bp.route("/users/<name>", endpoint="user_update", methods=["POST"])
@admin_only
def user_update(name: str) -> Response | tuple[str, int]:
    try:
        current = accounts.get_user(auth.store(), name, include_disabled=True)
        if current is not None and grants.needs_grant(field("role"), current):
            if field("display_name") and field("display_name") != current.display_name:
                accounts.update_user(auth.store(), name, display_name=field("display_name"))
            return _request_grant(name, field("role"))
        user = accounts.update_user(auth.store(), name, display_name=field("display_name"),
                                    role=field("role") or None, unit=field("unit") or None,
                                    actor=_actor(), now=auth.now())
    except AccountError as exc:
        return _refused(users, exc)
    flash_ok("admin_user_saved", name=user.name)
    return redirect(url_for(".users"))


@bp.route("/users/<name>/disabled", endpoint="user_disabled", methods=["POST"])
@admin_only
def user_disabled(name: str) -> Response | tuple[str, int]:
    disable = request.form.get("disabled", "1") == "1"
    if disable and name == _actor():
        return _refused(users, AccountError("account_cannot_disable_self"))
    try:
        user = accounts.set_disabled(auth.store(), name, disable, actor=_actor(), now=auth.now())
    except AccountError as exc:
        return _refused(users, exc)
    flash_ok("admin_user_disabled" if disable else "admin_user_enabled", name=user.name)
    return redirect(url_for(".users"))


@bp.route("/users/<name>/password", endpoint="user_password", methods=["POST"])
@admin_only
def user_password(name: str) -> Response | tuple[str, int]:
    password = request.form.get("password", "")
    try:
        target = accounts.get_user(auth.store(), name, include_disabled=True)
        if target is not None and target.role in grants.GUARDED_ROLES:
            # an administrator who knew an oversight user's password could read every report
            raise AccountError("account_oversight_password_on_host")
        if password != request.form.get("password2", ""):
            raise AccountError("account_passwords_differ")
        accounts.set_password(auth.store(), name, password, actor=_actor(), now=auth.now())
    except AccountError as exc:
        return _refused(users, exc)
    flash_ok("admin_password_set", name=name)
    return redirect(url_for(".users"))


@bp.route("/grants/<int:grant_id>/cancel", endpoint="grant_cancel", methods=["POST"])
@admin_only
def grant_cancel(grant_id: int) -> Response | tuple[str, int]:
    try:
        grant = grants.cancel_grant(auth.store(), grant_id, by=_actor(), now=auth.now())
    except AccountError as exc:
        return _refused(users, exc)
    flash_ok("admin_grant_cancelled", name=grant.user_name)
    return redirect(url_for(".users"))


# -- units ---------------------------------------------------------------------------------


@bp.route("/units", endpoint="units", methods=["GET"])
@admin_only
def units(form: MultiDict | None = None) -> tuple[str, int]:
    cw = _cw()
    return render_template("central/admin_units.html", units=cw.units(include_inactive=True),
                           users=accounts.list_users(auth.store(), include_disabled=False),
                           form=form or MultiDict(), **_common()), 200


@bp.route("/units", endpoint="unit_save", methods=["POST"])
@admin_only
def unit_save() -> Response | tuple[str, int]:
    try:
        unit = _cw().save_unit(field("code"), field("name_fa"), field("name_en"),
                               head=field("head") or None, actor=_actor())
    except CaseworkError as exc:
        return _refused(units, exc)
    flash_ok("admin_unit_saved", code=unit.code)
    return redirect(url_for(".units"))


@bp.route("/units/<code>/active", endpoint="unit_active", methods=["POST"])
@admin_only
def unit_active(code: str) -> Response | tuple[str, int]:
    active = request.form.get("active", "1") == "1"
    try:
        unit = _cw().set_unit_active(code, active, actor=_actor())
    except CaseworkError as exc:
        return _refused(units, exc)
    flash_ok("admin_unit_saved", code=unit.code)
    return redirect(url_for(".units"))


# -- routing rules ---------------------------------------------------------------------------


@bp.route("/rules", endpoint="rules", methods=["GET"])
@admin_only
def rules(form: MultiDict | None = None) -> tuple[str, int]:
    cw = _cw()
    all_units = cw.units(include_inactive=True)
    return render_template("central/admin_rules.html", rules=cw.rules(),
                           units={u.code: u for u in all_units},
                           target_units=[u for u in all_units if u.kind == "unit" and u.active],
                           offices=[o.code for o in auth.store().offices()],
                           form=form or MultiDict(), **_common()), 200


@bp.route("/rules", endpoint="rule_add", methods=["POST"])
@admin_only
def rule_add() -> Response | tuple[str, int]:
    try:
        _cw().add_rule(case_type=field("case_type") or None, service=field("service") or None,
                       office=field("office").upper() or None, unit=field("unit"),
                       actor=_actor())
    except CaseworkError as exc:
        return _refused(rules, exc)
    flash_ok("admin_rule_added")
    return redirect(url_for(".rules"))


@bp.route("/rules/<int:rule_id>/delete", endpoint="rule_delete", methods=["POST"])
@admin_only
def rule_delete(rule_id: int) -> Response | tuple[str, int]:
    try:
        _cw().delete_rule(rule_id, actor=_actor())
    except CaseworkError as exc:
        return _refused(rules, exc)
    flash_ok("admin_rule_deleted")
    return redirect(url_for(".rules"))


# -- holidays and deadlines ------------------------------------------------------------------


def _year() -> int:
    try:
        year = int(to_ascii_digits(request.values.get("year", "") or "0"))
    except ValueError:
        year = 0
    return year if 1300 <= year <= 1500 else jdatetime.date.fromgregorian(date=auth.now().date()).year


@bp.route("/holidays", endpoint="holidays", methods=["GET"])
@admin_only
def holidays(form: MultiDict | None = None) -> tuple[str, int]:
    year = _year()
    return render_template("central/admin_holidays.html", year=year, holidays=_cw().holidays(year),
                           form=form or MultiDict(), **_common()), 200


@bp.route("/holidays", endpoint="holiday_add", methods=["POST"])
@admin_only
def holiday_add() -> Response | tuple[str, int]:
    try:
        day = parse_jalali_date(request.form.get("day", ""))
        _cw().add_holiday(day, field("name"), actor=_actor())
    except (InvalidInput, CaseworkError) as exc:
        return _refused(holidays, exc)
    flash_ok("admin_holiday_added")
    year = jdatetime.date.fromgregorian(date=day).year
    return redirect(url_for(".holidays", year=year))


@bp.route("/holidays/remove", endpoint="holiday_remove", methods=["POST"])
@admin_only
def holiday_remove() -> Response | tuple[str, int]:
    from datetime import date

    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        abort(400)
    _cw().remove_holiday(day, actor=_actor())
    flash_ok("admin_holiday_removed")
    return redirect(url_for(".holidays", year=jdatetime.date.fromgregorian(date=day).year))


@bp.route("/deadlines", endpoint="deadlines", methods=["GET"])
@admin_only
def deadlines(form: MultiDict | None = None) -> tuple[str, int]:
    return render_template("central/admin_deadlines.html", days=_cw().deadline_days(),
                           form=form or MultiDict(), **_common()), 200


@bp.route("/deadlines", endpoint="deadlines_save", methods=["POST"])
@admin_only
def deadlines_save() -> Response | tuple[str, int]:
    cw = _cw()
    current = cw.deadline_days()
    changed: dict[str, int] = {}
    try:
        for case_type in CASE_TYPES:
            text = to_ascii_digits(field(f"days_{case_type}"))
            if not text:
                continue
            if not (text.isascii() and text.isdigit()):  # "²" is a digit to isdigit, not to int
                raise CaseworkError("casework_deadline_digits")
            if int(text) != current.get(case_type):
                changed[case_type] = int(text)
        cw.set_deadlines(changed, actor=_actor())  # one audit entry naming every change
    except CaseworkError as exc:
        return _refused(deadlines, exc)
    flash_ok("admin_deadlines_saved")
    return redirect(url_for(".deadlines"))


# -- the triage queue --------------------------------------------------------------------------


@bp.route("/triage", endpoint="triage", methods=["GET"])
@admin_only
def triage(form: MultiDict | None = None) -> tuple[str, int]:
    """Cases no routing rule matched.  Their text is shown (needed to route them), so each
    case listed is an audited view; names, IDs and mobiles are not shown here."""
    cw = _cw()
    cases = cw.inbox(units=[TRIAGE], status="open", limit=100, now=auth.now())
    rows = cw.triage_texts(cases, actor=_actor())
    targets = [u for u in cw.units() if u.kind == "unit"]
    return render_template("central/admin_triage.html", rows=rows, targets=targets,
                           audio=recordings_of(cw, [case for case, _text in rows]),
                           total=cw.count(units=[TRIAGE], status="open"), form=form or MultiDict(),
                           conflicts=auth.store().open_conflict_count(), **_common()), 200


@bp.route("/triage/<uuid>", endpoint="triage_route", methods=["POST"])
@admin_only
def triage_route(uuid: str) -> Response | tuple[str, int]:
    cw = _cw()
    case = cw.case(uuid)
    if case is None or case.unit != TRIAGE:
        abort(404)
    try:
        updated = cw.refer(uuid, field("unit"), actor=_actor(), note=field("note") or None)
    except CaseworkError as exc:
        return _refused(triage, exc)
    flash_ok("admin_case_routed", code=case.tracking_code or "", unit=updated.unit)
    return redirect(url_for(".triage"))
