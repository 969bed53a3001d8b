"""`seda forms print`: the ledger's command (plugged under `seda forms` by the `forms.print`
entry point in pyproject.toml, since printing needs the ledger's serials and forms/ imports
nothing above it)."""
from __future__ import annotations

from pathlib import Path

import click

from forms import seda_home
from forms.cli import MESSAGES, refusal
from forms.definition import Form, UnknownForm, builtin_catalog
from forms.office_identity import OfficeIdentityError, check_same_office, require_office
from forms.paper import PAPERS
from forms.portal_address import PortalAddressError, configured_portal_url
from forms.progress import progress

from .issuance import print_sheets, survey_link_obstacle
from .ledger import Ledger, LedgerError, default_ledger_path
from .published_content import office_forms


@click.command("print")
@click.argument("form_id", metavar="FORM")
@click.option("--office", default=None,
              help="This installation's office code (default: the one `seda office setup` set); "
                   "any other code is refused.")
@click.option("--count", required=True, type=int, help="How many sheets (1-10,000).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="PDF file to write.")
@click.option("--version", type=int,
              help="Form version (default: the newest, the centre's once a sync brought one).")
@click.option("--paper", type=click.Choice(sorted(PAPERS)), default="a4", show_default=True,
              help="Paper size: letter scales the A4 sheet to US Letter (94%) and centres it.")
@click.option("--survey-link/--no-survey-link", default=None,
              help="Add a second QR code: the portal's one-time survey link for that sheet "
                   "(default: on when portal_url is set in kiosk.yaml and the office has its sync key).")
def print_command(form_id: str, office: str | None, count: int, out: Path, version: int | None,
                  paper: str, survey_link: bool | None) -> None:
    """Print COUNT unique, QR-tagged sheets of FORM for this office into one PDF.

    Only the office this installation is set up for: a sheet under another code would be
    read here but never sent."""
    home = seda_home()
    try:
        own = require_office(home)
        office = check_same_office(home, office or own, "--office")
        portal_url = configured_portal_url(home) if survey_link is not False else ""
    except (OfficeIdentityError, PortalAddressError, ValueError) as exc:
        raise refusal(exc) from None
    form = _office_form(home, form_id, version)
    if survey_link and not portal_url:
        raise click.ClickException(MESSAGES.line("print_survey_link_needs_portal", config=str(home / "kiosk.yaml")))
    obstacle = survey_link_obstacle(home, form) if survey_link is None and portal_url else None
    if obstacle:  # on by default only where it can be: said, never silently dropped
        click.echo(MESSAGES.line("print_without_links", reason=obstacle.text), err=True)
        portal_url = ""
    try:
        with progress(count, MESSAGES.line("print_progress")) as advance:
            run = print_sheets(home, form, office, count, out, paper, portal_url, advance=advance)
    except (ValueError, OSError, LedgerError) as exc:
        raise refusal(exc) from None
    if run.key_created:
        click.echo(MESSAGES.line("print_key_created", office=office, path=str(home / "keys")), err=True)
    click.echo(MESSAGES.line("print_done_letter" if run.paper == "letter" else "print_done",
                             n=len(run.serials), form=run.form, version=run.version, office=office,
                             first=run.serials.start, last=run.serials.stop - 1, out=str(run.out)))
    if run.office_name != office:
        click.echo(MESSAGES.line("print_done_named", name=run.office_name))
    if run.portal_url:
        click.echo(MESSAGES.line("print_done_links", url=run.portal_url))


def _office_form(home: Path, form_id: str, version: int | None) -> Form:
    """The form as this office prints it: the newest version the centre published (stored
    by the last sync), else the built-in one; or the one asked for, if known here.  A ledger
    not made yet holds nothing from the centre, and an unknown form must not make one."""
    path = default_ledger_path(home)
    try:
        if not path.exists():
            return builtin_catalog().get(form_id, version)
        with Ledger.open(path) as ledger:
            return office_forms(ledger).get(form_id, version)
    except (UnknownForm, LedgerError) as exc:
        raise refusal(exc) from None
