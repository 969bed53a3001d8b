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
from .cases import case_attachments, serve_attachment

__all__ = ["audio_of", "bp"]


bp = Blueprint("triage_audio", __name__, url_prefix="/triage")


def audio_of(cw: Casework, cases: list[Case]) -> dict[str, list[str]]:
    """Case uuid -> the SHA-256 of each recording of that triage case."""
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


@bp.route("/<uuid>/audio/<sha256>")
@auth.require("admin")
def audio(uuid: str, sha256: str) -> Response:
    cw = Casework(auth.store())
    case = cw.case(uuid)
    if case is None or case.is_misconduct or case.unit != TRIAGE or not case.is_open:
        abort(404)
    if sha256.lower() not in audio_of(cw, [case]).get(uuid, []):
        abort(404)
    return serve_attachment(cw, case, sha256)
