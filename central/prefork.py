"""Serving one WSGI app from several processes that share one listening socket.

A Python process runs one thread at a time, so a busy web app under waitress stops at about one
core however many threads it has (the portal: ~500 requests/s, bench/portal_load.py).  The
classic answer of Unix servers is a pre-forked pool: the parent binds the address, forks
``workers`` children, and each child serves with its own waitress and its own connections to
the store.  Each child has a listening socket of its own on the one address (``SO_REUSEPORT``),
and the kernel spreads new connections evenly over them: with one shared socket, whichever
child woke first took the connection, and phones that keep their connection open piled up on
one busy child while the other idled (p50 24 ms, p95 144 ms in one run).

Each child builds its app *after* the fork (``make_app``), so no database connection or lock
is ever shared between processes.  The parent only watches: a child that dies is replaced
(and said so in the log), SIGTERM/SIGINT stop them all, and a child whose parent is gone
stops by itself.  POSIX only: the central server runs on Linux (docs/operations.md).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

import waitress

from .messages import MESSAGES

__all__ = ["listening_sockets", "serve_workers"]

log = logging.getLogger(__name__)

#: How long a worker's thread may keep Python's lock while another waits for it (Python's
#: default is 5 ms).  A request that waits on the store gives the lock up at every call and
#: then queues behind the page being drawn by another thread; a shorter turn lets it back
#: sooner: the portal's p95 went from 87-115 ms to 82-86 ms, throughput up 5 %
#: (bench/portal_load.py).
SWITCH_INTERVAL = 0.001
#: A child that dies sooner than this after its start is not restarted in a loop.
CRASH_LOOP_SECONDS = 5.0


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` bound, listening sockets on one address, one per worker (``port`` 0: a free
    port, the same for all)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(1024)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _child(sock: socket.socket, make_app: Callable[[], object], threads: int, ident: str,
           options: Callable[[object], dict]) -> None:
    parent = os.getppid()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        app = make_app()
        waitress.serve(app, sockets=[sock], threads=threads, ident=ident, **options(app))
    except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
        log.exception("worker %d stopped", os.getpid())
        os._exit(1)
    os._exit(0)


def serve_workers(sockets: list[socket.socket], make_app: Callable[[], object], *, threads: int,
                  ident: str, options: Callable[[object], dict] = lambda app: {},
                  crash_loop_seconds: float = CRASH_LOOP_SECONDS) -> int:
    """Serve with one forked worker per socket of ``sockets`` until SIGTERM/SIGINT; the exit
    status (1: a worker died within ``crash_loop_seconds`` of its start, so restarting is
    futile).  A worker that dies later is replaced on the same socket.

    ``options(app)`` gives each child's extra waitress settings (body size, trusted proxy)."""
    if not sockets:
        raise ValueError("at least one socket")
    children: dict[int, tuple[int, float]] = {}

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            _child(sockets[index], make_app, threads, ident, options)
        children[pid] = (index, time.monotonic())

    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    status = 0
    try:
        for index in range(len(sockets)):
            spawn(index)
        while not stopping.is_set():
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                stopping.wait(0.05)  # a death noticed late would pass for a worker that served a while
                continue
            index, started = children.pop(pid, (0, time.monotonic()))
            code = os.waitstatus_to_exitcode(wait_status)
            log.error("%s worker %d ended (status %d); starting another", ident, pid, code)
            if time.monotonic() - started < crash_loop_seconds:
                print(MESSAGES.line("workers_crash_loop", ident=ident, code=code), file=sys.stderr)
                status = 1
                break
            spawn(index)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in list(children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        for s, handler in previous.items():
            signal.signal(s, handler)
        for sock in sockets:
            sock.close()
    return status
