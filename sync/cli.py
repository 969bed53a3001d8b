"""`seda sync ...`: the office side of sync, for the office admin and for services.

    seda sync setup --office THR-012 --central https://seda.example.ir   # pins the central key
    seda sync setup --office THR-012 --central-file E:/seda-central.json  # USB-only office
    seda sync key                 # the public key to give the central office
    seda sync once                # one contact: push, then pull
    seda sync run                 # keep syncing (run as a service / scheduled task)
    seda sync status              # what is waiting, last success, last refusal
    seda sync export --out E:/seda-THR-012.batches     # no network: to a USB stick
    seda sync ack E:/seda-THR-012.ack.json             # ... and the answer back
    seda sync updates 1234-5678-9                      # what came back for a case
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from pathlib import Path

import click

from forms.cli import refusal
from forms.messages import MessageError, localize_number

from forms import seda_home

from forms.cases import status_label
from .client import OFFICE_REFUSALS, SyncError, SyncReport, run_forever, sync_once
from forms.follow_up import follow_up_locator, open_answer
from forms.signatures import IdentityError, public_key_hex
from forms.identity_keys import ensure_office_key, load_office_key
from ledger.ledger import Ledger, LedgerError, default_ledger_path
from ledger.office_binding import claim_office
from forms.office_identity import OfficeIdentityError
from .office_state import OfficeSyncState
from ledger.centre_sent import CentreSent
from ledger.published_content import still_refused
from .offline import apply_ack_file, export_batches
from .refusals import MESSAGES, Refusal, message_for
from ledger.sync_settings import SettingsError, SyncSettings, load_settings, write_settings
from .transport import TransportError
from .trust import TrustError, fetch_setup_document, pin_central, read_setup_file
from ledger.report_key import report_key

_FAILURES = (SettingsError, SyncError, IdentityError, LedgerError, TransportError, Refusal, OSError,
             ValueError)


def _settings(home: Path) -> SyncSettings:
    try:
        return load_settings(home)
    except SettingsError as exc:
        raise refusal(exc) from None


def _describe_failure(error: BaseException) -> str:
    if isinstance(error, Refusal):
        fa, en = message_for(error.code)
        return f"{fa}\n{en} [{error.code}: {error.detail}]"
    if isinstance(error, TransportError):
        return MESSAGES.line("sync_unreachable", separator="\n", error=str(error))
    if isinstance(error, MessageError):
        return error.line()
    return refusal(error).message


@click.group("sync")
def sync_group() -> None:
    """Send this office's records to the central server and bring answers back."""



#: How long sync waits between tries and per request; `seda office setup` offers the same two.
max_backoff_option = click.option(
    "--max-backoff", type=click.FloatRange(min=1, max=86400), default=None,
    help="Longest wait in seconds between tries while the central server cannot be "
         "reached (exponential backoff with jitter grows up to it; default 900).")
timeout_option = click.option(
    "--timeout", type=click.FloatRange(min=1, max=3600), default=None,
    help="Seconds one HTTP request may take before it is given up and tried later "
         "(default 60; raise it on a slow link).")

@sync_group.command("setup")
@click.option("--office", required=True, help="Office code registered at the central office, e.g. THR-012.")
@click.option("--central", "central_url", default=None,
              help="Central server address, e.g. https://seda.example.ir (omit for USB-stick only).")
@click.option("--batch-records", type=int, default=None, help="Records per batch (default 1000).")
@click.option("--interval", type=float, default=None, help="Seconds between syncs (default 60).")
@max_backoff_option
@timeout_option
@click.option("--central-key", default=None,
              help="The central server's public key (`seda central key`); the key fetched from "
                   "--central or read from --central-file must be this one.")
@click.option("--central-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The central office's setup file (`seda central key --out FILE`), "
                                 "for offices that sync by USB stick.")
@click.option("--insecure-http", is_flag=True,
              help="Allow a plain http:// central address on another machine (not recommended).")
