"""`seda central ...`: run and administer the central server.

    seda central serve --store postgresql://seda@db/seda --port 8750
    seda central office add THR-012 --public-key 3b6a...  (or --public-key thr012.pub)
    seda central office revoke THR-012
    seda central office name THR-012 --fa "ثبت احوال منطقه ۱۲ تهران"
    seda central import E:/seda-THR-012.batches --ack-out E:/seda-THR-012.ack.json
    seda central refusals          # the central log of refused batches and requests
    seda central conflicts         # records kept for an operator (exit 1 while any is open)
    seda central conflicts accept 3
    seda central case-update 1234-5678-9 --status answered --answer "..." [--office THR-012]
    seda central publish catalogue passport-renewal --json entry.json
    seda central api-key add city-app --office THR-012   # Open311 key, printed once
    seda central figures --month 1405-09 --office THR-012 --json
    seda central report --month 1405-09 --out azar.pdf

The store is ``--store``, else ``$SEDA_CENTRAL_STORE``, else ``$SEDA_HOME/central.sqlite3``.
"""
from __future__ import annotations

import getpass
from functools import partial
import json
import logging
import os
import re
from pathlib import Path

import sys

import click

from forms import seda_home, validate_office_code
from forms.cli import refusal
from forms.messages import MessageError
from forms.progress import progress, tracked
from forms.private_files import write_private

from forms.signatures import IdentityError, public_key_hex
from forms.identity_keys import ensure_central_key
from forms.cases import CASE_STATUSES
from sync.refusals import Refusal
from .importer import import_export
from .keys import CentralKeys
from sync.content import CONTENT_FEEDS, check_content_item
from .content_publisher import publish_content
from .messages import MESSAGES
from .store import FEEDS, Store, StoreError, open_store
from .store_location import (StoreLocationError, create_postgres_database, existing_store, init_store,
                             store_kind)

DEFAULT_PORT = 8750

store_option = click.option(
    "--store", "store_url", default=None,
    help="SQLite file or postgresql:// URL (default: $SEDA_CENTRAL_STORE or $SEDA_HOME/central.sqlite3).")


def resolve_store_url(store_url: str | None) -> str:
    return store_url or os.environ.get("SEDA_CENTRAL_STORE") or str(seda_home() / "central.sqlite3")


def _open(store_url: str | None) -> Store:
    """The existing central store; a missing or mistyped one is refused (`seda central init` makes it)."""
    try:
        return existing_store(resolve_store_url(store_url))
    except StoreLocationError as exc:
        raise refusal(exc) from None
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one readable line
        raise click.ClickException(MESSAGES.line("cli_store_unopenable", error=" ".join(str(exc).split()))) from None


@click.command("init")
@store_option
@click.option("--create-database", "superuser_url", default=None, metavar="SUPERUSER_URL",
              help="First make the PostgreSQL role and database named in --store, connecting with this "
                   "superuser URL (e.g. postgresql:///postgres as the postgres system user).")
def init_command(store_url: str | None, superuser_url: str | None) -> None:
    """Create the central store (the only command that does): a SQLite file or a PostgreSQL schema.

    A SQLite store in $SEDA_HOME (the default) creates a missing SEDA_HOME, private (0700);
    any other missing folder is refused."""
    url = resolve_store_url(store_url)
    try:
        if superuser_url is not None:
            if store_kind(url) != "postgresql":
                raise click.ClickException(MESSAGES.line("cli_create_database_postgres"))
            role_made, database_made = create_postgres_database(url, superuser_url)
            click.echo(("Created" if role_made else "Kept") + " the role; "
                       + ("created" if database_made else "kept") + " the database.")
        existed = store_kind(url) == "sqlite" and Path(url.removeprefix("sqlite:///")).is_file()
        store = init_store(url, home=seda_home())
    except StoreLocationError as exc:
        raise refusal(exc) from None
    click.echo(("Brought up to date" if existed else "Ready") + f": central store ({store.dialect}).")




@click.group("central")
def central_group() -> None:
    """The central server: receives office batches, sends answers back."""


