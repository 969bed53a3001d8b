"""Issuing paper sheets: serials from the office ledger, codes signed with the office key.

This joins forms/ (what a sheet looks like) with the ledger (which serials exist), so it lives
here, above both.  Serials are allocated and recorded before the PDF is drawn; if drawing fails
they are burned rather than reused, since a serial that might have reached paper must never be
given to a second sheet.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

from forms import build_layout, ensure_key, render_sheets, seda_home, sign
from forms.paper import PAPERS
from forms.cli import load_form
from forms.office_identity import OfficeIdentityError, check_same_office, require_office

from .ledger import Ledger, LedgerError, default_ledger_path

MAX_SHEETS_PER_RUN = 10_000


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
        serials = ledger.issue_sheets(office, form.id, form.version, count)
    codes = (sign(form.id, form.version, office, serial, key) for serial in serials)
    render_sheets(form, layout, codes, out, paper)
    return PrintRun(form.id, form.version, office, serials, out, created, paper)


@click.command("print")
@click.argument("form_id", metavar="FORM")
@click.option("--office", default=None,
              help="This installation's office code (default: the one `seda office setup` set); "
                   "any other code is refused.")
@click.option("--count", required=True, type=int, help="How many sheets (1-10,000).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="PDF file to write.")
@click.option("--version", type=int, help="Form version (default: the newest).")
@click.option("--paper", type=click.Choice(sorted(PAPERS)), default="a4", show_default=True,
              help="Paper size: letter scales the A4 sheet to US Letter (94%) and centres it.")
def print_command(form_id: str, office: str | None, count: int, out: Path, version: int | None,
                  paper: str) -> None:
    """Print COUNT unique, QR-tagged sheets of FORM for this office into one PDF.

    Only the office this installation is set up for: a sheet under another code would be
    read here but never sent."""
    form = load_form(form_id, version)
    home = seda_home()
    try:
        own = require_office(home)
        office = check_same_office(home, office or own, "--office")
    except (OfficeIdentityError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run = print_sheets(home, form, office, count, out, paper)
    except (ValueError, OSError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from None
    if run.key_created:
        click.echo(f"New office {office}: created its sheet-signing key in {home / 'keys'}", err=True)
    on = " on US Letter" if run.paper == "letter" else ""
    click.echo(f"Wrote {len(run.serials)} sheets of {run.form} v{run.version} for {office} "
               f"(serials {run.serials.start}-{run.serials.stop - 1}){on} to {run.out}")
