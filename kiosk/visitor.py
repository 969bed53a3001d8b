"""The visitor screens: survey, cases, misconduct report, voice message, follow-up, directory.

Every screen is server-rendered and at most two taps from home.  What a visitor enters is
kept in their :class:`~kiosk.visits.Visit` on the server until it is filed or the visit
ends (:mod:`kiosk.lifecycle`); every POST must carry the visit's form token, so a form from
an ended visit (back button, stale tab) is refused instead of filed under the next visitor.

Every visitor POST has a body limit of its own (:data:`BODY_LIMITS`), far below the app-wide
one that staff scan uploads need, and an oversized one gets a Persian page (JSON for the voice
page's fetch), not a dropped connection.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template,
                   request, session, url_for)
from werkzeug.exceptions import RequestEntityTooLarge

from forms import Question
from forms.case_verdicts import MAX_COMMENT as MAX_VERDICT_COMMENT
from forms.persian import InvalidInput, normalize_input, normalize_mobile, to_ascii_digits

from . import case_verdicts, published
from . import cases as case_lib
from . import receipt_links
from .audio import recorded_audio_type
from .i18n import translate
from .read_aloud import speak, speech_available
from .state import ledger, state
from .survey_flow import SurveyOrder, complaint_offer, survey_order
from forms.tracking_codes import is_valid_tracking_code, normalize_tracking_code
from .visits import Visit

bp = Blueprint("visitor", __name__)

#: Largest body of a form with free text: 4000 characters (the text fields' limit), each up to
#: 6 bytes once UTF-8 and URL-encoded (Persian letters are 2 bytes, %XX each), plus the rest.
TEXT_FORM_BYTES = 32 * 1024
#: Every other visitor request: a few short fields (follow-up code, a tapped choice) or none.
SHORT_FORM_BYTES = 4 * 1024
#: Per endpoint; the voice upload's is the configured recording size plus multipart framing.
BODY_LIMITS = {"visitor.survey_question": TEXT_FORM_BYTES, "visitor.case": TEXT_FORM_BYTES,
               "visitor.report": TEXT_FORM_BYTES}
VOICE_FRAMING_BYTES = 64 * 1024
#: The visit draft that holds a complaint offered after a «خیلی بد» (see :func:`submit_survey`).
COMPLAINT_OFFER = "complaint_offer"


# -- visits -------------------------------------------------------------------


@bp.before_request
def load_visit() -> None:
    """Find this browser's visit or start a new one; every visitor request has ``g.visit``."""
    lifecycle = state().lifecycle
    visit = lifecycle.find(session.get("visit"))
    g.visit_restarted = False
    if visit is None:
        g.visit_restarted = "visit" in session
        visit = lifecycle.begin()
        session["visit"] = visit.id
    g.visit = visit
    g.lang = visit.lang


@bp.before_request
def limit_body() -> None:
    """Refuse an oversized body before anything reads it (and cap what Werkzeug will read)."""
    if request.endpoint == "visitor.voice_upload":
        limit = state().config.voice_max_bytes + VOICE_FRAMING_BYTES
    else:
        limit = BODY_LIMITS.get(request.endpoint or "", SHORT_FORM_BYTES)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """What was sent is bigger than this screen ever sends: say so, in the visitor's words."""
    if request.endpoint == "visitor.voice_upload":
        return jsonify(ok=False, error="voice_too_long", message=_("voice_too_long")), 413
    return render_template("error.html", title_key="too_large_title",
                           body_key="too_large_body"), 413


def _begin_next_visit(ended: Visit, *, keep_display: bool) -> Visit:
    """The browser's next request belongs to a new visit (a staff session on this browser
    ends too); the same person keeps their display choices when they go on (home, thanks)."""
    visit = state().lifecycle.begin(display_from=ended if keep_display else None)
    session.clear()
    session["visit"] = visit.id
    return visit


