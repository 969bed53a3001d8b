"""Survey form definitions as the central office publishes them: upload, preview, publish.

A definition is uploaded (YAML or JSON, the format of forms/definitions/*) and kept as the
form's **draft** (one per form at a time).  It is checked exactly as an office will check it
(forms.definition.parse_form, then the sheet layout, whose boxes the scanner reads), so a
definition offices would refuse, or that does not fit an A4 sheet, is never stored.  Publishing
makes the draft version N for good and puts it, signed, on the ``form_definition`` feed as
``<form>@v<N>``; offices then print and show it, and keep reading sheets of every earlier
version.  A published version is never edited or withdrawn: sheets printed from it are still
being scanned.  N counts on from the built-in versions, so an office never holds two different
definitions under one (form, version).

Every upload, discard and publish is audited in the transaction that makes it.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from forms.definition import (Form, FormCatalog, FormDefinitionError, builtin_catalog, parse_form, question_changes,
                              yaml_error)
from forms.layout import build_layout
from forms.paper import render_sheets
from forms.sheet_code import SheetCode

from sync.batch import format_time

from . import audit
from .content_publisher import publish_content
from .db import content
from .db.connection import Connection, Database
from .errors import CentralError
from .keys import CentralKeys

__all__ = ["FormVersion", "MAX_UPLOAD_BYTES", "catalog", "catalog_in", "current", "discard_draft", "draft", "forms_in_use",
           "known_forms", "parse_upload", "preview_pdf", "preview_png", "publish_draft", "upload",
           "versions", "question_changes"]

#: A definition is a few kilobytes; anything far larger is not one.
MAX_UPLOAD_BYTES = 256 * 1024

#: The sheet code printed on a preview: office PREVIEW, serial 0, no valid signature, so a
#: preview that gets printed and scanned is refused rather than counted.
_PREVIEW_CODE = SheetCode(form="preview", form_version=1, office="PREVIEW", serial=0, mac="PREVIEW")


@dataclass(frozen=True)
class FormVersion:
    form: Form
    definition: dict[str, Any]
    status: str
    uploaded_by: str
    uploaded_at: str
    published_by: str | None
    published_at: str | None

    @property
    def number(self) -> int:
        return self.form.version


def _row(row: tuple) -> FormVersion:
    form_id, version, definition, status, *who = row
    raw = json.loads(definition)
    return FormVersion(parse_form(raw, f"{form_id}@v{version}"), raw, status, *who)


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def parse_upload(data: bytes | str, name: str = "upload") -> dict[str, Any]:
    """The uploaded file as a mapping (YAML, of which JSON is a part), or the reason it is not
    one, with the line and column of a syntax error."""
    if isinstance(data, bytes):
        if len(data) > MAX_UPLOAD_BYTES:
            raise CentralError("forms_upload_too_large", size=len(data) // 1024, max=MAX_UPLOAD_BYTES // 1024)
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CentralError("forms_upload_not_utf8", name=name) from None
    if not data.strip():
        raise CentralError("forms_upload_empty", name=name)
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise yaml_error(name, exc) from None
    if not isinstance(raw, dict):
        raise FormDefinitionError("form_problem_mapping", source=name, where="top level")
    return raw


def _builtin_versions(form_id: str) -> list[int]:
    return builtin_catalog().versions(form_id)


def _check(raw: dict[str, Any], number: int, name: str) -> tuple[dict[str, Any], Form]:
    """``raw`` as version ``number``: parsed as offices parse it and laid out on the sheet."""
    raw = {**raw, "version": number}
    form = parse_form(raw, name)
    build_layout(form)  # too tall for A4: refused here, not at the office's printer
    return raw, form


def upload(store: Database, data: bytes | str, *, actor: str, name: str = "upload") -> FormVersion:
    """Check an uploaded definition and keep it as its form's draft, replacing an earlier draft.
    Its number is the next free one (after the built-in versions and every stored one); the
    file's own ``version`` is replaced by it."""
    raw = parse_upload(data, name)
    form_id = raw.get("id")
    if not isinstance(form_id, str):
        parse_form(raw, name)  # says what is wrong with the id
    now = _now()
    with store.write() as db:
        content.delete_form_draft(db, form_id)
        number = max([content.next_form_number(db, form_id), *(v + 1 for v in _builtin_versions(form_id))])
        raw, form = _check(raw, number, name)
        content.insert_form_draft(db, form.id, number, json.dumps(raw, ensure_ascii=False), actor, now)
        audit.record_in(db, actor, "form_upload", f"form:{form.id}",
                        f"version={number} questions={','.join(q.id for q in form.questions)}", at=now)
    return FormVersion(form, raw, "draft", actor, now, None, None)


