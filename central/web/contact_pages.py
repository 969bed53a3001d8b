"""The contact directory page: managers and deputies with phone numbers and e-mail addresses
(the source statement's «شماره تلفن، پست الکترونیکی مدیران و معاونین»), per office, per
province, or national.  Adding and withdrawing are published at once and audited."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.catalogue import CatalogueError, person_from_mapping
from forms.persian import to_ascii_digits

from ..content_publisher import published_rows, save_published_row, withdraw_published_row
from . import auth
from .catalogue_pages import central_keys, text
from .common import field, flash_error, flash_ok
from .i18n import t

__all__ = ["bp"]


bp = Blueprint("contacts", __name__, url_prefix="/content/contacts")


def index(form: MultiDict | None = None) -> tuple[str, int]:
    store = auth.store()
    return render_template("central/content_contacts.html", rows=published_rows(store, "contact"),
                           offices=store.offices(), form=form or MultiDict()), 200


def add() -> Response | tuple[str, int]:
    office = field("office").upper()
    body = {"name": {"fa": text("name_fa"), "en": text("name_en") or text("name_fa")},
            "title": {"fa": text("title_fa"), "en": text("title_en") or text("title_fa")},
            "phone": to_ascii_digits(field("phone")), "email": field("email"),
            "office": office, "province": "" if office else text("province")}
    try:
        person_from_mapping(body)
        if office and auth.store().office(office) is None:
            raise CatalogueError(f"office {office} is not registered")
        if body["email"] and "@" not in body["email"]:
            raise CatalogueError("email: not an e-mail address")
    except CatalogueError as exc:
        flash_error(t("contacts_refused") + " " + str(exc))
        return index(form=request.form)[0], 400
    item_id = "c-" + secrets.token_hex(6)
    save_published_row(auth.store(), central_keys(), "contact", item_id, body,
                       actor=auth.current_user().name, office=office)
    flash_ok("contacts_added")
    return redirect(url_for(".index"))


def withdraw(item_id: str) -> Response:
    if withdraw_published_row(auth.store(), "contact", item_id, actor=auth.current_user().name):
        flash_ok("contacts_withdrawn")
    return redirect(url_for(".index"))


# the views above, each for the administrator only
admin = auth.require("admin")
bp.add_url_rule("", "index", admin(index), methods=["GET"])
bp.add_url_rule("", "add", admin(add), methods=["POST"])
bp.add_url_rule("/<item_id>/withdraw", "withdraw", admin(withdraw), methods=["POST"])
