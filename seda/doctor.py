"""`seda doctor`: is this office installation healthy, and if not, what fixes it?

    seda doctor            # each check in Persian and English, with the command that fixes it
    seda doctor --json     # the same for scripts: {"ok": bool, "checks": [...]}

Checks: the office identity is the same everywhere (office.toml, kiosk.yaml, sync.toml, the
ledger's binding), the keys are there and only the owner can read them, $SEDA_HOME is private
(folders 0700, files 0600), the ledger is intact (SQLite's integrity check; every attachment's
bytes match their hash), the central server answers, its key is the one pinned and the clocks
agree, nothing is stranded, refused or stuck waiting, the disk has room, the receipt printer
setting is valid (and a network printer answers), the Persian fonts load, libzbar loads.

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
from pathlib import Path

import click

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


def _ok(check: str, fa: str, en: str) -> Finding:
    return Finding(check, OK, fa, en)


# -- the checks -------------------------------------------------------------------------


def check_identity(home: Path) -> Iterator[Finding]:
    try:
        office = read_office(home)
    except OfficeIdentityError as exc:
        yield Finding("identity", FAIL, "پروندهٔ کد اداره خراب است.", str(exc), setup_hint())
        return
    if office is None:
        yield Finding("identity", FAIL, "این نصب هنوز برای هیچ اداره‌ای تنظیم نشده است.",
                      "This installation is not set up for an office yet.", setup_hint())
        return
    problems: list[tuple[str, str]] = []
    try:
        KioskConfig.load(home)
    except (ConfigError, OfficeIdentityError, ValueError) as exc:
        problems.append(("تنظیمات کیوسک (kiosk.yaml) خوانده نمی‌شود", f"kiosk.yaml: {exc}"))
    try:
        sync_office = load_settings(home).office
        if sync_office != office:
            problems.append((f"sync.toml کد {sync_office} دارد", f"sync.toml names {sync_office}"))
    except SettingsError as exc:
        problems.append(("sync.toml خوانده نمی‌شود", f"sync.toml: {exc}"))
    ledger_path = default_ledger_path(home)
    if ledger_path.exists():
        try:
            with Ledger.open(ledger_path) as ledger:
                bound = ledger.bound_office
            if bound != office:
                problems.append((f"دفتر ثبت به {bound or 'هیچ اداره‌ای'} بسته شده",
                                 f"the ledger is bound to {bound or 'no office'}"))
        except LedgerError as exc:
            problems.append(("دفتر ثبت باز نمی‌شود", f"ledger: {exc}"))
    if problems:
        yield Finding("identity", FAIL,
                      f"کد اداره {office} است اما " + "؛ ".join(fa for fa, _ in problems) + ".",
                      f"The office is {office}, but " + "; ".join(en for _, en in problems) + ".",
                      f"seda office setup --office {office}")
    else:
        yield _ok("identity", f"کیوسک، اسکنر، چاپ و همگام‌سازی همه ادارهٔ {office} هستند.",
                  f"Kiosk, scanner, printing and sync are all office {office}.")


def _private(path: Path) -> bool:
    return os.name != "posix" or not (path.stat().st_mode & 0o077)


def check_keys(home: Path) -> Iterator[Finding]:
    office = _office_or_none(home)
    keys = [("sync key", "کلید همگام‌سازی", office_key_path(home))]
    if office:
        keys.append(("sheet-signing key", "کلید امضای برگه", sheet_key_path(home, office)))
    for en_name, fa_name, path in keys:
        if not path.is_file():
            yield Finding("keys", FAIL, f"{fa_name} نیست ({path}).", f"The {en_name} is missing ({path}).",
                          setup_hint(office or "CODE"))
        elif not _private(path):
            yield Finding("keys", FAIL, f"{fa_name} را دیگران هم می‌توانند بخوانند ({path}).",
                          f"The {en_name} is readable by others ({path}).", f'chmod 600 "{path}"')
        else:
            yield _ok("keys", f"{fa_name} هست و فقط صاحبش آن را می‌خواند.",
                      f"The {en_name} is present and private (0600).")
    if office and load_office_key(home) is not None:
        pub = public_key_hex(load_office_key(home).public_key())
        yield _ok("keys", f"کلید عمومی این اداره: {pub}", f"This office's public key: {pub}")


def check_home_privacy(home: Path) -> Iterator[Finding]:
    if os.name != "posix":
        yield _ok("home", "ویندوز: دسترسی پوشه با حساب کاربری است.", "Windows: the folder's ACL applies.")
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
        yield Finding("home", FAIL,
                      f"{fa_n(len(wide))} پرونده یا پوشه در SEDA_HOME را دیگران هم می‌بینند: {shown}",
                      f"{len(wide)} file(s) or folder(s) in SEDA_HOME are open to others: {shown}",
                      f'chmod -R u=rwX,go= "{home}"')
    else:
        yield _ok("home", f"SEDA_HOME ({home}) فقط از آنِ صاحبش است (۰۷۰۰/۰۶۰۰).",
                  f"SEDA_HOME ({home}) is private (folders 0700, files 0600).")


def check_ledger(home: Path) -> Iterator[Finding]:
    path = default_ledger_path(home)
    if not path.exists():
        yield Finding("ledger", WARN, "دفتر ثبت هنوز ساخته نشده است.", f"No ledger yet ({path}).",
                      setup_hint(_office_or_none(home) or "CODE"))
        return
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            result = [row[0] for row in db.execute("PRAGMA integrity_check")]
            bad_blobs = [sha for sha, data in db.execute("SELECT sha256, data FROM blobs")
                         if hashlib.sha256(data).hexdigest() != sha]
            records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        yield Finding("ledger", FAIL, f"دفتر ثبت خوانده نمی‌شود: {exc}", f"The ledger cannot be read: {exc}",
                      "seda restore BACKUP-FILE")
        return
    if result != ["ok"] or bad_blobs:
        detail = "; ".join(result[:3]) if result != ["ok"] else f"{len(bad_blobs)} attachment(s) changed"
        yield Finding("ledger", FAIL, f"دفتر ثبت آسیب دیده است ({detail}).", f"The ledger is damaged ({detail}).",
                      "seda restore BACKUP-FILE")
    else:
        yield _ok("ledger", f"دفتر ثبت سالم است ({fa_n(records)} رکورد).", f"The ledger is intact ({records} records).")


def _fetch(url: str, timeout: float) -> tuple[dict, datetime | None]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        payload = json.loads(response.read().decode("utf-8"))
        date = response.headers.get("Date")
    return payload, (parsedate_to_datetime(date) if date else None)


def check_sync(home: Path, timeout: float = 5.0) -> Iterator[Finding]:
    try:
        settings = load_settings(home)
    except SettingsError as exc:
        yield Finding("sync", FAIL, "تنظیمات همگام‌سازی نیست یا خراب است.", str(exc), setup_hint())
        return
    if not settings.central_url:
        yield _ok("sync", "این اداره با حافظهٔ USB همگام می‌شود (نشانی سرور ندارد).",
                  "This office syncs by USB stick (no central address).")
        return
    base = settings.central_url.rstrip("/")
    fix = f"seda sync setup --office {settings.office} --central {base}"
    try:
        _fetch(base + "/v1/health", timeout)
        document, server_date = _fetch(base + "/v1/setup", timeout)
    except (OSError, ValueError) as exc:
        yield Finding("sync", FAIL, f"سرور مرکزی ({base}) پاسخ نمی‌دهد: {exc}",
                      f"The central server ({base}) does not answer: {exc}",
                      "check the network, then: seda sync once")
        return
    yield _ok("sync", f"سرور مرکزی ({base}) پاسخ می‌دهد.", f"The central server ({base}) answers.")
    offered = str(document.get("central_key", ""))
    if not settings.central_key:
        yield Finding("sync", WARN, "کلید سرور مرکزی هنوز ثبت نشده است؛ در نخستین تماس ثبت می‌شود.",
                      "The central key is not pinned yet (it is pinned at the first contact).",
                      fix + " --central-key KEY")
    elif offered != settings.central_key:
        yield Finding("sync", FAIL, "کلید سرور مرکزی با کلید ثبت‌شده در این اداره یکی نیست.",
                      f"The central server offers key {offered[:16]}..., not the pinned "
                      f"{settings.central_key[:16]}...: ask the central office (`seda central key`).",
                      fix + " --central-key KEY")
    else:
        yield _ok("sync", "کلید سرور مرکزی همان کلید ثبت‌شده است.", "The central key is the pinned one.")
    if server_date is not None:
        offset = (datetime.now(timezone.utc) - server_date).total_seconds()
        if abs(offset) > CLOCK_WARN_SECONDS:
            yield Finding("clock", WARN, f"ساعت این رایانه {fa_n(round(offset))} ثانیه با سرور مرکزی فرق دارد.",
                          f"This machine's clock is {round(offset)} s off the central server's.",
                          "timedatectl set-ntp true")
        else:
            yield _ok("clock", "ساعت این رایانه با سرور مرکزی هماهنگ است.",
                      "This machine's clock agrees with the central server's.")


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
        yield Finding("records", FAIL, f"{fa_n(count)} رکورد با کد {code} مانده و هرگز فرستاده نمی‌شود.",
                      f"{count} record(s) under {code} are never sent.", f"seda office adopt {code} --by NAME")
    if refused:
        yield Finding("records", FAIL, f"سرور مرکزی {fa_n(len(refused))} بسته را نپذیرفته است.",
                      f"The central server refused {len(refused)} batch(es).", "seda sync status")
    if waiting and last_success:
        since = datetime.now(timezone.utc) - datetime.fromisoformat(last_success.replace("Z", "+00:00"))
        if since.total_seconds() > WAITING_WARN_HOURS * 3600:
            yield Finding("records", WARN, f"{fa_n(waiting)} رکورد بیش از یک روز است که منتظر فرستادن است.",
                          f"{waiting} record(s) have waited more than a day to be sent.", "seda sync once")
    elif waiting and not last_success:
        yield Finding("records", WARN, f"{fa_n(waiting)} رکورد هنوز هرگز فرستاده نشده است.",
                      f"{waiting} record(s) wait and this office has never synced.", "seda sync once")
    if not stranded and not refused:
        yield _ok("records", f"رکورد گیرکرده‌ای نیست ({fa_n(waiting)} منتظر فرستادن).",
                  f"No stranded or refused records ({waiting} waiting to be sent).")


def check_disk(home: Path) -> Iterator[Finding]:
    free = shutil.disk_usage(home).free
    gib = free / 1024 ** 3
    if free < DISK_FAIL_BYTES or free < DISK_WARN_BYTES:
        yield Finding("disk", FAIL if free < DISK_FAIL_BYTES else WARN,
                      f"فقط {fa_n(f'{gib:.1f}')} گیگابایت جای خالی مانده است.", f"Only {gib:.1f} GiB free on {home}.",
                      f'seda backup --out BACKUP-FILE, then free space on the disk of "{home}"')
    else:
        yield _ok("disk", f"{fa_n(f'{gib:.1f}')} گیگابایت جای خالی هست.", f"{gib:.1f} GiB free.")


def check_printer(home: Path, timeout: float = 2.0) -> Iterator[Finding]:
    try:
        setting = KioskConfig.load(home).receipt_printer
    except (ConfigError, OfficeIdentityError, ValueError):
        return  # the identity check has said kiosk.yaml is wrong
    if not setting:
        yield _ok("printer", "رسید با چاپگر مرورگر چاپ می‌شود (چاپگر رسید تنظیم نشده).",
                  "Receipts print through the browser (no receipt printer set).")
        return
    try:
        spec = parse_printer(setting)
    except PrinterError as exc:
        yield Finding("printer", FAIL, "تنظیم چاپگر رسید درست نیست.", str(exc),
                      f'edit receipt_printer in "{home / "kiosk.yaml"}"')
        return
    if spec.kind == "network":
        try:
            socket.create_connection((spec.target, spec.port), timeout=timeout).close()
        except OSError as exc:
            yield Finding("printer", FAIL, f"چاپگر رسید ({spec}) پاسخ نمی‌دهد.",
                          f"The receipt printer ({spec}) does not answer: {exc}",
                          "check the printer's power and cable, then: seda doctor")
            return
    elif spec.kind == "file" and not Path(spec.target).exists():
        yield Finding("printer", FAIL, f"چاپگر رسید ({spec}) پیدا نشد.", f"The receipt printer ({spec}) is not there.",
                      "check the printer's power and cable, then: seda doctor")
        return
    yield _ok("printer", f"چاپگر رسید: {spec}", f"Receipt printer: {spec}")


def check_fonts(home: Path) -> Iterator[Finding]:
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(__import__("forms.fonts", fromlist=["x"]).__file__).parent
    try:
        for name in ("Vazirmatn-Regular", "Vazirmatn-Bold"):
            TTFont(name, str(folder / f"{name}.ttf"))
    except Exception as exc:  # noqa: BLE001 - any failure to load a font is the finding
        yield Finding("fonts", FAIL, "قلم فارسی (وزیرمتن) بار نمی‌شود.", f"The Persian font does not load: {exc}",
                      "pip install --force-reinstall seda")
        return
    yield _ok("fonts", "قلم فارسی (وزیرمتن) بار می‌شود.", "The Persian font (Vazirmatn) loads.")


def check_zbar(home: Path) -> Iterator[Finding]:
    try:
        from pyzbar import pyzbar  # noqa: F401 - loading it loads libzbar
    except Exception as exc:  # noqa: BLE001 - ImportError or OSError from ctypes alike
        yield Finding("zbar", FAIL, "کتابخانهٔ خواندن کد QR (libzbar) نصب نیست؛ برگه‌ها خوانده نمی‌شوند.",
                      f"libzbar (QR reading) does not load: {exc}", "sudo apt-get install libzbar0")
        return
    yield _ok("zbar", "کتابخانهٔ خواندن کد QR (libzbar) بار می‌شود.", "libzbar (QR reading) loads.")


CHECKS: tuple[Callable[[Path], Iterator[Finding]], ...] = (
    check_identity, check_keys, check_home_privacy, check_ledger, check_sync, check_records,
    check_disk, check_printer, check_fonts, check_zbar)


def _office_or_none(home: Path) -> str | None:
    try:
        return read_office(home)
    except OfficeIdentityError:
        return None


def run_checks(home: Path) -> list[Finding]:
    """Every check's findings, in order; a check that breaks is itself a finding."""
    findings: list[Finding] = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            findings.extend(check(home))
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            findings.append(Finding(name, FAIL, f"این بررسی انجام نشد: {exc}",
                                    f"This check could not run: {exc.__class__.__name__}: {exc}",
                                    "seda doctor --json (and report the message)"))
    return findings


