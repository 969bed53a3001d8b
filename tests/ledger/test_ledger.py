"""The office ledger, exercised on real SQLite files."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import ledger.ledger as ledger_module
from ledger import RECORD_KINDS, Ledger, LedgerConflict, LedgerError, Record, default_ledger_path

OFFICE = "THR-012"


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "ledger.sqlite3"


@pytest.fixture
def ledger(ledger_path: Path):
    with Ledger.open(ledger_path) as opened:
        yield opened


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection, to show rules hold even for code that bypasses the API."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


# -- opening and schema ------------------------------------------------------


def test_open_uses_wal_full_sync_foreign_keys_and_busy_timeout(ledger: Ledger) -> None:
    def pragma(name: str) -> object:
        return ledger._conn.execute(f"PRAGMA {name}").fetchone()[0]

    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 10_000


def test_open_creates_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.sqlite3"
    with Ledger.open(path):
        pass
    assert path.is_file()


def test_migrations_are_recorded_in_order_with_applied_time(ledger: Ledger) -> None:
    rows = ledger._conn.execute(
        "SELECT version, applied_at FROM schema_migrations ORDER BY version"
    ).fetchall()
    assert [version for version, _ in rows] == [v for v, _ in ledger_module.MIGRATIONS]
    assert all(datetime.fromisoformat(applied).tzinfo is not None for _, applied in rows)
    assert ledger.schema_version == ledger_module.MIGRATIONS[-1][0]


def test_reopening_a_migrated_ledger_applies_nothing(ledger_path: Path) -> None:
    query = "SELECT version, applied_at FROM schema_migrations ORDER BY version"
    with Ledger.open(ledger_path) as first:
        before = first._conn.execute(query).fetchall()
    with Ledger.open(ledger_path) as second:
        assert second._conn.execute(query).fetchall() == before


def test_ledger_with_newer_schema_is_refused_untouched(ledger_path: Path) -> None:
    Ledger.open(ledger_path).close()
    with raw(ledger_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, '2030-01-01T00:00:00Z')")
        conn.execute("CREATE TABLE from_the_future (x)")
    with pytest.raises(LedgerError, match="schema version 999") as refused:
        Ledger.open(ledger_path)
    assert "نسخهٔ ۹۹۹" in refused.value.message_fa and "صدا را به‌روز کنید" in refused.value.message_fa
    with raw(ledger_path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
    assert max(versions) == 999 and len(versions) == len(ledger_module.MIGRATIONS) + 1


def test_failed_migration_step_is_rolled_back_whole(ledger_path: Path, monkeypatch) -> None:
    Ledger.open(ledger_path).close()
    broken_step = (100, "CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1);")
    monkeypatch.setattr(ledger_module, "MIGRATIONS", ledger_module.MIGRATIONS + (broken_step,))
    with pytest.raises(LedgerError, match="migration 100"):
        Ledger.open(ledger_path)
    with raw(ledger_path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    assert "half_done" not in tables
    assert version == ledger_module.MIGRATIONS[-2][0]


# -- appending and reading ---------------------------------------------------


def test_append_returns_the_record_that_get_reads_back(ledger: Ledger) -> None:
    record = ledger.append("survey_response", {"answers": {"q1": 4}}, office=OFFICE)
    assert isinstance(record, Record)
    assert record.seq == 1 and record.kind == "survey_response" and record.office == OFFICE
    assert uuid.UUID(record.uuid).version == 4
    assert record.created_at.utcoffset() == timedelta(0)
    assert ledger.get(record.uuid) == record


def test_get_of_unknown_uuid_returns_none(ledger: Ledger) -> None:
    assert ledger.get(str(uuid.uuid4())) is None
    assert ledger.get("not-a-uuid") is None


def test_created_at_is_stored_in_utc(ledger: Ledger) -> None:
    tehran = timezone(timedelta(hours=3, minutes=30))
    record = ledger.append(
        "audit", {}, office=OFFICE, created_at=datetime(2024, 3, 20, 12, 0, tzinfo=tehran)
    )
    assert record.created_at == datetime(2024, 3, 20, 8, 30, tzinfo=timezone.utc)
    stored = ledger._conn.execute("SELECT created_at FROM records").fetchone()[0]
    assert stored == "2024-03-20T08:30:00.000000Z"


def test_naive_created_at_is_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="timezone-aware"):
        ledger.append("audit", {}, office=OFFICE, created_at=datetime(2024, 3, 20, 12, 0))


def test_records_come_in_seq_order_and_filter_by_kind(ledger: Ledger) -> None:
    kinds = ["case", "audit", "case", "survey_response", "case"]
    appended = [ledger.append(kind, {"n": n}, office=OFFICE) for n, kind in enumerate(kinds)]
    assert list(ledger.records()) == appended
    assert [r.body["n"] for r in ledger.records("case")] == [0, 2, 4]


def test_records_after_seq_resumes_from_a_cursor(ledger: Ledger) -> None:
    appended = [ledger.append("case", {"n": n}, office=OFFICE) for n in range(5)]
    first_batch = list(ledger.records(limit=2))
    assert first_batch == appended[:2]
    rest = list(ledger.records(after_seq=first_batch[-1].seq))
    assert rest == appended[2:]


def test_records_pages_through_a_large_ledger(ledger: Ledger) -> None:
    ledger.append_many({"kind": "audit", "body": {"n": n}, "office": OFFICE} for n in range(1203))
    assert [r.body["n"] for r in ledger.records()] == list(range(1203))
    assert [r.body["n"] for r in ledger.records(after_seq=100, limit=700)] == list(range(100, 800))


def test_count_counts_all_or_one_kind(ledger: Ledger) -> None:
    for kind in ["case", "case", "audit"]:
        ledger.append(kind, {}, office=OFFICE)
    assert ledger.count() == 3
    assert ledger.count("case") == 2
    assert ledger.count("attachment") == 0


def test_unknown_kind_is_refused(ledger: Ledger) -> None:
    assert "complaint" not in RECORD_KINDS
    with pytest.raises(LedgerError, match="Unknown record kind 'complaint'"):
        ledger.append("complaint", {}, office=OFFICE)
    assert ledger.count() == 0


def test_body_that_is_not_json_is_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="JSON"):
        ledger.append("case", {"when": datetime.now()}, office=OFFICE)
    with pytest.raises(LedgerError, match="JSON"):
        ledger.append("case", {"score": float("nan")}, office=OFFICE)


def test_persian_text_round_trips_unchanged(ledger: Ledger) -> None:
    body = {"comment": "برخورد کارمند باجه ۳ بسیار محترمانه بود، ممنون!", "نام": "زهرا"}
    record = ledger.append("survey_response", body, office=OFFICE)
    assert ledger.get(record.uuid).body == body
    stored = ledger._conn.execute("SELECT body FROM records").fetchone()[0]
    assert "محترمانه" in stored  # stored readable, not as \u escapes


def test_record_survives_closing_and_reopening(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        record = ledger.append("case", {"text": "صف طولانی"}, office=OFFICE)
    with Ledger.open(ledger_path) as reopened:
        assert reopened.get(record.uuid) == record


# -- append-only, enforced by the database -----------------------------------


def test_raw_update_of_a_record_is_refused_by_the_database(ledger: Ledger) -> None:
    record = ledger.append("case", {"text": "original"}, office=OFFICE)
    with raw(ledger.path) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE records SET body = '{}' WHERE seq = ?", (record.seq,))
    assert ledger.get(record.uuid).body == {"text": "original"}


def test_raw_delete_of_a_record_is_refused_by_the_database(ledger: Ledger) -> None:
    record = ledger.append("case", {}, office=OFFICE)
    with raw(ledger.path) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM records")
    assert ledger.get(record.uuid) == record


# -- idempotency -------------------------------------------------------------


def test_reappending_same_uuid_and_content_returns_the_existing_record(ledger: Ledger) -> None:
    record_uuid = str(uuid.uuid4())
    first = ledger.append("case", {"text": "x"}, office=OFFICE, uuid=record_uuid)
    again = ledger.append("case", {"text": "x"}, office=OFFICE, uuid=record_uuid.upper())
    assert again == first
    assert ledger.count() == 1


def test_same_uuid_with_different_body_is_a_conflict(ledger: Ledger) -> None:
    record_uuid = str(uuid.uuid4())
    ledger.append("case", {"text": "x"}, office=OFFICE, uuid=record_uuid)
    with pytest.raises(LedgerConflict, match=record_uuid):
        ledger.append("case", {"text": "y"}, office=OFFICE, uuid=record_uuid)
    assert ledger.get(record_uuid).body == {"text": "x"}


# -- several writes at once --------------------------------------------------


def test_append_many_writes_all_items_in_order(ledger: Ledger) -> None:
    records = ledger.append_many(
        [
            {"kind": "survey_response", "body": {"sheet": 7}, "office": OFFICE},
            {"kind": "review_decision", "body": {"q": "q3"}, "office": OFFICE, "uuid": uuid.uuid4()},
        ]
    )
    assert [r.kind for r in records] == ["survey_response", "review_decision"]
    assert list(ledger.records()) == records


def test_append_many_with_one_bad_item_writes_nothing(ledger: Ledger) -> None:
    items = [
        {"kind": "survey_response", "body": {"sheet": 7}, "office": OFFICE},
        {"kind": "review_decision", "body": {"q": "q3"}, "office": OFFICE},
        {"kind": "no_such_kind", "body": {}, "office": OFFICE},
    ]
    with pytest.raises(LedgerError):
        ledger.append_many(items)
    assert ledger.count() == 0


def test_append_many_refuses_items_with_unknown_keys(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="unknown keys \\['bodee'\\]"):
        ledger.append_many([{"kind": "case", "bodee": {}, "body": {}, "office": OFFICE}])


def test_transaction_rolls_back_records_and_attachments_together(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError):
        with ledger.transaction():
            attachment = ledger.add_attachment(b"crop", "image/png", office=OFFICE)
            ledger.append("survey_response", {"crop": attachment.uuid}, office=OFFICE)
            raise RuntimeError("scanner crashed")
    assert ledger.count() == 0
    assert not ledger.has_blob(attachment.body["sha256"])


# -- attachments -------------------------------------------------------------


def test_attachment_record_names_its_blob(ledger: Ledger) -> None:
    record = ledger.add_attachment(b"RIFF...", "audio/wav", office=OFFICE, meta={"seconds": 12})
    assert record.kind == "attachment"
    assert record.body == {
        "sha256": hashlib.sha256(b"RIFF...").hexdigest(),
        "media_type": "audio/wav",
        "size": 7,
        "seconds": 12,
    }
    assert ledger.blob(record.body["sha256"]) == b"RIFF..."


def test_same_attachment_bytes_are_stored_once(ledger: Ledger) -> None:
    first = ledger.add_attachment(b"same bytes", "image/png", office=OFFICE)
    second = ledger.add_attachment(b"same bytes", "image/png", office=OFFICE)
    assert first.uuid != second.uuid
    assert first.body["sha256"] == second.body["sha256"]
    assert ledger._conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 1


def test_missing_blob_raises_key_error(ledger: Ledger) -> None:
    assert not ledger.has_blob("0" * 64)
    with pytest.raises(KeyError):
        ledger.blob("0" * 64)


def test_attachment_meta_cannot_override_the_hash(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="sha256"):
        ledger.add_attachment(b"x", "image/png", office=OFFICE, meta={"sha256": "forged"})


# -- sheet issuance ----------------------------------------------------------


def test_issue_sheets_gives_consecutive_ranges_from_one(ledger: Ledger) -> None:
    assert ledger.issue_sheets(OFFICE, "visit", 1, 10) == range(1, 11)
    assert ledger.issue_sheets(OFFICE, "visit", 1, 5) == range(11, 16)


def test_serials_continue_across_form_versions(ledger: Ledger) -> None:
    assert ledger.issue_sheets(OFFICE, "visit", 1, 3) == range(1, 4)
    assert ledger.issue_sheets(OFFICE, "visit", 2, 3) == range(4, 7)


def test_serials_are_counted_per_office_and_form(ledger: Ledger) -> None:
    ledger.issue_sheets(OFFICE, "visit", 1, 3)
    assert ledger.issue_sheets(OFFICE, "complaint", 1, 2) == range(1, 3)
    assert ledger.issue_sheets("ISF-003", "visit", 1, 2) == range(1, 3)


def test_issue_sheets_appends_a_sheet_issuance_record(ledger: Ledger) -> None:
    ledger.issue_sheets(OFFICE, "visit", 2, 4)
    [record] = ledger.records("sheet_issuance")
    assert record.office == OFFICE
    assert record.body == {
        "form": "visit",
        "form_version": 2,
        "first_serial": 1,
        "last_serial": 4,
        "count": 4,
    }


def test_issue_sheets_refuses_a_count_below_one(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="count"):
        ledger.issue_sheets(OFFICE, "visit", 1, 0)


def test_sheet_issued_is_exact_at_range_edges(ledger: Ledger) -> None:
    ledger.issue_sheets(OFFICE, "visit", 1, 10)  # 1..10
    ledger.issue_sheets(OFFICE, "visit", 2, 5)  # 11..15

    def issued(version: int, serial: int) -> bool:
        return ledger.sheet_issued(OFFICE, "visit", version, serial)

    assert [issued(1, s) for s in (0, 1, 10, 11)] == [False, True, True, False]
    assert [issued(2, s) for s in (10, 11, 15, 16)] == [False, True, True, False]
    assert not ledger.sheet_issued("ISF-003", "visit", 1, 1)
    assert not ledger.sheet_issued(OFFICE, "complaint", 1, 1)


def test_concurrent_issuers_never_get_overlapping_serials(ledger_path: Path) -> None:
    Ledger.open(ledger_path).close()
    ranges: list[range] = []
    errors: list[BaseException] = []

    def issue(version: int) -> None:
        try:
            with Ledger.open(ledger_path) as own_connection:
                for _ in range(40):
                    ranges.append(own_connection.issue_sheets(OFFICE, "visit", version, 3))
        except BaseException as exc:  # surface thread failures in the test
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(version,)) for version in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    serials = sorted(serial for issued in ranges for serial in issued)
    assert serials == list(range(1, 241))


def test_issued_ranges_cannot_be_deleted(ledger: Ledger) -> None:
    ledger.issue_sheets(OFFICE, "visit", 1, 3)
    with raw(ledger.path) as conn, pytest.raises(sqlite3.IntegrityError, match="permanent"):
        conn.execute("DELETE FROM issued_ranges")


# -- package helpers ---------------------------------------------------------


def test_default_ledger_path_is_under_home(tmp_path: Path) -> None:
    assert default_ledger_path(tmp_path) == tmp_path / "ledger.sqlite3"
