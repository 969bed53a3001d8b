"""`seda demo`: the kiosk and the central server running side by side on embedded SQLite.

Everything lives under $SEDA_HOME: the office's ledger and keys; the central installation in
`central/` (its store and its own keys: the sync key and the oversight key pair, as on a real
central host, never among the office's keys); demo sheets and the demo's passwords in `demo/`.
The office is set up like a real one (`seda sync setup` fetches and pins the central key and
the signed oversight key), so misconduct reports are sealed from the first report.

The first run seeds what a visitor to a real office would find (a few cases, one already
answered by the central office, a sealed misconduct report the oversight user can open,
scanned paper sheets, kiosk surveys; the central office's units, routing rules and one person
in every role, each with a password of their own, printed once and kept in
`demo/passwords.txt`, readable only by its owner); later runs keep what is there and just
start the servers again.
"""
from __future__ import annotations

import io
import random
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from forms.cli import refusal
import cv2
import numpy as np
import pypdfium2

from forms import build_layout, builtin_catalog, seda_home
from forms.office_identity import OfficeIdentityError
from ledger.office_binding import claim_office
from ledger.ledger import LedgerError
from forms.private_files import private_folder, write_private
from ledger import Ledger, default_ledger_path
from sync.client import sync_once
from ledger.sync_settings import write_settings
from central.casework import Casework
from central.demo_seed import DEMO_USERS, seed_central_demo
from central.figures import set_office_name
from central.server import start_central
from central.store import open_store
from forms.identity_keys import ensure_office_key
from forms.signatures import public_key_hex
from ledger.issuance import print_sheets
from ledger.sync_settings import SyncSettings
from sync.trust import fetch_setup_document, pin_central
from ledger.report_key import report_key

from kiosk.accounts import AccountStore
from kiosk.app import create_app
from kiosk.cases import CaseDraft, file_case
from kiosk.config import KioskConfig
from kiosk.server import start_in_thread
from kiosk.survey import survey_response_body

DEMO_OFFICE = "DEMO-01"
DEMO_SHEETS = 10
DEMO_STAFF = "demo"
SCANNED_SHEETS = 3
KIOSK_SURVEYS = 40


