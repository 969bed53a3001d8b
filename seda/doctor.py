"""`seda doctor`: is this office installation healthy, and if not, what fixes it?

    seda doctor            # each check in Persian and English, with the command that fixes it
    seda doctor --json     # the same for scripts: {"ok": bool, "checks": [...]}

Checks: the office identity is the same everywhere (office.toml, kiosk.yaml, sync.toml, the
ledger's binding), the keys are there and only the owner can read them, $SEDA_HOME is private
(folders 0700, files 0600), the ledger is intact (SQLite's integrity check; every attachment's
bytes match their hash), the central server answers, its key is the one pinned and the clocks
agree, nothing is stranded, refused or stuck waiting, the disk has room, the receipt printer
setting is valid (and a network printer answers), the Persian fonts load, libzbar loads.
At a centre whose store is PostgreSQL (``--store`` or ``$SEDA_CENTRAL_STORE``), the database
answers within a few seconds and its schema is at the latest step; a machine that is only a
centre (no office set up) gets the centre's checks alone.

Exit 0 when every check is ``ok``; 1 when any needs attention (``warn`` or ``fail``).
It lives in seda/ because it reads every part's settings, which only the shell may import.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import stat
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path

import click

from central.messages import MESSAGES as CENTRAL_MESSAGES
from central.store_location import StoreLocationError, probe_postgres, safe_url, store_kind
from forms import seda_home
from forms.identity_keys import load_office_key, office_key_path
from forms.office_identity import OfficeIdentityError, read_office, setup_hint
from forms.office_keys import key_path as sheet_key_path
from forms.persian import to_persian_digits as fa_n
from forms.signatures import public_key_hex
from kiosk.config import ConfigError, KioskConfig
from kiosk.receipt_printer import PrinterError, parse_printer
from ledger.ledger import Ledger, LedgerError, default_ledger_path
from ledger.office_binding import stranded_counts
from ledger.sync_settings import SettingsError, load_settings
from sync.office_state import OfficeSyncState

from .messages import MESSAGES

__all__ = ["Finding", "doctor_command", "run_checks"]

OK, WARN, FAIL = "ok", "warn", "fail"
#: Below this much free space the ledger and attachments may soon not fit.
DISK_WARN_BYTES = 2 * 1024 ** 3
DISK_FAIL_BYTES = 200 * 1024 ** 2
#: A clock further off than this from the centre's is worth fixing (refused at 24 hours).
CLOCK_WARN_SECONDS = 300
#: Records waiting longer than this mean sync is not keeping up.
WAITING_WARN_HOURS = 24


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what was found (Persian and English) and the command that fixes it."""

    check: str
    status: str
    fa: str
    en: str
    fix: str = ""


def _found(check: str, status: str, key: str, fix: str = "", /, **values: object) -> Finding:
    """A finding in the shell catalogue's words (seda/translations)."""
    return Finding(check, status, *MESSAGES.both(key, **values), fix)


def _ok(check: str, key: str, /, **values: object) -> Finding:
    return _found(check, OK, key, **values)


def _persian_and(key: str, own_words: str, check: str, status: str, fix: str = "") -> Finding:
    """A finding whose English line is an error's own words (already English, and more exact
    than any sentence of ours), with the catalogue's Persian above it."""
    return Finding(check, status, MESSAGES.text(key, "fa"), own_words, fix)


def _decimal(text: str) -> Callable[[str], str]:
    """A decimal figure as a value: Persian digits in Persian."""
    return lambda locale: fa_n(text) if locale == "fa" else text


# -- the checks -------------------------------------------------------------------------


def check_identity(home: Path) -> Iterator[Finding]:
    try:
        office = read_office(home)
    except OfficeIdentityError as exc:
        yield _persian_and("doctor_identity_damaged", str(exc), "identity", FAIL, setup_hint())
        return
    if office is None:
        yield _found("identity", FAIL, "doctor_identity_not_set_up", setup_hint())
        return
    problems: list[tuple[str, str]] = []
    try:
        KioskConfig.load(home)
    except (ConfigError, OfficeIdentityError, ValueError) as exc:
        problems.append((MESSAGES.text("doctor_kiosk_yaml_unreadable", "fa"), f"kiosk.yaml: {exc}"))
    try:
        sync_office = load_settings(home).office
        if sync_office != office:
            problems.append(MESSAGES.both("doctor_sync_names_office", office=sync_office))
    except SettingsError as exc:
        problems.append((MESSAGES.text("doctor_sync_toml_unreadable", "fa"), f"sync.toml: {exc}"))
    ledger_path = default_ledger_path(home)
    if ledger_path.exists():
        try:
            with Ledger.open(ledger_path) as ledger:
                bound = ledger.bound_office
            if bound != office:
                problems.append(MESSAGES.both("doctor_ledger_bound_to", office=bound or (
                    lambda locale: MESSAGES.text("doctor_no_office", locale))))
        except LedgerError as exc:
            problems.append((MESSAGES.text("doctor_ledger_unopenable", "fa"), f"ledger: {exc}"))
    if problems:
        said = {"fa": [fa for fa, _ in problems], "en": [en for _, en in problems]}
        yield _found("identity", FAIL, "doctor_identity_mismatch", f"seda office setup --office {office}",
                     office=office, problems=lambda locale: MESSAGES.text("list_semicolon", locale).join(said[locale]))
    else:
        yield _ok("identity", "doctor_identity_ok", office=office)