def check_form_token(view):
    """Refuse a POST whose form came from another (ended) visit: it goes home, unfiled."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method == "POST":
            token = request.form.get("visit") or request.headers.get("X-Visit-Token", "")
            if token != g.visit.form_token:
                if request.accept_mimetypes.best == "application/json" or request.is_json \
                        or request.headers.get("X-Visit-Token") is not None:
                    return jsonify(ok=False, error="visit_ended",
                                   message=_("visit_ended"), next=url_for(".home")), 409
                flash(_("visit_ended"))
                return redirect(url_for(".home"))
        return view(*args, **kwargs)
    return wrapper


def _(key: str, **values: object) -> str:
    return translate(key, g.lang, **values)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/reset")
def reset():
    """End the visit (idle timeout, «شروع دوباره», «پایان» after a receipt): answers given are
    stored, everything else is forgotten, display choices included."""
    state().lifecycle.end(g.visit)
    # The whole cookie goes: a staff member who signed in on the kiosk's own browser is
    # signed out too, so the next visitor never inherits a staff session.
    session.clear()
    return redirect(url_for(".home"))


@bp.route("/home")
def go_home():
    """«صفحه اصلی»: the visit ends as with "start again" -- answers stored, drafts, identity
    fields and follow-up gone -- but the display choices stay: it is usually the same person
    going on to something else.  If they walk away, the home screen's idle timer (on, since
    the display is not the default) resets those too."""
    ended = g.visit
    state().lifecycle.end(ended)
    _begin_next_visit(ended, keep_display=True)
    return redirect(url_for(".home"))


@bp.route("/prefs/<name>")
def prefs(name: str):
    """Language, large text and high contrast belong to the visit, and reset with it."""
    visit = g.visit
    if name == "lang":
        visit.lang = "en" if visit.lang == "fa" else "fa"
    elif name == "large-text":
        visit.large_text = not visit.large_text
    elif name == "contrast":
        visit.high_contrast = not visit.high_contrast
    else:
        abort(404)
    return redirect(_local_path(request.args.get("next")) or url_for(".home"))


def _local_path(target: str | None) -> str | None:
    """Only paths on this server: a crafted link must not send the kiosk elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# -- survey -------------------------------------------------------------------


def _survey_form():
    """The form this visit answers: the one in use when its survey began (kiosk/published.py),
    kept for the rest of the visit."""
    visit = g.visit
    if visit.survey_form is None:
        visit.survey_form = published.survey_form()
    return visit.survey_form


def _order() -> SurveyOrder:
    return survey_order(_survey_form())


@bp.route("/survey")
def survey_start():
    return redirect(url_for(".survey_question", number=1))


@bp.route("/survey/<int:number>", methods=["GET", "POST"])
@check_form_token
def survey_question(number: int):
    """One question, in the kiosk's order (:mod:`kiosk.survey_flow`: the Article 9 questions
    first, then the end screen, then the optional rest); a tap on a choice answers and moves
    on.  A typed answer is kept on "next", "back" and "finish" alike; "finish" and "skip" on a
    choice question (which send no choice) leave its earlier answer as it was."""
    order = _order()
    if not 1 <= number <= len(order):
        abort(404)
    visit = g.visit
    question = order.questions[number - 1]
    error = None
    nothing_sent = False
    if request.method == "POST":
        action = request.form.get("action", "answer")
        # A choice question sends "answer" only when a choice is tapped; a typed one always.
        if action != "skip" and "answer" in request.form:
            try:
                value = parse_answer(question, request.form)
            except InvalidInput as exc:
                error = exc.message_fa if g.lang == "fa" else exc.message_en
            else:
                if not state().lifecycle.record_answer(visit, question.id, value):
                    flash(_("visit_ended"))
                    return redirect(url_for(".home"))
        if error is None:
            if action == "back":
                if order.essential and number == order.essential + 1:
                    return redirect(url_for(".survey_end"))
                return redirect(url_for(".survey_question", number=max(1, number - 1)))
            if action == "finish" or (number == len(order) and action != "skip"):
                if visit.survey_answers:
                    return submit_survey()
                nothing_sent = True
            else:
                following = order.next_after(number)
                if following in ("end", "last"):
                    return redirect(url_for(".survey_end"))
                return redirect(url_for(".survey_question", number=following))
    shown, of = order.progress(number)
    return render_template("survey.html", question=question, number=number,
                           total=len(order), shown_number=shown, shown_total=of,
                           essential=order.is_essential(number),
                           answer=visit.survey_answers.get(question.id),
                           error=error, form=_survey_form(), nothing_sent=nothing_sent,
                           audio=_audio_file(question))


