"""The offices register page: each registered office's names, place, address, phone, hours and
the sheet and kiosk settings that belong to the centre.  Saving publishes it to that office
(central/office_register.py) and names it on every page and report; audited."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.persian import to_ascii_digits

from .. import office_register
from forms.catalogue import CENTRAL_SETTINGS

from ..office_register import OfficeInputError
from . import auth
from .catalogue_pages import central_keys, text
from .common import error_text, field, flash_error, flash_ok


__all__ = ["bp"]


bp = Blueprint("office_register", __name__, url_prefix="/content/offices")


def index(form: MultiDict | None = None) -> tuple[str, int]:
    store = auth.store()
    return render_template("central/content_offices.html", offices=store.offices(),
                           profiles=office_register.profiles(store), settings=CENTRAL_SETTINGS,
                           form=form or MultiDict(request.args)), 200


def _pair(name: str) -> dict[str, str] | None:
    fa, en = text(f"{name}_fa"), text(f"{name}_en")
    return {"fa": fa, "en": en or fa} if fa else None


def save() -> Response | tuple[str, int]:
    settings = {}
    for name in CENTRAL_SETTINGS:
        typed = to_ascii_digits(field(name))
        if typed:
            settings[name] = int(typed) if typed.isdigit() else typed
    body = {"code": field("code").upper(), "name": _pair("name"), "province": text("province"),
            "city": text("city"), "address": _pair("address"), "phone": to_ascii_digits(field("phone")),
            "hours": _pair("hours"), "settings": settings}
    try:
        saved = office_register.save_profile(auth.store(), central_keys(), body, actor=auth.current_user().name)
    except OfficeInputError as exc:
        flash_error(error_text(exc))
        return index(form=request.form)[0], 400
    flash_ok("register_saved", name=saved.name.fa)
    return redirect(url_for(".index"))


# the views above, each for the administrator only
bp.add_url_rule("", "index", auth.require("admin")(index), methods=["GET"])
bp.add_url_rule("", "save", auth.require("admin")(save), methods=["POST"])
