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
from collections.abc import Callable, Iterator
from functools import partial
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from forms import build_layout, ensure_key, render_sheets, sign
from forms.identity_keys import load_office_key
from forms.messages import MessageError, localize_number
from forms.office_identity import check_same_office
from forms.paper import PAPERS
from forms.portal_address import check_portal_url
from forms.sheet_code import SheetCode
from forms.survey_tokens import make_sheet_survey_token, survey_link

from .ledger import Ledger, default_ledger_path
from .office_settings import DEFAULTS, settings_in_force
from .published_content import published_office_profile

MAX_SHEETS_PER_RUN = DEFAULTS["sheets_per_print"]


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
    #: The portal the sheets' survey links open ("" : printed without them).
    portal_url: str = ""
    #: The office's name printed on the sheets (its code until the centre's register names it).
    office_name: str = ""


def print_sheets(home: Path, form, office: str, count: int, out: Path,
                 paper: str = "a4", portal_url: str = "",
                 advance: Callable[[], None] | None = None) -> PrintRun:
    """Allocate `count` serials for `office`, record them, and write the signed sheets to `out`
    on A4 or US Letter paper; with `portal_url`, each with its one-time survey link;
    ``advance()`` is called as each sheet is drawn (a progress bar)."""
    check_same_office(home, office, "--office")
    portal_url = check_portal_url(portal_url)
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
    links = _survey_links(home, office, portal_url, layout) if portal_url else None
    key, created = ensure_key(home, office)
    with Ledger.open(default_ledger_path(home)) as ledger:
        limit = settings_in_force(ledger, office)["sheets_per_print"]
        if limit.source == "centre" and count > limit.value:
            raise PrintError("print_over_central_limit", limit=limit.value, count=count)
        name = office_display_name(ledger, office)
        serials = ledger.issue_sheets(office, form.id, form.version, count)
    render_sheets(form, layout, _signed(form, office, serials, key, advance), out, paper, survey_link=links,
                  office_name=name)
    return PrintRun(form.id, form.version, office, serials, out, created, paper, portal_url, name)


def office_display_name(ledger: Ledger, office: str) -> str:
    """The office's Persian name as the centre's register published it; its code until then."""
    profile = published_office_profile(ledger, office)
    return profile.name.fa if profile is not None and profile.name.fa else office


def _signed(form, office: str, serials: range, key, advance: Callable[[], None] | None) -> Iterator[str]:
    """Each sheet's signed code, as the renderer asks for the next page."""
    for serial in serials:
        yield sign(form.id, form.version, office, serial, key)
        if advance is not None:
            advance()


def survey_link_obstacle(home: Path, form) -> PrintError | None:
    """Why sheets of ``form`` cannot carry survey links here (None: they can)."""
    if build_layout(form).survey_link is None:
        return PrintError("print_link_no_room", form=form.id, version=form.version)
    if load_office_key(home) is None:
        return PrintError("print_link_no_key")
    return None


def sheet_portal_url(home: Path, form, portal_url: str) -> str:
    """``portal_url`` when sheets of ``form`` can carry survey links here, else "" (printing
    by default: links when they can be made)."""
    return portal_url if portal_url and survey_link_obstacle(home, form) is None else ""


def _survey_links(home: Path, office: str, portal_url: str, layout) -> Callable[[SheetCode], str]:
    """Sheet code -> its survey link; checked before any serial is spent."""
    if layout.survey_link is None:
        raise PrintError("print_link_no_room", form=layout.form, version=layout.version)
    key = load_office_key(home)
    if key is None:
        raise PrintError("print_link_no_key")
    today = datetime.now(timezone.utc).date()

    def link(code: SheetCode) -> str:
        token = make_sheet_survey_token(office, key, form=code.form, form_version=code.form_version,
                                        serial=code.serial, today=today)
        return survey_link(portal_url, token)
    return link
