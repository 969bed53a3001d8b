"""The contact directory the portal shows («ارتباط با ما»): what the central office published.

One read function (:func:`published_contacts`), so a richer source (issue #13) replaces only
this module.  Today's source is the ``contact`` feed (``seda central publish contact ID``),
each item a person in the office directory's format (forms/catalogue.py: name, title, phone,
email) with an optional ``office`` code; an entry that does not read is left out and logged.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from forms.catalogue import CatalogueError, Person, person_from_mapping

__all__ = ["Contact", "published_contacts"]

log = logging.getLogger("seda.central.portal")


@dataclass(frozen=True)
class Contact:
    person: Person
    office: str = ""


def published_contacts(store) -> list[Contact]:
    """Every published contact meant for all offices, grouped by office, then by key."""
    rows = store.published("contact", office="")
    contacts = []
    for key, body in rows:
        try:
            item = json.loads(body)
            person = person_from_mapping(item, f"contact/{key}")
        except (ValueError, CatalogueError) as exc:
            log.warning("contact %s is not shown: %s", key, exc)
            continue
        contacts.append(Contact(person, str(item.get("office") or "")))
    return sorted(contacts, key=lambda c: c.office)