@bp.route("/survey/end", methods=["GET", "POST"])
@check_form_token
def survey_end():
    """After the Article 9 questions: «پایان و ارسال» first, the optional questions second."""
    order = _order()
    nothing_sent = False
    if request.method == "POST":
        if g.visit.survey_answers:
            return submit_survey()
        nothing_sent = True
    return render_template("survey_end.html", more=order.essential + 1,
                           has_more=order.essential < len(order), last=max(1, order.essential),
                           nothing_sent=nothing_sent)


def parse_answer(question: Question, form) -> object:
    """The stored value for what was tapped or typed; None means "no answer"."""
    raw = normalize_input(form.get("answer", ""))
    if not raw:
        return None
    if question.kind in ("single", "multi"):
        for option in question.options:
            if str(option.value) == raw:
                return [option.value] if question.kind == "multi" else option.value
        raise InvalidInput("survey_option_unknown", catalogue="kiosk")
    if question.kind == "digits":
        digits = to_ascii_digits(raw).replace(" ", "")
        if question.format == "mobile":
            return normalize_mobile(digits)
        if not digits.isdigit() or len(digits) > question.digits:
            raise InvalidInput("survey_invalid_digits", catalogue="kiosk", n=question.digits)
        return digits
    if len(raw) > case_lib.MAX_TEXT:
        raise InvalidInput("survey_text_too_long", catalogue="kiosk", n=case_lib.MAX_TEXT)
    return raw


def submit_survey():
    """Write the response to the ledger, then (only then) thank the visitor.

    Only called with at least one answer.  "Finish" with none stores nothing and thanks
    nobody: the question stays on screen with a gentle note that nothing was recorded, that
    one answer is enough, and that «صفحه اصلی» leaves without answering.  For an elderly
    visitor that is kinder than either alternative: a "thank you" for nothing is untrue and
    confusing, and sending them home would lose their place if the tap on the big button was
    a slip; staying put loses nothing and leaves the choice with them.

    The record's UUID was fixed when the visit began, so a re-sent form stores nothing twice:
    one response per visit, enforced by the ledger itself.
    """
    ended = g.visit
    offer = complaint_offer(_survey_form(), ended.survey_answers)
    state().lifecycle.end(ended, submitted=True)
    # One response per visit, and the visit ends with it: the next person to tap "survey",
    # even within seconds, starts a visit of their own.
    following = _begin_next_visit(ended, keep_display=True)
    if offer is not None:
        # The same person, seconds later: what the complaint form would be prefilled with
        # (never an answer or an identity), gone with the visit if nobody takes it up.
        following.drafts[COMPLAINT_OFFER] = {"question": offer.question_id,
                                             "service": offer.service or ""}
    return redirect(url_for(".survey_thanks"))


@bp.route("/survey/thanks")
def survey_thanks():
    """Thanks (the response was stored before the redirect here); holds no visitor data."""
    return render_template("survey_done.html", offer=g.visit.drafts.get(COMPLAINT_OFFER))


def _audio_file(question: Question) -> str | None:
    form = _survey_form()
    name = f"audio/{form.id}-v{form.version}-{question.id}.ogg"
    if (Path(current_app.static_folder) / name).is_file():
        return name
    return None


# -- cases --------------------------------------------------------------------


def _service_ids() -> set[str]:
    return {service.id for service in published.services()}


def _refuse_flood():
    """Per-visit and per-kiosk limits on filing; None if this submission may go ahead."""
    config = state().config
    if config.max_cases_per_visit and g.visit.cases_filed >= config.max_cases_per_visit:
        return "too_many_cases", 0
    refusal = state().case_flood.take()
    if refusal is not None:
        return "kiosk_busy", refusal.retry_after
    return None


