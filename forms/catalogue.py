"""The contact directory and the service catalogue: data an office edits, checked on load.

Both are YAML so an office manager can edit them in Notepad; they are checked once when the
app starts, so a typo stops the kiosk with a message naming the file and field instead of
showing a broken screen to a visitor.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from forms import Text

__all__ = ["CatalogueError", "Service", "Person", "Directory", "builtin_data_folder",
           "load_services", "load_directory", "person_from_mapping", "service_from_mapping"]


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


@dataclass(frozen=True)
class Person:
    name: Text
    title: Text
    phone: str
    email: str


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
    services = [service_from_mapping(item, f"{path}: services[{index}]")
                for index, item in enumerate(items)]
    ids = [s.id for s in services]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogueError(f"{path}: services: duplicate id(s) {duplicates}")
    return tuple(services)


def service_from_mapping(item: Any, where: str) -> Service:
    """One catalogue entry (a file's ``services[i]``, or a ``catalogue`` item the centre
    publishes), checked; ``where`` names it in the error."""
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    documents = item.get("documents")
    if not isinstance(documents, list):
        raise CatalogueError(f"{where}.documents: must be a list")
    fee = item.get("fee_rials")
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise CatalogueError(f"{where}.fee_rials: must be a whole number of rials, 0 or more")
    return Service(
        id=_string(item.get("id"), f"{where}.id"),
        name=_text(item.get("name"), f"{where}.name"),
        documents=tuple(_text(d, f"{where}.documents[{i}]") for i, d in enumerate(documents)),
        fee_rials=fee,
        time=_text(item.get("time"), f"{where}.time"),
        legal_basis=_text(item.get("legal_basis"), f"{where}.legal_basis"),
    )


def person_from_mapping(item: Any, where: str) -> Person:
    """One directory entry (a file's ``people[i]``, or a ``contact`` item the centre
    publishes), checked; ``where`` names it in the error."""
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    return Person(name=_text(item.get("name"), f"{where}.name"),
                  title=_text(item.get("title"), f"{where}.title"),
                  phone=_string(item.get("phone"), f"{where}.phone"),
                  email=_string(item.get("email"), f"{where}.email"))


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
