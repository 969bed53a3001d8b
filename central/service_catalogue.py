"""The service catalogue (شناسنامه خدمات) as the central office keeps it: every version of every
service's entry, with the day it takes effect and the offices that offer it.

An edit is a **draft** (one per service at a time); publishing it makes it a numbered version
for good and puts it, signed, on the ``catalogue`` feed as ``<service>@<version>``.  Versions
are never edited or deleted: question (2) of a visit is compared with the version in force at
that office on the visit day (:func:`in_force`), so what was announced then must stay known.

The read functions (:func:`catalogue_on`, :func:`versions`, :func:`in_force`) are what every
page showing the catalogue uses: the central pages, the analysis, and the public portal.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cache
from typing import Any

from forms.catalogue import (CatalogueError, Service, builtin_data_folder, load_services, service_body,
                             service_from_mapping)

from sync.batch import format_time

from . import audit
from .content_publisher import publish_content
from .db import content
from .db.connection import Database
from .errors import CentralError
from .keys import CentralKeys

__all__ = ["CatalogueInputError", "ServiceVersion", "builtin_services", "catalogue_from", "catalogue_on", "discard_draft",
           "draft", "in_force", "latest_published", "pick_in_force", "publish_draft", "save_draft", "versions",
           "published_catalogue", "versions_by_service"]


class CatalogueInputError(CentralError, ValueError):
    """A catalogue edit that cannot be saved: a ``catalogue_*`` key of the central catalogue."""


@dataclass(frozen=True)
class ServiceVersion:
    service: Service
    offices: tuple[str, ...]
    status: str
    created_by: str
    created_at: str
    published_by: str | None
    published_at: str | None

    @property
    def number(self) -> int:
        return self.service.version

    def offered_at(self, office: str | None) -> bool:
        return office is None or not self.offices or office in self.offices

    def feed_body(self) -> dict[str, Any]:
        return {**service_body(self.service), "offices": list(self.offices)}


def _row(row: tuple) -> ServiceVersion:
    body, offices, status, *who = row
    return ServiceVersion(service_from_mapping(json.loads(body)), tuple(json.loads(offices)), status, *who)


@cache
def _builtin() -> tuple[Service, ...]:
    return load_services(builtin_data_folder() / "services.yaml")


def builtin_services() -> dict[str, Service]:
    """The catalogue every office shows before the centre publishes one (version 0)."""
    return {s.id: s for s in _builtin()}


def versions(store: Database, service_id: str) -> list[ServiceVersion]:
    """Every version of one service, draft first, then newest published first."""
    with store.connect() as db:
        rows = content.catalogue_rows(db, service_id)
    return [_row(r) for r in rows]


def versions_by_service(store: Database, *, published_only: bool = True) -> dict[str, list[ServiceVersion]]:
    with store.connect() as db:
        rows = content.catalogue_rows(db, published_only=published_only)
    out: dict[str, list[ServiceVersion]] = {}
    for row in rows:
        version = _row(row)
        out.setdefault(version.service.id, []).append(version)
    return out


def draft(store: Database, service_id: str) -> ServiceVersion | None:
    return next((v for v in versions(store, service_id) if v.status == "draft"), None)


def latest_published(store: Database, service_id: str) -> ServiceVersion | None:
    return next((v for v in versions(store, service_id) if v.status == "published"), None)


def pick_in_force(candidates: list[ServiceVersion], office: str | None, day: str) -> ServiceVersion | None:
    """Of ``candidates``, the published version offered at ``office`` whose effective day is the
    latest on or before ``day`` (the newer number when two take effect the same day)."""
    best = None
    for v in candidates:
        if v.status == "published" and v.offered_at(office) and v.service.effective_from <= day:
            if best is None or (v.service.effective_from, v.number) > (best.service.effective_from, best.number):
                best = v
    return best


def in_force(store: Database, service_id: str, office: str | None, day: str) -> ServiceVersion | None:
    """The published version announced at ``office`` on ``day`` (``YYYY-MM-DD``); None when
    the centre had published none by then (the office showed its built-in entry)."""
    return pick_in_force(versions(store, service_id), office, day)


def catalogue_on(store: Database, day: str | None = None, office: str | None = None) -> dict[str, Service]:
    """Service id -> the entry announced on ``day`` (default today) at ``office`` (default:
    any office), falling back to the built-in entry for services never published."""
    return catalogue_from(versions_by_service(store), day, office)


def catalogue_from(published: dict[str, list[ServiceVersion]], day: str | None = None,
                   office: str | None = None) -> dict[str, Service]:
    """:func:`catalogue_on` from versions already read (:func:`published_catalogue`)."""
    day = day or date.today().isoformat()
    out = dict(builtin_services())
    for service_id, found in published.items():
        chosen = pick_in_force(found, office, day)
        if chosen is not None:
            out[service_id] = chosen.service
    return out


def published_catalogue(store: Database) -> tuple[dict[str, list[ServiceVersion]], dict[str, dict[str, Any]]]:
    """The published versions by service (newest first) and the catalogue items published
    before versions existed (feed key -> body), read together."""
    with store.connect() as db:
        rows, legacy = content.published_catalogue_rows(db)
    out: dict[str, list[ServiceVersion]] = {}
    for version in sorted(map(_row, rows), key=lambda v: -v.number):
        out.setdefault(version.service.id, []).append(version)
    return out, {key: json.loads(body) for key, body in legacy}


def save_draft(store: Database, body: dict[str, Any], *, offices: list[str], actor: str) -> ServiceVersion:
    """Check ``body`` (a service entry with ``effective_from``) and keep it as the service's
    draft, replacing an earlier draft; its number is the next free one.  Audited as ``actor``
    (``catalogue_draft``)."""
    try:
        checked = service_from_mapping({**body, "version": 0}, "service")
    except CatalogueError as exc:
        raise CatalogueInputError("catalogue_input_invalid", error=str(exc)) from None
    if not checked.effective_from:
        raise CatalogueInputError("catalogue_effective_required")
    now = format_time(datetime.now(timezone.utc))
    with store.write() as db:
        content.delete_catalogue_draft(db, checked.id)
        number = content.next_catalogue_number(db, checked.id)
        service = service_from_mapping({**service_body(checked), "version": number})
        content.insert_catalogue_draft(db, service.id, service.version, service.effective_from,
                                       sorted(set(offices)), service_body(service), actor, now)
        audit.record_in(db, actor, "catalogue_draft", f"service:{service.id}",
                        f"version={service.version} effective_from={service.effective_from}"
                        f" fee_rials={service.fee_rials} offices={','.join(sorted(set(offices)))}", at=now)
    return ServiceVersion(service, tuple(sorted(set(offices))), "draft", actor, now, None, None)


def discard_draft(store: Database, service_id: str, *, actor: str) -> bool:
    """Drop the service's draft, audited as ``actor``; False if there was none."""
    with store.write() as db:
        dropped = content.delete_catalogue_draft(db, service_id)
        if dropped:
            audit.record_in(db, actor, "catalogue_discard", f"service:{service_id}",
                            at=format_time(datetime.now(timezone.utc)))
        return dropped


def publish_draft(store: Database, keys: CentralKeys, service_id: str, *, actor: str) -> ServiceVersion:
    """Make the draft a published version and put it on the feed, audited as ``actor``
    (``catalogue_publish``), in one transaction."""
    found = draft(store, service_id)
    if found is None:
        raise CatalogueInputError("catalogue_no_draft")
    now = format_time(datetime.now(timezone.utc))
    published = ServiceVersion(found.service, found.offices, "published", found.created_by,
                               found.created_at, actor, now)
    with store.write() as db:
        if not content.publish_catalogue_draft(db, service_id, found.number, actor, now):
            raise CatalogueInputError("catalogue_draft_gone")
        publish_content(store, keys, "catalogue", f"{service_id}@{found.number}", published.feed_body(), db=db)
        audit.record_in(db, actor, "catalogue_publish", f"service:{service_id}",
                        f"version={published.number} effective_from={published.service.effective_from}", at=now)
    return published
