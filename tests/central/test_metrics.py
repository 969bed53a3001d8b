"""/metrics (issue #16): feed lag per office and escalations by unit, in the Prometheus text
format (HELP and TYPE before every family)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from central.casework import Casework
from central.metrics import metrics_text
from central.office_health import save_report
from central.store import open_store
from central.verdicts import record_verdict
from forms.workdays import WorkCalendar

CALENDAR = WorkCalendar.of([])


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = open_store(tmp_path / "central.sqlite3")  # the figures are the same SQL on both databases
    yield store
    store.close()


def _sample(text: str, name: str, **labels: str) -> float:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}{{{re.escape(inner)}}} (\S+)$", text, re.M)
    assert match, f"{name}{{{inner}}} not in:\n{text}"
    return float(match.group(1))


def test_feed_lag_counts_unpulled_items_and_the_age_of_the_oldest(sqlite_store, case_sender) -> None:
    case_sender(sqlite_store, offices=("THR-012", "ISF-001"))
    now = datetime.now(timezone.utc)
    pulled = sqlite_store.publish("catalogue", "a", {"v": 1})
    save_report(sqlite_store, "THR-012", {"pull_cursor": pulled}, now)
    save_report(sqlite_store, "ISF-001", {"pull_cursor": 0}, now)
    sqlite_store.publish("catalogue", "b", {"v": 2})
    sqlite_store.publish("case_update", "x", {"v": 3}, office="ISF-001")  # not THR-012's
    text = metrics_text(sqlite_store, CALENDAR, now + timedelta(minutes=10))
    assert _sample(text, "seda_office_feed_lag_items", office="THR-012") >= 1
    assert 595 <= _sample(text, "seda_office_feed_oldest_unpulled_age_seconds", office="THR-012") <= 605
    assert _sample(text, "seda_office_feed_oldest_unpulled_age_seconds", office="ISF-001") >= 595
    save_report(sqlite_store, "THR-012", {"pull_cursor": pulled + 2}, now)  # caught up with its items
    text = metrics_text(sqlite_store, CALENDAR, now + timedelta(minutes=10))
    assert _sample(text, "seda_office_feed_oldest_unpulled_age_seconds", office="THR-012") == 0
    assert "# TYPE seda_office_feed_oldest_unpulled_age_seconds gauge" in text


def test_cases_past_deadline_and_not_solved_reopenings_are_counted_by_unit(sqlite_store, case_sender) -> None:
    sender = case_sender(sqlite_store)
    work = Casework(sqlite_store)
    work.save_unit("cards", "واحد کارت", "Cards", actor="admin")
    late, answered = sender.file(), sender.file(identity=True)
    for record in (late, answered):
        work.refer(record.uuid, "cards", actor="admin")
    work.answer(answered.uuid, "کارت صادر شد", actor="admin")
    record_verdict(sqlite_store, answered.uuid, solved=False)  # "was it solved? no": reopened
    text = metrics_text(sqlite_store, CALENDAR, datetime.now(timezone.utc) + timedelta(days=60))
    assert _sample(text, "seda_cases_past_deadline", unit="cards") == 2  # both open, both late
    assert _sample(text, "seda_cases_reopened_total", unit="cards") == 1
    assert "# HELP seda_cases_past_deadline " in text and "# TYPE seda_cases_reopened_total counter" in text
    assert "seda_cases_past_deadline{" not in metrics_text(sqlite_store, CALENDAR)  # nothing late yet
