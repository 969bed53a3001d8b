"""Serving the kiosk with waitress, in the foreground (`seda kiosk serve`) or in a thread.

The thread form is for programs that run the kiosk next to something else -- `seda demo`
starting kiosk and central server together, and the browser tests -- so they do not each
re-learn how to stop waitress cleanly.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import waitress
import waitress.server
from flask import Flask

__all__ = ["BackgroundServer", "bind", "serve", "start_in_thread"]


def _body_cap(app: Flask) -> int:
    """waitress buffers a whole request body (to disk when large) before the app sees it;
    without this it would take up to 1 GiB from anyone.  The app's largest allowance (staff
    uploads) is the cap; each visitor route refuses far less itself, with a Persian page."""
    return int(app.config.get("MAX_CONTENT_LENGTH") or 64 * 1024 * 1024)


def bind(app: Flask, host: str = "127.0.0.1", port: int = 8080, threads: int = 4):
    """A waitress server listening on ``host:port`` and not yet serving: a busy port fails
    here (OSError), before anyone is told where the kiosk is.  waitress keeps no access log,
    so no visitor's address is written anywhere (anonymous reports depend on that)."""
    return waitress.server.create_server(app, host=host, port=port, threads=threads,
                                         ident="seda-kiosk", max_request_body_size=_body_cap(app))


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8080, threads: int = 4) -> None:
    """Serve until interrupted."""
    bind(app, host, port, threads).run()


@dataclass
class BackgroundServer:
    """A kiosk served from a daemon thread; ``url`` is where it listens."""

    url: str
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _stopping: threading.Event = field(repr=False)

    def stop(self) -> None:
        """Stop accepting, let running requests finish (up to 5 s), close the socket."""
        self._stopping.set()
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()
        self._thread.join(timeout=5)


def start_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0,
                    threads: int = 4) -> BackgroundServer:
    """Start serving ``app`` in a daemon thread; port 0 picks a free port."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = waitress.server.create_server(app, host=host, port=port, threads=threads,
                                           ident="seda-kiosk",
                                           max_request_body_size=_body_cap(app))
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not stopping.is_set():  # closing the socket ends waitress's loop this way
                raise

    thread = threading.Thread(target=run, name="seda-kiosk-server", daemon=True)
    thread.start()
    bound_port = server.socket.getsockname()[1]
    return BackgroundServer(url=f"http://{host}:{bound_port}", _server=server, _thread=thread,
                            _stopping=stopping)
