"""Staff pages: dashboard, cases, call list, sheet printing, paper review queue and scan upload.

Behind a login (argon2 passwords, see :mod:`kiosk.accounts`) and a CSRF token on every form.
They live under ``/staff`` on the same server, but no visitor screen links here.  A staff
session is a row in the accounts file (idle and absolute expiry, ended by signing out, a new
password or ``seda kiosk user disable``); the cookie carries only its random token.  Ending
the visit on the kiosk's own screen (its reset) ends that browser's staff session too, so the
next visitor never inherits it.

Misconduct reports are routed to the oversight unit (Article 9, clause 1): these pages show
how many were sent, never their text or recordings.

The blueprint, sign-in check and CSRF token are in kiosk/staff_session.py (scanning with a
phone, kiosk/phone_scan.py, and the cases list without visitors' identity, kiosk/staff_cases.py,
add their routes to the same blueprint).  The review queue is the
ledger's (``ledger.review_queue``), with the scanner's words for its reasons; scan upload only
saves and queues the files (:mod:`kiosk.scan_queue` reads them with ``scanner.pipeline`` in a
process of its own, never on a request thread).
"""
from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from flask import Response, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.utils import secure_filename

from ledger.issuance import print_sheets as issue_sheets, sheet_portal_url
from ledger.ledger import LedgerError
from ledger.review_queue import open_items, resolve
from scanner.reasons import message as scanner_message

from . import dashboard as dashboard_lib, published
from .accounts import SESSION_IDLE_SECONDS
from .review_words import value_words
from .scan_queue import save_upload
from .staff_session import _, bp, login_required
from .state import accounts, ledger, state

MAX_SCAN_FILES = 50
#: Staff are signed out after this long without opening a staff page.
STAFF_IDLE_SECONDS = SESSION_IDLE_SECONDS
SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".bmp", ".webp"}


