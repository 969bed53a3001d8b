"""What the central office publishes, on the portal: ``/services`` (the service catalogue)
and ``/contacts`` (the contact directory)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response

from . import state
from .catalogue import published_services
from .common import page, shared_page
from .directory import published_contacts
from .offices import office_choices

__all__ = ["bp"]

bp = Blueprint("published", __name__)


@bp.get("/services")
def services_page() -> Response:
    store = state.store()
    # what is in force changes with a publication or with the day (versions take effect on a date)
    version = (store.published_head("catalogue"), date.today().isoformat())
    return shared_page("services.html", version, lambda: {"services": published_services(store)})


@bp.get("/contacts")
def contacts_page() -> Response:
    store = state.store()
    return page("contacts.html", contacts=published_contacts(store), office_names=office_choices(store))