central_group.add_command(init_command)


@central_group.command("serve")
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Worker threads.")
@click.option("--public-url", default=None, envvar="SEDA_CENTRAL_PUBLIC_URL",
              help="The address clients use, e.g. https://seda.example.ir (Open311 discovery "
                   "names it; default: $SEDA_CENTRAL_PUBLIC_URL, else relative paths).")
@click.option("--trusted-proxy", default=None, metavar="ADDRESS",
              help="The TLS proxy in front (e.g. 127.0.0.1): its X-Forwarded-For and "
                   "X-Forwarded-Proto are believed, so sign-in throttling sees each client's "
                   "own address and cookies are marked Secure.")
@click.option("--metrics-token-file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file holding the bearer token that opens /metrics (Prometheus text); "
                   "default: $SEDA_CENTRAL_METRICS_TOKEN; with neither, /metrics is off.")
@click.option("--sms-config", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="The SMS settings file whose [http] delivery_secret opens /v1/sms/delivery to the "
                   "panel's delivery reports (default: $SEDA_HOME/sms.toml, as `notify run`).")
def serve_command(store_url: str | None, host: str, port: int, threads: int,
                  public_url: str | None, trusted_proxy: str | None,
                  metrics_token_file: Path | None, sms_config: Path | None) -> None:
    """Serve the sync API, the central office web app and Open311 with waitress; overdue
    cases are escalated every 5 minutes (put TLS in front: see docs/sync-protocol.md)."""
    import waitress

    from .app import create_app
    from .server import EscalationTimer, waitress_options

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = _open(store_url)
    try:
        token = (metrics_token_file.read_text(encoding="utf-8").strip()
                 if metrics_token_file else None)
        app = create_app(store, public_url=public_url, metrics_token=token, sms_settings=sms_config)
    except (ValueError, OSError) as exc:
        raise refusal(exc) from None
    try:  # listen first: "server on" is said only once it is true
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="seda-central",
                                        **waitress_options(app, trusted_proxy=trusted_proxy))
    except OSError as exc:
        raise click.ClickException(MESSAGES.line("cli_port_busy", host=host, port=str(port),
                                                 error=exc.strerror or str(exc))) from None
    escalation = EscalationTimer(store)  # overdue cases to their unit heads, every 5 minutes
    click.echo(f"Seda central server on http://{host}:{port}/ (store: {store.dialect})")
    try:
        server.run()
    finally:
        escalation.stop()


@central_group.group("office")
def office_group() -> None:
    """Register and revoke offices (public keys only)."""


@office_group.command("add")
@click.argument("code")
@click.option("--public-key", "public_key", required=True,
              help="The office's public key: 64 hex digits, or a file holding them (from `seda sync key`).")
@store_option
def office_add(code: str, public_key: str, store_url: str | None) -> None:
    """Register office CODE with its public key (again: replace the key, re-activate)."""
    try:
        validate_office_code(code)
    except ValueError as exc:
        raise refusal(exc) from None
    text = _public_key_text(public_key)
    store = _open(store_url)
    try:
        office = store.add_office(code, text)
    except IdentityError as exc:
        raise refusal(exc) from None
    click.echo(f"Office {office.code} registered (key {office.public_key[:16]}...).")


def _public_key_text(value: str) -> str:
    """64 hex digits given directly, or read from the file named; a missing file says how to make it."""
    if re.fullmatch(r"\s*[0-9a-fA-F]{64}\s*", value):
        return value
    candidate = Path(value)
    if candidate.is_file():
        try:
            return candidate.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(MESSAGES.line("cli_key_file_unreadable", path=str(candidate),
                                                     error=str(exc))) from None
    raise click.ClickException(MESSAGES.line("cli_public_key_invalid", value=value))


@office_group.command("revoke")
@click.argument("code")
@store_option
def office_revoke(code: str, store_url: str | None) -> None:
    """Refuse everything signed by office CODE from now on; every office is told."""
    try:
        office = _open(store_url).revoke_office(code)
    except StoreError as exc:
        raise refusal(exc) from None
    click.echo(f"Office {office.code} revoked at {office.revoked_at}.")


