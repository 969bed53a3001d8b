"""`seda kiosk ...`: serve the kiosk and manage staff accounts."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from forms import seda_home
from forms.cli import refusal
from forms.office_identity import OfficeIdentityError, require_office

from .accounts import ROLES, AccountError, AccountStore
from .config import ConfigError, KioskConfig
from .i18n import MESSAGES


@click.group("kiosk")
def kiosk_group() -> None:
    """The touch-screen kiosk and the office staff pages."""


def _config(**overrides) -> KioskConfig:
    try:
        return KioskConfig.load(seda_home(), **overrides)
    except ConfigError as exc:
        raise refusal(exc) from None


@kiosk_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep 127.0.0.1 unless staff use another machine.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads; more than 4 only adds contention on a small office PC.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the kiosk with waitress (Ctrl+C stops it)."""
    from .app import create_app
    from .server import bind
    try:  # a kiosk with no office would file citizens' cases under a code nobody syncs
        require_office(seda_home())
    except OfficeIdentityError as exc:
        raise refusal(exc) from None
    config = _config()
    app = create_app(config)
    try:  # listen first: "serving at" is said only once it is true
        server = bind(app, host=host, port=port, threads=threads)
    except OSError as exc:
        raise click.ClickException(MESSAGES.line("cli_port_busy", host=host, port=str(port),
                                                 error=exc.strerror or str(exc))) from None
    click.echo(f"Seda kiosk for office {config.office} ({config.kiosk_id}) at "
               f"http://{host}:{port}/  (staff pages: http://{host}:{port}/staff/)")
    click.echo(f"State: {config.home}")
    server.run()


def _password_options(command):
    """One convention with ``seda central user``: ``--password-file PATH`` (its first line;
    ``-`` reads standard input).  ``--password-stdin`` is kept, hidden, for old scripts."""
    command = click.option("--password-stdin", is_flag=True, hidden=True)(command)
    return click.option("--password-file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
                        help="Read the password from the first line of this file ('-': standard input).")(command)


def _read_password(password_file: Path | None, password_stdin: bool) -> str:
    if password_stdin or str(password_file) == "-":
        return sys.stdin.readline().rstrip("\r\n")
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise click.ClickException(MESSAGES.line("cli_password_file_unreadable", path=str(password_file),
                                                     error=exc.strerror or str(exc))) from None
        return lines[0] if lines else ""
    return click.prompt(MESSAGES.line("cli_password_prompt"), hide_input=True,
                        confirmation_prompt=MESSAGES.line("cli_password_repeat"))


@kiosk_group.group("user")
def user_group() -> None:
    """Staff accounts for the staff pages."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="scanner_operator: review queue and scan upload; office_manager: everything.")
@_password_options
def user_add(name: str, role: str, password_file: Path | None, password_stdin: bool) -> None:
    """Create a staff account NAME; asks for the password twice (or reads --password-file)."""
    config = _config()
    try:
        with AccountStore(config.state_folder / "accounts.sqlite3") as store:
            if store.exists(name):  # before anyone types a password for nothing
                raise AccountError("account_name_taken", name=name)
            store.add(name, role, _read_password(password_file, password_stdin))
    except AccountError as exc:
        raise refusal(exc) from None
    click.echo(f"Created {role} account {name!r}.")


@user_group.command("list")
def user_list() -> None:
    """List staff accounts, their roles, and which are disabled."""
    config = _config()
    with AccountStore(config.state_folder / "accounts.sqlite3") as store:
        for account in store.list(include_disabled=True):
            state = "disabled" if store.is_disabled(account.name) else "active"
            click.echo(f"{account.name:<24} {account.role:<18} {state}")


def _set_disabled(name: str, disabled: bool) -> None:
    config = _config()
    try:
        with AccountStore(config.state_folder / "accounts.sqlite3") as store:
            store.set_disabled(name, disabled)
    except AccountError as exc:
        raise refusal(exc) from None


@user_group.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable NAME: their sessions end at once and they cannot sign in until enabled."""
    _set_disabled(name, True)
    click.echo(f"Account {name!r} disabled; its sessions have ended.")


