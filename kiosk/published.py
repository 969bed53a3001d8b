"""What this kiosk shows that the central office manages: one function per kind of content.

Each reads what the last sync stored (ledger/published_content.py, checked and complete) and
falls back to the built-in demo files until the first publication of its kind arrived, so a
change published centrally shows here at the next sync, without a restart.  The staff pages
say which of the two is on screen (:func:`content_source`).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from forms import Form, Text
from forms.catalogue import Announcement, Directory, OfficeProfile, Service
from forms.workdays import TEHRAN
from ledger.published_content import (content_stamp, office_forms, open_content_refusals, printed_form,
                                      published_announcements, published_contacts, published_office_profile,
                                      published_services)

from ledger.office_settings import SettingInForce, settings_in_force

from .state import state

__all__ = ["announcements", "content_source", "directory", "form_catalog", "survey_form", "idle_seconds", "office_name", "office_profile",
           "service", "settings", "settings_shown",
           "services"]


def _today() -> str:
    return datetime.now(TEHRAN).date().isoformat()


def office_profile() -> OfficeProfile | None:
    """The office as the centre's register describes it (None before it was published)."""
    return published_office_profile(state().ledger(), state().config.office)


def office_name() -> Text:
    """The office's name for people: the register's, else the built-in directory's."""
    profile = office_profile()
    return profile.name if profile is not None else state().builtin_directory.office_name


#: The last catalogue read, by (content stamp, day): reading and checking every version on
#: each request costs ~100 ms for a big catalogue; the stamp changes with any pulled content.
_CATALOGUE_CACHE = "seda_kiosk_catalogue"


def services() -> tuple[Service, ...]:
    """The catalogue as announced here today."""
    from flask import current_app

    key = (content_stamp(state().ledger())[0], _today())
    cached = current_app.extensions.get(_CATALOGUE_CACHE)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = published_services(state().ledger(), state().config.office, key[1])
    shown = found if found is not None else state().builtin_services
    current_app.extensions[_CATALOGUE_CACHE] = (key, shown)  # one tuple: swapped atomically
    return shown


#: The survey form in use, by content stamp (parsing every published version per request
#: would cost more than the request).
_FORM_CACHE = "seda_kiosk_survey_form"


def survey_form() -> Form:
    """The survey form a new visit answers: the newest version the centre published for this
    office's form (config ``survey_form``), else the built-in one until the first sync brings
    one.  Read at each visit's first question, so a new version shows without a restart; a
    visit keeps the version it began with (kiosk/visitor.py)."""
    from flask import current_app

    key = content_stamp(state().ledger())[0]
    cached = current_app.extensions.get(_FORM_CACHE)
    if cached is not None and cached[0] == key:
        return cached[1]
    form, _ = printed_form(state().ledger(), state().config.survey_form)
    current_app.extensions[_FORM_CACHE] = (key, form)  # one tuple: swapped atomically
    return form


def form_catalog():
    """Every version this office knows (built-in and published): a response or a draft names
    the version it was given on, and is read with that one."""
    return office_forms(state().ledger())


def service(service_id: str) -> Service | None:
    return next((s for s in services() if s.id == service_id), None)


def directory() -> Directory:
    """The office's own details (register) and its managers and deputies (contact directory)."""
    builtin = state().builtin_directory
    profile = office_profile()
    people = published_contacts(state().ledger(), state().config.office, profile.province if profile else "")
    shown = builtin if people is None else replace(builtin, people=people)
    if profile is not None:
        shown = replace(shown, office_name=profile.name, address=profile.address or shown.address,
                        phone=profile.phone or shown.phone, hours=profile.hours or shown.hours)
    return shown


def announcements() -> list[Announcement]:
    """The notices the centre wants on this kiosk's screens today."""
    return published_announcements(state().ledger(), state().config.office, _today())


def settings() -> dict[str, SettingInForce]:
    """The office's settings that belong to the centre, as in force here, with their source.
    An idle time the centre set that is not longer than the kiosk's countdown would cut the
    countdown short: then this kiosk's own keeps holding."""
    config = state().config
    found = settings_in_force(state().ledger(), config.office, {"kiosk_idle_seconds": config.idle_seconds})
    idle = found["kiosk_idle_seconds"]
    if idle.source == "centre" and idle.value <= config.countdown_seconds:
        found["kiosk_idle_seconds"] = SettingInForce(idle.name, config.idle_seconds, "local", None)
    return found


def idle_seconds() -> int:
    """How long an untouched screen waits before going back to the start (0: never)."""
    return settings()["kiosk_idle_seconds"].value


def settings_shown() -> list[dict[str, Any]]:
    """:func:`settings` for the staff page: name, value, source and since (a datetime)."""
    return [{"name": s.name, "value": s.value, "source": s.source,
             "since": datetime.fromisoformat(s.since.replace("Z", "+00:00")) if s.since else None}
            for s in settings().values()]


def content_source() -> dict[str, Any]:
    """For the staff pages: whether the centre's content arrived, and since when."""
    cursor, first = content_stamp(state().ledger())
    since = datetime.fromisoformat(first.replace("Z", "+00:00")) if first else None
    form, from_centre = printed_form(state().ledger(), state().config.survey_form)
    return {"published": first is not None, "since": since, "cursor": cursor,
            "refusals": open_content_refusals(state().ledger()),
            "form": form, "form_from_centre": from_centre}