@office_group.command("list")
@store_option
def office_list(store_url: str | None) -> None:
    """List registered offices (with their names, where given)."""
    from .figures import office_names

    store = _open(store_url)
    names = office_names(store)
    for office in store.offices():
        name = names.get(office.code, {}).get("fa", "")
        click.echo(f"{office.code:<16} {office.status:<8} {office.public_key}  {name}".rstrip())


@office_group.command("name")
@click.argument("code")
@click.option("--fa", "name_fa", required=True, help="The office's name in Persian, as reports show it.")
@click.option("--en", "name_en", default=None, help="The English name (default: the Persian one).")
@store_option
def office_name(code: str, name_fa: str, name_en: str | None, store_url: str | None) -> None:
    """Name office CODE for the dashboard and the monthly report (else they show its code)."""
    from .figures import set_office_name

    try:
        validate_office_code(code)
        set_office_name(_open(store_url), code, name_fa, name_en)
    except ValueError as exc:
        raise refusal(exc) from None
    click.echo(f"Office {code} is named {name_fa}.")


@central_group.group("api-key")
def api_key_group() -> None:
    """Open311 API keys (docs/open311.md): only their SHA-256 is stored."""


@api_key_group.command("add")
@click.argument("name")
@click.option("--office", default=None,
              help="File this client's cases under this office code (default: OPEN311); "
                   "it then lists only that office's cases.")
@store_option
def api_key_add(name: str, office: str | None, store_url: str | None) -> None:
    """Make an API key called NAME and print it (once: it cannot be shown again)."""
    try:
        store = _open(store_url)
        if office is not None:
            validate_office_code(office)
            if store.office(office) is None:
                raise click.ClickException(MESSAGES.line("cli_office_not_registered", office=office))
        key, _ = store.add_api_key(name, office=office)
    except (ValueError, StoreError) as exc:
        raise refusal(exc) from None
    click.echo(key)
    click.echo(f"API key {name} added (office {office or 'OPEN311'}); keep it now, it is not "
               "stored and cannot be shown again.", err=True)


@api_key_group.command("list")
@store_option
def api_key_list(store_url: str | None) -> None:
    """List API keys (names, offices, status; never the keys)."""
    for key in _open(store_url).api_keys():
        click.echo(f"{key.name:<24} {key.office or '-':<16} {key.status:<8} added {key.added_at}"
                   + (f" revoked {key.revoked_at}" if key.revoked_at else ""))


@api_key_group.command("revoke")
@click.argument("name")
@store_option
def api_key_revoke(name: str, store_url: str | None) -> None:
    """Refuse the API key called NAME from now on."""
    try:
        key = _open(store_url).revoke_api_key(name)
    except StoreError as exc:
        raise refusal(exc) from None
    click.echo(f"API key {key.name} revoked at {key.revoked_at}.")


@central_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ack-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an acknowledgement file to take back to the office.")
@store_option
def import_command(path: Path, ack_out: Path | None, store_url: str | None) -> None:
    """Apply an office's USB export with the same checks as the network."""
    store = _open(store_url)
    result = import_export(store, path)
    for ack in result.acks:
        click.echo(f"batch {ack['office']}/{ack['seq']}: {ack['status']}, {ack['new']} new, "
                   f"{ack['duplicate']} duplicate, {ack['conflict']} conflict")
    for refusal in result.refusals:
        click.echo(f"REFUSED batch {refusal.get('office')}/{refusal.get('seq')}: "
                   f"[{refusal['code']}] {refusal['detail']}", err=True)
    if ack_out is not None:
        keys = CentralKeys(seda_home(), store)
        write_private(ack_out, result.ack_file(keys.signing, keys.oversight_statement()))
        click.echo(f"Wrote acknowledgement {ack_out}")
    if result.refusals:
        raise SystemExit(1)


@central_group.command("key")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the setup file for offices that sync by USB "
                   "(`seda sync setup --central-file FILE`).")