@user_group.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Let a disabled account NAME sign in again."""
    _set_disabled(name, False)
    click.echo(f"Account {name!r} enabled.")


@user_group.command("password")
@click.argument("name")
@_password_options
def user_password(name: str, password_file: Path | None, password_stdin: bool) -> None:
    """Set a new password for NAME (asked twice, or read from --password-file); every
    session of NAME ends."""
    config = _config()
    try:
        with AccountStore(config.state_folder / "accounts.sqlite3") as store:
            if not store.exists(name):
                raise AccountError("account_no_account", name=name)
            store.set_password(name, _read_password(password_file, password_stdin))
    except AccountError as exc:
        raise refusal(exc) from None
    click.echo(f"Password changed for {name!r}; its sessions have ended.")


@kiosk_group.command("install")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/"),
              show_default=True, help="Write under this folder instead of / (to inspect or package the units).")
@click.option("--user", default=None, help="The account the kiosk, sync and browser run as "
                                           "(default: you); it must own $SEDA_HOME.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--hot-folder", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Also run the scanner's hot folder on this (existing) folder.")
@click.option("--seda", "seda_program", default=None,
              help="The seda program the units run (default: the one running now).")
@click.option("--no-enable", is_flag=True, help="Write the units but do not enable them.")
def install_command(root: Path, user: str | None, port: int, hot_folder: Path | None,
                    seda_program: str | None, no_enable: bool) -> None:
    """Make this Debian PC a kiosk appliance: systemd units for the kiosk server, its watchdog,
    sync every minute, the hot folder, and Chromium in kiosk mode on tty1 (docs/install.md)."""
    import getpass

    from .appliance import Appliance, install

    home = seda_home().resolve()
    try:  # units for an office that is not set up would file cases under no office
        office = require_office(home)
    except OfficeIdentityError as exc:
        raise refusal(exc) from None
    program = seda_program or shutil.which("seda") or str(Path(sys.argv[0]).resolve())
    appliance = Appliance(seda=program, user=user or getpass.getuser(), home=home, port=port,
                          hot_folder=hot_folder.resolve() if hot_folder else None)
    try:
        written = install(appliance, root, enable=not no_enable)
    except OSError as exc:
        raise click.ClickException(MESSAGES.line("cli_units_not_written", root=str(root), error=str(exc))) from None
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Kiosk appliance for office {office}: start page {appliance.start_page}")
    if not no_enable and root == Path("/"):
        click.echo("Enabled; start now with: sudo systemctl daemon-reload && sudo systemctl start "
                   "seda-kiosk.service seda-kiosk-watchdog.timer seda-sync.timer seda-kiosk-browser.service"
                   + (" seda-scan-watch.service" if hot_folder else ""))


@kiosk_group.command("watchdog")
@click.option("--url", default="http://127.0.0.1:8080/healthz", show_default=True)
@click.option("--timeout", default=10.0, show_default=True, type=float, help="Seconds per try.")
@click.option("--tries", default=3, show_default=True, type=int)
@click.option("--restart-command", default="systemctl restart seda-kiosk.service", show_default=True,
              help="Run when the kiosk does not answer.")
def watchdog_command(url: str, timeout: float, tries: int, restart_command: str) -> None:
    """Ask the kiosk's /healthz; after TRIES failures run the restart command (exit 1)."""
    import shlex
    import subprocess
    import time
    import urllib.request

    last_error = ""
    for attempt in range(max(1, tries)):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:
                if answer.status == 200:
                    return
                last_error = f"HTTP {answer.status}"
        except OSError as exc:
            last_error = str(exc)
        if attempt + 1 < tries:
            time.sleep(1)
    click.echo(MESSAGES.line("cli_watchdog_restart", url=url, error=last_error, command=restart_command),
               err=True)
    done = subprocess.run(shlex.split(restart_command), check=False)
    sys.exit(1 if done.returncode == 0 else 2)