_MARK = {OK: "✓", WARN: "!", FAIL: "✗"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help='Print {"ok": bool, "checks": [...]} instead.')
def doctor_command(as_json: bool) -> None:
    """Check this office installation and say what fixes each problem (exit 1 if any).

    Checks the office identity across kiosk, sync and ledger; the keys and their modes; that
    SEDA_HOME is private (0700/0600); the ledger's integrity; the central server, its pinned
    key and the clock; stranded, refused and long-waiting records; disk space; the receipt
    printer; the Persian font; libzbar."""
    home = seda_home()
    if not home.is_dir():
        findings = [Finding("home", FAIL, f"پوشهٔ SEDA_HOME ({home}) نیست.", f"SEDA_HOME ({home}) does not exist.",
                            setup_hint())]
    else:
        findings = run_checks(home)
    healthy = all(f.status == OK for f in findings)
    if as_json:
        click.echo(json.dumps({"ok": healthy, "home": str(home), "checks": [asdict(f) for f in findings]},
                              ensure_ascii=False, indent=2))
    else:
        for f in findings:
            click.echo(f"{_MARK[f.status]} [{f.check}] {f.fa}\n    {f.en}")
            if f.fix:
                click.echo(f"    → {f.fix}")
        click.echo("همه چیز درست است. / All good." if healthy
                   else "چند مورد رسیدگی می‌خواهد. / Some things need attention.")
    sys.exit(0 if healthy else 1)
