"""Answer templates per unit: the sentences a unit writes fifty times a day, kept once.

A unit head keeps the unit's templates; a responder picks one on the case page and the
placeholders are filled from the case before the text lands in the answer box, where it is
edited like any answer (nothing is sent until the responder sends it).  Placeholders:
``{code}`` tracking code, ``{service}`` the service's name, ``{office}`` the office code,
``{received}`` the Jalali date the case arrived, ``{unit}`` the unit's name.

Kept in the ``settings`` table under ``answer_templates:<unit>`` (a JSON list), so no schema
step is needed.
"""
from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from sync.batch import format_time

from . import audit
from .db import records as record_rows
from .errors import CentralError

__all__ = ["PLACEHOLDERS", "AnswerTemplate", "TemplateError", "add", "delete", "fill", "load", "parse", "save"]

PLACEHOLDERS = ("code", "service", "office", "received", "unit")
MAX_TEMPLATES = 50
MAX_TITLE = 80
MAX_TEXT = 4000


class TemplateError(CentralError, ValueError):
    """A template that cannot be kept (central/translations ``template_*``)."""


@dataclass(frozen=True)
class AnswerTemplate:
    title: str
    text: str


def parse(title: str, text: str) -> AnswerTemplate:
    """A template as typed, checked: a title, a text, and only known placeholders."""
    title, text = " ".join(title.split()), text.strip()
    if not title or not text:
        raise TemplateError("template_title_and_text")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise TemplateError("template_too_long", title=MAX_TITLE, text=MAX_TEXT)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        names = {"{"}
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise TemplateError("template_unknown_placeholder", unknown=", ".join(unknown),
                            allowed=", ".join("{" + p + "}" for p in PLACEHOLDERS))
    return AnswerTemplate(title, text)


_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def fill(template: AnswerTemplate, facts: Mapping[str, str]) -> str:
    """The template's text with each placeholder replaced by the case's fact (left as typed
    when the case has no such fact, so the responder sees what is missing)."""
    return _PLACEHOLDER.sub(lambda m: facts.get(m.group(1)) or m.group(0), template.text)


def _key(unit: str) -> str:
    return f"answer_templates:{unit}"


def _read(db, unit: str) -> list[AnswerTemplate]:
    value = record_rows.setting(db, _key(unit))
    items = json.loads(value) if value is not None else []
    return [AnswerTemplate(str(i["title"]), str(i["text"])) for i in items]


def _write(db, unit: str, templates: list[AnswerTemplate]) -> None:
    if len(templates) > MAX_TEMPLATES:
        raise TemplateError("template_too_many", n=MAX_TEMPLATES)
    value = json.dumps([{"title": t.title, "text": t.text} for t in templates], ensure_ascii=False)
    record_rows.put_setting(db, _key(unit), value)


def load(store: Any, unit: str) -> list[AnswerTemplate]:
    """The unit's templates, in the order the head keeps them."""
    with store.connect() as db:
        return _read(db, unit)


def save(store: Any, unit: str, templates: list[AnswerTemplate]) -> None:
    """Replace the unit's templates (at most :data:`MAX_TEMPLATES`), unaudited: for setup;
    a person's change goes through :func:`add` or :func:`delete`."""
    with store.write() as db:
        _write(db, unit, templates)


def add(store: Any, unit: str, template: AnswerTemplate, *, actor: str, now: datetime | None = None) -> None:
    """Append ``template`` to the unit's list, audited as ``actor``, in one transaction."""
    with store.write() as db:
        _write(db, unit, [*_read(db, unit), template])
        audit.record_in(db, actor, "answer_template_add", f"unit:{unit}", template.title, at=_at(now))


def delete(store: Any, unit: str, index: int, *, actor: str, now: datetime | None = None) -> AnswerTemplate | None:
    """Remove the unit's ``index``-th template, audited as ``actor``; None if there is none."""
    with store.write() as db:
        current = _read(db, unit)
        if not 0 <= index < len(current):
            return None
        removed = current.pop(index)
        _write(db, unit, current)
        audit.record_in(db, actor, "answer_template_delete", f"unit:{unit}", removed.title, at=_at(now))
    return removed


def _at(now: datetime | None) -> str:
    return format_time(now or datetime.now(timezone.utc))
