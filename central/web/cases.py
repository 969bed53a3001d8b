"""Unit inboxes and case pages: where responders read cases and answer citizens.

Who sees what (checked on every route, by :func:`can_see` and :func:`can_work`):

- a responder: the cases of their unit, and works them; the unit's head also sees the
  escalated cases of the unit and assigns cases to its members;
- oversight: the only role that ever sees a misconduct report (type ``misconduct`` or unit
  ``oversight``), and works them like a responder;
- an auditor: every other case, read-only;
- administrators and analysts: no case pages (the administrator routes the triage queue).

A misconduct report the viewer may not see is answered with 404, never 403, so its existence
is not confirmed either.  Every case page shown and every attachment served is an audit entry;
so is every change; an entry about a misconduct report names no report and says nothing of
it (``audit.OVERSIGHT_TARGET``), so the auditor never learns which reports exist.  Sealed
bodies and attachments (the office sealed the report, forms/sealing.py) open only for oversight
and only with the central installation's keys (central/keys.py); otherwise they stay
sealed.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from forms.persian import to_ascii_digits

from forms.cases import CASE_STATUSES, normalize_tracking_code
from forms.sealing import SEALED_MEDIA_TYPE
from ..casework import CASE_TYPES, OVERSIGHT, TRIAGE, Case, Casework, CaseworkError
from ..keys import CentralKeys
from .. import accounts
from . import answer_templates, auth
from ..accounts import User
from .common import (error_text, field, flash_error, flash_ok, page_number, service_name, services,
                     status_name, type_name, unit_name)
from .i18n import t

__all__ = ["bp", "can_see", "can_work", "case_attachments", "serve_attachment"]

PAGE_SIZE = 50
CASE_ROLES = ("responder", "oversight", "auditor")
WORK_ROLES = ("responder", "oversight")
_SHA256 = frozenset("0123456789abcdef")
#: Attachments shown in the page (raster images, and audio/*); every other type (SVG, HTML,
#: PDF...) is served as a download of application/octet-stream, never rendered.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
_AUDIO = re.compile(r"audio/[a-z0-9][a-z0-9.+-]*")


bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.errorhandler(404)
def _not_found(_error: Exception) -> tuple[str, int]:
    return auth.error_page("not_found_title", "not_found_text", 404)


# -- who may see and work a case (pure) ------------------------------------------------------


def can_see(user: User, case: Case) -> bool:
    """Misconduct only for oversight; responders their unit; auditors everything else."""
    if case.is_misconduct:
        return user.role == "oversight"
    if user.role == "responder":
        return case.unit == user.unit
    return user.role == "auditor"


def can_work(user: User, case: Case) -> bool:
    """Members of the case's unit (oversight users for oversight's cases) may change it."""
    if case.is_misconduct:
        return user.role == "oversight" and case.unit == OVERSIGHT
    return user.role == "responder" and case.unit == user.unit


def _scope(cw: Casework, user: User) -> list[str]:
    """The units whose cases ``user`` lists."""
    if user.role == "oversight":
        return [OVERSIGHT]
    if user.role == "responder":
        return [user.unit] if user.unit else []
    return [u.code for u in cw.units(include_inactive=True) if u.kind != "oversight"]


def _is_head(cw: Casework, user: User) -> bool:
    unit = cw.unit(user.unit) if user.unit else None
    return unit is not None and unit.head == user.name


# -- the inbox ---------------------------------------------------------------------------------


@bp.route("/")
@auth.require(*CASE_ROLES)
def inbox() -> tuple[str, int]:
    user = auth.current_user()
    cw = Casework(auth.store())
    now = auth.now()
    head = _is_head(cw, user)
    args = request.args
    status = field("status", source=args) or "open"
    statuses = ["open", "overdue", *(["escalated"] if head else []), "all", *CASE_STATUSES]
    if status not in statuses:
        status = "open"
    code = normalize_tracking_code(field("code", source=args)) if args.get("code") else ""
    assignee = field("assignee", source=args)
    filters = {"status": status, "office": field("office", source=args).upper(),
               "type": field("type", source=args), "service": field("service", source=args),
               "assignee": assignee, "code": args.get("code", "")}
    query = {"units": _scope(cw, user), "status": status,
             "assignee": user.name if assignee == "me" else None,
             "office": filters["office"] or None, "case_type": filters["type"] or None,
             "service": filters["service"] or None, "tracking_code": code or None}
    if user.role != "oversight" and query["case_type"] == "misconduct":
        query["units"] = []  # nobody else ever lists a misconduct report
    page = page_number()
    total = cw.count(**query, now=now)
    cases = [c for c in cw.inbox(**query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, now=now)
             if can_see(user, c)]
    calendar = cw.calendar()
    rows = [(c, calendar.working_days_left(c.due, now) if c.is_open else None, c.overdue(now))
            for c in cases]
    previews = cw.previews(cases, actor=user.name)
    recordings = recordings_of(cw, [c for c in cases if c.case_type == "voice"])
    summary = None
    if head:
        scope = _scope(cw, user)
        summary = {"overdue": cw.count(units=scope, status="overdue", now=now),
                   "escalated": cw.count(units=scope, status="escalated", now=now),
                   "unassigned": sum(1 for c in cw.inbox(units=scope, status="open", limit=500, now=now)
                                     if not c.assignee)}
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render_template("central/inbox.html", rows=rows, total=total, page=page, pages=pages,
                           filters=filters, statuses=statuses, head=head, summary=summary,
                           offices=[o.code for o in auth.store().offices()],
                           case_types=[c for c in CASE_TYPES
                                       if c != "misconduct" or user.role == "oversight"],
                           units={u.code: u for u in cw.units(include_inactive=True)},
                           previews=previews, recordings=recordings, people=_people(), **_names()), 200


def _names() -> dict[str, Any]:
    return {"type_name": type_name, "service_name": service_name, "status_name": status_name,
            "unit_name": unit_name, "services": services()}


# -- the case page -------------------------------------------------------------------------------


def _keys() -> CentralKeys:
    return current_app.extensions["seda.central_keys"]


def _opened_body(body: dict[str, Any], user: User) -> tuple[dict[str, Any], bool]:
    """``(body, still_sealed)``: a sealed body opened for oversight when the key is here."""
    if "sealed" not in body:
        return body, False
    if user.role != "oversight":
        return body, True
    opened = _keys().open_body(body)
    return (body, True) if opened is None else (opened, False)


def _visible_case(cw: Casework, uuid: str) -> Case:
    """The case if the user may see it; 404 otherwise (also for a hidden misconduct report)."""
    case = cw.case(uuid)
    user = auth.current_user()
    if case is None or not can_see(user, case):
        abort(404)
    return case


def _people() -> dict[str, str]:
    """User name -> the name people know them by, for the case history ('system' included)."""
    names = {u.name: u.display_name for u in accounts.list_users(auth.store())}
    names["system"] = t("actor_system")
    return names


@bp.route("/<uuid>", endpoint="case")
@auth.require(*CASE_ROLES)
def case_page(uuid: str, form: MultiDict | None = None, status: int = 200) -> tuple[str, int]:
    cw = Casework(auth.store())
    case = _visible_case(cw, uuid)
    user = auth.current_user()
    reading = cw.read(case, actor=user.name,
                      opener=_keys().open_body if user.role == "oversight" else None)
    body, sealed, anonymous, identity = (reading.body, reading.sealed, reading.anonymous,
                                         reading.identity)
    now = auth.now()
    working = can_work(user, case)
    head = working and (_is_head(cw, user))
    members = [u for u in accounts.list_users(auth.store(), unit=case.unit, include_disabled=False)
               if u.role in WORK_ROLES] if working else []
    suggestions = cw.duplicate_suggestions(uuid, units=_scope(cw, user)) if not sealed or working else []
    suggestions = [s for s in suggestions if can_see(user, s.case)]
    all_units = cw.units(include_inactive=True)
    refer_targets = [u for u in cw.units() if u.code != case.unit and u.kind != TRIAGE]
    left = cw.calendar().working_days_left(case.due, now) if case.is_open else None
    templates = answer_templates.for_case(cw, case) if working else []
    chosen = int(request.args["template"]) if request.args.get("template", "").isdigit() else 0
    prefill = templates[chosen - 1][1] if 1 <= chosen <= len(templates) else ""
    return render_template(
        "central/case.html", case=case, body=body, sealed=sealed, anonymous=anonymous,
        identity=identity, attachments=case_attachments(case, body), events=cw.events(uuid),
        people=_people(), suggestions=suggestions, working=working, head=head, members=members,
        simple_statuses=[s for s in cw.allowed_statuses(case) if s in ("in_progress", "closed")],
        can_answer="answered" in cw.allowed_statuses(case),
        can_reject=any(s.startswith("rejected_") for s in cw.allowed_statuses(case)),
        refer_targets=refer_targets, units={u.code: u for u in all_units}, days_left=left,
        overdue=case.overdue(now), form=form or MultiDict(), me=user, templates=templates,
        chosen_template=chosen, answer_prefill=prefill, **_names()), status


def case_attachments(case: Case, body: dict[str, Any]) -> list[tuple[str, str]]:
    """``(sha256, media_type)`` of the case's attachments (type from the office's record)."""
    found = []
    for sha in body.get("attachments") or []:
        sha = str(sha).lower()
        if len(sha) == 64 and set(sha) <= _SHA256:
            found.append((sha, _media_type(case.office, sha)))
    return found


def _media_type(office: str, sha: str) -> str:
    """The attachment's media type, as its office recorded it (only a file that office sent);
    for a sealed attachment the type inside the seal, when this server can open it (else a
    download)."""
    record = auth.store().office_sent_blob(office, sha)
    if record is None:
        return "application/octet-stream"
    media = str(record.get("media_type") or "").split(";")[0].strip().lower()
    if media == SEALED_MEDIA_TYPE:
        data = auth.store().blob(sha)
        opened = _keys().open_blob(data) if data is not None else None
        media = opened[1].split(";")[0].strip().lower() if opened else "application/octet-stream"
    return media if media in INLINE_IMAGES or _AUDIO.fullmatch(media) else "application/octet-stream"


def recordings_of(cw: Casework, cases: list[Case]) -> dict[str, list[str]]:
    """Case uuid -> the SHA-256 of each voice recording of those cases (never of a sealed or
    misconduct report): the inbox and the triage queue play them where the case is listed."""
    found: dict[str, list[str]] = {}
    for case in cases:
        if case.is_misconduct:
            continue
        body = cw.case_body(case.uuid)
        if "sealed" in body:
            continue
        shas = [sha for sha, media in case_attachments(case, body) if media.startswith("audio/")]
        if shas:
            found[case.uuid] = shas
    return found



@bp.route("/<uuid>/attachments/<sha256>")
@auth.require(*CASE_ROLES)
def attachment(uuid: str, sha256: str) -> Response:
    """One attachment of a case the user may see; an audited view of personal data.  A
    sealed one is opened here for oversight (or not served at all)."""
    cw = Casework(auth.store())
    return serve_attachment(cw, _visible_case(cw, uuid), sha256)


def serve_attachment(cw: Casework, case: Case, sha256: str) -> Response:
    """One attachment of ``case`` (which the caller has checked the user may see), audited."""
    uuid = case.uuid
    sha256 = sha256.lower()
    body, _ = _opened_body(cw.case_body(uuid), auth.current_user())
    if sha256 not in [str(s).lower() for s in body.get("attachments") or []]:
        abort(404)
    sent = auth.store().office_sent_blob(case.office, sha256)
    if sent is None:
        abort(404)  # the case names a file its office never sent: another office's, perhaps
    data = auth.store().blob(sha256)
    if data is not None and str(sent.get("media_type") or "").split(";")[0].strip().lower() \
            == SEALED_MEDIA_TYPE:
        opened = _keys().open_blob(data)
        data = opened[0] if opened is not None else None
    data = cw.attachment(case, sha256, data, actor=auth.current_user().name)
    if data is None:
        abort(404)
    media = _media_type(case.office, sha256)  # raster images and audio; anything else a download
    response = Response(data, mimetype=media)
    response.headers["Content-Disposition"] = "inline" if media != "application/octet-stream" \
        else f'attachment; filename="{sha256[:16]}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # a citizen's file, never a page of ours: no scripts, no requests, no same-origin rights
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- actions ------------------------------------------------------------------------------------


def _working_case(uuid: str) -> tuple[Casework, Case]:
    # the opener lets an answer to a sealed report reach the reporter sealed to their code
    cw = Casework(auth.store(), opener=_keys().open_body)
    case = _visible_case(cw, uuid)
    if not can_work(auth.current_user(), case):
        abort(403)
    return cw, case


def _refused(uuid: str, exc: Exception) -> tuple[str, int]:
    """The case page again, with the reason and everything typed still in its field."""
    flash_error(error_text(exc))
    return case_page(uuid, form=request.form, status=400)


def _done(uuid: str, key: str, **values: object) -> Response:
    flash_ok(key, **values)
    return redirect(url_for(".case", uuid=uuid))


@bp.route("/<uuid>/assign", methods=["POST"])
@auth.require(*WORK_ROLES)
def assign(uuid: str) -> Response | tuple[str, int]:
    cw, case = _working_case(uuid)
    user = auth.current_user()
    target = field("assignee").lower() or None
    if target == "me":
        target = user.name
    # The head gives cases to anyone in the unit; a member may only take one for themselves.
    if not _is_head(cw, user) and target != user.name:
        return _refused(uuid, CaseworkError("casework_only_unit_head_assigns"))
    try:
        cw.assign(uuid, target, actor=user.name)
    except CaseworkError as exc:
        return _refused(uuid, exc)
    return _done(uuid, "case_assigned", name=target or t("case_unit_itself"))


@bp.route("/<uuid>/note", methods=["POST"])
@auth.require(*WORK_ROLES)
def note(uuid: str) -> Response | tuple[str, int]:
    cw, case = _working_case(uuid)
    try:
        cw.add_note(uuid, request.form.get("text", ""), actor=auth.current_user().name)
    except CaseworkError as exc:
        return _refused(uuid, exc)
    return _done(uuid, "case_noted")


@bp.route("/<uuid>/answer", methods=["POST"])
@auth.require(*WORK_ROLES)
def answer(uuid: str) -> Response | tuple[str, int]:
    cw, case = _working_case(uuid)
    try:
        cw.answer(uuid, request.form.get("text", ""), actor=auth.current_user().name)
    except CaseworkError as exc:
        return _refused(uuid, exc)
    if request.form.get("then") == "next":
        user = auth.current_user()
        following = answer_templates.next_case(cw, _scope(cw, user), user.name, uuid)
        flash_ok("case_answered")
        if following is None:
            flash_ok("case_inbox_done")
            return redirect(url_for(".inbox"))
        return redirect(url_for(".case", uuid=following))
    return _done(uuid, "case_answered")


@bp.route("/<uuid>/status", methods=["POST"])
@auth.require(*WORK_ROLES)
def status(uuid: str) -> Response | tuple[str, int]:
    cw, case = _working_case(uuid)
    new_status = field("status")
    try:
        cw.change_status(uuid, new_status, actor=auth.current_user().name,
                         note=request.form.get("note") or None)
    except CaseworkError as exc:
        return _refused(uuid, exc)
    return _done(uuid, "case_status_changed", status=status_name(new_status))


@bp.route("/<uuid>/refer", methods=["POST"])
@auth.require(*WORK_ROLES)
def refer(uuid: str) -> Response | tuple[str, int]:
    cw, case = _working_case(uuid)
    unit = field("unit")
    try:
        cw.refer(uuid, unit, actor=auth.current_user().name, note=request.form.get("note") or None)
    except CaseworkError as exc:
        return _refused(uuid, exc)
    flash_ok("case_referred", unit=unit_name(cw.unit(unit)))
    return redirect(url_for(".inbox"))  # the case has left this unit: its page is not ours now


@bp.route("/<uuid>/reject", methods=["POST"])
@auth.require(*WORK_ROLES)
def reject(uuid: str) -> Response | tuple[str, int]:
    cw, case = _working_case(uuid)
    user = auth.current_user()
    reason = field("reason")
    original = None
    try:
        if reason == "duplicate":
            original = _original(cw, user, field("original"))
        cw.reject(uuid, reason, actor=user.name, duplicate_of=original,
                  note=request.form.get("note") or None)
    except CaseworkError as exc:
        return _refused(uuid, exc)
    return _done(uuid, "case_rejected")


def _original(cw: Casework, user: User, given: str) -> str:
    """The original of a duplicate: a case UUID or a tracking code the user may see."""
    given = given.strip()
    if not given:
        raise CaseworkError("casework_choose_original_case")
    candidate = cw.case(given)
    if candidate is None:
        # A case is (office, tracking code): another office may have drawn the same code.
        found = [c for c in cw.inbox(units=_scope(cw, user), status="all",
                                     tracking_code=normalize_tracking_code(to_ascii_digits(given)),
                                     limit=20) if can_see(user, c)]
        if len(found) > 1:
            raise CaseworkError("casework_code_of_several_offices")
        candidate = found[0] if found else None
    if candidate is None or not can_see(user, candidate):
        raise CaseworkError("casework_no_original_with_code")
    return candidate.uuid