def _private(path: Path) -> bool:
    return os.name != "posix" or not (path.stat().st_mode & 0o077)


def check_keys(home: Path) -> Iterator[Finding]:
    office = _office_or_none(home)
    keys = [("doctor_sync_key", office_key_path(home))]
    if office:
        keys.append(("doctor_sheet_key", sheet_key_path(home, office)))
    for name_key, path in keys:
        name = partial(MESSAGES.text, name_key)
        if not path.is_file():
            yield _found("keys", FAIL, "doctor_key_missing", setup_hint(office or "CODE"), key=name, path=str(path))
        elif not _private(path):
            yield _found("keys", FAIL, "doctor_key_open", f'chmod 600 "{path}"', key=name, path=str(path))
        else:
            yield _ok("keys", "doctor_key_private", key=name)
    if office and load_office_key(home) is not None:
        yield _ok("keys", "doctor_public_key", key=public_key_hex(load_office_key(home).public_key()))


def check_home_privacy(home: Path) -> Iterator[Finding]:
    if os.name != "posix":
        yield _ok("home", "doctor_home_windows")
        return
    wide: list[Path] = []
    for path in [home, *home.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            continue
        if mode & 0o077:
            wide.append(path)
    if wide:
        shown = ", ".join(str(p.relative_to(home)) or "." for p in wide[:5])
        yield _found("home", FAIL, "doctor_home_open", f'chmod -R u=rwX,go= "{home}"', n=len(wide), paths=shown)
    else:
        yield _ok("home", "doctor_home_private", home=str(home))


def check_ledger(home: Path) -> Iterator[Finding]:
    path = default_ledger_path(home)
    if not path.exists():
        yield _found("ledger", WARN, "doctor_no_ledger", setup_hint(_office_or_none(home) or "CODE"), path=str(path))
        return
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            result = [row[0] for row in db.execute("PRAGMA integrity_check")]
            bad_blobs = [sha for sha, data in db.execute("SELECT sha256, data FROM blobs")
                         if hashlib.sha256(data).hexdigest() != sha]
            records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        yield _found("ledger", FAIL, "doctor_ledger_unreadable", "seda restore BACKUP-FILE", error=str(exc))
        return
    if result != ["ok"] or bad_blobs:
        detail = "; ".join(result[:3]) if result != ["ok"] else f"{len(bad_blobs)} attachment(s) changed"
        yield _found("ledger", FAIL, "doctor_ledger_damaged", "seda restore BACKUP-FILE", detail=detail)
    else:
        yield _ok("ledger", "doctor_ledger_ok", n=records)


def _fetch(url: str, timeout: float) -> tuple[dict, datetime | None]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        payload = json.loads(response.read().decode("utf-8"))
        date = response.headers.get("Date")
    return payload, (parsedate_to_datetime(date) if date else None)


def check_sync(home: Path, timeout: float = 5.0) -> Iterator[Finding]:
    try:
        settings = load_settings(home)
    except SettingsError as exc:
        yield _persian_and("doctor_sync_not_set_up", str(exc), "sync", FAIL, setup_hint())
        return
    if not settings.central_url:
        yield _ok("sync", "doctor_sync_usb")
        return
    base = settings.central_url.rstrip("/")
    fix = f"seda sync setup --office {settings.office} --central {base}"
    try:
        _fetch(base + "/v1/health", timeout)
        document, server_date = _fetch(base + "/v1/setup", timeout)
    except (OSError, ValueError) as exc:
        yield _found("sync", FAIL, "doctor_central_silent", "check the network, then: seda sync once",
                     url=base, error=str(exc))
        return
    yield _ok("sync", "doctor_central_answers", url=base)
    offered = str(document.get("central_key", ""))
    if not settings.central_key:
        yield _found("sync", WARN, "doctor_central_key_unpinned", fix + " --central-key KEY")
    elif offered != settings.central_key:
        yield _found("sync", FAIL, "doctor_central_key_differs", fix + " --central-key KEY",
                     offered=offered[:16], pinned=settings.central_key[:16])
    else:
        yield _ok("sync", "doctor_central_key_ok")
    if server_date is not None:
        offset = (datetime.now(timezone.utc) - server_date).total_seconds()
        if abs(offset) > CLOCK_WARN_SECONDS:
            yield _found("clock", WARN, "doctor_clock_off", "timedatectl set-ntp true", n=round(offset))
        else:
            yield _ok("clock", "doctor_clock_ok")


def check_records(home: Path) -> Iterator[Finding]:
    office = _office_or_none(home)
    path = default_ledger_path(home)
    if office is None or not path.exists():
        return
    with Ledger.open(path) as ledger:
        stranded = stranded_counts(ledger) if ledger.bound_office else {}
        state = OfficeSyncState(ledger)
        refused = state.batch_refusals()
        waiting = state.waiting_count(office)
        last_success = state.get("last_success_at")
    for code, count in sorted(stranded.items()):
        yield _found("records", FAIL, "doctor_records_stranded", f"seda office adopt {code} --by NAME",
                     n=count, code=code)
    if refused:
        yield _found("records", FAIL, "doctor_batches_refused", "seda sync status", n=len(refused))
    if waiting and last_success:
        since = datetime.now(timezone.utc) - datetime.fromisoformat(last_success.replace("Z", "+00:00"))
        if since.total_seconds() > WAITING_WARN_HOURS * 3600:
            yield _found("records", WARN, "doctor_records_waiting_long", "seda sync once", n=waiting)
    elif waiting and not last_success:
        yield _found("records", WARN, "doctor_records_never_sent", "seda sync once", n=waiting)
    if not stranded and not refused:
        yield _ok("records", "doctor_records_ok", n=waiting)


def check_disk(home: Path) -> Iterator[Finding]:
    free = shutil.disk_usage(home).free
    gib = free / 1024 ** 3
    if free < DISK_FAIL_BYTES or free < DISK_WARN_BYTES:
        yield _found("disk", FAIL if free < DISK_FAIL_BYTES else WARN, "doctor_disk_low",
                     f'seda backup --out BACKUP-FILE, then free space on the disk of "{home}"',
                     gib=_decimal(f"{gib:.1f}"), home=str(home))
    else:
        yield _ok("disk", "doctor_disk_ok", gib=_decimal(f"{gib:.1f}"))


def check_printer(home: Path, timeout: float = 2.0) -> Iterator[Finding]:
    try:
        setting = KioskConfig.load(home).receipt_printer
    except (ConfigError, OfficeIdentityError, ValueError):
        return  # the identity check has said kiosk.yaml is wrong
    if not setting:
        yield _ok("printer", "doctor_printer_browser")
        return
    try:
        spec = parse_printer(setting)
    except PrinterError as exc:
        yield _persian_and("doctor_printer_setting_wrong", str(exc), "printer", FAIL,
                           f'edit receipt_printer in "{home / "kiosk.yaml"}"')
        return
    if spec.kind == "network":
        try:
            socket.create_connection((spec.target, spec.port), timeout=timeout).close()
        except OSError as exc:
            yield _found("printer", FAIL, "doctor_printer_silent", "check the printer's power and cable, then: seda doctor",
                         printer=str(spec), error=str(exc))
            return
    elif spec.kind == "file" and not Path(spec.target).exists():
        yield _found("printer", FAIL, "doctor_printer_missing", "check the printer's power and cable, then: seda doctor",
                     printer=str(spec))
        return
    yield _ok("printer", "doctor_printer_ok", printer=str(spec))


def check_fonts(home: Path) -> Iterator[Finding]:
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(__import__("forms.fonts", fromlist=["x"]).__file__).parent
    try:
        for name in ("Vazirmatn-Regular", "Vazirmatn-Bold"):
            TTFont(name, str(folder / f"{name}.ttf"))
    except Exception as exc:  # noqa: BLE001 - any failure to load a font is the finding
        yield _found("fonts", FAIL, "doctor_font_broken", "pip install --force-reinstall seda", error=str(exc))
        return
    yield _ok("fonts", "doctor_font_ok")


def check_zbar(home: Path) -> Iterator[Finding]:
    try:
        from pyzbar import pyzbar  # noqa: F401 - loading it loads libzbar
    except Exception as exc:  # noqa: BLE001 - ImportError or OSError from ctypes alike
        yield _found("zbar", FAIL, "doctor_zbar_missing", "sudo apt-get install libzbar0", error=str(exc))
        return
    yield _ok("zbar", "doctor_zbar_ok")


def check_postgres(url: str, timeout: float = 3.0) -> Iterator[Finding]:
    """The centre's PostgreSQL: reachable, which server, and is the schema at the latest step."""
    try:
        probe = probe_postgres(url, timeout)
    except StoreLocationError as exc:
        error = str(exc.values.get("error", exc))
        yield Finding("postgres", FAIL,
                      *CENTRAL_MESSAGES.both("doctor_postgres_unreachable", url=safe_url(url), error=error),
                      "systemctl status postgresql; check host, port, user and password in --store "
                      "(or $SEDA_CENTRAL_STORE)")
        return
    values = {"version": probe.server_version, "latest": str(probe.latest)}
    fix = f"seda central init --store {safe_url(url)}"
    if probe.applied is None:
        yield Finding("postgres", FAIL, *CENTRAL_MESSAGES.both("doctor_postgres_not_seda", **values), fix)
    elif not probe.current:
        yield Finding("postgres", WARN, *CENTRAL_MESSAGES.both(
            "doctor_postgres_behind", applied=str(probe.applied), **values), fix)
    else:
        yield Finding("postgres", OK, *CENTRAL_MESSAGES.both("doctor_postgres_ok", **values))


CHECKS: tuple[Callable[[Path], Iterator[Finding]], ...] = (
    check_identity, check_keys, check_home_privacy, check_ledger, check_sync, check_records,
    check_disk, check_printer, check_fonts, check_zbar)


def _office_or_none(home: Path) -> str | None:
    try:
        return read_office(home)
    except OfficeIdentityError:
        return None


#: What a machine that is only a centre (no office set up) is checked for.
CENTRE_CHECKS: tuple[Callable[[Path], Iterator[Finding]], ...] = (check_home_privacy, check_disk)


def run_checks(home: Path, store_url: str | None = None) -> list[Finding]:
    """Every check's findings, in order; a check that breaks is itself a finding.

    With ``store_url`` (a centre's store) and no office set up, only the centre's checks run."""
    office_checks = CENTRE_CHECKS if store_url and _office_or_none(home) is None else CHECKS
    checks: list[tuple[str, Callable[[], Iterator[Finding]]]] = [
        (check.__name__.removeprefix("check_"), partial(check, home)) for check in office_checks]
    if store_url and store_kind(store_url) == "postgresql":
        checks.append(("postgres", partial(check_postgres, store_url)))
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings.extend(check())
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            findings.append(_found(name, FAIL, "doctor_check_broke", "seda doctor --json (and report the message)",
                                   error=partial(_broke, exc)))
    return findings


def _broke(exc: Exception, locale: str) -> str:
    """A broken check's error: in English with its type, for whoever reports it."""
    return str(exc) if locale == "fa" else f"{exc.__class__.__name__}: {exc}"


_MARK = {OK: "✓", WARN: "!", FAIL: "✗"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help='Print {"ok": bool, "checks": [...]} instead.')
@click.option("--store", "store_url", default=None, envvar="SEDA_CENTRAL_STORE",
              help="At a centre: its store (default $SEDA_CENTRAL_STORE); a postgresql:// store is "
                   "checked for reachability, server version and schema step. Without an office set "
                   "up, only the centre's checks run.")
def doctor_command(as_json: bool, store_url: str | None) -> None:
    """Check this office installation and say what fixes each problem (exit 1 if any).

    Checks the office identity across kiosk, sync and ledger; the keys and their modes; that
    SEDA_HOME is private (0700/0600); the ledger's integrity; the central server, its pinned
    key and the clock; stranded, refused and long-waiting records; disk space; the receipt
    printer; the Persian font; libzbar; at a centre, its PostgreSQL store."""
    home = seda_home()
    if store_url:
        try:
            store_kind(store_url)
        except StoreLocationError as exc:
            raise click.ClickException(str(exc)) from None
    if not home.is_dir() and store_url and store_kind(store_url) == "postgresql":
        findings = list(check_postgres(store_url))  # a centre on PostgreSQL may keep nothing in SEDA_HOME
    elif not home.is_dir():
        findings = [_found("home", FAIL, "doctor_home_missing", setup_hint(), home=str(home))]
    else:
        findings = run_checks(home, store_url)
    healthy = all(f.status == OK for f in findings)
    if as_json:
        click.echo(json.dumps({"ok": healthy, "home": str(home), "checks": [asdict(f) for f in findings]},
                              ensure_ascii=False, indent=2))
    else:
        for f in findings:
            click.echo(f"{_MARK[f.status]} [{f.check}] {f.fa}\n    {f.en}")
            if f.fix:
                click.echo(f"    → {f.fix}")
        click.echo(MESSAGES.line("doctor_all_good" if healthy else "doctor_needs_attention"))
    sys.exit(0 if healthy else 1)
