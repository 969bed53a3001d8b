"""The portal's routes: a Flask app of its own, sharing only the central store and keys.

Nothing of the staff pages, the sync API or Open311 is registered here, so mounting the portal
on its own host name and port exposes none of them (``seda central portal serve``).  The app
keeps no session and sets no cookie but the language choice; each form carries what it needs.

Routes (docs/portal.md):

- ``GET  /``                         what the portal offers
- ``GET|POST /file``                 a request, complaint, suggestion or criticism
- ``GET|POST /report``               a misconduct report (sealed; anonymous by default)
- ``GET|POST /follow``               a case by tracking code + the mobile's last four digits
- ``GET  /f/<code>``                 the same, from a receipt's QR code (``?o=OFFICE&s=TOKEN``)
- ``POST /verdict``                  "was it solved?" on the current answer
- ``GET  /services``, ``/contacts``  the catalogue and directory the central office published
- ``GET|POST /s/<token>``            the satisfaction survey from a one-time link
- ``GET  /lang``                     switch Persian / English; ``GET /health`` for monitors
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, redirect, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException

from forms import seda_home
from forms.case_form import MAX_TEXT, WRITTEN_TYPES, FieldError, check_case_form
from forms.cases import format_tracking_code, normalize_tracking_code, status_label
from forms.flask_messages import install_messages
from forms.persian import to_ascii_digits
from forms.survey_tokens import TokenRefused

from ..casework import CaseworkError
from ..keys import CentralKeys
from ..verdicts import MAX_COMMENT, record_verdict
from ..messages import MESSAGES
from ..web.i18n import LANG_COOKIE, current_lang, fa_digits, jalali, locale_selector, t
from .abuse import AbuseLimits
from .catalogue import published_services
from .directory import published_contacts
from .follow_up import find_case
from .intake import AttachmentRefused, Filed, check_attachment, file_case, file_report, new_submission_id
from .offices import office_choices
from .settings import PortalSettings
from .survey import check_token, read_answers, survey_form, token_form, use_token

__all__ = ["create_portal_app"]

log = logging.getLogger("seda.central.portal")
_FONTS = Path(__file__).resolve().parent.parent / "static" / "central" / "fonts"
_CSP = ("default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:;"
        " form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _services() -> list[tuple[str, str, str]]:
    question = survey_form().question("service")
    return [(str(o.value), o.label.fa, o.label.en) for o in question.options]


def create_portal_app(store, *, home: Path | None = None,
                      settings: PortalSettings | None = None,
                      keys: CentralKeys | None = None) -> Flask:
    """The portal over ``store``; ``home`` holds the central keys (default ``$SEDA_HOME``)."""
    settings = settings or PortalSettings.from_environment()
    home = Path(home) if home is not None else seda_home()
    keys = keys or CentralKeys(home, store)
    limits = AbuseLimits(store, home, settings)
    app = Flask("central.portal", root_path=str(Path(__file__).resolve().parent),
                static_folder="static", static_url_path="/static",
                template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_attachment_bytes + 64 * 1024
    app.extensions["seda.portal"] = {"store": store, "settings": settings, "keys": keys}
    install_messages(app, MESSAGES, locale_selector)
    service_ids = {code for code, _, _ in _services()}

    @app.context_processor
    def helpers() -> dict:
        lang = current_lang()
        return {"t": t, "lang": lang, "num": fa_digits, "jdate": jalali,
                "tracking": lambda code: format_tracking_code(code),
                "status_text": lambda s: status_label(s)[0 if lang == "fa" else 1],
                "settings": settings, "today": datetime.now(timezone.utc)}

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.method == "POST" or request.path.startswith(("/f/", "/s/", "/follow")):
            response.headers["Cache-Control"] = "no-store"
        elif request.path.startswith("/static/") or request.path.startswith("/fonts/"):
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    def page(template: str, status: int = 200, **values) -> Response:
        return Response(render_template(f"portal/{template}", **values), status=status,
                        mimetype="text/html")

    def message(text: str, status: int, title: str | None = None) -> Response:
        return page("message.html", status, title=title or t("portal_title"), text=text)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code == 413:
            return message(t("portal_too_large"), 413)
        if error.code == 404:
            return message(t("portal_not_found"), 404)
        return message(t("portal_error"), error.code or 400)

    @app.errorhandler(Exception)
    def fault(error: Exception) -> Response:
        log.exception("portal fault")  # never the address or the form: only the fault
        return message(t("portal_error"), 500)

    def address() -> str:
        return request.remote_addr or "unknown"

    def too_many(verdict) -> Response:
        answer = message(t("portal_too_many", seconds=verdict.retry_after), 429)
        answer.headers["Retry-After"] = str(verdict.retry_after)
        return answer

    @app.get("/health")
    def health() -> Response:
        with store.connect() as db:
            db.one("SELECT 1")
        return Response('{"ok": true}', mimetype="application/json")

    @app.get("/favicon.svg")
    def favicon() -> Response:
        return send_from_directory(_FONTS.parent, "favicon.svg")

    @app.get("/fonts/<name>")
    def fonts(name: str) -> Response:
        return send_from_directory(_FONTS, name)

    @app.get("/lang")
    def lang() -> Response:
        target = request.args.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        answer = redirect(target)
        answer.set_cookie(LANG_COOKIE, "en" if current_lang() == "fa" else "fa",
                          max_age=365 * 86400, samesite="Lax", httponly=True)
        return answer

    @app.get("/")
    def home_page() -> Response:
        return page("home.html")

    # -- filing ------------------------------------------------------------------------

    def filing_form(report: bool, status: int = 200, errors=(), values=None) -> Response:
        return page("file.html", status, report=report, errors=list(errors), values=values or {},
                    types=WRITTEN_TYPES, services=_services(), offices=office_choices(store),
                    submission=new_submission_id(), max_text=MAX_TEXT,
                    max_mb=round(settings.max_attachment_bytes / (1024 * 1024), 1))

    def receive(report: bool) -> Response:
        form = request.form
        if form.get("website"):  # the honeypot: people never see it, bots fill it
            return message(t("portal_honeypot"), 400)
        submission = form.get("submission", "")
        if len(submission) != 32:
            return message(t("portal_form_expired"), 400)
        case_type = "misconduct" if report else form.get("type", "")
        values = dict(form.items())
        # The page always shows the box (ticked for a report): an unticked box sends nothing.
        values["anonymous"] = "1" if form.get("anonymous") else ""
        draft, errors = check_case_form(values, case_type, service_ids, channel="portal")
        attachment = None
        upload = request.files.get("attachment")
        try:
            attachment = check_attachment(upload.read() if upload else b"",
                                          settings.max_attachment_bytes)
        except AttachmentRefused as exc:
            errors.append(FieldError("attachment", exc.message_fa, exc.message_en))
        if errors or draft is None:
            return filing_form(report, 400, errors, values)
        verdict = limits.filing(address())
        if not verdict.allowed:
            return too_many(verdict)
        extra = {}
        office = form.get("office", "")
        if office and office in office_choices(store):
            extra["office_about"] = office
        try:
            if report:
                filed = file_report(store, keys, draft, submission=submission, attachment=attachment)
            else:
                filed = file_case(store, draft, submission=submission, attachment=attachment,
                                  extra=extra)
        except ValueError:
            return message(t("portal_form_expired"), 400)
        return filed_page(filed)

    def filed_page(filed: Filed) -> Response:
        base = settings.public_url or request.host_url.rstrip("/")
        return page("filed.html", 201, filed=filed,
                    follow_url=f"{base}/f/{filed.tracking_code}")

    @app.get("/file")
    def file_page() -> Response:
        chosen = request.args.get("type", "")
        return filing_form(False, values={"type": chosen} if chosen in WRITTEN_TYPES else {})

    @app.post("/file")
    def file_post() -> Response:
        return receive(report=False)

    @app.get("/report")
    def report_page() -> Response:
        return filing_form(True, values={"anonymous": "1"})

    @app.post("/report")
    def report_post() -> Response:
        return receive(report=True)

    # -- following a case -----------------------------------------------------------------

    def follow_form(status: int = 200, error: str = "", code: str = "", office: str = "",
                    token: str = "") -> Response:
        return page("follow.html", status, error=error, code=code, office=office, token=token)

    def show(code: str, last4: str, office: str, token: str = "", note: str = "") -> Response:
        code = normalize_tracking_code(code)
        last4 = to_ascii_digits(last4 or "").strip()
        verdict = limits.lookup(address())
        if not verdict.allowed:
            return too_many(verdict)
        waiting = limits.code_may_try(code) if code.isdigit() else None
        if waiting is not None and not waiting.allowed:
            return follow_form(429, t("portal_follow_wait", seconds=waiting.retry_after), code, office)
        found = find_case(store, code, last4, office=office or None)
        if found.outcome == "wrong_digits":
            limits.wrong_try(code)
            return follow_form(403, t("portal_follow_wrong_digits"), code, office, token)
        if found.outcome == "held":
            return follow_form(200, t("portal_follow_held", hour=jalali(found.held_until)), code,
                               office, token)
        if found.outcome != "found":
            return follow_form(404, t("portal_follow_unknown"), code, office, token)
        return page("case.html", case=found.case, last4=last4, office=office, token=token, note=note,
                    max_comment=MAX_COMMENT)

    @app.get("/follow")
    def follow_page() -> Response:
        return follow_form()

    @app.post("/follow")
    def follow_post() -> Response:
        return show(request.form.get("code", ""), request.form.get("last4", ""),
                    request.form.get("office", ""), request.form.get("token", ""))

    @app.get("/f/<code>")
    def follow_link(code: str) -> Response:
        office = request.args.get("o", "")
        return follow_form(code=normalize_tracking_code(code), office=office,
                           token=request.args.get("s", ""))

    @app.post("/verdict")
    def verdict_post() -> Response:
        form = request.form
        code, last4, office = form.get("code", ""), form.get("last4", ""), form.get("office", "")
        answer = form.get("solved", "")
        if answer not in ("yes", "no"):
            return show(code, last4, office, note=t("portal_verdict_missing"))
        found = find_case(store, code, to_ascii_digits(last4), office=office or None)
        if found.outcome != "found" or found.case.sealed:
            return follow_form(404, t("portal_follow_unknown"), normalize_tracking_code(code), office)
        try:
            updated = record_verdict(store, found.case.case_uuid, solved=answer == "yes",
                                     comment=form.get("comment", ""), channel="portal")
        except CaseworkError as exc:
            return show(code, last4, office, note=exc.message_fa if current_lang() == "fa" else exc.message_en)
        note = (t("portal_verdict_thanks_yes") if answer == "yes"
                else t("portal_verdict_thanks_no", due=jalali(updated.due_at, False)))
        return show(code, last4, office, note=note)

    # -- what the central office publishes ----------------------------------------------------

    @app.get("/services")
    def services_page() -> Response:
        return page("services.html", services=published_services(store))

    @app.get("/contacts")
    def contacts_page() -> Response:
        names = office_choices(store)
        return page("contacts.html", contacts=published_contacts(store), office_names=names)

    # -- the survey from a one-time link -----------------------------------------------------

    def refused(reason: str) -> Response:
        return message(t(f"portal_survey_refused_{reason}"), 410 if reason in ("used", "stale", "on_paper") else 400,
                       title=t("portal_survey_title"))

    @app.get("/s/<token>")
    def survey_page(token: str) -> Response:
        try:
            checked = check_token(store, token, max_age_days=settings.survey_link_days)
        except TokenRefused as exc:
            return refused(exc.reason)
        return page("survey.html", form=token_form(checked, store), token=token,
                    office=office_choices(store).get(checked.office, {}).get(current_lang(), checked.office),
                    error="")

    @app.post("/s/<token>")
    def survey_post(token: str) -> Response:
        if request.form.get("website"):
            return message(t("portal_honeypot"), 400)
        try:
            checked = check_token(store, token, max_age_days=settings.survey_link_days)
        except TokenRefused as exc:
            return refused(exc.reason)
        form = token_form(checked, store)
        answers = read_answers(form, request.form)
        office = office_choices(store).get(checked.office, {}).get(current_lang(), checked.office)
        if not any(v not in (None, [], "") for v in answers.values()):
            return page("survey.html", 400, form=form, token=token, office=office,
                        error=t("portal_survey_no_answer"))
        verdict = limits.filing(address())
        if not verdict.allowed:
            return too_many(verdict)
        if use_token(store, checked, form, answers) is None:
            return refused("used")
        return message(t("portal_survey_thanks"), 201, title=t("portal_survey_title"))

    app.jinja_env.globals["quote"] = quote
    return app
