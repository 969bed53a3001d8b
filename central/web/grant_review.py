"""The oversight unit's page of role requests: a second oversight user confirms or refuses.

See :mod:`.grants` for the rule.  Confirming shows the account's new password once, on the
answer to the POST (never stored, never in a link or a flash cookie): the confirming user
hands it over in person.
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for

from .. import grants
from . import auth
from ..accounts import AccountError
from .common import error_text, field, flash_error, flash_ok

__all__ = ["bp"]

oversight_only = auth.require(*grants.GUARDED_ROLES)


bp = Blueprint("grants", __name__, url_prefix="/grants")


@bp.route("/")
@oversight_only
def review(issued: dict | None = None, status: int = 200) -> tuple[str, int]:
    user = auth.current_user()
    return render_template("central/grants.html", me=user, issued=issued,
                           grants=grants.pending_grants(auth.store(), now=auth.now())), status


@bp.route("/<int:grant_id>", methods=["POST"])
@oversight_only
def decide(grant_id: int) -> Response | tuple[str, int]:
    user = auth.current_user()
    confirm = field("decision") == "confirm"
    try:
        grant, password = grants.decide_grant(auth.store(), grant_id, by=user, confirm=confirm,
                                              now=auth.now())
    except AccountError as exc:
        flash_error(error_text(exc))
        return review(status=400)
    if not confirm:
        flash_ok("grant_refused", name=grant.user_name)
        return redirect(url_for(".review"))
    return review(issued={"name": grant.user_name, "password": password})
