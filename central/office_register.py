"""The offices register: what the centre tells citizens about each office (names, province and
city, address, phone, opening hours) and the settings of its sheets and kiosk that belong to the
centre.  Codes stay in files, URLs and APIs; people see the names (:func:`display_name`).

Saving a profile names the office for the reports too (figures.set_office_name, the one place
office names live) and publishes it, signed, to that office as ``office_profile/<code>``.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from forms import validate_office_code
from forms.catalogue import (CENTRAL_SETTINGS, CatalogueError, OfficeProfile, central_setting_ok,
                             office_profile_from_body)

from sync.batch import format_time

from . import audit, figures
from .content_publisher import publish_content
from .db import content, offices
from .db.connection import Database
from .errors import CentralError
from .keys import CentralKeys

__all__ = ["OfficeInputError", "display_name", "profile", "profiles", "save_profile"]



class OfficeInputError(CentralError, ValueError):
    """An office profile that cannot be saved: a key of the central catalogue."""


def profiles(store: Database) -> dict[str, OfficeProfile]:
    with store.connect() as db:
        rows = content.office_profile_rows(db)
    return {code: office_profile_from_body(json.loads(body)) for code, body in rows}


def profile(store: Database, code: str) -> OfficeProfile | None:
    return profiles(store).get(code)


def display_name(store: Database, code: str | None, lang: str = "fa") -> str:
    """The office's name for people (its code when it has none)."""
    if not code:
        return ""
    names = figures.office_names(store).get(code)
    return (names or {}).get(lang) or code


def save_profile(store: Database, keys: CentralKeys, body: dict[str, Any], *, actor: str) -> OfficeProfile:
    """Check and keep an office's profile, name it for the reports, and publish it to the
    office; audited as ``actor`` (``office_profile_save``)."""
    try:
        validate_office_code(str(body.get("code", "")))
        checked = office_profile_from_body(body)
    except (ValueError, CatalogueError) as exc:
        raise OfficeInputError("catalogue_input_invalid", error=str(exc)) from None
    for name, value in checked.settings.items():
        low, high = CENTRAL_SETTINGS.get(name, (None, None))
        if not central_setting_ok(name, value):
            raise OfficeInputError("register_setting_out_of_range", name=name, low=low, high=high)
    with store.connect() as db:
        registered = offices.office(db, checked.code)
    if registered is None:
        raise OfficeInputError("register_office_unknown", code=checked.code)
    clean = {k: v for k, v in body.items() if v not in (None, "", {})}
    now = format_time(datetime.now(timezone.utc))
    with store.write() as db:
        content.upsert_office_profile(db, checked.code, clean, actor, now)
        publish_content(store, keys, "office_profile", checked.code, clean, office=checked.code, db=db)
        audit.record_in(db, actor, "office_profile_save", f"office:{checked.code}",
                        f"name_fa={checked.name.fa} province={checked.province} city={checked.city}"
                        f" settings={checked.settings}", at=now)
    figures.set_office_name(store, checked.code, checked.name.fa, checked.name.en)
    return checked
