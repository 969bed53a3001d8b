"""Sync under faults: a misbehaving network, a central server killed mid-batch, an office
client killed mid-sync and mid-write.  Every scenario ends with the same check: the central
store holds exactly the union of the offices' records, no duplicates, no losses, attachments
intact (sync_fixtures.assert_exactly_the_union)."""
from __future__ import annotations

import itertools
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from central import open_store
from sync.client import sync_once
from sync.transport import TransportError

SEDA = str(Path(sys.executable).with_name("seda"))


def python_env(home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if home is not None:
        env["SEDA_HOME"] = str(home)
    return env


# -- the network misbehaves -------------------------------------------------------------


def test_each_network_fault_ends_with_exactly_the_union(fault_mode: str, tmp_path: Path, central,
                                                        assert_exactly_the_union, fault_proxy, make_office,
                                                        sync_until_done) -> None:
    mode = fault_mode
    # The first three connections of every kind of request misbehave, then the network heals.
    faults = itertools.chain([mode] * 3, itertools.repeat("pass"))
    proxy = fault_proxy(central.port, lambda: next(faults))
    try:
        office = make_office(tmp_path, "THR-012", proxy.url, central.store, batch_records=40, timeout=5)
        office.add_records(100, attachments=4)
        sync_until_done(office.home)
        office.add_records(10, attachments=1)
        sync_until_done(office.home)
    finally:
        proxy.stop()
    assert proxy.seen[:3] == [mode] * 3
    assert_exactly_the_union(central.store, [office])


@pytest.mark.slow
def test_random_faults_with_several_offices_at_once(tmp_path: Path, central, fault_modes,
                                                    assert_exactly_the_union, fault_proxy, make_office,
                                                    sync_until_done) -> None:
    rng = random.Random(5)
    proxy = fault_proxy(central.port, lambda: rng.choice(fault_modes))
    offices = [make_office(tmp_path, code, proxy.url, central.store, batch_records=25, timeout=5)
               for code in ("THR-012", "ISF-001", "TBZ-003")]
    errors: list[BaseException] = []

    def work(office, seed: int) -> None:
        local = random.Random(seed)
        try:
            for _ in range(4):
                office.add_records(local.randint(0, 40), attachments=local.randint(0, 2))
                try:
                    sync_once(office.home)
                except TransportError:
                    pass
            sync_until_done(office.home, attempts=200)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(o, i)) for i, o in enumerate(offices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    proxy.stop()
    assert errors == []
    assert_exactly_the_union(central.store, offices)


# -- the central server is killed with SIGKILL mid-batch ---------------------------------------


class CentralProcess:
    """`seda central serve` (waitress) in its own process, so it can be killed outright."""

    def __init__(self, store_url: str, port: int, home: Path) -> None:
        self.store_url, self.port, self.home = store_url, port, home
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [SEDA, "central", "serve", "--store", self.store_url, "--port", str(self.port)],
            env=python_env(self.home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/health", timeout=1) as r:
                    if json.loads(r.read())["ok"]:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("central server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # SIGKILL: no cleanup, no flush, mid-transaction
            self.proc.wait(10)
            self.proc = None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_central_server_killed_mid_batch_loses_and_duplicates_nothing(backend: str, tmp_path: Path,
                                                                      assert_exactly_the_union,
                                                                      free_port, fresh_store_url,
                                                                      make_office, sync_until_done) -> None:
    with fresh_store_url(backend, tmp_path) as url:
        store = open_store(url)
        port = free_port()
        server = CentralProcess(url, port, tmp_path / "central-home")
        offices = [make_office(tmp_path, code, f"http://127.0.0.1:{port}", store, batch_records=2000,
                               timeout=5) for code in ("THR-012", "ISF-001")]
        for office in offices:
            office.add_records(6000, attachments=3)
        rng = random.Random(11)
        stop = threading.Event()
        interrupted: list[TransportError] = []

        def keep_syncing(office) -> None:
            while not stop.is_set():
                try:
                    if sync_once(office.home).waiting == 0:
                        return
                except TransportError as error:
                    interrupted.append(error)
                    time.sleep(0.02)

        try:
            for round_ in range(4):
                server.start()
                workers = [threading.Thread(target=keep_syncing, args=(o,)) for o in offices]
                for worker in workers:
                    worker.start()
                time.sleep(rng.uniform(0.05, 0.4))
                server.kill()
                stop.set()
                for worker in workers:
                    worker.join(30)
                stop.clear()
                for office in offices:  # more arrives while the server is down
                    office.add_records(500)
            server.start()
            for office in offices:
                sync_until_done(office.home)
        finally:
            server.kill()
        assert interrupted, "no sync was ever cut off by a kill: the test proved nothing"
        assert_exactly_the_union(store, offices)
        store.close()


# -- the office client is killed mid-sync and mid-SQLite-write ----------------------------------

WRITER = """
import os, sys
from ledger.ledger import Ledger
ledger = Ledger.open(sys.argv[1])
n = 0
while True:
    with ledger.transaction():
        for i in range(200):
            ledger.append("survey_response", {"answers": {"q1": i}, "n": n}, office="THR-012")
        ledger.add_attachment(os.urandom(2048), "image/png", office="THR-012")
    n += 1
"""


def last_attempt(office) -> str | None:
    conn = sqlite3.connect(office.ledger_path, timeout=10)
    try:
        row = conn.execute("SELECT value FROM sync_state WHERE name = 'last_attempt_at'").fetchone()
        return None if row is None else row[0]
    finally:
        conn.close()


def wait_until_sync_started(office, central, timeout: float = 30) -> None:
    """Wait for a client process to begin a contact (however slow the machine is today)."""
    before = last_attempt(office)
    deadline = time.monotonic() + timeout
    while last_attempt(office) == before:
        if time.monotonic() > deadline:
            raise AssertionError("the sync client never started a contact")
        time.sleep(0.01)


def ledger_is_intact(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


@pytest.mark.slow
def test_office_client_killed_mid_sync_and_mid_write_loses_and_duplicates_nothing(
        tmp_path: Path, central, assert_exactly_the_union, make_office, sync_until_done) -> None:
    office = make_office(tmp_path, "THR-012", central.url, central.store, batch_records=300)
    office.add_records(2000, attachments=5)
    rng = random.Random(3)
    for _ in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(office.ledger_path)],
                                  env=python_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        syncer = subprocess.Popen([SEDA, "sync", "run", "--quiet"], env=python_env(office.home),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_sync_started(office, central)
        time.sleep(rng.uniform(0.0, 0.3))
        for proc in rng.sample([writer, syncer], 2):  # kill in a random order, mid-whatever
            proc.kill()
            proc.wait(10)
        assert writer.returncode != 0, writer.stderr.read().decode()
        assert ledger_is_intact(office.ledger_path)
    # And a `seda sync once` killed a few times on its own.
    office.add_records(3000, attachments=2)
    for _ in range(3):
        once = subprocess.Popen([SEDA, "sync", "once"], env=python_env(office.home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_sync_started(office, central)
        time.sleep(rng.uniform(0.0, 0.2))
        once.kill()
        once.wait(10)
    sync_until_done(office.home)
    assert ledger_is_intact(office.ledger_path)
    with office.ledger() as ledger:
        assert ledger.count() > 5000  # the writer really wrote before it was killed
    assert_exactly_the_union(central.store, [office])


# -- several stateless server processes behind a load balancer on one store -----------------


def test_two_servers_behind_a_round_robin_balancer_share_one_store(tmp_path: Path, store_url: str,
                                                                   assert_exactly_the_union,
                                                                   fault_proxy, make_office,
                                                                   serve_central, sync_until_done) -> None:
    """Every request may land on either server (each with its own connection pool), including
    the two copies of a duplicated request; the store alone holds the truth."""
    store = open_store(store_url)
    servers = [serve_central(open_store(store_url, migrate=False)) for _ in range(2)]
    rng = random.Random(8)
    proxy = fault_proxy([s.port for s in servers],
                       lambda: rng.choice(["pass", "pass", "duplicate", "drop_response"]))
    try:
        offices = [make_office(tmp_path, code, proxy.url, store, batch_records=20, timeout=5)
                   for code in ("THR-012", "ISF-001")]
        for office in offices:
            office.add_records(90, attachments=2)
        threads = [threading.Thread(target=sync_until_done, args=(o.home,)) for o in offices]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with offices[0].ledger() as ledger:
            ledger.append("case", {"tracking_code": "5150"}, office="THR-012")
        sync_until_done(offices[0].home)
        store.record_case_update("5150", "answered", answer="done")
        sync_until_done(offices[0].home)
        with offices[0].ledger() as ledger:
            from ledger.centre_sent import CentreSent

            assert CentreSent(ledger).pulled_case_updates("5150")[0]["answer"] == "done"
    finally:
        proxy.stop()
        for server in servers:
            server.stop()
    assert_exactly_the_union(store, offices)
