"""Scanning sheets with a phone: a staff page that photographs sheets one after another.

Many small offices have no document scanner, only the staff's phones.  A phone on the office
network opens ``/staff/phone`` (behind the same staff sign-in as every staff page), takes a
photo with its own camera through the browser (``<input type=file capture=environment>``:
it needs no HTTPS, which the office network rarely has, and no app), and the page sends the
photo here.  Each photo is read at once with the scanner's public API
(``scanner.pipeline.read_photo``) and answered in about a second: read and stored, stored
with questions for the review queue, or to be taken again with the reason.  Nothing leaves
the office network: the page loads only this server's script and styles.

The routes join the staff blueprint (``kiosk.staff_session.bp``), so sign-in, roles, idle sign-out and
the CSRF check are the staff pages' own.
"""
from __future__ import annotations

import threading

from flask import g, jsonify, render_template, request

from scanner.pipeline import read_photo
from scanner.reasons import message

from .staff_session import _, bp, login_required
from .state import state

MAX_PHOTO_BYTES = 25 * 1024 * 1024      # a 50-megapixel JPEG; the page sends about 1 MB
READERS = 2                             # photos read at once (the machine has two cores)
WAIT_SECONDS = 20.0
_readers = threading.BoundedSemaphore(READERS)


@bp.route("/phone")
@login_required("scanner_operator")
def phone():
    return render_template("staff/phone.html", max_bytes=MAX_PHOTO_BYTES)


def _error(key: str, status: int):
    return jsonify({"verdict": "error", "message": _(key)}), status


@bp.route("/phone/photo", methods=["POST"])
@login_required("scanner_operator")
def phone_photo():
    """Read one photo; JSON: verdict, reason and its words, and each sheet found."""
    if request.content_length is not None and request.content_length > MAX_PHOTO_BYTES + 64 * 1024:
        return _error("staff_phone_too_big", 413)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _error("staff_phone_no_photo", 400)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        return _error("staff_phone_too_big", 413)
    if not _readers.acquire(timeout=WAIT_SECONDS):
        return _error("staff_phone_busy", 503)
    try:
        reading = read_photo(data, home=state().config.home, name="phone.jpg")
    finally:
        _readers.release()
    return jsonify(_answer(reading))


def _answer(reading) -> dict:
    """What the page shows for one photo, in the staff page's language."""
    lang = g.lang
    sheets = []
    for result in reading.results:
        data = result.to_json()
        sheets.append({
            "sheet": data["sheet"], "serial": data.get("serial"), "status": data["status"],
            "reason": data["reason"],
            "message": message(data["reason"], lang) if data["reason"] else None,
            "review": sorted(data["flags"]),
            "warnings": [w["message_fa" if lang == "fa" else "message"]
                         for w in data.get("warnings", [])],
        })
    return {"verdict": reading.verdict, "reason": reading.reason,
            "message": message(reading.reason, lang) if reading.reason else None,
            "title": _(f"staff_phone_{reading.verdict}"),
            "milliseconds": round(reading.milliseconds), "sheets": sheets}
