"""`seda kiosk ...`: serve the kiosk and manage staff accounts."""
from __future__ import annotations

import sys

import click

from forms import seda_home
from forms.office_identity import OfficeIdentityError, require_office

from .accounts import ROLES, AccountError, AccountStore
from .config import ConfigError, KioskConfig


@click.group("kiosk")
def kiosk_group() -> None:
    """The touch-screen kiosk and the office staff pages."""


def _config(**overrides) -> KioskConfig:
    try:
        return KioskConfig.load(seda_home(), **overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@kiosk_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep 127.0.0.1 unless staff use another machine.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int,
              help="Worker threads; more than 4 only adds contention on a small office PC.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the kiosk with waitress (Ctrl+C stops it)."""
    from .app import create_app
    from .server import serve as serve_app
    try:  # a kiosk with no office would file citizens' cases under a code nobody syncs
        require_office(seda_home())
    except OfficeIdentityError as exc:
        raise click.ClickException(str(exc)) from None
    config = _config()
    app = create_app(config)
    click.echo(f"Seda kiosk for office {config.office} ({config.kiosk_id}) at "
               f"http://{host}:{port}/  (staff pages: http://{host}:{port}/staff/)")
    click.echo(f"State: {config.home}")
    serve_app(app, host=host, port=port, threads=threads)


@kiosk_group.group("user")
def user_group() -> None:
    """Staff accounts for the staff pages."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="scanner_operator: review queue and scan upload; office_manager: everything.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def user_add(name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account NAME; asks for the password twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    config = _config()
    try:
        with AccountStore(config.state_folder / "accounts.sqlite3") as store:
            store.add(name, role, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
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
        raise click.ClickException(str(exc)) from None


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
@click.option("--password-stdin", is_flag=True)
def user_password(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; every session of NAME ends."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    config = _config()
    try:
        with AccountStore(config.state_folder / "accounts.sqlite3") as store:
            store.set_password(name, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password changed for {name!r}; its sessions have ended.")
