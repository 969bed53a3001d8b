"""Property: whatever the interleaving of submissions, faults, syncs and USB imports, once the
network heals and every office syncs, the central store is exactly the union of the offices."""
from __future__ import annotations

import collections
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central import import_export, open_store
from sync.client import sync_once
from sync.offline import export_batches
from ledger.sync_settings import load_settings
from sync.transport import TransportError

OFFICES = ("THR-012", "ISF-001")

submit = st.tuples(st.just("submit"), st.integers(0, 1), st.integers(0, 30), st.integers(0, 2))
usb = st.tuples(st.just("usb"), st.integers(0, 1))


@pytest.fixture(scope="session")
def operations(fault_modes):
    """Submissions, syncs through a proxy with any of its faults, and USB imports, interleaved."""
    sync = st.tuples(st.just("sync"), st.integers(0, 1), st.lists(st.sampled_from(fault_modes), max_size=4))
    return st.lists(st.one_of(submit, submit, sync, sync, usb), min_size=1, max_size=12)


@pytest.fixture(scope="session")
def run_scenario(assert_exactly_the_union, fault_proxy, fresh_store_url, make_office, serve_central,
                 sync_until_done):
    def run_scenario(backend: str, steps: list[tuple]) -> None:
        with tempfile.TemporaryDirectory() as folder, fresh_store_url(backend, Path(folder)) as url:
            root = Path(folder)
            store = open_store(url)
            server = serve_central(store)
            faults: collections.deque[str] = collections.deque()
            proxy = fault_proxy(server.port, lambda: faults.popleft() if faults else "pass")
            try:
                offices = [make_office(root, code, proxy.url, store, batch_records=16, timeout=5)
                           for code in OFFICES]
                for step in steps:
                    office = offices[step[1]]
                    if step[0] == "submit":
                        office.add_records(step[2], attachments=step[3])
                    elif step[0] == "sync":
                        faults.extend(step[2])
                        try:
                            sync_once(office.home)
                        except TransportError:
                            pass
                        faults.clear()
                    else:  # a USB stick: export at the office, import centrally (no ack back)
                        stick = root / f"{office.code}.batches"
                        export_batches(office.home, load_settings(office.home), stick)
                        result = import_export(store, stick)
                        assert result.refusals == []
                for office in offices:
                    sync_until_done(office.home)
                assert_exactly_the_union(store, offices)
                assert store.conflicts() == []
            finally:
                proxy.stop()
                server.stop()
                store.close()

    return run_scenario


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_interleaving_ends_with_exactly_the_union_on_sqlite(data, operations, run_scenario) -> None:
    run_scenario("sqlite", data.draw(operations, label="steps"))


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_interleaving_ends_with_exactly_the_union_on_postgresql(data, operations, run_scenario) -> None:
    run_scenario("postgresql", data.draw(operations, label="steps"))
