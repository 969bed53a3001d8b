"""The contact directory and the service catalogue: data an office edits, checked on load.

Both are YAML so an office manager can edit them in Notepad; they are checked once when the
app starts, so a typo stops the kiosk with a message naming the file and field instead of
showing a broken screen to a visitor.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from forms import Text

__all__ = ["CatalogueError", "Service", "Person", "Directory", "Announcement", "OfficeProfile", "builtin_data_folder",
           "load_services", "load_directory", "service_from_mapping", "service_body", "person_from_mapping",
           "announcement_from_body", "office_profile_from_body", "service_in_force", "service_diff"]


def builtin_data_folder() -> Path:
    """The demo directory and service catalogue shipped with Seda (forms/data/): what the
    kiosk shows and the centre's figures name until an office or the centre has its own."""
    return Path(str(resources.files("forms") / "data"))


class CatalogueError(ValueError):
    """A directory or services file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Service:
    id: str
    name: Text
    documents: tuple[Text, ...]
    fee_rials: int
    time: Text
    legal_basis: Text
    #: The steps a visitor goes through, in order (may be empty in an office's own file).
    steps: tuple[Text, ...] = ()
    #: Centrally published entries: their version and the Gregorian day it takes effect
    #: (``YYYY-MM-DD``); built-in entries are version 0, in force since always.
    version: int = 0
    effective_from: str = ""


@dataclass(frozen=True)
class Person:
    name: Text
    title: Text
    phone: str
    email: str
    #: Where the contact belongs: an office code, or '' with a province (or '' for national).
    office: str = ""
    province: str = ""


@dataclass(frozen=True)
class Directory:
    office_name: Text
    address: Text
    phone: str
    hours: Text
    people: tuple[Person, ...]


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: must be a mapping")
    return raw


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw[k].strip()
                                            for k in ("fa", "en")):
        raise CatalogueError(f"{where}: needs non-empty 'fa' and 'en' texts")
    return Text(fa=raw["fa"].strip(), en=raw["en"].strip())


def _string(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CatalogueError(f"{where}: must be non-empty text")
    return raw.strip()


def load_services(path: Path) -> tuple[Service, ...]:
    raw = _read(path)
    items = raw.get("services")
    if not isinstance(items, list) or not items:
        raise CatalogueError(f"{path}: services: needs a non-empty list")
    services = [service_from_mapping(item, f"{path}: services[{index}]") for index, item in enumerate(items)]
    ids = [s.id for s in services]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogueError(f"{path}: services: duplicate id(s) {duplicates}")
    return tuple(services)


def _texts(raw: Any, where: str, *, required: bool = True) -> tuple[Text, ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list):
        raise CatalogueError(f"{where}: must be a list")
    return tuple(_text(d, f"{where}[{i}]") for i, d in enumerate(raw))


def _day(raw: Any, where: str) -> str:
    """A Gregorian day ``YYYY-MM-DD`` (what the feed carries; pages show it in Jalali)."""
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            pass
    raise CatalogueError(f"{where}: must be a day written YYYY-MM-DD")


def service_from_mapping(item: Any, where: str = "service") -> Service:
    """One service from a YAML entry or a pulled ``catalogue`` feed body; checked field by field
    so a malformed entry is refused with its field named, never half shown."""
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    fee = item.get("fee_rials")
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise CatalogueError(f"{where}.fee_rials: must be a whole number of rials, 0 or more")
    version = item.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise CatalogueError(f"{where}.version: must be a whole number, 0 or more")
    effective = item.get("effective_from", "")
    return Service(
        id=_string(item.get("id"), f"{where}.id"),
        name=_text(item.get("name"), f"{where}.name"),
        documents=_texts(item.get("documents"), f"{where}.documents"),
        fee_rials=fee,
        time=_text(item.get("time"), f"{where}.time"),
        legal_basis=_text(item.get("legal_basis"), f"{where}.legal_basis"),
        steps=_texts(item.get("steps"), f"{where}.steps", required=False),
        version=version,
        effective_from=_day(effective, f"{where}.effective_from") if effective else "",
    )


def _text_body(text: Text) -> dict[str, str]:
    return {"fa": text.fa, "en": text.en}


def service_body(service: Service) -> dict[str, Any]:
    """The JSON shape of a service (the feed's and the central store's), the inverse of
    :func:`service_from_mapping`."""
    return {"id": service.id, "name": _text_body(service.name),
            "documents": [_text_body(d) for d in service.documents], "fee_rials": service.fee_rials,
            "time": _text_body(service.time), "legal_basis": _text_body(service.legal_basis),
            "steps": [_text_body(s) for s in service.steps], "version": service.version,
            "effective_from": service.effective_from}


def service_in_force(versions: Iterable[Service], day: str) -> Service | None:
    """The version announced on ``day`` (``YYYY-MM-DD``): the newest that took effect by then.

    Question (2) asks whether a visit matched *what was announced*, so a response is compared
    with this version, never with whatever the catalogue says today."""
    best: Service | None = None
    for service in versions:
        if service.effective_from <= day and (best is None or (service.effective_from, service.version)
                                              > (best.effective_from, best.version)):
            best = service
    return best


#: The fields a visitor reads, in the order a diff lists them.
DIFF_FIELDS = ("name", "documents", "fee_rials", "time", "steps", "legal_basis", "effective_from")


def service_diff(old: Service | None, new: Service) -> list[tuple[str, Any, Any]]:
    """``(field, before, after)`` for every field a publish would change (all when new)."""
    before = service_body(old) if old is not None else {}
    after = service_body(new)
    return [(name, before.get(name), after[name]) for name in DIFF_FIELDS
            if before.get(name) != after[name]]


def person_from_mapping(item: Any, where: str = "contact") -> Person:
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    return Person(name=_text(item.get("name"), f"{where}.name"),
                  title=_text(item.get("title"), f"{where}.title"),
                  phone=_string(item.get("phone"), f"{where}.phone"),
                  email=_string(item.get("email"), f"{where}.email"),
                  office=str(item.get("office") or ""), province=str(item.get("province") or ""))


@dataclass(frozen=True)
class Announcement:
    """A notice shown on kiosk screens from ``starts_on`` to ``ends_on`` (both included)."""

    id: str
    text: Text
    starts_on: str
    ends_on: str
    office: str = ""

    def shown_on(self, day: str) -> bool:
        return self.starts_on <= day <= self.ends_on


def announcement_from_body(item: Any, where: str = "announcement") -> Announcement:
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    announcement = Announcement(id=_string(item.get("id"), f"{where}.id"),
                                text=_text(item.get("text"), f"{where}.text"),
                                starts_on=_day(item.get("starts_on"), f"{where}.starts_on"),
                                ends_on=_day(item.get("ends_on"), f"{where}.ends_on"),
                                office=str(item.get("office") or ""))
    if announcement.ends_on < announcement.starts_on:
        raise CatalogueError(f"{where}.ends_on: ends before it starts")
    return announcement


@dataclass(frozen=True)
class OfficeProfile:
    """An office as the central register describes it to citizens (its code stays in files)."""

    code: str
    name: Text
    province: str = ""
    city: str = ""
    address: Text | None = None
    phone: str = ""
    hours: Text | None = None
    #: Settings that belong to the centre (e.g. ``sheets_per_print``, ``kiosk_idle_seconds``).
    settings: dict[str, Any] = field(default_factory=dict)


#: Office settings the centre decides in its offices register (and offices follow once they
#: have its profile): name -> (lowest, highest allowed).  ``sheets_per_print``: the most sheets
#: one ``seda forms print`` run may make; ``kiosk_idle_seconds``: how long an untouched kiosk
#: waits before it goes back to its start screen.
CENTRAL_SETTINGS: dict[str, tuple[int, int]] = {"sheets_per_print": (1, 5000), "kiosk_idle_seconds": (20, 600)}


def central_setting_ok(name: str, value: Any) -> bool:
    """Whether ``value`` is a whole number in ``name``'s allowed range."""
    low, high = CENTRAL_SETTINGS.get(name, (None, None))
    return (low is not None and not isinstance(value, bool) and isinstance(value, int)
            and low <= value <= high)


