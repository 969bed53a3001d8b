"""The central server running inside another program (``seda demo``, tests, benchmarks).

``seda central serve`` is the production way (waitress in the foreground).  This module starts
the same app on the same server, waitress, in a background thread and can stop it again, so a
demo can start a kiosk and a central server side by side in one process.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import waitress
from waitress import wasyncore

from .app import create_app
from .casework import Casework
from .store import Store, open_store

__all__ = ["ESCALATION_SECONDS", "EscalationTimer", "RunningApp", "RunningCentral", "start_central",
           "waitress_options"]

log = logging.getLogger("seda.central")
#: How often overdue cases are looked for (escalation is to the minute, not to the second).
ESCALATION_SECONDS = 300.0


#: waitress reads a body this much larger than the app's limit before giving up, so a body a
#: little over the limit reaches the app and is refused with a reason the office understands
#: (413 ``oversized``), not with a reset connection the office would take for a network fault.
BODY_HEADROOM = 8 * 1024 * 1024


def waitress_options(app, *, trusted_proxy: str | None = None) -> dict:
    """waitress settings for the central app (``seda central serve`` and :class:`RunningCentral`).

    ``trusted_proxy``: the address of the TLS proxy in front, whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are then believed (each client's own address for sign-in throttling,
    HTTPS for Secure cookies); from any other address those headers are dropped.
    """
    options: dict = {"max_request_body_size": app.config["MAX_CONTENT_LENGTH"] + BODY_HEADROOM}
    if trusted_proxy:
        options.update(trusted_proxy=trusted_proxy, trusted_proxy_count=1,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
                       clear_untrusted_proxy_headers=True)
    return options


class EscalationTimer:
    """Escalates overdue cases to their unit heads every ``interval`` seconds, in a thread.

    Several server processes may each run one: :meth:`Casework.escalate_overdue` escalates a
    case once, in a transaction, so a second process finds nothing left to do.
    """

    def __init__(self, store: Store, interval: float = ESCALATION_SECONDS) -> None:
        self._casework = Casework(store)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seda-escalation", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                escalated = self._casework.escalate_overdue()
                if escalated:
                    log.info("escalated %d overdue case(s) to their unit heads", len(escalated))
            except Exception:  # noqa: BLE001 - a database hiccup must not end the timer
                log.exception("escalating overdue cases failed; will try again")
            if self._stop.wait(self._interval):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class RunningApp:
    """A WSGI ``app`` served by waitress on ``url`` in a background thread until :meth:`stop`
    (the central server here, the citizens' portal in central/portal/server.py)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 ident: str = "seda-central") -> None:
        self._map: dict = {}
        self._server = waitress.create_server(app, map=self._map, host=host, port=port,
                                              threads=threads, ident=ident,
                                              **waitress_options(app))
        self.port = self._server.effective_port
        self.url = f"http://{host}:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=ident, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            # stop() closes the sockets under the running select loop: that is how it ends
            if not self._stopping.is_set():
                raise

    def stop(self) -> None:
        """Close the listening socket and every connection, and end the worker threads."""
        self._stopping.set()
        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._map)
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class RunningCentral(RunningApp):
    """A central server serving ``store`` on ``url`` until :meth:`stop`."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 home: Path | None = None) -> None:
        self.store = store
        app = create_app(store, home=home)
        self.keys = app.extensions["seda.central_keys"]
        super().__init__(app, host, port, threads, "seda-central")
        self._escalation = EscalationTimer(store)

    def stop(self) -> None:
        self._escalation.stop()
        super().stop()


def start_central(store: Store | str | Path, host: str = "127.0.0.1", port: int = 0,
                  threads: int = 4, home: Path | None = None) -> RunningCentral:
    """Start a central server on ``store`` (a Store, SQLite path or postgresql:// URL);
    ``home`` is the central installation's folder (keys), default ``$SEDA_HOME``."""
    if not isinstance(store, Store):
        store = open_store(store)
    return RunningCentral(store, host, port, threads, home)