@store_option
def key_command(out: Path | None, store_url: str | None) -> None:
    """Print the central server's public key, which offices pin (`seda sync setup
    --central-key ...`); every answer, acknowledgement and the oversight key are signed with it."""
    if out is None:
        key, _ = ensure_central_key(seda_home())
        click.echo(public_key_hex(key))
        return
    keys = CentralKeys(seda_home(), _open(store_url))
    document = keys.setup_document()
    write_private(out, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    click.echo(keys.central_key_hex)
    click.echo(f"Wrote {out}: the central key and the oversight key "
               f"{document['oversight_key']['key_id']}, signed.", err=True)


@central_group.command("refusals")
@click.option("--limit", default=50, show_default=True)
@store_option
def refusals_command(limit: int, store_url: str | None) -> None:
    """The central log of refused batches and requests, newest first."""
    for row in _open(store_url).refusals(limit):
        click.echo(f"{row['received_at']}  {row['office'] or '?':<10} batch {row['batch_seq']}  "
                   f"[{row['code']}] {row['detail']} ({row['source']})")


@central_group.group("conflicts", invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Also list conflicts already settled.")
@store_option
@click.pass_context
def conflicts_command(ctx: click.Context, show_all: bool, store_url: str | None) -> None:
    """Records an office sent again under a UUID it had used, with other content (one JSON
    object a line); exits 1 while any is open.  Settle each with `accept` or `dismiss`."""
    if ctx.invoked_subcommand is not None:
        return
    store = _open(store_url)
    for row in store.conflicts(include_resolved=show_all):
        click.echo(json.dumps(row, ensure_ascii=False))
    waiting = store.open_conflict_count()
    if waiting:
        click.echo(MESSAGES.line("cli_conflicts_open", n=waiting), err=True)
        raise SystemExit(1)


def _settle(conflict_id: int, accept: bool, store_url: str | None) -> None:
    from . import audit

    store = _open(store_url)
    actor = f"cli:{getpass.getuser()}"
    try:
        done = store.resolve_conflict(conflict_id, accept=accept, by=actor)
    except StoreError as exc:
        raise refusal(exc) from None
    audit.record(store, actor, f"conflict_{done['resolution']}", f"conflict:{conflict_id}",
                 f"office={done['office']} uuid={done['uuid']} stored={done['stored_uuid'] or ''}")
    click.echo(f"Conflict {conflict_id} ({done['office']}, record {done['uuid']}): {done['resolution']}"
               + (f"; stored as {done['stored_uuid']}" if done["stored_uuid"] else "") + ".")


@conflicts_command.command("accept")
@click.argument("conflict_id", type=int)
@store_option
def conflict_accept(conflict_id: int, store_url: str | None) -> None:
    """Store conflict CONFLICT_ID's offered record as a record of its own (a case is routed)."""
    _settle(conflict_id, True, store_url)


@conflicts_command.command("dismiss")
@click.argument("conflict_id", type=int)
@store_option
def conflict_dismiss(conflict_id: int, store_url: str | None) -> None:
    """Drop conflict CONFLICT_ID's offered record (the stored one stands); its office is told."""
    _settle(conflict_id, False, store_url)


@central_group.command("case-update")
@click.argument("tracking_code")
@click.option("--status", required=True, type=click.Choice(list(CASE_STATUSES)),
              help="The case's new status.")
@click.option("--answer", default=None, help="The answer the visitor will see at the kiosk.")
@click.option("--unit", default=None, help="The unit answering.")
@click.option("--office", default=None,
              help="The case's office, when two offices' cases share the tracking code.")
@store_option
def case_update_command(tracking_code: str, status: str, answer: str | None, unit: str | None,
                        office: str | None, store_url: str | None) -> None:
    """Record a case's new status/answer; its office pulls it at the next sync.

    An operator's override with no lifecycle check; units work cases on the web app.  A case is
    (office, tracking code): if two offices drew the same code, --office says which."""
    try:
        store = _open(store_url)
        actor = f"cli:{getpass.getuser()}"
        update = store.record_case_update(tracking_code, status, answer=answer, unit=unit, actor=actor,
                                          office=office.upper() if office else None)
    except StoreError as exc:
        raise refusal(exc) from None
    from . import audit

    misconduct = update["misconduct"]
    audit.record(store, actor, "case_update", audit.case_target(update["case_uuid"], misconduct),
                 "" if misconduct else f"status={status} (operator override)")
    click.echo(f"Case {tracking_code}: {status} (cursor {update['cursor']})")


@central_group.command("publish")
@click.argument("feed", type=click.Choice(sorted(FEEDS - {"case_update", "office_key", "oversight_key"})))
@click.argument("key")
@click.option("--json", "json_file", type=click.File("r", encoding="utf-8"), default=None,
              help="JSON object to publish ('-' for stdin); omit for an empty body.")
@click.option("--office", default="", help="Only for this office (default: all offices).")
@click.option("--delete", is_flag=True, help="Withdraw the item.")
@store_option
def publish_command(feed: str, key: str, json_file, office: str, delete: bool,
                    store_url: str | None) -> None:
    """Publish a catalogue entry, contact, office profile, announcement, form definition or
    revoked sheet code to offices.  Content items are checked and signed with the central key
    (keys under $SEDA_HOME); a catalogue KEY is SERVICE@VERSION with effective_from in the JSON.
    The central web app's content pages (/content/...) do the same with versions and a diff."""
    try:
        body = json.load(json_file) if json_file is not None else {}
        if not isinstance(body, dict):
            raise click.ClickException(MESSAGES.line("cli_json_not_object"))
        store = _open(store_url)
        if feed in CONTENT_FEEDS and not delete:  # signed item by item (sync/content.py)
            check_content_item({"feed": feed, "key": key, "body": {**body, "feed": feed, "key": key}},
                               None, shape_only=True)
            cursor = publish_content(store, CentralKeys(seda_home(), store), feed, key, body, office=office)
        else:
            cursor = store.publish(feed, key, body, office=office, deleted=delete)
    except (ValueError, StoreError, Refusal) as exc:
        raise refusal(exc) from None
    click.echo(f"Published {feed}/{key} (cursor {cursor}).")


@central_group.group("forms")
def forms_group() -> None:
    """Survey form definitions offices print and show: upload a version, publish it, list them
    (the /content/forms pages do the same with a paper preview and a diff)."""


@forms_group.command("upload")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
def forms_upload(path: Path, store_url: str | None) -> None:
    """Check FILE (YAML or JSON, as forms/definitions/*.yaml) and keep it as its form's draft,
    numbered as the next version.  Nothing is stored when it is refused."""
    from . import form_versions

    store = _open(store_url)
    try:
        version = form_versions.upload(store, path.read_bytes(), actor=f"cli:{getpass.getuser()}", name=path.name)
    except (MessageError, OSError) as exc:
        raise refusal(exc) from None
    click.echo(MESSAGES.line("cli_forms_uploaded", form=version.form.id, version=version.number))


@forms_group.command("publish")
@click.argument("form_id", metavar="FORM")
@store_option
def forms_publish(form_id: str, store_url: str | None) -> None:
    """Publish FORM's draft to every office (signed with the central key under $SEDA_HOME)."""
    from . import form_versions

    store = _open(store_url)
    try:
        version = form_versions.publish_draft(store, CentralKeys(seda_home(), store), form_id,
                                              actor=f"cli:{getpass.getuser()}")
    except MessageError as exc:
        raise refusal(exc) from None
    click.echo(MESSAGES.line("cli_forms_published", form=form_id, version=version.number))


@forms_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@store_option
def forms_list(as_json: bool, store_url: str | None) -> None:
    """Every form with the version offices use and every stored version (draft or published)."""
    from . import form_versions

    store = _open(store_url)
    rows = []
    for form_id, found in form_versions.known_forms(store).items():
        current = form_versions.current(store, form_id)
        rows.append({"form": form_id, "in_use": current.version if current else None,
                     "in_use_builtin": not any(v.status == "published" for v in found),
                     "versions": [{"version": v.number, "status": v.status, "uploaded_by": v.uploaded_by,
                                   "published_at": v.published_at} for v in found]})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        stored = ", ".join(f"v{v['version']} {v['status']}" for v in row["versions"]) or "-"
        in_use = "-" if row["in_use"] is None else f"v{row['in_use']}" + (" (built-in)" if row["in_use_builtin"] else "")
        click.echo(f"{row['form']:<16} in use: {in_use:<16} stored: {stored}")


# -- analysis: figures, monthly report and exports (see docs/central-analysis.md) ------------------


class _Refused(click.ClickException):
    """A refusal of the analysis commands: the one line (Persian / English) alone, exit 1."""

    def show(self, file=None) -> None:  # noqa: D401 - click's signature
        click.echo(self.format_message(), err=True)


def _month_digits(label: str, locale: str) -> str:
    """A month label in the locale's digits (۱۴۰۵-۰۹ in Persian)."""
    from forms.digits import to_persian_digits

    return to_persian_digits(label) if locale == "fa" else label


def _analysis_store(store_url: str | None) -> Store:
    """The existing central store (never a new, empty one made by asking for a report)."""
    try:
        return existing_store(resolve_store_url(store_url))
    except StoreLocationError as exc:
        raise _Refused(exc.line()) from None


def _checked_month(month: str) -> str:
    """A Jalali YYYY-MM that has begun (Tehran time), or a refusal that says what is wrong."""
    from datetime import datetime, timezone

    from forms.persian import InvalidInput

    from .analysis import month_key
    from .web.insight import current_month
    try:
        year, number = month_key(month)
    except (InvalidInput, ValueError):
        raise _Refused(MESSAGES.line("cli_month_invalid", month=month)) from None
    label = f"{year:04d}-{number:02d}"
    if year >= 1700:
        raise _Refused(MESSAGES.line("cli_month_gregorian", month=partial(_month_digits, label)))
    if year < 1300:
        raise _Refused(MESSAGES.line("cli_year_implausible", year=partial(_month_digits, str(year))))
    if (year, number) > current_month(datetime.now(timezone.utc)):
        raise _Refused(MESSAGES.line("cli_month_not_begun", month=partial(_month_digits, label)))
    return label


def _checked_office(store: Store, office: str | None) -> str | None:
    if office is None:
        return None
    office = office.strip()
    if store.office(office) is None:
        with store.connect() as db:
            if db.one("SELECT 1 FROM records WHERE office = ? LIMIT 1", (office,)) is None:
                raise _Refused(MESSAGES.line("cli_office_unknown", office=office))
    return office


@central_group.command("figures")
@click.option("--month", required=True, help="Jalali month, e.g. 1405-09.")
@click.option("--office", default=None, help="Only this office (default: every office).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@store_option
def figures_command(month: str, office: str | None, as_json: bool, store_url: str | None) -> None:
    """The numbers behind the dashboard and the monthly report: responses, every question's
    answered / pending review / per-option counts / mean, cases answered on time, desks,
    waiting time and responses per working day."""
    from .figures import figures

    month = _checked_month(month)
    store = _analysis_store(store_url)
    office = _checked_office(store, office)
    found = figures(store, month, office)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    r, c = found["responses"], found["cases"]
    twice = f"; {r['answered_twice']} sheets answered twice, counted once" if r["answered_twice"] else ""
    click.echo(f"{month}{' ' + office if office else ''}: {r['total']} responses ({r['paper']} paper,"
               f" {r['kiosk']} kiosk, {r['portal'] + r['sheet_link']} online; {r['incomplete']} incomplete{twice})")
    for qid, q in found["questions"].items():
        mean = f", mean {q['mean']:.2f}" if q["mean"] is not None else ""
        click.echo(f"  {qid:<22} answered {q['answered']}, pending review {q['pending_review']}{mean}")
    click.echo(f"cases received {c['received']}: {c['answered_on_time']} answered on time,"
               f" {c['answered_late']} late, {c['open']} open ({c['open_overdue']} overdue)")


@central_group.command("report")
@click.option("--month", required=True, help="Jalali month, e.g. 1405-09.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF file to write.")
@click.option("--office", default=None, help="Only this office (default: every office).")
@click.option("--min-responses", default=30, show_default=True, type=click.IntRange(1),
              help="Fewer answers than this: shown as insufficient data, never ranked.")
@store_option
def report_command(month: str, out: Path, office: str | None, min_responses: int,
                   store_url: str | None) -> None:
    """Write the monthly report for a director (Persian PDF: a plain summary on page 1,
    details after)."""
    from .exports import ExportError
    from .report import REPORT_STEPS, write_report

    month = _checked_month(month)
    store = _analysis_store(store_url)
    office = _checked_office(store, office)
    try:
        with progress(REPORT_STEPS, MESSAGES.line("cli_report_progress")) as advance:
            pages = write_report(store, month, out, office=office, min_responses=min_responses,
                                 advance=advance)
    except ExportError as exc:
        raise refusal(exc) from None
    click.echo(MESSAGES.line("cli_report_written", out=str(out), pages=pages, month=month))


@central_group.command("export")
@click.argument("what", type=click.Choice(["responses", "cases"]))
@click.option("--month", required=True, help="Jalali month, e.g. 1405-09.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@click.option("--office", default=None, help="Only this office (default: every office).")
@click.option("--include-oversight", is_flag=True,
              help="Cases: keep misconduct reports' text and identity. Only for the oversight unit.")
@store_option
def export_command(what: str, month: str, fmt: str, out: Path, office: str | None,
                   include_oversight: bool, store_url: str | None) -> None:
    """Export a month of survey responses or cases as CSV (UTF-8 with BOM) or XLSX."""
    from .exports import ExportError, export

    month = _checked_month(month)
    store = _analysis_store(store_url)
    office = _checked_office(store, office)
    try:
        count = export(store, what, month, out, fmt=fmt, office=office,
                       include_oversight=include_oversight,
                       track=lambda rows: tracked(rows, MESSAGES.line("cli_export_progress")))
    except ExportError as exc:
        raise refusal(exc) from None
    click.echo(f"Wrote {count} {what} to {out}.")


# -- central office web app: users and units (docs/central-office.md) -----------------------------


@central_group.group("user")
def user_group() -> None:
    """Central office web app users (argon2id password hashes in the store)."""


def _read_password(password_file: Path | None) -> str:
    if password_file is not None and str(password_file) == "-":  # as `seda kiosk user`
        return sys.stdin.readline().rstrip("\r\n")
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return click.prompt(MESSAGES.line("cli_password_prompt"), hide_input=True,
                        confirmation_prompt=MESSAGES.line("cli_password_repeat"))


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["admin", "responder", "analyst", "auditor", "oversight"]),
              help="admin, responder (needs --unit), analyst, auditor or oversight (unit 'oversight').")
@click.option("--unit", default=None, help="Unit code (responders).")
@click.option("--display-name", default=None, help="Name shown in the pages (default: NAME).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
              default=None, help="Read the password from the first line of this file instead of prompting.")
@store_option
def user_add(name: str, role: str, unit: str | None, display_name: str | None,
             password_file: Path | None, store_url: str | None) -> None:
    """Create web user NAME; the password is prompted twice (or read from --password-file)."""
    from . import accounts

    store = _open(store_url)
    if accounts.get_user(store, name.strip().lower(), include_disabled=True) is not None:
        # before anyone types a password for nothing
        raise click.ClickException(MESSAGES.line("account_name_taken", name=name))
    password = _read_password(password_file)
    try:
        user = accounts.add_user(store, name, role, password, unit=unit, display_name=display_name, actor="cli")
    except accounts.AccountError as exc:
        raise refusal(exc) from None
    click.echo(f"User {user.name} added ({user.role}{', unit ' + user.unit if user.unit else ''}).")


@user_group.command("list")
@store_option
def user_list(store_url: str | None) -> None:
    """List web users: name, role, unit, enabled or disabled."""
    from . import accounts

    for user in accounts.list_users(_open(store_url)):
        click.echo(f"{user.name:<20} {user.role:<10} {user.unit or '-':<14} "
                   f"{'disabled' if user.disabled else 'active':<8} {user.display_name}")


@user_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["admin", "responder", "analyst", "auditor", "oversight"]))
@click.option("--unit", default=None, help="Unit code (responders).")
@store_option
def user_role(name: str, role: str, unit: str | None, store_url: str | None) -> None:
    """Give web user NAME another ROLE (ends their sessions).

    On the web app the oversight role needs a second oversight user's confirmation; here, on
    the central host, it is given directly (and audited as done on the command line)."""
    from . import accounts

    store = _open(store_url)
    try:
        user = accounts.update_user(store, name, role=role, unit=unit, actor=f"cli:{getpass.getuser()}",
                                    via="central host command line")
    except accounts.AccountError as exc:
        raise refusal(exc) from None
    click.echo(f"User {user.name} is now {user.role}{', unit ' + user.unit if user.unit else ''}.")