def setup_command(office: str, central_url: str | None, batch_records: int | None, interval: float | None,
                  central_key: str | None, central_file: Path | None, insecure_http: bool,
                  max_backoff: float | None = None, timeout: float | None = None) -> None:
    """Write $SEDA_HOME/sync.toml, make this office's sync key (once) and pin the central key.

    The central key comes from --central-key, --central-file or the central server itself
    (then compare the fingerprint printed with `seda central key`); with it comes the signed
    key misconduct reports are sealed to.  Without --central the office syncs only by USB
    stick (`seda sync export`)."""
    home = seda_home()
    try:  # the office code every part writes under (office.toml), and the ledger bound to it
        claim_office(home, office)
    except (OfficeIdentityError, ValueError, LedgerError) as exc:
        raise refusal(exc) from None
    try:
        existing: SyncSettings | None = load_settings(home)
    except SettingsError:
        existing = None
    try:
        if existing is None:
            settings = SyncSettings(office=office, central_url=central_url or "",
                                    insecure_http=insecure_http)
        else:
            settings = replace(existing, office=office,
                               insecure_http=insecure_http or existing.insecure_http,
                               central_url=existing.central_url if central_url is None else central_url)
    except SettingsError as exc:
        raise refusal(exc) from None
    try:
        if batch_records is not None:
            settings = replace(settings, batch_records=batch_records)
        if interval is not None:
            settings = replace(settings, interval_seconds=interval)
        if max_backoff is not None:
            settings = replace(settings, max_backoff_seconds=max_backoff)
        if timeout is not None:
            settings = replace(settings, timeout_seconds=timeout)
        path = write_settings(home, settings)
        key, created = ensure_office_key(home)
    except (SettingsError, IdentityError, OSError) as exc:
        raise refusal(exc) from None
    click.echo(MESSAGES.line("setup_wrote", path=str(path)))
    click.echo(MESSAGES.line("setup_key_created" if created else "setup_key_kept", path=str(home / "keys")))
    _pin(home, settings, central_file, central_key)
    click.echo(MESSAGES.line("setup_give_key", separator="\n"))
    click.echo(f"  seda central office add {settings.office} --public-key {public_key_hex(key)}")


def _pin(home: Path, settings: SyncSettings, central_file: Path | None, central_key: str | None) -> None:
    """Pin the central key and keep the oversight key; say where misconduct reports go."""
    document = None
    try:
        if central_file is not None:
            document = read_setup_file(central_file)
        elif settings.central_url:
            try:
                document = fetch_setup_document(settings.central_url, settings.timeout_seconds)
            except TransportError as exc:
                click.echo(MESSAGES.line("setup_central_unreachable", separator="\n", error=str(exc)),
                           err=True)
        settings = pin_central(home, settings, document, central_key)
    except (TrustError, OSError) as exc:
        raise refusal(exc) from None
    if settings.central_key:
        click.echo(MESSAGES.line("setup_central_key_pinned", key=settings.central_key))
        if document is not None and central_key is None and central_file is None:
            click.echo("  " + MESSAGES.line("setup_compare_key"))
    with Ledger.open(default_ledger_path(home)) as ledger:
        target = report_key(home, ledger)
    if target is None:
        click.echo(MESSAGES.line("setup_no_report_key"), err=True)
    elif target.holder == "oversight":
        click.echo(MESSAGES.line("setup_sealed_to_oversight", key=target.key_id))
    else:
        click.echo(MESSAGES.line("setup_sealed_to_central"))


@sync_group.command("key")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write it to a file.")
def key_command(out: Path | None) -> None:
    """Print this office's public key (64 hex digits); the private key never leaves."""
    home = seda_home()
    try:
        key = load_office_key(home)
    except IdentityError as exc:
        raise refusal(exc) from None
    if key is None:
        raise refusal(SyncError("sync_no_office_key"))
    text = public_key_hex(key)
    if out is not None:
        out.write_text(text + "\n", encoding="ascii")
    click.echo(text)


def _print_report(report: SyncReport) -> None:
    click.echo(MESSAGES.line("sync_report", separator="\n", batches=report.batches_sent,
                             new=report.records_new, duplicate=report.records_duplicate,
                             conflicts=len(report.conflicts), blobs=report.blobs_sent,
                             pulled=report.items_pulled, waiting=report.waiting))
    for conflict in report.conflicts[:10]:
        click.echo("  " + MESSAGES.line("sync_report_conflict", uuid=conflict["uuid"]))


@sync_group.command("once")
def once_command() -> None:
    """One contact with the central server: push everything waiting, then pull."""
    home = seda_home()
    settings = _settings(home)
    try:
        report = sync_once(home, settings)
    except _FAILURES as error:
        raise click.ClickException(_describe_failure(error)) from None
    _print_report(report)
    with Ledger.open(default_ledger_path(home)) as ledger:
        stranded = OfficeSyncState(ledger).foreign_count(settings.office)
    if stranded:  # sent nothing of them, and never will: say so where scripts look
        raise click.ClickException(MESSAGES.line("sync_stranded", n=stranded))