def _file_sealed(draft, office: str, attachment=None):
    """Seal a misconduct report here, in the request's thread (Argon2id and encryption take a
    moment), then hand only sealed bytes to the ledger writer."""
    key = state().report_key()
    if key is None:
        raise case_lib.NoReportKey("no key to seal a misconduct report to")
    for _ in range(5):
        sealed = case_lib.seal_report(draft, office=office, report_key=key, attachment=attachment)
        try:
            return state().writer.submit(lambda ledger: case_lib.file_case(
                ledger, draft, office=office, sealed=sealed))
        except case_lib.CodeTaken:
            continue
    raise RuntimeError("could not draw an unused tracking code")


def _file_and_receipt(draft, attachment=None):
    office = state().config.office
    if draft.route == "oversight":
        filed = _file_sealed(draft, office, attachment)
    else:
        filed = state().writer.submit(lambda ledger: case_lib.file_case(
            ledger, draft, office=office, attachment=attachment))
    g.visit.cases_filed += 1
    g.visit.drafts.clear()
    g.visit.receipt = {
        "tracking_code": filed.tracking_code,
        "type": draft.type,
        "route": draft.route,
        # follow-up will ask for the mobile's last four digits: the receipt says so
        # a misconduct report's receipt shows only the hour, as the report itself keeps
        "created_at": filed.created_at if filed.held else datetime.now(timezone.utc),
        "has_mobile": bool(draft.mobile),
    }
    return filed


def _case_screen(case_type: str | None, template: str):
    visit = g.visit
    errors: list[case_lib.FieldError] = []
    key = template
    values = visit.drafts.get(key, {})
    refusal = None
    report_key = state().report_key() if case_type == "misconduct" else None
    if case_type == "misconduct" and report_key is None:
        # Never set up: no key to seal to, and a report is never kept readable.  Say where
        # to report instead; take nothing (a POST from an older page is refused the same way).
        return render_template("report.html", holder=None, values={}, errors=[],
                               services=published.services(), refusal=None,
                               types=case_lib.WRITTEN_TYPES), (503 if request.method == "POST" else 200)
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in
                  ("type", "service", "text", "name", "national_id", "mobile")}
        values["anonymous"] = "1" if request.form.get("anonymous") else ""
        values["sms"] = "1" if request.form.get("sms") and case_type != "misconduct" else ""
        chosen = case_type or request.form.get("type", "")
        if case_type is None and chosen not in case_lib.WRITTEN_TYPES:
            chosen = ""  # this screen files written cases only
        draft, errors = case_lib.check_case_form(values, chosen, _service_ids())
        if draft is not None:
            refusal = _refuse_flood()
            if refusal is None:
                try:
                    _file_and_receipt(draft)
                except Exception:
                    state().case_flood.give_back()
                    raise
                return redirect(url_for(".receipt"))
        visit.drafts[key] = values
    elif case_type == "misconduct" and not values:
        values = {"anonymous": "1"}
    elif case_type is None and not values and request.args.get("from") == "survey":
        offer = visit.drafts.pop(COMPLAINT_OFFER, None)
        if offer:
            values = {"type": "complaint", "service": offer["service"] or "other",
                      "text": _("complaint_starter_" + offer["question"])}
    return render_template(f"{template}.html", values=values, errors=errors,
                           holder=report_key.holder if report_key else None,
                           services=published.services(), refusal=refusal,
                           types=case_lib.WRITTEN_TYPES), (429 if refusal else 200)


@bp.route("/case", methods=["GET", "POST"])
@check_form_token
def case():
    return _case_screen(None, "case")


@bp.route("/report", methods=["GET", "POST"])
@check_form_token
def report():
    return _case_screen("misconduct", "report")


@bp.route("/voice", methods=["GET"])
def voice():
    return render_template("voice.html", services=published.services())


