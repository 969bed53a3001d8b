"""Content the central office publishes for offices to show: signed item by item.

A pulled page is already signed as a whole, but the items of it live on in the office's ledger
(and may arrive by other roads later), so each content item carries its own signature: the
central key's Ed25519 signature over ``seda-content/1\\n`` + the canonical JSON of the body
without ``signature``.  The body names its own ``feed`` and ``key``, so a signed item cannot be
replayed under another key.  The office checks the signature *and* the shape (forms/catalogue.py)
before storing; an item that fails either is refused, and the last good version stays shown.

Content kinds (feed names) and their keys:

- ``catalogue``       ``<service>@<version>``  a service's version with ``effective_from`` and
                                              ``offices`` (empty = every office);
- ``contact``         ``<id>``                 a manager or deputy (``office`` or ``province``);
- ``office_profile``  ``<office code>``        the office's names, address, hours, settings;
- ``announcement``    ``<id>``                 a kiosk notice with ``starts_on``/``ends_on``;
- ``form_definition`` ``<form>@v<version>``    a survey form definition (``definition``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from forms.catalogue import (CatalogueError, announcement_from_body, office_profile_from_body,
                             person_from_mapping, service_from_mapping)
from forms.definition import FormDefinitionError, parse_form

from forms.signatures import verify_answer

__all__ = ["CONTENT_FEEDS", "CONTENT_PREFIX", "ContentRefused", "check_content_item", "signed_content"]

CONTENT_PREFIX = b"seda-content/1\n"
CONTENT_FEEDS = frozenset({"catalogue", "contact", "office_profile", "announcement", "form_definition"})
#: Every kind of item an office knows what to do with; anything else is refused as unknown
#: (a centre newer than this office's software), loudly, rather than kept unread.
KNOWN_FEEDS = CONTENT_FEEDS | {"case_update", "revoked_sheet", "office_key", "oversight_key", "record_conflict"}


class ContentRefused(ValueError):
    """A pulled content item that is not the centre's or not well formed."""


def signed_content(sign: Callable[[bytes, Mapping[str, Any]], dict[str, Any]], feed: str, key: str,
                   content: Mapping[str, Any]) -> dict[str, Any]:
    """The body to publish: ``content`` plus its feed, key and the centre's signature.
    ``sign`` is :meth:`central.keys.CentralKeys.sign`."""
    if feed not in CONTENT_FEEDS:
        raise ValueError(f"{feed!r} is not a content feed")
    body = {k: v for k, v in content.items() if k not in ("signature", "feed", "key")}
    return sign(CONTENT_PREFIX, {**body, "feed": feed, "key": key})


def _check_shape(feed: str, key: str, body: Mapping[str, Any]) -> None:
    if feed == "catalogue":
        service = service_from_mapping(dict(body), f"catalogue/{key}")
        if key != f"{service.id}@{service.version}" or not service.effective_from:
            raise CatalogueError(f"catalogue/{key}: key must be <service>@<version> with an effective_from")
        offices = body.get("offices", [])
        if not isinstance(offices, list) or not all(isinstance(o, str) for o in offices):
            raise CatalogueError(f"catalogue/{key}.offices: must be a list of office codes")
    elif feed == "contact":
        person_from_mapping(dict(body), f"contact/{key}")
    elif feed == "office_profile":
        if office_profile_from_body(dict(body), f"office_profile/{key}").code != key:
            raise CatalogueError(f"office_profile/{key}: names another office")
    elif feed == "announcement":
        if announcement_from_body(dict(body), f"announcement/{key}").id != key:
            raise CatalogueError(f"announcement/{key}: id differs from its key")
    elif feed == "form_definition":
        form = parse_form(body.get("definition"), f"form_definition/{key}")
        if key != f"{form.id}@v{form.version}":
            raise CatalogueError(f"form_definition/{key}: key must be <form>@v<version>")


def check_content_item(item: Mapping[str, Any], central_key: Ed25519PublicKey | None, *,
                       shape_only: bool = False) -> None:
    """Raise :class:`ContentRefused` unless ``item`` (a pulled ``{"feed", "key", "deleted",
    "body"}``) is a well-formed content item signed by ``central_key``.  A withdrawal
    (``deleted``) needs no body; it only hides what the centre itself published.
    ``shape_only`` (the centre checking before it signs) skips the signature."""
    feed, key, body = item.get("feed"), str(item.get("key", "")), item.get("body")
    if feed not in CONTENT_FEEDS or item.get("deleted"):
        return
    if not isinstance(body, dict):
        raise ContentRefused(f"{feed}/{key}: the body is not an object")
    if not shape_only and (central_key is None or not verify_answer(CONTENT_PREFIX, body, central_key)):
        raise ContentRefused(f"{feed}/{key}: not signed by the central office's key")
    if body.get("feed") != feed or body.get("key") != key:
        raise ContentRefused(f"{feed}/{key}: signed for {body.get('feed')}/{body.get('key')}")
    try:
        _check_shape(feed, key, body)
    except (CatalogueError, FormDefinitionError) as exc:
        raise ContentRefused(str(exc)) from None