@sync_group.command("run")
@click.option("--quiet", is_flag=True, help="Only log failures.")
def run_command(quiet: bool) -> None:
    """Keep syncing until stopped (Ctrl+C); survives the central server being away for days."""
    home = seda_home()
    if not _settings(home).central_url:  # later edits of the file are picked up each round
        raise refusal(SyncError("sync_no_central_url"))
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_report(outcome: SyncReport | Exception, delay: float) -> None:
        if isinstance(outcome, SyncReport):
            if not quiet:
                _print_report(outcome)
        else:
            click.echo(_describe_failure(outcome), err=True)
            click.echo(MESSAGES.line("sync_next_try", seconds=round(delay)), err=True)

    settings = load_settings(home)
    click.echo(MESSAGES.line("sync_running", office=settings.office, url=settings.central_url))
    try:
        run_forever(home, stop, on_report=on_report)
    except KeyboardInterrupt:
        stop.set()
        click.echo(MESSAGES.line("sync_stopped"))


def status_data(home: Path) -> dict:
    """Everything `seda sync status` shows, as data (also for the kiosk's staff dashboard).

    ``needs_attention`` lists what no retry will fix (a person must act): batches the server
    refused, attachments too large for it, records it kept aside as conflicts, and a refusal of
    the office itself that no success has followed.  `seda sync status` exits 1 while it is
    not empty.
    """
    settings = load_settings(home)
    with Ledger.open(default_ledger_path(home)) as ledger:
        state = OfficeSyncState(ledger)
        pending = state.pending_batches()
        data = {
            "office": settings.office,
            "central_url": settings.central_url,
            "waiting_records": state.waiting_count(settings.office),
            "pending_batches": [b.batch_seq for b in pending],
            "other_office_records": state.foreign_count(settings.office),
            "last_success_at": state.get("last_success_at"),
            "last_attempt_at": state.get("last_attempt_at"),
            "last_error": state.get("last_error"),
            "last_refusal": state.get("last_refusal"),
            "last_export": state.get("last_export"),
            "pull_cursor": state.pull_cursor(),
            "held_reports": ledger.held_count(settings.office),
            "refused_batches": [state.batch_refusals()[seq] for seq in sorted(state.batch_refusals())],
            "refused_blobs": [{"sha256": sha, **note} for sha, note in sorted(state.refused_blobs().items())],
            "conflicts": state.open_conflicts(),
            "refused_content": still_refused(state.content_refusals(), CentreSent(ledger)),
        }
    refusal = data["last_refusal"]
    office_refused = bool(refusal and refusal.get("code") in OFFICE_REFUSALS and (
        not data["last_success_at"] or str(refusal.get("at") or "") > data["last_success_at"]))
    data["needs_attention"] = (
        [f"batch {r['batch']} refused [{r['code']}]" for r in data["refused_batches"]]
        + [f"attachment {b['sha256']} too large ({b.get('size')} bytes)" for b in data["refused_blobs"]]
        + [f"record {c['uuid']} kept as a conflict at the central server" for c in data["conflicts"]]
        + [f"item {r['feed']}/{r['key']} from the central server refused" for r in data["refused_content"]]
        + ([f"the central server refuses this office [{refusal['code']}]"] if office_refused else []))
    return data


@sync_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_command(as_json: bool) -> None:
    """What is waiting, when sync last succeeded, and the last refusal with its reason."""
    home = seda_home()
    _settings(home)
    data = status_data(home)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        if data["needs_attention"]:
            raise SystemExit(1)
        return
    click.echo(MESSAGES.line("status_office", office=data["office"],
                             target=data["central_url"] or _said("status_usb_only")))
    if data["pending_batches"]:
        click.echo(MESSAGES.line("status_waiting_in_batches", n=data["waiting_records"],
                                 batches=_numbers(data["pending_batches"])))
    else:
        click.echo(MESSAGES.line("status_waiting", n=data["waiting_records"]))
    click.echo(MESSAGES.line("status_last_success", at=data["last_success_at"] or _said("status_never")))
    if data["last_error"]:
        click.echo(MESSAGES.line("status_last_error", at=data["last_error"]["at"],
                                 detail=data["last_error"]["detail"]))
    refusal_seen = data["last_refusal"]
    if refusal_seen:
        click.echo(MESSAGES.line("status_last_refusal", at=refusal_seen["at"], code=refusal_seen["code"]))
        click.echo(f"  {refusal_seen['message_fa']}")
        click.echo(f"  {refusal_seen['message_en']}")
        if refusal_seen.get("detail"):
            click.echo(f"  ({refusal_seen['detail']})")
    else:
        click.echo(MESSAGES.line("status_no_refusal"))
    if data["held_reports"]:
        click.echo(MESSAGES.line("status_held_reports", n=data["held_reports"]))
    if data["other_office_records"]:
        click.echo(MESSAGES.line("status_other_office_records", n=data["other_office_records"]))
    _print_attention(data)


