"""`seda office ...`: set an office up once, and see or settle records that would never be sent.

    seda office setup --office LOR-03 --central https://seda.example.ir
    seda office setup                     # asks for the office code and the central address
    seda office status                    # this office, and records stranded under other codes
    seda office adopt DEMO-01 --by maryam # send what was filed under another code as ours

Setup writes the one place every part reads the office from ($SEDA_HOME/office.toml), binds the
ledger to it (SQLite then refuses records of other codes), writes sync.toml and makes the sync
and sheet-signing keys, and prints the line the central office runs to register the office.
It lives in seda/ because it joins the kiosk, sync and ledger settings, which only the shell
may import together.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from forms.cli import refusal

from forms import ensure_key, seda_home
from forms.office_identity import OfficeIdentityError, identity_path, read_office
from forms.private_files import write_private
from kiosk.config import CONFIG_FILE, ConfigError, KioskConfig
from ledger.ledger import Ledger, LedgerError, default_ledger_path
from ledger.office_binding import adopt_stranded, claim_office, stranded_counts
from ledger.office_settings import settings_in_force
from sync.cli import max_backoff_option, setup_command as sync_setup_command, timeout_option

from .messages import MESSAGES

__all__ = ["office_group"]


@click.group("office")
def office_group() -> None:
    """This installation's office: set it up once, check it, settle stranded records."""


@office_group.command("setup")
@click.option("--office", default=None, help="Office code registered at the central office, e.g. LOR-03 "
                                              "(asked for when omitted).")
@click.option("--central", "central_url", default=None,
              help="Central server address, e.g. https://seda.example.ir (asked for when --office is "
                   "also omitted; empty: this office syncs only by USB stick).")
@click.option("--central-key", default=None, help="The central server's public key (`seda central key`).")
@click.option("--central-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The central office's setup file, for offices that sync by USB stick.")
@click.option("--insecure-http", is_flag=True, help="Allow plain http:// to another machine (not recommended).")
@click.option("--change", is_flag=True,
              help="Move this installation to another office code; records under the old code then "
                   "wait for `seda office adopt`.")
@max_backoff_option
@timeout_option
@click.pass_context
def setup_command(ctx: click.Context, office: str | None, central_url: str | None, central_key: str | None,
                  central_file: Path | None, insecure_http: bool, change: bool,
                  max_backoff: float | None, timeout: float | None) -> None:
    """Set this installation up for one office: kiosk, scanner, printing and sync all use it.

    --max-backoff and --timeout go to sync.toml, where `seda sync` reads them (left out: the
    current value is kept)."""
    home = seda_home()
    if office is None:
        office = click.prompt(MESSAGES.line("office_prompt_code")).strip().upper()
        if central_url is None and central_file is None:
            central_url = click.prompt(MESSAGES.line("office_prompt_central"),
                                       default="", show_default=False).strip() or None
    try:
        claim = claim_office(home, office, change=change)
        _drop_kiosk_office_line(home, office)
        KioskConfig.load(home)
        _, sheet_key_created = ensure_key(home, office)
    except (OfficeIdentityError, ConfigError, LedgerError, ValueError, OSError) as exc:
        raise refusal(exc) from None
    click.echo(f"Office {office}: {identity_path(home)}"
               + (f" (was {claim.previous})" if claim.previous not in (None, office) else ""))
    if sheet_key_created:
        click.echo(f"Created the sheet-signing key for {office} in {home / 'keys'}")
    ctx.invoke(sync_setup_command, office=office, central_url=central_url, batch_records=None,
               interval=None, central_key=central_key, central_file=central_file,
               insecure_http=insecure_http, max_backoff=max_backoff, timeout=timeout)
    _warn_stranded(claim.stranded, office)


def _drop_kiosk_office_line(home: Path, office: str) -> None:
    """kiosk.yaml no longer names the office; an older one that does loses that line (said aloud)."""
    path = home / CONFIG_FILE
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True) if not re.match(r"\s*office\s*:", line)]
    if len(kept) != len(text.splitlines(keepends=True)):
        write_private(path, "".join(kept))
        click.echo(f"Removed the office line from {path}: the kiosk now takes {office} from "
                   f"{identity_path(home).name}.")


def _warn_stranded(stranded: dict[str, int], office: str) -> None:
    for code, count in sorted(stranded.items()):
        click.echo(MESSAGES.line("office_stranded", n=count, code=code, office=office), err=True)


#: Where a setting in force comes from -> its words in the catalogue.
_SETTING_SOURCES = {"centre": "office_setting_from_centre", "local": "office_setting_from_local",
                    "default": "office_setting_from_default"}


@office_group.command("status")
def status_command() -> None:
    """Show this installation's office and any records stranded under other codes (exit 1 if any)."""
    home = seda_home()
    try:
        office = read_office(home)
    except OfficeIdentityError as exc:
        raise refusal(exc) from None
    if office is None:
        raise click.ClickException(MESSAGES.line("office_not_set_up"))
    try:
        local = {"kiosk_idle_seconds": KioskConfig.load(home).idle_seconds}
    except ConfigError:
        local = None
    with Ledger.open(default_ledger_path(home)) as ledger:
        bound = ledger.bound_office
        stranded = stranded_counts(ledger) if bound else {
            code: n for code, n in ledger.office_counts().items() if code != office}
        in_force = settings_in_force(ledger, office, local)
    click.echo(f"Office {office} ({identity_path(home)})")
    click.echo(f"Ledger bound to {bound or 'no office yet'}")
    click.echo(MESSAGES.line("office_central_settings"))
    for setting in in_force.values():
        click.echo(f"  {setting.name} = {setting.value}  ({MESSAGES.line(_SETTING_SOURCES[setting.source])}"
                   + (f", {setting.since}" if setting.since else "") + ")")
    if bound != office:
        raise click.ClickException(f"The ledger is bound to {bound or 'no office'}, not {office}: run "
                                   f"`seda office setup --office {office}`.")
    if stranded:
        _warn_stranded(stranded, office)
        sys.exit(1)
    click.echo("No stranded records.")


@office_group.command("adopt")
@click.argument("old_office")
@click.option("--by", "by", required=True, help="Who decided it (kept in the audit record).")
def adopt_command(old_office: str, by: str) -> None:
    """Write records filed under OLD_OFFICE again under this office, so sync sends them.

    For a kiosk that ran under the wrong code (e.g. DEMO-01) before the office was set up: the
    citizens' tracking codes stay the same.  Paper sheets printed under the old code are not
    adopted (their codes are signed with it)."""
    home = seda_home()
    try:
        with Ledger.open(default_ledger_path(home)) as ledger:
            written = adopt_stranded(ledger, old_office.strip().upper(), by=by)
            own = ledger.bound_office
    except (ValueError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{written} record(s) of {old_office} written again as {own}'s; the next sync sends them.")
