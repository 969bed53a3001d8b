"""What the central office published for this office to show, as the ledger keeps it.

The sync client stores pulled items in ``central_items`` only after checking each content item's
signature and shape (sync/content.py), and all of one pull in one transaction, so what is read
here is always a whole, good publication.  Each function answers ``None`` when nothing of its
kind has arrived yet: the caller then shows its built-in files and says so.

One function per kind of content, so the kiosk, the staff pages and the paper printer read the
same thing (see sync/content.py for the feed names and keys).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from forms.catalogue import (Announcement, CatalogueError, OfficeProfile, Person, Service,
                             announcement_from_body, office_profile_from_body, person_from_mapping,
                             service_from_mapping, service_in_force)
from forms.definition import Form, FormCatalog, FormDefinitionError, builtin_catalog, parse_form

from .centre_sent import CentreSent
from .ledger import Ledger

__all__ = ["content_refusals", "content_stamp", "open_content_refusals", "still_refused", "office_forms", "printed_form", "published_announcements", "published_contacts", "published_forms",
           "published_office_profile", "published_service_versions", "published_services"]

log = logging.getLogger("seda.ledger")
T = TypeVar("T")

_CONTENT_FEEDS = ("catalogue", "contact", "office_profile", "announcement", "form_definition")


def _bodies(ledger: Ledger, feed: str) -> Iterator[tuple[str, dict[str, Any]]]:
    rows = ledger._conn.execute(  # noqa: SLF001 - same package
        "SELECT key, body FROM central_items WHERE feed = ? AND deleted = 0 ORDER BY key", (feed,)
    ).fetchall()
    for key, body in rows:
        yield key, json.loads(body)


def _readable(ledger: Ledger, feed: str, read: Callable[[str, dict[str, Any]], T],
              errors: type[Exception] | tuple[type[Exception], ...], what: str) -> Iterator[tuple[str, T]]:
    """``(key, read(key, body))`` of ``feed``'s current items; an item that does not read is
    logged and left out, never shown half (the sync client checked it; this guards the store)."""
    for key, body in _bodies(ledger, feed):
        try:
            yield key, read(key, body)
        except errors as exc:
            log.error("ignoring a stored %s: %s", what, exc)


def _any(ledger: Ledger, feed: str) -> bool:
    """Whether the centre ever sent this kind (a withdrawal counts: the centre has spoken)."""
    return ledger._conn.execute(  # noqa: SLF001
        "SELECT 1 FROM central_items WHERE feed = ? LIMIT 1", (feed,)).fetchone() is not None


def content_stamp(ledger: Ledger) -> tuple[int, str | None]:
    """(highest cursor of any content item, when the first one came): a reader's cache is good
    while the stamp is unchanged; ``None`` as the time means only built-in files so far."""
    placeholders = ", ".join("?" for _ in _CONTENT_FEEDS)
    cursor, first = ledger._conn.execute(  # noqa: SLF001
        f"SELECT coalesce(max(cursor), 0), min(received_at) FROM central_items WHERE feed IN ({placeholders})",
        _CONTENT_FEEDS).fetchone()
    return int(cursor), first


def _offered_to(body: dict[str, Any], office: str) -> bool:
    offices = body.get("offices") or []
    return not offices or office in offices


def published_service_versions(ledger: Ledger, office: str) -> dict[str, list[Service]] | None:
    """Every published version of every service this office offers, by service id."""
    if not _any(ledger, "catalogue"):
        return None
    out: dict[str, list[Service]] = {}
    for key, body in _bodies(ledger, "catalogue"):
        if not _offered_to(body, office):
            continue
        try:
            service = service_from_mapping(body, f"catalogue/{key}")
        except CatalogueError as exc:  # checked when pulled; a ledger edited by hand lands here
            log.error("ignoring a stored catalogue item: %s", exc)
            continue
        out.setdefault(service.id, []).append(service)
    return out


def published_services(ledger: Ledger, office: str, day: str) -> tuple[Service, ...] | None:
    """The catalogue as announced at ``office`` on ``day`` (``YYYY-MM-DD``), by name order of
    publication key; ``None`` before the first catalogue arrived."""
    versions = published_service_versions(ledger, office)
    if versions is None:
        return None
    found = (service_in_force(v, day) for _, v in sorted(versions.items()))
    return tuple(s for s in found if s is not None)


def published_contacts(ledger: Ledger, office: str, province: str = "") -> tuple[Person, ...] | None:
    """Managers and deputies for this office: its own, its province's, then national ones."""
    if not _any(ledger, "contact"):
        return None
    people = []
    for key, person in _readable(ledger, "contact", lambda k, b: person_from_mapping(b, f"contact/{k}"),
                                 CatalogueError, "contact"):
        if person.office == office:
            people.append((0, key, person))
        elif not person.office and person.province and person.province == province:
            people.append((1, key, person))
        elif not person.office and not person.province:
            people.append((2, key, person))
    return tuple(p for _, _, p in sorted(people, key=lambda x: (x[0], x[1])))


