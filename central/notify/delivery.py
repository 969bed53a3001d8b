"""``POST /v1/sms/delivery``: the SMS panel says whether a message reached the phone.

Panels call back with their message id (the one the send answer gave, kept as the outbox
row's ``gateway_id``) and a status word; the outbox row then moves from ``sent`` to
``delivered`` or ``failed`` (with the panel's word in ``last_error``), and `seda central
notify status` counts it.  A status that is neither (queued, sent to the operator) changes
nothing; a report never moves a message backwards or touches one already settled.

Fields come as a query string, a form or a JSON object: ``id`` (or ``messageid``), ``status``,
and ``secret`` unless the panel sends ``Authorization: Bearer <secret>``.  The secret is
``delivery_secret`` in the ``[http]`` table of sms.toml; without it the endpoint answers 404,
so it is never open by accident.  Nothing else about the message or the citizen is accepted
or returned.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, Response, jsonify, request

__all__ = ["apply_report", "delivery_blueprint", "panel_settings"]

log = logging.getLogger("seda.central.notify")


def apply_report(store, gateway_id: str, status: str, *, delivered: tuple[str, ...],
                 failed: tuple[str, ...]) -> str | None:
    """Record one delivery report; returns the row's new status, ``"unchanged"`` for a status
    word that settles nothing, or None when no sent message has that id."""
    word = status.strip().lower()
    with store.write() as db:
        row = db.one("SELECT id, status FROM notifications WHERE gateway_id = ? ORDER BY id DESC LIMIT 1",
                     (gateway_id,))
        if row is None:
            return None
        if word not in delivered and word not in failed:
            return "unchanged"
        new = "delivered" if word in delivered else "failed"
        changed = db.execute("UPDATE notifications SET status = ?, last_error = ? WHERE id = ?"
                             " AND status = 'sent'",
                             (new, None if new == "delivered" else f"the panel reports: {status[:60]}",
                              row[0])).rowcount
    return new if changed else "unchanged"


def _fields() -> Mapping[str, str]:
    data: dict[str, str] = dict(request.args)
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            data.update({k: str(v) for k, v in body.items() if isinstance(v, (str, int))})
    else:
        data.update(request.form)
    return data


def panel_settings(path: Path):
    """The HTTP panel's settings in the SMS settings file, or None (no file, the log gateway,
    or a file `seda central notify run` would refuse: said in the log, the endpoint stays off)."""
    from .gateways import HttpGateway
    from .settings import SettingsError, load_settings

    try:
        gateway = load_settings(path).gateway
    except SettingsError as exc:
        log.error("SMS delivery reports are off: %s", exc)
        return None
    return gateway.settings if isinstance(gateway, HttpGateway) else None


def delivery_blueprint(store, settings) -> Blueprint:
    """The endpoint for the HTTP panel of ``settings`` (an ``HttpSettings``, or None: off)."""
    bp = Blueprint("sms_delivery", __name__)
    secret = settings.delivery_key() if settings is not None else ""

    @bp.route("/v1/sms/delivery", methods=["GET", "POST"])
    def delivery() -> Response | tuple:
        if not secret:
            return Response("delivery reports are off: no delivery_secret in sms.toml\n", status=404,
                            mimetype="text/plain")
        fields = _fields()
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() \
            or fields.get("secret", "")
        if not hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
            return jsonify(error="unauthorized"), 401
        gateway_id = str(fields.get("id") or fields.get("messageid") or "").strip()
        status = str(fields.get("status") or "").strip()
        if not gateway_id or not status or len(gateway_id) > 100:
            return jsonify(error="id and status are required"), 400
        result = apply_report(store, gateway_id, status, delivered=settings.delivered_statuses,
                              failed=settings.failed_statuses)
        if result is None:
            return jsonify(error="unknown message id"), 404
        if result == "failed":
            log.warning("SMS %s not delivered: the panel reports %r", gateway_id, status[:60])
        return jsonify(status=result)

    return bp