def versions(store: Database, form_id: str) -> list[FormVersion]:
    """Every stored version of one form: the draft first, then the newest published first."""
    with store.connect() as db:
        return [_row(r) for r in content.form_rows(db, form_id)]


def draft(store: Database, form_id: str) -> FormVersion | None:
    return next((v for v in versions(store, form_id) if v.status == "draft"), None)


def current(store: Database, form_id: str) -> Form | None:
    """What offices print and show now: the newest published version, else the newest
    built-in one, else None (a form only ever uploaded)."""
    published = next((v for v in versions(store, form_id) if v.status == "published"), None)
    if published is not None:
        return published.form
    known = _builtin_versions(form_id)
    return builtin_catalog().get(form_id, known[-1]) if known else None


def known_forms(store: Database) -> dict[str, list[FormVersion]]:
    """Every form id, built-in or uploaded, with its stored versions (draft first)."""
    with store.connect() as db:
        rows = content.form_rows(db)
    out: dict[str, list[FormVersion]] = {form.id: [] for form in builtin_catalog()}
    for row in rows:
        version = _row(row)
        out.setdefault(version.form.id, []).append(version)
    for found in out.values():
        found.sort(key=lambda v: (v.status != "draft", -v.number))
    return dict(sorted(out.items()))


def forms_in_use(store: Database) -> list[Form]:
    """Every published version (for reading responses given on any of them)."""
    return [v.form for found in known_forms(store).values() for v in found if v.status == "published"]


def catalog_in(db: Connection) -> FormCatalog:
    """Every version a response may name: the built-in ones and every published one (read on
    ``db``, the caller's connection: the roll-ups fold inside their own transaction)."""
    builtin = list(builtin_catalog())
    taken = {(form.id, form.version) for form in builtin}
    published = [_row(row).form for row in content.form_rows(db) if row[3] == "published"]
    return FormCatalog(builtin + [form for form in published if (form.id, form.version) not in taken])


def catalog(store: Database) -> FormCatalog:
    """:func:`catalog_in` on a connection of its own."""
    with store.connect() as db:
        return catalog_in(db)


def discard_draft(store: Database, form_id: str, *, actor: str) -> bool:
    now = _now()
    with store.write() as db:
        gone = content.delete_form_draft(db, form_id)
        if gone:
            audit.record_in(db, actor, "form_discard", f"form:{form_id}", at=now)
    return gone


def publish_draft(store: Database, keys: CentralKeys, form_id: str, *, actor: str) -> FormVersion:
    """Make the draft version N and put it, signed, on the feed, in one transaction."""
    found = draft(store, form_id)
    if found is None:
        raise CentralError("forms_no_draft", form=form_id)
    now = _now()
    with store.write() as db:
        if not content.publish_form_draft(db, form_id, found.number, actor, now):
            raise CentralError("forms_draft_gone", form=form_id)
        publish_content(store, keys, "form_definition", f"{form_id}@v{found.number}",
                        {"definition": found.definition}, db=db)
        audit.record_in(db, actor, "form_publish", f"form:{form_id}", f"version={found.number}", at=now)
    return FormVersion(found.form, found.definition, "published", found.uploaded_by, found.uploaded_at,
                       actor, now)


def preview_pdf(form: Form, out: Path) -> Path:
    """One specimen sheet of ``form`` as offices will print it (a sheet code no office
    accepts, so a printed preview is never counted)."""
    code = SheetCode(form.id, form.version, _PREVIEW_CODE.office, _PREVIEW_CODE.serial, _PREVIEW_CODE.mac)
    render_sheets(form, build_layout(form), [code], out)
    return out


def preview_png(form: Form, width: int = 900) -> bytes:
    """Page 1 of :func:`preview_pdf` as a PNG ``width`` pixels wide, for the draft page."""
    import io

    import pypdfium2

    with tempfile.TemporaryDirectory(prefix="seda-form-preview-") as folder:
        pdf = preview_pdf(form, Path(folder) / "preview.pdf")
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            page = document[0]
            image = page.render(scale=width / page.get_width()).to_pil()
            page.close()
        finally:
            document.close()
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
