"""Open311 GeoReport v2 on the central server: existing Open311 clients file and follow cases.

docs/open311.md has the contract with examples.  Endpoints (JSON only):

- ``GET  /open311/v2/services.json``         the services (the satisfaction form's list)
- ``GET  /open311/v2/services/<code>.json``  one service's definition: the case type attribute
- ``POST /open311/v2/requests.json``         file a case (``api_key``; form-encoded or JSON)
- ``GET  /open311/v2/requests.json``         cases, filtered (``api_key``)
- ``GET  /open311/v2/requests/<id>.json``    one case by its tracking code

``service_request_id`` is the Seda tracking code.  ``status`` is ``open`` or ``closed``
(answered, closed and rejected cases are closed) and ``status_notes`` the latest answer, in
Persian.  Errors are ``[{"code": HTTP status, "description": "..."}]``.

Abuse: the ``api_key`` is checked before anything else is done with a request (given in the
query string, before the body is even read); a POST body is capped at :data:`MAX_BODY` and JSON
nested deeper than :data:`MAX_JSON_DEPTH` is a 400; each key may make
``OPEN311_REQUESTS_PER_MINUTE`` requests a minute (app config; 429 with ``Retry-After``
beyond), counted in the store so every server process shares the count.  A key that names an
office reads only that office's cases, and never skips the mobile check of a case by its code.

Privacy: anonymous cases and misconduct reports are never listed or shown (the store's
:meth:`~central.store.Store.public_cases` leaves them out), and no response carries a
name, national ID or mobile number: every answer is built from the fields named here.  A case
filed with a mobile number is shown by its code only with ``phone_last4`` (its last four
digits, as the kiosk's follow-up asks) or an API key.  Like the rest of the server this keeps
no state in the process: keys (only their SHA-256) and cases live in the store.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from forms import builtin_catalog
from forms.persian import InvalidInput, normalize_input, normalize_mobile, to_ascii_digits
from forms.tracking_codes import is_valid_tracking_code, new_tracking_code

from sync.batch import format_time
from forms.cases import status_label
from sync.json_limits import JsonRefused, loads_limited
from . import throttle
from .messages import MESSAGES
from .store import CLOSED_STATUSES, ApiKey, Store

__all__ = ["CASE_TYPES", "DEFAULT_OFFICE", "MAX_BODY", "MAX_DESCRIPTION", "MAX_JSON_DEPTH",
           "MAX_RESULTS", "REQUESTS_PER_MINUTE", "open311_blueprint"]

#: The office code of cases filed through Open311 with a key that names no office.
DEFAULT_OFFICE = "OPEN311"
#: What an Open311 client may file (misconduct reports go to oversight, never through here);
#: their names are the central catalogue's ``type_<kind>``.
CASE_TYPES: tuple[str, ...] = ("request", "complaint", "suggestion", "criticism")
MAX_DESCRIPTION = 4000  # the kiosk's limit (kiosk.cases.MAX_TEXT)
MAX_NAME = 100
MAX_RESULTS = 1000  # GeoReport's recommended cap on one listing
MAX_IDS = 100
#: The largest request body read (a case is at most 4,000 characters: a few tens of KB encoded).
MAX_BODY = 64 * 1024
#: GeoReport's bodies are flat (``attribute`` is one level deeper); anything deeper is refused.
MAX_JSON_DEPTH = 4
#: Requests one API key may make a minute (``app.config["OPEN311_REQUESTS_PER_MINUTE"]``).
REQUESTS_PER_MINUTE = 60

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\]$")


class Open311Error(Exception):
    """An answer in GeoReport's error format."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json")


def _error(status: int, description: str) -> Response:
    return _json([{"code": status, "description": description}], status)


@lru_cache(maxsize=1)
def _services() -> tuple[tuple[str, str, str], ...]:
    """(code, Persian name, English name) of every service, in the form's order."""
    question = builtin_catalog().get("satisfaction").question("service")
    return tuple((o.value, o.label.fa, o.label.en) for o in question.options)


def _service_names() -> dict[str, tuple[str, str]]:
    return {code: (fa, en) for code, fa, en in _services()}


def _lang() -> str:
    asked = (request.args.get("lang") or "").strip().lower()
    if asked in ("fa", "en"):
        return asked
    return request.accept_languages.best_match(["fa", "en"], default="fa")


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "fa" else pair[1]


def _unit_name(store: Store, code: str | None, lang: str) -> str | None:
    """The responsible unit as people call it (docs/open311.md), in the asked language; the
    code only for a unit that no longer exists."""
    if not code:
        return None
    from .casework import Casework

    unit = Casework(store).unit(code)
    if unit is None:
        return code
    return _pick((unit.name_fa, unit.name_en or unit.name_fa), lang)