@bp.route("/voice", methods=["POST"])
@check_form_token
def voice_upload():
    """Store a recording and file it as a case; JSON, since the page sends it with fetch.

    The bytes must be a recording the voice page makes (:func:`kiosk.audio.recorded_audio_type`:
    WebM, Ogg or MP4 with audio tracks only), whatever the upload says it is; the stored media
    type is the one found in the bytes."""
    config = state().config
    upload = request.files.get("audio")
    data = upload.read(config.voice_max_bytes + 1) if upload else b""
    if not data:
        return jsonify(ok=False, error="voice_empty", message=_("voice_empty")), 400
    if len(data) > config.voice_max_bytes:
        return jsonify(ok=False, error="voice_too_long", message=_("voice_too_long")), 413
    media_type = recorded_audio_type(data)
    if media_type is None:
        return jsonify(ok=False, error="voice_not_audio", message=_("voice_not_audio")), 415
    service = request.form.get("service") or "other"
    draft, errors = case_lib.check_case_form({"service": service, "anonymous": "1"}, "voice",
                                             _service_ids(), text_required=False)
    if draft is None:
        return jsonify(ok=False, error="invalid", message=errors[0].message_fa), 400
    refused = _refuse_flood()
    if refused is not None:
        reason, seconds = refused
        return jsonify(ok=False, error=reason, message=_(reason, seconds=seconds)), 429
    try:
        _file_and_receipt(draft, attachment=(data, media_type))
    except Exception:
        state().case_flood.give_back()
        raise
    return jsonify(ok=True, next=url_for(".receipt"))


def _receipt_link(data: dict) -> str | None:
    """The portal's follow-up address for this case (with a one-time survey link, except on a
    misconduct report), made once per receipt so the screen and the printed slip agree."""
    config = state().config
    if not config.portal_url:
        return None
    if "follow_up_url" not in data:
        token = (None if data["route"] == "oversight"
                 else receipt_links.survey_token(config.home, config.office))
        data["follow_up_url"] = receipt_links.follow_up_url(
            config.portal_url, config.office, data["tracking_code"], token)
    return data["follow_up_url"]


def _receipt_page(data: dict, status: int = 200, **extra):
    config = state().config
    link = _receipt_link(data)
    return render_template("receipt.html", receipt=data, qr_svg=_qr_svg(link or data["tracking_code"]),
                           portal_link=link, portal_url_text=config.portal_url.rstrip("/"),
                           office_name=published.directory().office_name,
                           deadline_days=receipt_links.deadline_days(data["type"]), **extra), status


@bp.route("/receipt")
def receipt():
    """The tracking code of the case this visit just filed; gone once the visit ends."""
    data = g.visit.receipt
    if data is None:
        return redirect(url_for(".home"))
    return _receipt_page(data)


@bp.route("/receipt/print", methods=["POST"])
@check_form_token
def print_receipt():
    """Print the receipt on the kiosk's thermal printer; if it cannot, the page says so and
    offers the browser's print (the receipt and the tracking code stay on screen)."""
    from .receipt_model import receipt_model
    from .receipt_printer import PrinterError, parse_printer, print_receipt as send

    data = g.visit.receipt
    if data is None:
        return redirect(url_for(".home"))
    config = state().config
    _receipt_link(data)
    try:
        send(parse_printer(config.receipt_printer),
             receipt_model(data, office=config.office, lang=g.lang,
                           office_name=published.directory().office_name.get(g.lang),
                           deadline_days=receipt_links.deadline_days(data["type"]),
                           portal_url=config.portal_url.rstrip("/") or None))
    except PrinterError as exc:
        current_app.logger.warning("%s", exc)
        return _receipt_page(data, 503, printer_failed=True)
    flash(_("receipt_printed"))
    return redirect(url_for(".receipt"))


def _qr_svg(code: str) -> str:
    import segno
    return segno.make_qr(code, error="m").svg_inline(scale=4, border=2, dark="#000",
                                                     light="#fff", omitsize=False)


# -- follow-up ----------------------------------------------------------------