def _numbers(values: list[int]):
    """Batch numbers as a value of a sentence, in its locale's digits."""
    return lambda locale: MESSAGES.text("list_separator", locale).join(
        localize_number(v, locale) for v in values)


def _said(key: str):
    """A sync/translations word as a value of another sentence, in that sentence's locale."""
    return lambda locale: MESSAGES.text(key, locale)


def _print_attention(data: dict) -> None:
    """What no retry will fix, each item on its own line; exit 1 while there is any."""
    for note in data["refused_batches"]:
        click.echo("!! " + MESSAGES.line("attention_batch_refused", batch=note["batch"], code=note["code"],
                                         at=note.get("at", "")))
        click.echo(f"   {note['message_fa']}")
        click.echo(f"   {note['message_en']}")
        if note.get("detail"):
            click.echo(f"   ({note['detail']})")
    for blob in data["refused_blobs"]:
        fa, en = message_for("blob_too_large")
        click.echo("!! " + MESSAGES.line("attention_blob_too_large", sha256=blob["sha256"],
                                         size=str(blob.get("size")), limit=str(blob.get("limit"))))
        click.echo(f"   {fa}")
        click.echo(f"   {en}")
    for note in data["refused_content"]:
        click.echo("!! " + MESSAGES.line("attention_refused_content", item=f"{note['feed']}/{note['key']}",
                                         at=str(note.get("at", ""))))
        click.echo("   " + MESSAGES.text("attention_refused_content_keeps", "fa"))
        click.echo("   " + MESSAGES.text("attention_refused_content_keeps", "en"))
        click.echo(f"   ({note.get('detail', '')})")
    if data["conflicts"]:
        fa, en = message_for("conflict")
        click.echo("!! " + MESSAGES.line("attention_conflicts", n=len(data["conflicts"])))
        click.echo(f"   {fa}")
        click.echo(f"   {en}")
        for conflict in data["conflicts"][:20]:
            click.echo("   " + MESSAGES.line("attention_conflict_record", uuid=conflict["uuid"],
                                             batch=conflict["batch"]))
    if data["needs_attention"]:
        click.echo(MESSAGES.line("attention_action_needed"))
        raise SystemExit(1)


@sync_group.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, e.g. on a USB stick.")
def export_command(out: Path) -> None:
    """No network: write every unacknowledged signed batch (and attachments) to a file."""
    home = seda_home()
    settings = _settings(home)
    try:
        summary = export_batches(home, settings, out)
    except _FAILURES as error:
        raise click.ClickException(_describe_failure(error)) from None
    click.echo(MESSAGES.line("export_written", batches=summary.batches, records=summary.records,
                             blobs=summary.blobs, path=str(summary.path)))
    click.echo(MESSAGES.line("export_take_to_centre"))


@sync_group.command("ack")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ack_command(path: Path) -> None:
    """Read the central office's acknowledgement file for an export."""
    home = seda_home()
    settings = _settings(home)
    try:
        summary = apply_ack_file(home, settings, path)
    except _FAILURES as error:
        raise click.ClickException(_describe_failure(error)) from None
    click.echo(MESSAGES.line("ack_applied", acknowledged=summary.acknowledged, already=summary.already,
                             unknown=summary.unknown, refusals=summary.refusals))


@sync_group.command("updates")
@click.argument("tracking_code")
def updates_command(tracking_code: str) -> None:
    """Show what the central office answered for a case (as pulled at the last sync)."""
    home = seda_home()
    office = _settings(home).office
    with Ledger.open(default_ledger_path(home)) as ledger:
        updates = CentreSent(ledger).pulled_case_updates(tracking_code)
        locator = None
        if not updates:  # a sealed misconduct report is known here only by its locator
            locator = follow_up_locator(tracking_code, office)
            updates = CentreSent(ledger).pulled_misconduct_updates(locator)
    if not updates:
        click.echo(MESSAGES.line("updates_none"))
    for update in updates:
        fa, en = status_label(update["status"])
        answer = update.get("answer")
        if locator and update.get("answer_sealed"):
            answer = open_answer(update["answer_sealed"], tracking_code, locator)
        click.echo(f"{update['at']}  {fa} / {en}" + (f"\n  {answer}" if answer else ""))

