"""Kiosk announcements: a notice in Persian and English shown on kiosk screens from a start day
to an end day (Jalali on the page), for every office or one.  Adding and withdrawing are
published at once (signed, central/content_publisher.py) and audited."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.catalogue import CatalogueError, announcement_from_body
from forms.persian import InvalidInput, parse_jalali_date

from ..content_publisher import published_rows, save_published_row, withdraw_published_row
from . import auth
from .catalogue_pages import central_keys, text
from .common import field, flash_error, flash_ok
from .i18n import current_lang, t

__all__ = ["bp"]


bp = Blueprint("announcements", __name__, url_prefix="/content/announcements")


def index(form: MultiDict | None = None) -> tuple[str, int]:
    store = auth.store()
    return render_template("central/content_announcements.html", rows=published_rows(store, "announcement"),
                           offices=store.offices(), form=form or MultiDict()), 200


def add() -> Response | tuple[str, int]:
    office = field("office").upper()
    try:
        body = {"id": "a-" + secrets.token_hex(6), "text": {"fa": text("text_fa"), "en": text("text_en") or text("text_fa")},
                "starts_on": parse_jalali_date(field("starts_on")).isoformat(),
                "ends_on": parse_jalali_date(field("ends_on")).isoformat(), "office": office}
        announcement_from_body(body)
        if office and auth.store().office(office) is None:
            flash_error(t("content_office_unknown", office=office))
            return index(form=request.form)[0], 400
    except InvalidInput as exc:
        flash_error(exc.message_en if current_lang() == "en" else exc.message_fa)
        return index(form=request.form)[0], 400
    except CatalogueError as exc:
        flash_error(t("announcements_refused") + " " + str(exc))
        return index(form=request.form)[0], 400
    save_published_row(auth.store(), central_keys(), "announcement", body["id"], body,
                       actor=auth.current_user().name, office=office)
    flash_ok("announcements_added")
    return redirect(url_for(".index"))


def withdraw(item_id: str) -> Response:
    if withdraw_published_row(auth.store(), "announcement", item_id, actor=auth.current_user().name):
        flash_ok("announcements_withdrawn")
    return redirect(url_for(".index"))


# the views above, each for the administrator only
admin = auth.require("admin")
bp.add_url_rule("", "index", admin(index), methods=["GET"])
bp.add_url_rule("", "add", admin(add), methods=["POST"])
bp.add_url_rule("/<item_id>/withdraw", "withdraw", admin(withdraw), methods=["POST"])
