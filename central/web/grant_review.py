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
from .i18n import register

__all__ = ["blueprint"]

oversight_only = auth.require(*grants.GUARDED_ROLES)


def blueprint() -> Blueprint:
    bp = Blueprint("grants", __name__, url_prefix="/grants")
    bp.add_url_rule("/", "review", oversight_only(review))
    bp.add_url_rule("/<int:grant_id>", "decide", oversight_only(decide), methods=["POST"])
    return bp


def review(issued: dict | None = None, status: int = 200) -> tuple[str, int]:
    user = auth.current_user()
    return render_template("central/grants.html", me=user, issued=issued,
                           grants=grants.pending_grants(auth.store(), now=auth.now())), status


def decide(grant_id: int) -> Response | tuple[str, int]:
    user = auth.current_user()
    confirm = field("decision") == "confirm"
    try:
        grant, password = grants.decide_grant(auth.store(), grant_id, by=user, confirm=confirm,
                                              now=auth.now())
    except AccountError as exc:
        flash_error(error_text(exc))
        return review(status=400)
    auth.audit("role_grant_confirmed" if confirm else "role_grant_refused", f"user:{grant.user_name}",
               f"role={grant.role} grant={grant.id} requested_by={grant.requested_by}")
    if not confirm:
        flash_ok("grant_refused", name=grant.user_name)
        return redirect(url_for(".review"))
    return review(issued={"name": grant.user_name, "password": password})


register({
    "fa": {
        "nav_grants": "تأیید نقش حراست",
        "grants_title": "درخواست‌های نقش حراست",
        "grants_intro": "هر کس نقش حراست داشته باشد همه‌ی گزارش‌های تخلف را می‌خواند؛ برای همین مدیر سامانه فقط آن را درخواست می‌کند و شما به‌عنوان نفر دوم تأیید یا رد می‌کنید. درخواست‌کننده و خود شخص نمی‌توانند تأیید کنند.",
        "grants_empty": "درخواستی در انتظار نیست.",
        "grant_requested_by": "درخواست‌کننده",
        "grant_requested_at": "زمان درخواست",
        "grant_confirm": "تأیید",
        "grant_refuse": "رد",
        "grant_refused": "درخواست نقش برای {name} رد شد.",
        "grant_issued": "نقش حراست به {name} داده شد. گذرواژه‌ی تازه‌ی این حساب، که فقط همین یک بار نشان داده می‌شود، را حضوری به او بدهید:",
        "grant_new_account": "حساب تازه",
    },
    "en": {
        "nav_grants": "Oversight role requests",
        "grants_title": "Oversight role requests",
        "grants_intro": "Whoever holds the oversight role reads every misconduct report, so an administrator only requests it and you, as the second person, confirm or refuse it. The requester and the person named cannot decide.",
        "grants_empty": "No request is waiting.",
        "grant_requested_by": "Requested by",
        "grant_requested_at": "Requested at",
        "grant_confirm": "Confirm",
        "grant_refuse": "Refuse",
        "grant_refused": "The role request for {name} was refused.",
        "grant_issued": "{name} now holds the oversight role. Hand over this account's new password, shown only this once, in person:",
        "grant_new_account": "new account",
    },
})
