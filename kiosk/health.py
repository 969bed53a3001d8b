"""Is this kiosk alive? ``GET /healthz`` for the appliance's watchdog, and the heartbeat file.

The watchdog (``seda kiosk install`` writes it) asks ``/healthz`` every minute and restarts
the kiosk server when it does not answer in time; the answer opens the ledger, so a server
whose threads are stuck on a database lock counts as hung, not as healthy.  Every answered
request notes the heartbeat (forms/heartbeat.py, at most once a minute), which the sync
client reports to the centre's offices page as "kiosk last alive".
"""
from __future__ import annotations

import threading
import time

from flask import Blueprint, Flask, Response, current_app, jsonify

from forms.heartbeat import note_beat
from .state import ledger, state

__all__ = ["BEAT_SECONDS", "bp", "install_heartbeat"]

#: A beat is written at most this often.
BEAT_SECONDS = 60.0

bp = Blueprint("health", __name__)


class _Beats:
    """The last beat of one kiosk app (each app has its own ``$SEDA_HOME``)."""

    def __init__(self) -> None:
        self._last = float("-inf")
        self._lock = threading.Lock()

    def beat(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last < BEAT_SECONDS:
                return
            self._last = now
        try:
            note_beat(state().config.home, "kiosk")
        except OSError:  # a full disk must not turn a visitor's page into an error
            pass


@bp.route("/healthz")
def healthz() -> Response:
    ledger().count()  # the ledger answers: the kiosk can take a visitor's record
    current_app.extensions["seda_kiosk.beats"].beat(force=True)
    return jsonify({"ok": True})


def install_heartbeat(app: Flask) -> None:
    """Register ``/healthz`` and the per-request heartbeat on the kiosk ``app``."""
    beats = app.extensions["seda_kiosk.beats"] = _Beats()
    app.register_blueprint(bp)

    @app.after_request
    def _beat_after(response):
        beats.beat()
        return response
