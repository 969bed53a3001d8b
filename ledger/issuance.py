"""Issuing paper sheets: serials from the office ledger, codes signed with the office key.

This joins forms/ (what a sheet looks like) with the ledger (which serials exist), so it lives
here, above both.  Serials are allocated and recorded before the PDF is drawn; if drawing fails
they are burned rather than reused, since a serial that might have reached paper must never be
given to a second sheet.  The `seda forms print` command on top of it is in ledger/cli.py.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import partial
from dataclasses import dataclass
from pathlib import Path

from forms import build_layout, ensure_key, render_sheets, sign
from forms.messages import MessageError, localize_number
from forms.office_identity import check_same_office
from forms.paper import PAPERS

from .ledger import Ledger, default_ledger_path

MAX_SHEETS_PER_RUN = 10_000


class PrintError(MessageError, ValueError):
    """Sheets that cannot be printed as asked (forms/translations ``print_*``)."""


@dataclass(frozen=True)
class PrintRun:
    form: str
    version: int
    office: str
    serials: range
    out: Path
    key_created: bool
    paper: str = "a4"


def print_sheets(home: Path, form, office: str, count: int, out: Path,
                 paper: str = "a4", advance: Callable[[], None] | None = None) -> PrintRun:
    """Allocate `count` serials for `office`, record them, and write the signed sheets to `out`
    on A4 or US Letter paper; ``advance()`` is called as each sheet is drawn (a progress bar)."""
    check_same_office(home, office, "--office")
    if paper not in PAPERS:
        raise PrintError("print_unknown_paper", paper=paper, papers=", ".join(PAPERS))
    if not 1 <= count <= MAX_SHEETS_PER_RUN:
        raise PrintError("print_count_range", most=partial(localize_number, MAX_SHEETS_PER_RUN, grouping=True),
                         count=count)
    layout = build_layout(form)
    out = Path(out)
    if out.is_dir():
        raise PrintError("print_out_is_folder", out=str(out))
    if not out.parent.is_dir():
        raise PrintError("print_no_folder", out=str(out), folder=str(out.parent))
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PrintError("print_not_writable", out=str(out))
    key, created = ensure_key(home, office)
    with Ledger.open(default_ledger_path(home)) as ledger:
        serials = ledger.issue_sheets(office, form.id, form.version, count)
    render_sheets(form, layout, _signed(form, office, serials, key, advance), out, paper)
    return PrintRun(form.id, form.version, office, serials, out, created, paper)


def _signed(form, office: str, serials: range, key, advance: Callable[[], None] | None) -> Iterator[str]:
    """Each sheet's signed code, as the renderer asks for the next page."""
    for serial in serials:
        yield sign(form.id, form.version, office, serial, key)
        if advance is not None:
            advance()