@bp.route("/follow-up", methods=["GET", "POST"])
@check_form_token
def follow_up():
    """Look a case up by tracking code (and the mobile's last four digits, if it has one).

    Wrong tries slow down per visit (doubling waits) and, far more loosely, for the whole kiosk
    (a ceiling of wrong codes an hour that spaces tries out, never locks them; see
    :mod:`kiosk.limits`).  A code whose check digit fails is a typo,
    not a guess: it is explained and not counted.  "Not found" and "wrong last four digits"
    give the same message, so the screen never confirms that a code exists.
    """
    kiosk_state = state()
    visit = g.visit
    message = None
    status = 200
    code = ""
    if request.method == "POST":
        code = normalize_tracking_code(request.form.get("code", ""))
        last4 = normalize_tracking_code(request.form.get("last4", ""))
        refusal = (kiosk_state.follow_up_visit.check(visit.id)
                   or kiosk_state.follow_up_kiosk.check())
        if refusal is not None:
            message, status = _("follow_wait", seconds=refusal.retry_after), 429
        elif not is_valid_tracking_code(code):
            message, status = _("follow_bad_check"), 400
        else:
            case = case_lib.find_case(ledger(), code, kiosk_state.config.office)
            if case is None or not case_lib.follow_up_matches(case, last4):
                kiosk_state.follow_up_visit.fail(visit.id)
                kiosk_state.follow_up_kiosk.spend()
                message, status = _("follow_not_found"), 404
            else:
                kiosk_state.follow_up_visit.succeed(visit.id)
                # a sealed report's locator is kept for the visit: one Argon2id per lookup
                visit.drafts["follow_up"] = {"code": code, "locator": case.body.get("follow_up")}
                return redirect(url_for(".follow_up_status"))
    return render_template("follow_up.html", message=message, code=code), status


@bp.route("/follow-up/status")
def follow_up_status():
    found = g.visit.drafts.get("follow_up")
    if not found:
        return redirect(url_for(".follow_up"))
    office = state().config.office
    case = case_lib.find_case(ledger(), found["code"], office, locator=found.get("locator"))
    timeline = case_lib.case_timeline(ledger(), found["code"], office, case=case)
    answered_at = case_verdicts.judgeable_answer(ledger(), case) if case else None
    verdict = case_verdicts.judged(ledger(), found["code"], answered_at) if answered_at else None
    return render_template("follow_up_status.html", case=case, code=found["code"],
                           case_type=case.body.get("type") if case else None, timeline=timeline,
                           asks_verdict=answered_at is not None and verdict is None, verdict=verdict,
                           verdict_error=g.get("verdict_error"))


@bp.route("/follow-up/verdict", methods=["POST"])
@check_form_token
def follow_up_verdict():
    """"Was it solved?" on the answer shown: kept for the centre, where "no" reopens the case."""
    found = g.visit.drafts.get("follow_up")
    if not found:
        return redirect(url_for(".follow_up"))
    office = state().config.office
    case = case_lib.find_case(ledger(), found["code"], office, locator=found.get("locator"))
    answered_at = case_verdicts.judgeable_answer(ledger(), case) if case else None
    choice = request.form.get("solved", "")
    if answered_at is None or choice not in ("yes", "no"):
        g.verdict_error = _("verdict_choose")
        return follow_up_status(), 400
    comment = normalize_input(request.form.get("comment", "")).strip()
    if len(comment) > MAX_VERDICT_COMMENT:
        g.verdict_error = _("verdict_too_long", limit=MAX_VERDICT_COMMENT)
        return follow_up_status(), 400
    case_verdicts.keep_verdict(ledger(), case, office=office, answered_at=answered_at,
                               solved=choice == "yes", comment=comment)
    flash(_("verdict_thanks_yes" if choice == "yes" else "verdict_thanks_no"))
    return redirect(url_for(".follow_up_status"))


@bp.route("/follow-up/spoken/<int:index>.wav")
def follow_up_spoken(index: int):
    """The answer of the case this visit looked up, spoken on this kiosk (never stored)."""
    found = g.visit.drafts.get("follow_up")
    if not found or not speech_available():
        abort(404)
    office = state().config.office
    case = case_lib.find_case(ledger(), found["code"], office, locator=found.get("locator"))
    timeline = case_lib.case_timeline(ledger(), found["code"], office, case=case) if case else []
    if not 0 <= index < len(timeline) or not timeline[index].answer:
        abort(404)
    # every kiosk response is sent no-store: the spoken answer is never cached either
    return current_app.response_class(speak(timeline[index].answer, g.lang), mimetype="audio/wav")


# -- information --------------------------------------------------------------


@bp.route("/contact")
def contact():
    return render_template("contact.html", directory=published.directory())


@bp.route("/services")
def services():
    return render_template("services.html", services=published.services(), selected=None)


@bp.route("/services/<service_id>")
def service(service_id: str):
    found = published.service(service_id)
    if found is None:
        abort(404)
    return render_template("services.html", services=published.services(), selected=found)