def _optional_text(raw: Any, where: str) -> Text | None:
    return None if raw in (None, "", {}) else _text(raw, where)


def office_profile_from_body(item: Any, where: str = "office_profile") -> OfficeProfile:
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    settings = item.get("settings") or {}
    if not isinstance(settings, dict):
        raise CatalogueError(f"{where}.settings: must be a mapping")
    return OfficeProfile(code=_string(item.get("code"), f"{where}.code"),
                         name=_text(item.get("name"), f"{where}.name"),
                         province=str(item.get("province") or ""), city=str(item.get("city") or ""),
                         address=_optional_text(item.get("address"), f"{where}.address"),
                         phone=str(item.get("phone") or ""),
                         hours=_optional_text(item.get("hours"), f"{where}.hours"),
                         settings=dict(settings))


def load_directory(path: Path) -> Directory:
    raw = _read(path)
    office = raw.get("office")
    if not isinstance(office, dict):
        raise CatalogueError(f"{path}: office: must be a mapping")
    people = raw.get("people")
    if not isinstance(people, list):
        raise CatalogueError(f"{path}: people: must be a list")
    return Directory(
        office_name=_text(office.get("name"), f"{path}: office.name"),
        address=_text(office.get("address"), f"{path}: office.address"),
        phone=_string(office.get("phone"), f"{path}: office.phone"),
        hours=_text(office.get("hours"), f"{path}: office.hours"),
        people=tuple(person_from_mapping(p, f"{path}: people[{i}]") for i, p in enumerate(people)),
    )
