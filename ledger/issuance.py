"""Issuing paper sheets: serials from the office ledger, codes signed with the office key.

This joins forms/ (what a sheet looks like) with the ledger (which serials exist), so it lives
here, above both.  Serials are allocated and recorded before the PDF is drawn; if drawing fails
they are burned rather than reused, since a serial that might have reached paper must never be
given to a second sheet.  The `seda forms print` command on top of it is in ledger/cli.py.

With a portal address every sheet also carries its one-time survey link (a second QR code):
the portal's ``/s/<token>`` with a token naming the sheet, signed with the office's sync key
(forms/survey_tokens.py), so an answer given online and the sheet itself count once together.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from forms import build_layout, ensure_key, render_sheets, sign
from forms.identity_keys import load_office_key
from forms.office_identity import check_same_office
from forms.paper import PAPERS
from forms.portal_address import check_portal_url
from forms.sheet_code import SheetCode
from forms.survey_tokens import make_sheet_survey_token, survey_link

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
    #: The portal the sheets' survey links open ("" : printed without them).
    portal_url: str = ""
    #: The office's name printed on the sheets (its code until the centre's register names it).
    office_name: str = ""


def print_sheets(home: Path, form, office: str, count: int, out: Path,
                 paper: str = "a4", portal_url: str = "") -> PrintRun:
    """Allocate `count` serials for `office`, record them, and write the signed sheets to `out`
    on A4 or US Letter paper; with `portal_url`, each with its one-time survey link."""
    check_same_office(home, office, "--office")
    portal_url = check_portal_url(portal_url)
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
    links = _survey_links(home, office, portal_url, layout) if portal_url else None
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
    render_sheets(form, layout, codes, out, paper, survey_link=links, office_name=name)
    return PrintRun(form.id, form.version, office, serials, out, created, paper, portal_url, name)


def office_display_name(ledger: Ledger, office: str) -> str:
    """The office's Persian name as the centre's register published it; its code until then."""
    profile = published_office_profile(ledger, office)
    return profile.name.fa if profile is not None and profile.name.fa else office


def survey_link_obstacle(home: Path, form) -> str | None:
    """Why sheets of ``form`` cannot carry survey links here (None: they can)."""
    if build_layout(form).survey_link is None:
        return f"form {form.id} v{form.version} leaves no room for a survey link's QR code"
    if load_office_key(home) is None:
        return ("survey links are signed with the office's sync key, which this installation"
                " does not have yet: run `seda sync setup` first")
    return None


def sheet_portal_url(home: Path, form, portal_url: str) -> str:
    """``portal_url`` when sheets of ``form`` can carry survey links here, else "" (printing
    by default: links when they can be made)."""
    return portal_url if portal_url and survey_link_obstacle(home, form) is None else ""


def _survey_links(home: Path, office: str, portal_url: str, layout) -> Callable[[SheetCode], str]:
    """Sheet code -> its survey link; checked before any serial is spent."""
    if layout.survey_link is None:
        raise ValueError(f"form {layout.form} v{layout.version} leaves no room for a survey link's"
                         " QR code; print it without --survey-link")
    key = load_office_key(home)
    if key is None:
        raise ValueError("survey links are signed with the office's sync key, which this"
                         " installation does not have yet: run `seda sync setup` first")
    today = datetime.now(timezone.utc).date()

    def link(code: SheetCode) -> str:
        token = make_sheet_survey_token(office, key, form=code.form, form_version=code.form_version,
                                        serial=code.serial, today=today)
        return survey_link(portal_url, token)
    return link