@user_group.command("disable")
@click.argument("name")
@store_option
def user_disable(name: str, store_url: str | None) -> None:
    """Disable web user NAME and end their sessions now."""
    from . import accounts

    store = _open(store_url)
    try:
        accounts.set_disabled(store, name, True, actor="cli")
    except accounts.AccountError as exc:
        raise refusal(exc) from None
    click.echo(f"User {name} disabled.")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
              default=None, help="Read the new password from the first line of this file instead of prompting.")
@store_option
def user_passwd(name: str, password_file: Path | None, store_url: str | None) -> None:
    """Set a new password for web user NAME (prompted twice); ends their sessions."""
    from . import accounts

    store = _open(store_url)
    if accounts.get_user(store, name, include_disabled=True) is None:
        raise click.ClickException(MESSAGES.line("account_no_user", name=name))
    try:
        accounts.set_password(store, name, _read_password(password_file), actor="cli")
    except accounts.AccountError as exc:
        raise refusal(exc) from None
    click.echo(f"Password of {name} changed.")


@central_group.group("unit")
def unit_group() -> None:
    """Specialist units that answer cases (the triage queue and oversight exist already)."""


@unit_group.command("add")
@click.argument("code")
@click.option("--name-fa", required=True, help="Persian name, as the pages show it.")
@click.option("--name-en", default=None,
              help="English name (default: unchanged, or the Persian one for a new unit).")
