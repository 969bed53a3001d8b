"""The office's sync bookkeeping inside the ledger file: outbox, state, pulled items."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import Ledger
from ledger.centre_sent import CentreSent
from sync.office_state import OfficeSyncState
from sync.batch import encode_content, open_batch

OFFICE = "THR-012"
KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger.open(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def fill(ledger: Ledger, count: int, office: str = OFFICE) -> None:
    ledger.append_many({"kind": "survey_response", "body": {"i": i}, "office": office} for i in range(count))


def test_nothing_to_cut_gives_none(ledger: Ledger) -> None:
    assert OfficeSyncState(ledger).cut_batch(OFFICE) is None


def test_batches_cover_the_ledger_in_order_without_overlap(ledger: Ledger) -> None:
    fill(ledger, 25)
    state = OfficeSyncState(ledger)
    batches = [state.cut_batch(OFFICE, max_records=10) for _ in range(3)]
    assert [(b.batch_seq, b.first_seq, b.last_seq, b.count) for b in batches] == [
        (1, 1, 10, 10), (2, 11, 20, 10), (3, 21, 25, 5)]
    assert state.cut_batch(OFFICE) is None
    assert state.waiting_count(OFFICE) == 25


def test_batch_is_cut_short_by_size(ledger: Ledger) -> None:
    ledger.append_many({"kind": "audit", "body": {"text": "x" * 1000}, "office": OFFICE} for _ in range(10))
    state = OfficeSyncState(ledger)
    batch = state.cut_batch(OFFICE, max_records=100, max_raw_bytes=3600)
    assert batch.count == 3
    assert len(b"".join(state._lines(OFFICE, batch.first_seq, batch.last_seq))) <= 3600


def test_records_of_other_offices_are_stepped_over(ledger: Ledger) -> None:
    fill(ledger, 2)
    fill(ledger, 3, office="DEMO-01")
    state = OfficeSyncState(ledger)
    batch = state.cut_batch(OFFICE)
    assert batch.count == 2 and batch.last_seq == 5
    assert state.foreign_count(OFFICE) == 3 and state.waiting_count(OFFICE) == 2


def test_only_other_offices_records_make_an_empty_batch_already_done(ledger: Ledger) -> None:
    fill(ledger, 3, office="DEMO-01")
    state = OfficeSyncState(ledger)
    batch = state.cut_batch(OFFICE)
    assert batch.count == 0 and batch.acknowledged_at is not None
    assert state.pending_batches() == []


def test_rebuilt_batch_is_byte_for_byte_the_same(ledger: Ledger) -> None:
    fill(ledger, 5)
    state = OfficeSyncState(ledger)
    batch = state.cut_batch(OFFICE)
    fill(ledger, 5)  # later records never change an earlier batch
    assert state.batch_bytes(batch, KEY) == state.batch_bytes(batch, KEY)
    verified = open_batch(state.batch_bytes(batch, KEY), lambda office: KEY.public_key())
    assert [r.uuid for r in verified.records] == [r.uuid for r in state.batch_records(batch)]


def test_lines_built_by_sqlite_equal_the_python_canonical_encoding(ledger: Ledger) -> None:
    tricky = {"text": 'سلام "quoted" \\ back\nline\ttab \u2028 \x01', "n": [1.5, None, True, -0.0, 10**20],
              "nested": {"b": 1, "a": {"z": [], "y": {}}}}
    ledger.append("case", tricky, office=OFFICE)
    ledger.add_attachment(b"bytes", "image/png", office=OFFICE, meta={"of": "کامنت"})
    state = OfficeSyncState(ledger)
    batch = state.cut_batch(OFFICE)
    assert b"".join(state._lines(OFFICE, batch.first_seq, batch.last_seq)) == encode_content(
        state.batch_records(batch))


def test_attachment_hashes_of_a_batch(ledger: Ledger) -> None:
    first = ledger.add_attachment(b"one", "image/png", office=OFFICE)
    ledger.add_attachment(b"one", "image/png", office=OFFICE)
    second = ledger.add_attachment(b"two", "audio/ogg", office=OFFICE)
    state = OfficeSyncState(ledger)
    assert state.attachment_hashes(state.cut_batch(OFFICE)) == [first.body["sha256"], second.body["sha256"]]


def test_acknowledging_twice_is_reported(ledger: Ledger) -> None:
    fill(ledger, 1)
    state = OfficeSyncState(ledger)
    batch = state.cut_batch(OFFICE)
    assert state.mark_acknowledged(batch.batch_seq, {"status": "applied"}) is True
    assert state.mark_acknowledged(batch.batch_seq, {"status": "applied"}) is False
    assert state.pending_batches() == [] and state.waiting_count(OFFICE) == 0
    assert state.batch(batch.batch_seq).result == {"status": "applied"}


def test_state_values_round_trip(ledger: Ledger) -> None:
    state = OfficeSyncState(ledger)
    assert state.get("last_refusal") is None
    state.set("last_refusal", {"code": "bad_signature", "message_fa": "امضا"})
    assert state.get("last_refusal") == {"code": "bad_signature", "message_fa": "امضا"}


def test_newer_pulled_item_replaces_older_and_older_never_replaces_newer(ledger: Ledger) -> None:
    state = OfficeSyncState(ledger)
    state.store_central_items([{"feed": "contact", "key": "u1", "cursor": 5, "body": {"v": 2}}], 5)
    state.store_central_items([{"feed": "contact", "key": "u1", "cursor": 3, "body": {"v": 1}}], 3)
    assert CentreSent(ledger).central_items("contact") == {"u1": {"v": 2}}
    assert state.pull_cursor() == 5


def test_case_updates_are_found_by_tracking_code_in_order(ledger: Ledger) -> None:
    state = OfficeSyncState(ledger)
    state.store_central_items([
        {"feed": "case_update", "key": "b", "cursor": 9, "body": {"tracking_code": "42", "status": "answered"}},
        {"feed": "case_update", "key": "a", "cursor": 4, "body": {"tracking_code": "42", "status": "routed"}},
        {"feed": "case_update", "key": "c", "cursor": 6, "body": {"tracking_code": "43", "status": "routed"}},
    ], 9)
    assert [u["status"] for u in CentreSent(ledger).pulled_case_updates("42")] == ["routed", "answered"]
    assert CentreSent(ledger).pulled_case_updates("44") == []