def published_office_profile(ledger: Ledger, office: str) -> OfficeProfile | None:
    row = ledger._conn.execute(  # noqa: SLF001
        "SELECT body FROM central_items WHERE feed = 'office_profile' AND key = ? AND deleted = 0",
        (office,)).fetchone()
    if row is None:
        return None
    try:
        return office_profile_from_body(json.loads(row[0]), f"office_profile/{office}")
    except CatalogueError as exc:
        log.error("ignoring the stored office profile: %s", exc)
        return None


def published_announcements(ledger: Ledger, office: str, day: str) -> list[Announcement]:
    """Announcements for this office (or every office) shown on ``day``, newest start first."""
    shown = [a for _, a in _readable(ledger, "announcement",
                                     lambda k, b: announcement_from_body(b, f"announcement/{k}"),
                                     CatalogueError, "announcement")
             if a.office in ("", office) and a.shown_on(day)]
    return sorted(shown, key=lambda a: (a.starts_on, a.id), reverse=True)


def published_forms(ledger: Ledger) -> list[Form]:
    """Every form definition version the centre published (older versions stay readable:
    sheets printed from them are still being scanned)."""
    return [form for _, form in _readable(
        ledger, "form_definition", lambda k, b: parse_form(b.get("definition"), f"form_definition/{k}"),
        FormDefinitionError, "form definition")]


def office_forms(ledger: Ledger) -> FormCatalog:
    """Every form version this office can print, show and read: the built-in ones and every
    one the centre published.  A published (form, version) the built-in files already hold
    is ignored (the centre numbers its versions after the built-in ones; only a hand-made
    feed item could collide), so a printed sheet always reads with the definition it was
    printed from."""
    builtin = list(builtin_catalog())
    taken = {(form.id, form.version) for form in builtin}
    extra = []
    for form in published_forms(ledger):
        if (form.id, form.version) in taken:
            log.error("ignoring the published form %s v%s: a built-in definition has that version",
                      form.id, form.version)
            continue
        taken.add((form.id, form.version))
        extra.append(form)
    return FormCatalog(builtin + extra)


def printed_form(ledger: Ledger, form_id: str) -> tuple[Form, bool]:
    """The version of ``form_id`` this office prints and shows now (the newest), and whether
    it came from the centre (False: the built-in one, until the first sync brings one).
    Raises :class:`forms.definition.UnknownForm` for a form nobody defined."""
    form = office_forms(ledger).get(form_id)
    return form, form.version not in builtin_catalog().versions(form_id)


def content_refusals(ledger: Ledger) -> list[dict[str, Any]]:
    """Content items the sync client refused (kept by sync/office_state.py), oldest first."""
    row = ledger._conn.execute(  # noqa: SLF001
        "SELECT value FROM sync_state WHERE name = 'content_refusals'").fetchone()
    return [] if row is None else list(json.loads(row[0]))


def still_refused(refusals: Iterable[dict[str, Any]], sent: CentreSent) -> list[dict[str, Any]]:
    """The refused items that no good item of the same feed and key has followed (the office
    still shows the last good version, or nothing), the newest refusal per item.  A refusal
    the centre has since made good is history, not a warning."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for note in refusals:
        latest[(str(note.get("feed")), str(note.get("key")))] = note
    out = []
    for (feed, key), note in latest.items():
        kept = sent.item_cursor(feed, key)
        if kept is None or kept < int(note.get("cursor") or 0):
            out.append(note)
    return out


def open_content_refusals(ledger: Ledger) -> list[dict[str, Any]]:
    """:func:`still_refused` of everything refused so far: what `seda sync status` and the
    staff dashboard warn about."""
    return still_refused(content_refusals(ledger), CentreSent(ledger))