@click.option("--head", default=None, help="User name of the unit head (a member of the unit, or a "
                                           "user without a unit yet); default: unchanged.")
@store_option
def unit_add(code: str, name_fa: str, name_en: str | None, head: str | None, store_url: str | None) -> None:
    """Create unit CODE, or rename it / change its head."""
    from .casework import Casework, CaseworkError

    store = _open(store_url)
    casework = Casework(store)
    existing = casework.unit(code.strip().lower())
    name_en = name_en or (existing.name_en if existing else name_fa)
    head = head or (existing.head if existing else None)
    try:
        unit = casework.save_unit(code, name_fa, name_en, head=head, actor="cli")  # audited there
    except CaseworkError as exc:
        raise refusal(exc) from None
    click.echo(f"Unit {unit.code} saved ({unit.name_fa}; head {unit.head or '-'}).")


@unit_group.command("list")
@store_option
def unit_list(store_url: str | None) -> None:
    """List units: code, kind, head, active or not, names."""
    from .casework import Casework

    for unit in Casework(_open(store_url)).units(include_inactive=True):
        click.echo(f"{unit.code:<16} {unit.kind:<10} {unit.head or '-':<16} "
                   f"{'active' if unit.active else 'inactive':<9} {unit.name_fa} / {unit.name_en}")


from .portal.cli import make_portal_group  # noqa: E402

central_group.add_command(make_portal_group(store_option, _open))

from .notify.cli import make_notify_group  # noqa: E402

from .portal.settings import check_public_url  # noqa: E402

central_group.add_command(make_notify_group(store_option, _open, check_public_url))
