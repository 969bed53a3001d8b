"""CSV and XLSX exports of one Jalali month of survey responses or cases.

CSV is UTF-8 with a byte-order mark, so Excel on Windows opens Persian text correctly; XLSX
needs openpyxl.  Both are written to a temporary file next to the target and renamed into place.

Privacy (Article 9 clause 1; issue #6 "People and access"):

- responses: the optional mobile number is never exported;
- cases: no tracking code, ever (it is the citizen's follow-up secret, docs/security.md);
  anonymous cases never carry name, national ID or mobile (also defensively blanked here);
  misconduct reports (type ``misconduct``, route ``oversight``, or moved to oversight) are not
  rows at all, only a count per office (``count`` column, :data:`MISCONDUCT_COUNT` text),
  unless ``include_oversight`` is set, which only the oversight unit (حراست / بازرسی) may use;
  sealed reports stay sealed either way (only the oversight unit's key opens them).
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from forms.persian import format_jalali_datetime

from . import audit
from .analysis import month_bounds
from .db import cases as case_db, records as record_rows
from .errors import CentralError

__all__ = ["IDENTITY_COLUMNS", "analysis_rows", "CASE_COLUMNS", "MISCONDUCT_COUNT", "RESPONSE_COLUMNS", "ExportError", "export",
           "case_rows", "csv_cell", "response_rows", "spreadsheet_text"]

RESPONSE_COLUMNS = ("uuid", "office", "created_at", "jalali", "source", "form", "form_version",
                    "status", "service", "workflow", "matched_announcement", "staff_behaviour",
                    "waiting_time", "overall", "desk", "follow_up_consent", "comment")
CASE_COLUMNS = ("uuid", "office", "created_at", "jalali", "type", "service", "route", "channel",
                "anonymous", "sealed", "name", "national_id", "mobile", "text", "attachments",
                "count")
_PERSONAL = ("name", "national_id", "mobile")
SEALED = "[sealed]"
#: The text of an office's one misconduct row: how many, nothing else.
MISCONDUCT_COUNT = "[misconduct reports: count only]"


class ExportError(CentralError):
    """A bad format or path (central/translations ``export_*``)."""


def _records(store, kind: str, month: str, office: str | None) -> Iterator[tuple]:
    start, end = month_bounds(month)
    with store.connect() as db:
        yield from record_rows.created_between(db, kind, start, end, office)


def _jalali(created_at: str) -> str:
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return format_jalali_datetime(moment, persian_digits=False)


def response_rows(store, month: str, office: str | None = None) -> Iterator[list[Any]]:
    """One row per response: the answers people settled in review filled in, those still
    waiting for review blank, a response a rescan replaced left out."""
    from forms.responses import effective_answers

    from .analysis import refreshed
    from .rollups import settled_in

    refreshed(store)
    decisions, replaced = settled_in(store, *month_bounds(month), office)
    for uuid, office_code, created_at, body_text in _records(store, "survey_response", month, office):
        if uuid in replaced:
            continue
        body = json.loads(body_text)
        answers = effective_answers(body, decisions.get(uuid, ()))
        yield [uuid, office_code, created_at, _jalali(created_at), body.get("source"), body.get("form"),
               body.get("form_version"), body.get("status"),
               *(answers.get(q) for q in RESPONSE_COLUMNS[8:])]


def case_rows(store, month: str, office: str | None = None, *,
              include_oversight: bool = False) -> Iterator[list[Any]]:
    """One row per case of ``month`` (``count`` 1), then, unless ``include_oversight``, one
    row per office with its number of misconduct reports in ``count`` and nothing else."""
    with store.connect() as db:  # cases the central office moved to oversight are as private
        moved = case_db.uuids_in_unit(db, "oversight")
    withheld: dict[str, int] = {}
    for uuid, office_code, created_at, body_text in _records(store, "case", month, office):
        body = json.loads(body_text)
        oversight = (body.get("type") == "misconduct" or body.get("route") == "oversight"
                     or uuid in moved)
        if oversight and not include_oversight:
            withheld[office_code] = withheld.get(office_code, 0) + 1
            continue
        sealed = "sealed" in body
        row = {key: body.get(key) for key in CASE_COLUMNS[4:]}
        row["sealed"] = sealed
        row["attachments"] = len(body.get("attachments") or [])
        row["count"] = 1
        if body.get("anonymous"):
            for key in _PERSONAL:
                row[key] = None
        if sealed:
            row["text"] = SEALED
        yield [uuid, office_code, created_at, _jalali(created_at), *(row[k] for k in CASE_COLUMNS[4:])]
    for office_code in sorted(withheld):
        row = dict.fromkeys(CASE_COLUMNS)
        row.update(office=office_code, jalali=month, type="misconduct", route="oversight",
                   text=MISCONDUCT_COUNT, count=withheld[office_code])
        yield [row[k] for k in CASE_COLUMNS]


#: A text cell starting with one of these is a formula to Excel and LibreOffice (CSV injection:
#: a citizen's "=HYPERLINK(...)" would run on the analyst's computer).  Full-width forms too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_text(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: text that would start a formula gets a
    leading ``'`` (numbers, None and other text are left alone)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def csv_cell(value: Any) -> Any:
    """One CSV cell: empty for None, JSON for lists and dicts, formula-looking text quoted."""
    return "" if value is None else spreadsheet_text(_cell(value))


def _write_csv(path: Path, columns: Sequence[str], rows) -> int:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
            count += 1
    return count


def _write_xlsx(path: Path, columns: Sequence[str], rows, title: str) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.sheet_view.rightToLeft = True
    sheet.append(list(columns))
    count = 0
    def cell(value: Any) -> Any:
        value = _cell(value)
        if not isinstance(value, str):
            return value
        text = WriteOnlyCell(sheet, value)
        text.data_type = "s"  # always text: openpyxl would store "=..." as a formula
        return text

    for row in rows:
        sheet.append([cell(v) for v in row])
        count += 1
    book.save(path)
    return count


def export(store, what: str, month: str, out: Path, *, fmt: str = "csv", office: str | None = None,
           include_oversight: bool = False,
           track: Callable[[Sequence[Any]], Iterable[Any]] | None = None) -> int:
    """Write responses or cases of ``month`` to ``out``; returns the number of rows.
    ``track`` sees the rows on their way to the file (the command's progress bar)."""
    if what not in ("responses", "cases"):
        raise ExportError("export_unknown_kind", what=str(what))
    if fmt not in ("csv", "xlsx"):
        raise ExportError("export_unknown_format", format=str(fmt))
    month_bounds(month)  # a bad month fails before any file is touched
    if what == "responses":
        columns, rows = RESPONSE_COLUMNS, response_rows(store, month, office)
    else:
        columns, rows = CASE_COLUMNS, case_rows(store, month, office, include_oversight=include_oversight)
    if track is not None:
        rows = track(list(rows))
    return atomic_write(out, lambda tmp: (_write_csv(tmp, columns, rows) if fmt == "csv"
                                          else _write_xlsx(tmp, columns, rows, what)))


def atomic_write(out: Path, write) -> Any:
    """Call ``write(temp_path)`` for a temporary file beside ``out``, then rename it over ``out``."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError("export_no_folder", path=str(out), folder=str(folder))
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ExportError("export_not_written", path=str(out), error=str(exc.strerror or exc)) from None
    os.close(handle)
    tmp = Path(name)
    try:
        result = write(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise ExportError("export_not_written", path=str(out), error=str(exc.strerror or exc)) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return result


#: What an analyst's export of cases never carries: the person behind a case.
IDENTITY_COLUMNS = ("name", "national_id", "mobile")


def analysis_rows(store, what: str, month: str, office: str | None = None, *, viewer: str,
                  now: datetime | None = None) -> tuple[Sequence[str], Iterator[list[Any]]]:
    """The analysis pages' export: responses, or cases without who wrote them and without
    misconduct reports; each export is an audit entry of ``viewer`` (``export_<what>``)."""
    if what == "responses":
        columns, rows = RESPONSE_COLUMNS, response_rows(store, month, office)
    elif what == "cases":
        hidden = [CASE_COLUMNS.index(c) for c in IDENTITY_COLUMNS]

        def no_identity(source: Iterable[list[Any]]) -> Iterator[list[Any]]:
            for row in source:
                for i in hidden:
                    row[i] = None
                yield row

        columns, rows = CASE_COLUMNS, no_identity(case_rows(store, month, office, include_oversight=False))
    else:
        raise ExportError("export_unknown_kind", what=str(what))
    audit.record(store, viewer, f"export_{what}", f"analysis:{month}", f"office={office}" if office else "", now=now)
    return columns, rows
