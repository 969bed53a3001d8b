"""Issuing paper sheets: serials from the office ledger, codes signed with the office key.

This joins forms/ (what a sheet looks like) with the ledger (which serials exist), so it lives
here, above both.  Serials are allocated and recorded before the PDF is drawn; if drawing fails
they are burned rather than reused, since a serial that might have reached paper must never be
given to a second sheet.  The `seda forms print` command on top of it is in ledger/cli.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from forms import build_layout, ensure_key, render_sheets, sign
from forms.office_identity import check_same_office
from forms.paper import PAPERS

from .ledger import Ledger, default_ledger_path
from .office_settings import DEFAULTS, settings_in_force
from .published_content import published_office_profile

MAX_SHEETS_PER_RUN = DEFAULTS["sheets_per_print"]


@dataclass(frozen=True)
class PrintRun:
    form: str
    version: int
    office: str
    serials: range
    out: Path
    key_created: bool
    paper: str = "a4"
    office_name: str = ""


def print_sheets(home: Path, form, office: str, count: int, out: Path,
                 paper: str = "a4") -> PrintRun:
    """Allocate `count` serials for `office`, record them, and write the signed sheets to `out`
    on A4 or US Letter paper."""
    check_same_office(home, office, "--office")
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; choose from {', '.join(PAPERS)}")
    if not 1 <= count <= MAX_SHEETS_PER_RUN:
        raise ValueError(f"count must be from 1 to {MAX_SHEETS_PER_RUN:,}, got {count}")
    layout = build_layout(form)
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"{out} is a folder; give a file name such as sheets.pdf")
    if not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ValueError(f"cannot write {out}: permission denied")
    key, created = ensure_key(home, office)
    with Ledger.open(default_ledger_path(home)) as ledger:
        limit = settings_in_force(ledger, office)["sheets_per_print"]
        if limit.source == "centre" and count > limit.value:
            raise ValueError(f"این اداره در هر نوبت حداکثر {limit.value} برگه چاپ می‌کند (تنظیم ادارهٔ مرکزی) / "
                             f"at most {limit.value} sheets per print run at this office "
                             f"(set by the central office's register); got {count}")
        name = office_display_name(ledger, office)
        serials = ledger.issue_sheets(office, form.id, form.version, count)
    codes = (sign(form.id, form.version, office, serial, key) for serial in serials)
    render_sheets(form, layout, codes, out, paper, office_name=name)
    return PrintRun(form.id, form.version, office, serials, out, created, paper, name)


def office_display_name(ledger: Ledger, office: str) -> str:
    """The office's Persian name as the centre's register published it; its code until then."""
    profile = published_office_profile(ledger, office)
    return profile.name.fa if profile is not None and profile.name.fa else office