def render_preview(pdf: Path, png: Path, dpi: int = 100) -> Path:
    """First page of `pdf` as a PNG, so a person can look at a sheet without printing it."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        buffer = io.BytesIO()
        document[0].render(scale=dpi / 72).to_pil().save(buffer, format="PNG")
    finally:
        document.close()
    return write_private(png, buffer.getvalue())


def _filled_sheet_images(pdf: Path, count: int, rng: random.Random, out_dir: Path) -> list[Path]:
    """Photograph-free stand-ins for filled sheets: pages with pen-dark circles on answers."""
    form = builtin_catalog().get("satisfaction")
    layout = build_layout(form)
    scale = 200 / 72
    paths = []
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        for index in range(count):
            page = np.array(document[index].render(scale=scale).to_pil().convert("L"))
            for question in layout.questions:
                if question.kind != "single" or question.id == "follow_up_consent":
                    continue
                x, y, w, h = rng.choice(question.options)[1]
                centre = (int((x + w / 2) * scale), int((y + h / 2) * scale))
                cv2.circle(page, centre, int(w / 2 * scale * 0.8), 35, -1)
            path = out_dir / f"scan-{index + 1:02d}.png"
            ok, png = cv2.imencode(".png", page)
            assert ok, "OpenCV could not encode a PNG"
            paths.append(write_private(path, png.tobytes()))
    finally:
        document.close()
    return paths


#: The mobile on the demo's answered case: the follow-up screen asks its last four digits.
DEMO_ANSWERED_MOBILE = "09121234567"


def _seed(home: Path, central_store, echo) -> list[str]:
    """First-run demo data; returns the tracking codes a visitor can follow up."""
    from scanner.pipeline import scan_paths

    rng = random.Random(1405)
    demo_dir = home / "demo"
    form = builtin_catalog().get("satisfaction")
    run = print_sheets(home, form, DEMO_OFFICE, DEMO_SHEETS, demo_dir / "sheets.pdf")
    render_preview(run.out, demo_dir / "sheet-preview.png")
    scans = _filled_sheet_images(run.out, SCANNED_SHEETS, rng, demo_dir)
    results = list(scan_paths(scans, home=home, store=True))
    echo(f"  scanned {len(results)} filled demo sheets into the ledger "
         f"({sum(r.status == 'accepted' for r in results)} accepted)")
    codes = []
    now = datetime.now(timezone.utc)
    with Ledger.open(default_ledger_path(home)) as ledger:
        for n in range(KIOSK_SURVEYS):
            answers = {q.id: rng.choice(q.options).value for q in form.questions
                       if q.kind == "single" and q.id != "follow_up_consent"}
            walked_away = n % 6 == 5  # left after two questions: stored as incomplete
            if walked_away:
                answers = {key: answers[key] for key in ("service", "workflow")}
            body = survey_response_body(form, answers, submitted=not walked_away,
                                        kiosk_id="kiosk-1", visit=secrets.token_hex(8))
            ledger.append("survey_response", body, office=DEMO_OFFICE,
                          created_at=now - timedelta(hours=n * 7))
        drafts = [
            CaseDraft(type="complaint", service="smart_id_card", anonymous=False,
                      text="سه بار برای تحویل کارت هوشمند ملی مراجعه کردم و هر بار گفتند آماده نیست.",
                      name="مریم احمدی", mobile=DEMO_ANSWERED_MOBILE),
            CaseDraft(type="suggestion", service="birth_registration", anonymous=True,
                      text="لطفاً فهرست مدارک لازم را کنار در ورودی نصب کنید."),
            CaseDraft(type="request", service="record_correction", anonymous=False,
                      text="درخواست اصلاح تاریخ تولد در شناسنامه دارم.", name="رضا کریمی"),
        ]
        for draft in drafts:
            codes.append(file_case(ledger, draft, office=DEMO_OFFICE).tracking_code)
        # A misconduct report, sealed at the kiosk like every one: filed two hours ago, so its
        # hour is over and it joins the ledger (and reaches oversight) at the next sync.
        report = CaseDraft(type="misconduct", service="smart_id_card", anonymous=True,
                           text="کارمند باجهٔ ۲ برای جلو انداختن نوبت پول خواست.")
        file_case(ledger, report, office=DEMO_OFFICE, report_key=report_key(home, ledger),
                  now=now - timedelta(hours=2))
    sync_once(home)  # the cases reach the centre and are routed by the demo rules
    casework = Casework(central_store)
    first, second = (casework.inbox(tracking_code=code, status="all")[0] for code in codes[:2])
    casework.assign(first.uuid, "cards.sara", actor="cards.head")
    casework.answer(first.uuid, "کارت شما آماده تحویل است؛ با همراه داشتن رسید ثبت‌نام به باجه ۳ مراجعه کنید.",
                    actor="cards.sara")
    casework.change_status(second.uuid, "in_progress", actor=f"{second.unit}.head",
                           note="فهرست مدارک در حال تهیه است و تا پایان هفته نصب می‌شود.")
    sync_once(home)  # and the answers come back to the office
    return codes


@click.command("demo")
@click.option("--kiosk-port", default=8080, show_default=True, help="0 picks a free port.")
@click.option("--central-port", default=8750, show_default=True, help="0 picks a free port.")
@click.option("--once", is_flag=True, help="Start, check both servers answer, then stop.")
def demo_command(kiosk_port: int, central_port: int, once: bool) -> None:
    """Start the kiosk and the central server with demo data on embedded SQLite."""
    home = seda_home()
    try:  # the demo's office is this home's office; a real office's home is refused
        claim_office(home, DEMO_OFFICE)
    except (OfficeIdentityError, LedgerError) as exc:
        raise refusal(exc) from None
    private_folder(home / "demo")
    central_home = home / "central"
    central_store = open_store(central_home / "central.sqlite3")
    try:
        central = start_central(central_store, port=central_port, home=central_home)
    except OSError as exc:
        raise click.ClickException(f"cannot start the central server on port {central_port}: "
                                   f"{exc} (try --central-port 0)") from None
    key, _ = ensure_office_key(home)
    if central_store.office(DEMO_OFFICE) is None:
        central_store.add_office(DEMO_OFFICE, public_key_hex(key))
        set_office_name(central_store, DEMO_OFFICE, "اداره ثبت احوال (نمونه)", "Civil Registration Office (demo)")
    settings = SyncSettings(office=DEMO_OFFICE, central_url=central.url, interval_seconds=10.0,
                            max_backoff_seconds=60.0)
    write_settings(home, settings)
    # what `seda sync setup --central URL` does: pin the centre's key, keep the oversight key
    pin_central(home, settings, fetch_setup_document(central.url))
    config = KioskConfig.load(home, office=DEMO_OFFICE)
    passwords = home / "demo" / "passwords.txt"
    new_logins: list[tuple[str, str, str]] = []
    with AccountStore(config.state_folder / "accounts.sqlite3") as accounts:
        if accounts.get(DEMO_STAFF) is None:
            password = secrets.token_urlsafe(12)
            accounts.add(DEMO_STAFF, "office_manager", password)
            new_logins.append(("kiosk staff", DEMO_STAFF, password))
    created = seed_central_demo(central_store)
    new_logins += [("central " + DEMO_USERS[name][0], name, pw) for name, pw in created.items()]
    if new_logins:  # each person their own password: shown now, kept only in a 0600 file
        old = passwords.read_text(encoding="utf-8") if passwords.exists() else ""
        write_private(passwords, old + "".join(f"{who}\t{name}\t{pw}\n" for who, name, pw in new_logins))
    click.echo(f"Seda demo in {home}")
    seeded = home / "demo" / "seeded.txt"
    if not seeded.exists():
        codes = _seed(home, central_store, click.echo)
        write_private(seeded, "\n".join(codes) + "\n")
    codes = seeded.read_text(encoding="utf-8").split()
    try:
        kiosk = start_in_thread(create_app(config), port=kiosk_port)
    except OSError as exc:
        central.stop()
        raise click.ClickException(f"cannot start the kiosk on port {kiosk_port}: {exc} "
                                   "(try --kiosk-port 0)") from None
    from sync.client import run_forever

    stop = threading.Event()
    syncing = threading.Thread(target=run_forever, args=(home, stop), name="seda-sync", daemon=True)
    syncing.start()
    click.echo(f"  kiosk (visitor screens):  {kiosk.url}/")
    click.echo(f"  staff pages:              {kiosk.url}/staff/   login {DEMO_STAFF}")
    click.echo(f"  central office:           {central.url}/   (store {central_home})")
    click.echo("    logins: " + ", ".join(f"{name} ({role})" for name, (role, _, _) in DEMO_USERS.items()))
    if new_logins:
        click.echo("  passwords (shown this once; kept in "
                   f"{passwords}, readable only by you):")
        for who, name, pw in new_logins:
            click.echo(f"    login {name} / {pw}   ({who})")
    else:
        click.echo(f"  passwords: in {passwords} (shown at the first run; readable only by you)")
    click.echo(f"  demo sheets to print:     {home / 'demo' / 'sheets.pdf'}")
    click.echo(f"  tracking codes to follow up: {', '.join(codes)} (the first is answered; the follow-up "
               f"asks its mobile's last four digits: {DEMO_ANSWERED_MOBILE[-4:]}; the others gave no mobile)")
    click.echo("  misconduct reports are sealed; one waits for the oversight user.  A report filed "
               "now reaches the centre after its hour has ended (it keeps no finer time).")
    click.echo("  office sync runs every 10 s.  Ctrl+C stops everything.")
    try:
        if once:
            import urllib.request
            for url in (kiosk.url + "/", central.url + "/v1/health", central.url + "/login"):
                with urllib.request.urlopen(url, timeout=10) as response:
                    click.echo(f"  {url} -> {response.status}")
            return
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        stop.set()
        kiosk.stop()
        central.stop()
        central_store.close()
