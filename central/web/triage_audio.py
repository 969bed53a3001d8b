"""Voice messages in the triage queue: the administrator routes them by ear.

A voice message has no text, so routing it blind sends it to the wrong unit.  The triage
page shows a player for each voice case; playing it goes through here, which serves the
recording only for an open case still in triage (never a misconduct report) and writes
the listening to the audit log like any attachment view (``attachment_view``).
"""
from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from ..casework import TRIAGE, Case, Casework
from . import auth
from .cases import recordings_of, serve_attachment

__all__ = ["bp"]


bp = Blueprint("triage_audio", __name__, url_prefix="/triage")


@bp.route("/<uuid>/audio/<sha256>")
@auth.require("admin")
def audio(uuid: str, sha256: str) -> Response:
    cw = Casework(auth.store())
    case = cw.case(uuid)
    if case is None or case.is_misconduct or case.unit != TRIAGE or not case.is_open:
        abort(404)
    if sha256.lower() not in recordings_of(cw, [case]).get(uuid, []):
        abort(404)
    return serve_attachment(cw, case, sha256)