def _iso(value: str | None) -> str | None:
    """The ledger's ``2026-11-30T10:00:00.000000Z`` as ISO-8601 to the second."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_time(name: str) -> str | None:
    """A ``start_date``/``end_date`` parameter in the ledger's spelling (UTC), or None."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    text = to_ascii_digits(raw.strip()).replace("Z", "+00:00").replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO-8601 date and time, "
                                f"e.g. 2026-11-30T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_time(moment)


def _request_values() -> dict[str, Any]:
    """POST parameters: form-encoded as GeoReport says, or a JSON object; plus the query.

    The body is read only up to :data:`MAX_BODY` (413 beyond), and JSON only when it is shallow.
    """
    values: dict[str, Any] = dict(request.args.items())
    if request.is_json:
        try:
            body = loads_limited(request.get_data(cache=True), max_depth=MAX_JSON_DEPTH)
        except JsonRefused as exc:
            raise Open311Error(400, f"the JSON body is refused: {exc}") from None
        if not isinstance(body, dict):
            raise Open311Error(400, "the JSON body must be an object")
        for key, value in body.items():
            if key == "attribute" and isinstance(value, dict):
                for name, item in value.items():
                    values[f"attribute[{name}]"] = item
            else:
                values[key] = value
    else:
        values.update(request.form.items())
    return {k: v for k, v in values.items() if v is not None}


def _text(values: dict[str, Any], key: str) -> str:
    value = values.get(key, "")
    if isinstance(value, (dict, list)):
        raise Open311Error(400, f"{key} must be text")
    return normalize_input(str(value))