# -- sign in / out ------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "").strip().lower()
        password = request.form.get("password", "")
        per_name, kiosk_wide = state().staff_logins, state().staff_logins_kiosk
        # Each try is counted before the password is checked (parallel tries get no extras).
        refusal = kiosk_wide.attempt("login")
        if refusal is None:
            refusal = per_name.attempt(f"login:{name}")
            if refusal is not None:
                kiosk_wide.forgive("login")
        if refusal is not None:
            error, status = _("staff_login_wait", seconds=refusal.retry_after), 429
        else:
            account = accounts().authenticate(name, password)
            if account is None:
                error, status = _("staff_bad_login"), 401
            else:
                per_name.succeed(f"login:{name}")
                kiosk_wide.forgive("login")
                visit = session.get("visit")
                accounts().end_session(session.get("staff_token"))
                session.clear()  # a fresh session: no fixation, new CSRF token
                g.staff_token_at_start = None
                if visit:
                    session["visit"] = visit
                session["staff_token"] = accounts().start_session(account.name, now=time.time())
                target = request.args.get("next", "")
                if not target.startswith("/staff/") or target.startswith("//"):
                    target = url_for(".dashboard")
                return redirect(target)
    return render_template("staff/login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    accounts().end_session(session.pop("staff_token", None))
    session.pop("staff_csrf", None)
    return redirect(url_for(".login"))


@bp.route("/lang")
def lang():
    session["staff_lang"] = "en" if session.get("staff_lang", "fa") == "fa" else "fa"
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/staff") else url_for(".dashboard"))


# -- dashboard and cases --------------------------------------------------------


@bp.route("/")
@login_required("office_manager")
def dashboard():
    form = published.survey_form()
    summary = dashboard_lib.summarize(ledger().records("survey_response"),
                                      ledger().records("review_decision"), form,
                                      datetime.now(timezone.utc), catalog=published.form_catalog())
    labels = {q.id: q.label for q in form.questions}
    matched_options = form.question("matched_announcement").options \
        if any(q.id == "matched_announcement" for q in form.questions) else ()
    from forms.persian import jalali_month_name

    year, number = (int(part) for part in summary.figures["month"].split("-"))
    month_label = f"{jalali_month_name(number, 'en' if g.lang == 'en' else 'fa')} {year}"
    return render_template("staff/dashboard.html", summary=summary, labels=labels,
                           matched_options=matched_options, questions=form.questions,
                           month_label=month_label,
                           now=datetime.now(timezone.utc))


@bp.route("/calls")
@login_required("office_manager")
def calls():
    """Visitors who agreed to be called back, with their mobile number; every view is audited."""
    from . import calls as calls_lib

    include_done = request.args.get("all") == "1"
    entries = calls_lib.call_entries(ledger().records("survey_response"), ledger().records("review_decision"),
                                     ledger().records("audit"), include_done=include_done)
    ledger().append("audit", {"event": "call_list_view", "by": g.staff.name, "shown": len(entries),
                              "include_done": include_done}, office=state().config.office)
    return render_template("staff/calls.html", entries=entries, include_done=include_done,
                           marks=calls_lib.MARKS)


@bp.route("/calls/<response_uuid>", methods=["POST"])
@login_required("office_manager")
def call_mark(response_uuid: str):
    """Mark one entry called / not reachable / done (an audit record in the ledger)."""
    from . import calls as calls_lib

    status = request.form.get("status", "")
    listed = {e.response for e in calls_lib.call_entries(
        ledger().records("survey_response"), ledger().records("review_decision"), ledger().records("audit"),
        include_done=True)}
    if status not in calls_lib.MARKS or response_uuid not in listed:
        flash(_("staff_call_bad"))
        return redirect(url_for(".calls")), 303
    ledger().append("audit", {"event": "call_mark", "response": response_uuid, "status": status,
                              "by": g.staff.name}, office=state().config.office)
    flash(_("staff_call_saved"))
    return redirect(url_for(".calls", all="1" if request.form.get("all") == "1" else None))


@bp.route("/attachment/<sha256>")
@login_required("office_manager")
def attachment(sha256: str):
    """A voice message or crop; never one that belongs to a report meant for oversight."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        abort(404)
    allowed = None
    for record in ledger().records("case"):
        if sha256 in record.body.get("attachments", []):
            allowed = record.body.get("route") != "oversight"
            break
    if allowed is False:
        abort(403)
    return _blob_response(sha256)


def _blob_response(sha256: str) -> Response:
    try:
        data = ledger().blob(sha256)
    except KeyError:
        abort(404)
    media_type = "application/octet-stream"
    for record in ledger().find("attachment", "sha256", sha256):
        media_type = record.body.get("media_type", media_type)
        break
    if not media_type.startswith(("image/", "audio/")):
        media_type = "application/octet-stream"
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = "inline"
    return response


# -- printing -------------------------------------------------------------------


@bp.route("/print", methods=["GET", "POST"])
@login_required("office_manager")
def print_sheets():
    """Print N new survey sheets; serials are recorded in the ledger before the PDF exists."""
    error = None
    if request.method == "POST":
        try:
            count = int(request.form.get("count", "0").strip().translate(
                str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")))
        except ValueError:
            count = 0
        if not 1 <= count <= 1000:
            error = "1 - 1000"
        else:
            config = state().config
            with tempfile.TemporaryDirectory(prefix="seda-print-") as folder:
                out = Path(folder) / "sheets.pdf"
                try:
                    form = published.survey_form()  # the newest version, the centre's once synced
                    run = issue_sheets(config.home, form, config.office, count, out,
                                       portal_url=sheet_portal_url(config.home, form, config.portal_url))
                except (ValueError, OSError, LedgerError) as exc:
                    error = str(exc)
                else:
                    pdf = out.read_bytes()
                    name = (f"{run.form}-v{run.version}-{run.office}-"
                            f"{run.serials.start}-{run.serials.stop - 1}.pdf")
                    response = Response(pdf, mimetype="application/pdf")
                    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
                    return response
    return render_template("staff/print.html", error=error), (400 if error else 200)


# -- paper review queue -----------------------------------------------------------


@bp.route("/review")
@login_required("scanner_operator")
def review():
    items = open_items(ledger())
    return render_template("staff/review.html", items=items, questions=_questions_by_id(),
                           reason_text=_reason_text, words=_value_words)


def _value_words(question, value) -> str:
    return value_words(question, value, g.lang, no_answer=_("staff_review_no_answer"))


def _reason_text(reason: str) -> str:
    """The scanner's own words for why it was unsure, in the staff page's language."""
    return scanner_message(reason, g.lang)


def _questions_by_id():
    found = {}
    for form in published.form_catalog():
        for question in form.questions:
            found.setdefault(question.id, question)
    return found


@bp.route("/review/<item_id>", methods=["POST"])
@login_required("scanner_operator")
def review_decide(item_id: str):
    """Record one decision; ``ledger.review_queue.resolve`` writes the audited decision record."""
    action = request.form.get("action", "")
    if action == "blank":
        value = "-"
    elif "choice" in request.form:  # one tap on the right option
        value = request.form["choice"]
    elif action == "correct":
        value = request.form.get("value", "")
    else:  # confirm the machine's reading
        value = _as_text(_decode_json(request.form.get("machine_value", "null")))
    try:
        resolve(ledger(), item_id, value, by=g.staff.name)
    except (KeyError, ValueError, LedgerError) as exc:
        flash(str(exc))
    else:
        flash(_("staff_review_done"))
    return redirect(url_for(".review"))


def _decode_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_text(value) -> str:
    """``resolve`` takes what a person would type: option values, "a,b" for several, "-" blank."""
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


@bp.route("/blob/<sha256>")
@login_required("scanner_operator")
def blob(sha256: str):
    """Image crops and whole sheet images for the review queue."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        abort(404)
    for record in ledger().records("case"):
        if sha256 in record.body.get("attachments", []):
            abort(403)  # case attachments are not review images
    return _blob_response(sha256)


# -- scan upload ------------------------------------------------------------------


@bp.route("/scan", methods=["GET", "POST"])
@login_required("scanner_operator")
def scan():
    """Upload scans: the files are saved and queued (kiosk.scan_queue) and the page lists every
    upload's state; reading happens in a process of its own, never on this request's thread."""
    error, status = None, 200
    if request.method == "POST":
        files = [f for f in request.files.getlist("files") if f and f.filename][:MAX_SCAN_FILES]
        uploads = []
        for index, upload in enumerate(files):
            name = secure_filename(upload.filename) or f"upload-{index}"
            if Path(name).suffix.lower() in SCAN_SUFFIXES:
                uploads.append((name, save_upload(upload.stream)))
        if not uploads:
            error, status = _("staff_scan_files"), 400
        else:
            job = state().scans.submit(g.staff.name, uploads)
            if job is None:
                error, status = _("staff_scan_queue_full", waiting=state().config.scan_queue_size), 503
            else:
                flash(_("staff_scan_queued", files=len(job.files)))
                return redirect(url_for(".scan"), code=303)
    scans = state().scans
    jobs = scans.jobs()
    return render_template("staff/scan.html", jobs=jobs, error=error, position=scans.position,
                           config=state().config,
                           refresh=any(not job.finished for job in jobs)), status
