"""The portal's pre-forked workers (central/prefork.py) and the store's writers' queue beside them."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from central.store import open_store

ROOT = Path(__file__).resolve().parents[2]

# A server process as the portal's `serve --workers` runs one: the answer names the worker.
SERVER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from central.prefork import listening_sockets, serve_workers

    def make_app():
        if {broken!r}:
            raise RuntimeError("this worker cannot start")
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [str(os.getpid()).encode()]
        return app

    sockets = listening_sockets("127.0.0.1", 0, 2)
    print(sockets[0].getsockname()[1], flush=True)
    raise SystemExit(serve_workers(sockets, make_app, threads=2, ident="seda-test",
                                   crash_loop_seconds=1.0))
""")


def start_server(broken: bool = False) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT), broken=broken)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def ask(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        return int(conn.getresponse().read())
    finally:
        conn.close()


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def test_two_workers_serve_one_address_and_a_dead_one_is_replaced():
    process, port = start_server()
    try:
        workers = children_of(process.pid)
        deadline = time.monotonic() + 10
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = children_of(process.pid)
        assert len(workers) == 2
        answered = {ask(port) for _ in range(40)}
        assert answered <= workers and answered
        time.sleep(1.1)  # past the crash-loop guard: a worker that served a while is replaced
        victim = next(iter(workers))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = children_of(process.pid)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.05)
        assert len(now) == 2 and victim not in now
        assert ask(port) in now
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    assert not children_of(process.pid)


def test_workers_that_cannot_start_stop_the_server_with_a_reason():
    process, _ = start_server(broken=True)
    assert process.wait(20) == 1
    error = process.stderr.read()
    assert "this worker cannot start" in error       # the cause, from the worker's log
    assert "seda-test" in error and "متوقف" in error  # the server says it stops, in Persian first


def test_a_bookkeeping_write_leaves_the_connection_durable_again(tmp_path):
    store = open_store(tmp_path / "central.sqlite3")
    try:
        with store.write(durable=False) as db:
            db.execute("INSERT INTO throttles (key, count, since, next_at) VALUES ('k', 1, 'a', 'b')")
            assert db.one("PRAGMA synchronous")[0] == 1  # NORMAL: this commit does not wait for the disk
        with store.connect() as db:
            assert db.one("PRAGMA synchronous")[0] == 2  # FULL again for the next caller
            assert db.one("SELECT count FROM throttles WHERE key = 'k'")[0] == 1
    finally:
        store.close()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_writers_lock_file_is_private(tmp_path):
    store = open_store(tmp_path / "central.sqlite3")
    try:
        with store.write() as db:
            db.execute("INSERT INTO throttles (key, count, since, next_at) VALUES ('k', 1, 'a', 'b')")
        assert (tmp_path / "central.sqlite3-writer").stat().st_mode & 0o777 == 0o600
    finally:
        store.close()


def test_seda_central_portal_serve_runs_two_workers_on_a_fresh_home(tmp_path, free_port):
    """The command as an operator runs it: both workers make the keys they need and answer."""
    home = tmp_path / "home"
    store_path = tmp_path / "central.sqlite3"
    open_store(store_path).close()  # `seda central init`
    port = free_port()
    env = {**os.environ, "SEDA_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-c", "from seda.cli import main; main()", "central", "portal",
                                "serve", "--store", str(store_path), "--port", str(port), "--workers", "2"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, answer = time.monotonic() + 30, None
        while time.monotonic() < deadline and answer is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                answer = conn.getresponse().status
            except OSError:
                time.sleep(0.1)
        assert answer == 200
        deadline = time.monotonic() + 10
        while len(children_of(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(children_of(process.pid)) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(15)
    assert code == 0, process.stderr.read()


def test_seda_central_portal_serve_on_a_busy_port_says_so_and_claims_nothing(tmp_path):
    store_path = tmp_path / "central.sqlite3"
    open_store(store_path).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        answer = subprocess.run([sys.executable, "-c", "from seda.cli import main; main()", "central", "portal",
                                 "serve", "--store", str(store_path), "--port", str(port), "--workers", "2"],
                                cwd=ROOT, env={**os.environ, "SEDA_HOME": str(tmp_path / "home")},
                                capture_output=True, text=True, timeout=60)
    assert answer.returncode == 1
    assert "در دسترس نیست" in answer.stderr and "Traceback" not in answer.stderr
    assert "http://" not in answer.stdout  # never announced as serving
