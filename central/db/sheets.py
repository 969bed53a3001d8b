"""A paper sheet's responses: scanned at its office, or given on the portal from the sheet's
survey link (forms/survey_tokens.py).  One sheet is at most one response in the figures, so
the portal and the roll-ups find a sheet's responses by (office, sheet) through the partial
indexes of schema step 10; the queries spell those indexes' conditions exactly.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .connection import Connection, chunks

__all__ = ["SheetResponse", "holds_paper", "linked_sheets", "sheet_responses"]

SHEET_SOURCES = ("paper", "sheet_link")


@dataclass(frozen=True)
class SheetResponse:
    """One response of a sheet, with what decides which of a sheet's responses counts."""

    uuid: str
    office: str
    sheet: str
    source: str
    created_at: str
    received_at: str
    body: str


def _of(conn: Connection, source: str) -> str:
    return (f"kind = 'survey_response' AND {conn.json_text('body', 'source')} = '{source}'")


def holds_paper(conn: Connection, office: str, sheet: str) -> bool:
    """Whether the centre holds a scanned response of ``sheet`` (``office/form/serial``)."""
    return conn.one(f"SELECT 1 FROM records WHERE {_of(conn, 'paper')} AND office = ?"
                    f" AND {conn.json_text('body', 'sheet')} = ? LIMIT 1", (office, sheet)) is not None


def _by_office(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for office, sheet in sorted(set(keys)):
        grouped.setdefault(office, []).append(sheet)
    return grouped


def linked_sheets(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (office, sheet) among ``keys`` answered from their survey link at least once."""
    found: set[tuple[str, str]] = set()
    sheet = conn.json_text("body", "sheet")
    for office, sheets in _by_office(keys).items():
        for chunk in chunks(sheets):
            marks = ",".join("?" * len(chunk))
            found.update((office, row[0]) for row in conn.all(
                f"SELECT {sheet} FROM records WHERE {_of(conn, 'sheet_link')} AND office = ?"
                f" AND {sheet} IN ({marks})", (office, *chunk)))
    return found


def sheet_responses(conn: Connection, keys: Iterable[tuple[str, str]]) -> list[SheetResponse]:
    """Every scanned and sheet-link response of the sheets ``keys`` (office, sheet)."""
    out: list[SheetResponse] = []
    sheet = conn.json_text("body", "sheet")
    for office, sheets in _by_office(keys).items():
        for chunk in chunks(sheets):
            marks = ",".join("?" * len(chunk))
            for source in SHEET_SOURCES:
                rows: list[Any] = conn.all(
                    f"SELECT uuid, office, {sheet}, created_at, received_at, body FROM records"
                    f" WHERE {_of(conn, source)} AND office = ? AND {sheet} IN ({marks})", (office, *chunk))
                out += [SheetResponse(uuid, code, name, source, created_at, received_at, body)
                        for uuid, code, name, created_at, received_at, body in rows]
    return out
