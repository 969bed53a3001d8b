"""Misconduct reports filed on the portal are held, sealed, until the hour they are stamped
with has ended, then released in shuffled order (issue #14): the moment a report reaches the
oversight inbox, or its place among the records, cannot be matched with a visitor."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from central.casework import Casework
from central.held_reports import release_due
from central.keys import CentralKeys
from central.portal_follow_up import find_case
from central.portal_intake import file_report, new_submission_id
from central.store import open_store
from forms.case_form import CaseDraft

# Tomorrow, so that the reads which release what is due (at the real time) find it still held.
AT_10_20 = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=10, minute=20, second=0,
                                                                     microsecond=0)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return AT_10_20.replace(hour=hour, minute=minute, second=second)


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = open_store(tmp_path / "central.sqlite3")  # the same SQL on both databases
    yield store
    store.close()


@pytest.fixture
def keys(sqlite_store, tmp_path: Path):
    home = tmp_path / "central-home"
    home.mkdir(mode=0o700)
    return CentralKeys(home, sqlite_store)


def _report(store, keys, text: str = "رشوه خواستند", now: datetime = AT_10_20):
    draft = CaseDraft(type="misconduct", service="other", text=text, anonymous=True)
    return file_report(store, keys, draft, submission=new_submission_id(), now=now)


def _cases(store) -> list[str]:
    with store.connect() as db:
        return [row[0] for row in db.all("SELECT uuid FROM records WHERE kind = 'case' ORDER BY id")]


def test_a_report_filed_at_10_20_is_held_until_11_then_released(sqlite_store, keys) -> None:
    filed = _report(sqlite_store, keys)
    assert release_due(sqlite_store, at(10, 59, 59)) == 0
    assert _cases(sqlite_store) == [] and Casework(sqlite_store).inbox(status="all") == []
    held = find_case(sqlite_store, filed.tracking_code, "")
    assert held.outcome == "held" and held.held_until.startswith(f"{AT_10_20:%Y-%m-%d}T11:00:00")
    assert release_due(sqlite_store, at(11, 0)) == 1
    assert _cases(sqlite_store) == [filed.case_uuid]
    (case,) = Casework(sqlite_store).inbox(status="all")
    assert case.unit == "oversight" and case.received_at.startswith(f"{AT_10_20:%Y-%m-%d}T10:00:00")
    found = find_case(sqlite_store, filed.tracking_code, "")
    assert found.outcome == "found" and found.case.sealed


def test_a_held_report_is_sealed_at_rest(sqlite_store, keys) -> None:
    filed = _report(sqlite_store, keys, text="کارمند باجه سه رشوه خواست")
    with sqlite_store.connect() as db:
        dump = repr(db.all("SELECT * FROM held_reports"))
    assert "رشوه" not in dump and filed.tracking_code not in dump and "10:20" not in dump


def test_reports_of_one_hour_are_released_in_shuffled_order_not_filing_order(sqlite_store, keys) -> None:
    filed = [_report(sqlite_store, keys, text=f"گزارش {i}", now=AT_10_20.replace(minute=20 + i))
             for i in range(4)]
    assert release_due(sqlite_store, at(11, 1),
                       rng=random.Random(5)) == 4
    released = _cases(sqlite_store)
    expected = sorted(f.case_uuid for f in filed)
    random.Random(5).shuffle(expected)
    assert released == expected  # the seeded shuffle of the held rows, nothing else
    assert released != [f.case_uuid for f in filed]


def test_reading_the_oversight_inbox_releases_what_is_due_without_waiting_for_the_timer(
        sqlite_store, keys, make_user, login, web_client) -> None:
    filed = _report(sqlite_store, keys, now=datetime.now(timezone.utc) - timedelta(hours=2))
    assert _cases(sqlite_store) == []  # its hour has ended, but no timer has run
    make_user(sqlite_store, "bazras", "oversight", unit="oversight")
    client = login(web_client(sqlite_store), "bazras")
    assert client.get("/cases/").status_code == 200
    assert _cases(sqlite_store) == [filed.case_uuid]