def open311_blueprint(store: Store, *, public_url: str = "") -> Blueprint:
    """The Open311 API over ``store``; ``create_app`` registers it under ``/open311``.

    ``public_url`` is the server's configured address: discovery names the endpoint with it
    (or as a path when none is configured), never with the ``Host`` the request claimed.
    """
    bp = Blueprint("open311", __name__, url_prefix="/open311")

    @bp.errorhandler(Open311Error)
    def open311_error(error: Open311Error) -> Response:
        answer = _error(error.status, error.description)
        if error.status == 429:
            answer.headers["Retry-After"] = "60"
        return answer

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return _error(error.code or 500, error.description or error.name)

    @bp.errorhandler(413)
    def too_large(_exc: HTTPException) -> Response:
        return _error(413, f"the request body is larger than {MAX_BODY} bytes")

    @bp.before_request
    def cap_body() -> None:
        request.max_content_length = MAX_BODY  # read no further: 413 before any parsing

    def key_from(values: dict[str, Any] | None = None) -> ApiKey | None:
        given = (values if values is not None else request.args).get("api_key")
        if not given:
            return None
        key = store.api_key_for(str(given))
        if key is None:
            raise Open311Error(403, "invalid or revoked api_key")
        rate = int(current_app.config.get("OPEN311_REQUESTS_PER_MINUTE", REQUESTS_PER_MINUTE))
        verdict = throttle.take(store, f"open311:{key.name}", limit=rate, window=timedelta(minutes=1))
        if not verdict.allowed:
            raise Open311Error(429, f"at most {rate} requests a minute with one api_key; "
                                    f"try again in {verdict.retry_after} seconds")
        return key

    def required_key(values: dict[str, Any] | None = None) -> ApiKey:
        key = key_from(values)
        if key is None:
            raise Open311Error(403, "api_key is required")
        return key

    def service_request(case: dict[str, Any], lang: str) -> dict[str, Any]:
        """One case as GeoReport shows it; built field by field, never from the body."""
        names = _service_names().get(case["service"], (case["service"], case["service"]))
        status = case["status"]
        return {
            "service_request_id": case["tracking_code"],
            "status": "closed" if status in CLOSED_STATUSES else "open",
            "status_notes": case["answer"],
            "service_name": _pick(names, lang),
            "service_code": case["service"],
            "description": case["text"],
            "agency_responsible": _unit_name(store, case["unit"], lang),
            "service_notice": None,
            "requested_datetime": _iso(case["created_at"]),
            "updated_datetime": _iso(case["updated_at"]),
            "expected_datetime": None,
            "address": None,
            "address_id": None,
            "zipcode": None,
            "lat": None,
            "long": None,
            "media_url": None,
            "extended_attributes": {
                "type": case["type"],
                "seda_status": status,
                "seda_status_label": _pick(status_label(status), lang),
            },
        }

    @bp.get("/discovery.json")
    def discovery() -> Response:
        return _json({
            "changeset": "2026-11-30T00:00:00Z",
            "contact": "",
            "key_service": "",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": public_url + "/open311/v2",
                           "changeset": "2026-11-30T00:00:00Z", "type": "production",
                           "formats": ["application/json"]}],
        })

    @bp.get("/v2/services.json")
    def services() -> Response:
        lang = _lang()
        return _json([{
            "service_code": code,
            "service_name": fa if lang == "fa" else en,
            "description": fa if lang == "fa" else en,
            "metadata": True,
            "type": "realtime",
            "keywords": "",
            "group": "",
        } for code, fa, en in _services()])

    @bp.get("/v2/services/<code>.json")
    def service_definition(code: str) -> Response:
        if code not in _service_names():
            raise Open311Error(404, f"no service {code}")
        lang = _lang()
        return _json({
            "service_code": code,
            "attributes": [{
                "variable": True,
                "code": "type",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": MESSAGES.text("open311_choose_type", lang),
                "order": 1,
                "description": MESSAGES.text("open311_type", lang),
                "values": [{"key": key, "name": MESSAGES.text("type_" + key, lang)} for key in CASE_TYPES],
            }],
        })

    @bp.post("/v2/requests.json")
    def create_request() -> Response:
        key = key_from()  # a key in the query string is checked before the body is read
        values = _request_values()
        key = key or required_key(values)
        lang = _lang()
        service = _text(values, "service_code")
        if not service:
            raise Open311Error(400, "service_code is required")
        if service not in _service_names():
            raise Open311Error(400, f"unknown service_code {service}")
        case_type = _text(values, "attribute[type]")
        if not case_type:
            raise Open311Error(400, "attribute[type] is required: "
                                    "request, complaint, suggestion or criticism")
        if case_type not in CASE_TYPES:
            raise Open311Error(400, f"attribute[type] must be one of {', '.join(CASE_TYPES)}")
        description = _text(values, "description")
        if not description:
            raise Open311Error(400, "description is required")
        if len(description) > MAX_DESCRIPTION:
            raise Open311Error(400, f"description can be at most {MAX_DESCRIPTION} characters")
        body: dict[str, Any] = {"type": case_type, "service": service, "text": description,
                                "anonymous": False, "channel": "open311", "route": "office",
                                "attachments": [], "client": key.name}
        name = " ".join(p for p in (_text(values, "first_name"), _text(values, "last_name")) if p)
        if len(name) > MAX_NAME:
            raise Open311Error(400, f"first_name and last_name can be at most {MAX_NAME} characters")
        if name:
            body["name"] = name
        phone = _text(values, "phone")
        if phone:
            try:
                body["mobile"] = normalize_mobile(phone)
            except InvalidInput as exc:
                raise Open311Error(400, f"phone: {exc.message_en}") from None
        record = store.add_central_case(body, office=key.office or DEFAULT_OFFICE,
                                        draw_code=new_tracking_code)
        code = record["body"]["tracking_code"]
        notice = MESSAGES.text("open311_filed", lang, code=code)
        return _json([{"service_request_id": code, "service_notice": notice, "account_id": None}])

    @bp.get("/v2/requests.json")
    def list_requests() -> Response:
        key = required_key()
        lang = _lang()
        ids = None
        if request.args.get("service_request_id"):
            ids = [c for c in (to_ascii_digits(p).strip() for p in
                               request.args["service_request_id"].split(",")) if c]
            if len(ids) > MAX_IDS:
                raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
            ids = [c for c in ids if is_valid_tracking_code(c)]
        services = None
        if request.args.get("service_code"):
            services = [s.strip() for s in request.args["service_code"].split(",") if s.strip()]
        status = None
        if request.args.get("status"):
            wanted = {s.strip().lower() for s in request.args["status"].split(",") if s.strip()}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, "status must be open or closed (or open,closed)")
            status = next(iter(wanted)) if len(wanted) == 1 else None
        cases = store.public_cases(tracking_codes=ids, services=services,
                                   start=_query_time("start_date"), end=_query_time("end_date"),
                                   status=status, office=key.office, limit=MAX_RESULTS)
        return _json([service_request(case, lang) for case in cases])

    @bp.get("/v2/requests/<request_id>.json")
    def show_request(request_id: str) -> Response:
        key = key_from()
        lang = _lang()
        code = to_ascii_digits(request_id).strip()
        if not is_valid_tracking_code(code):
            raise Open311Error(404, f"no service request {request_id}")
        last4 = to_ascii_digits(request.args.get("phone_last4", "")).strip()
        # A key of the whole central office may skip the mobile check; an office's key reads
        # only its own office's cases, and like anyone else it needs the last four digits.
        trusted = key is not None and key.office is None
        office = key.office if key is not None else None
        cases = [case for case in store.public_cases(tracking_codes=[code], office=office)
                 if trusted or not case["mobile_last4"] or case["mobile_last4"] == last4]
        if not cases:
            raise Open311Error(404, f"no service request {request_id}")
        return _json([service_request(case, lang) for case in cases])

    @bp.route("/<path:_anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(_anything: str) -> Response:
        return _error(404, "no such Open311 endpoint (JSON only: see /open311/discovery.json)")

    return bp
