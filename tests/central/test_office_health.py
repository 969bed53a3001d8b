"""Health at the centre (issue #16): offices report after each contact, the offices page
shows and flags them, /metrics exposes the figures to a bearer of the token only."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.app import create_app
from central.metrics import metrics_text
from central.office_health import is_quiet, office_health
from forms.heartbeat import note_beat
from forms.signatures import public_key_hex
from forms.workdays import WorkCalendar
from sync.client import sync_once
from sync.request_auth import sign_request

CALENDAR = WorkCalendar.of([])


@pytest.fixture
def office(tmp_path: Path, central, make_office):
    return make_office(tmp_path, "THR-012", central.url, central.store)


def test_sync_reports_waiting_version_kiosk_and_clock(office, central) -> None:
    office.add_records(3)
    note_beat(office.home, "kiosk", datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    sync_once(office.home)
    [row] = office_health(central.store, CALENDAR)
    assert row.office == "THR-012" and row.records == 3 and row.last_batch_seq == 1
    assert row.report["waiting"] == 0 and row.report["stranded"] == 0
    assert row.report["kiosk_seen_at"].startswith("2026-12-01T08:00:00")
    assert row.report["version"] and row.report["pull_cursor"] >= 0
    assert abs(row.clock_offset_seconds) < 5 and row.key_status == "active" and not row.quiet


def test_office_clock_offset_comes_from_the_signed_date(store) -> None:
    key = Ed25519PrivateKey.generate()
    store.add_office("LOR-03", public_key_hex(key.public_key()))
    client = create_app(store).test_client()
    body = json.dumps({"waiting": 7}).encode()
    slow = datetime.now(timezone.utc) - timedelta(minutes=10)
    answer = client.post("/v1/office-health", data=body,
                         headers=sign_request(key, "LOR-03", "POST", "/v1/office-health", body, now=slow))
    assert answer.status_code == 200
    assert -610 <= answer.get_json()["clock_offset_seconds"] <= -595
    [row] = office_health(store, CALENDAR)
    assert row.report["waiting"] == 7 and row.clock_offset_seconds == answer.get_json()["clock_offset_seconds"]


def test_unsigned_or_malformed_health_report_is_refused_and_logged(store) -> None:
    key = Ed25519PrivateKey.generate()
    store.add_office("LOR-03", public_key_hex(key.public_key()))
    client = create_app(store).test_client()
    assert client.post("/v1/office-health", data=b"{}").status_code == 401
    body = json.dumps({"waiting": "many"}).encode()
    answer = client.post("/v1/office-health", data=body,
                         headers=sign_request(key, "LOR-03", "POST", "/v1/office-health", body))
    assert answer.status_code == 400 and answer.get_json()["error"] == "malformed_manifest"
    assert office_health(store, CALENDAR)[0].report == {}
    assert {r["code"] for r in store.refusals()} >= {"malformed_manifest"}


def test_quiet_means_more_than_a_working_day() -> None:
    friday_off = WorkCalendar.of([])  # Friday is the weekend
    wed = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)  # a Wednesday
    assert not is_quiet(wed, wed + timedelta(days=1), friday_off)          # Thursday
    assert is_quiet(wed, wed + timedelta(days=2, hours=1), friday_off) is False  # Friday is off
    assert is_quiet(wed, wed + timedelta(days=3), friday_off)              # Saturday
    assert is_quiet(None, wed, friday_off)
    holiday = WorkCalendar.of([date(2026, 12, 3)])
    assert not is_quiet(wed, wed + timedelta(days=3), holiday)             # Thu holiday, Fri off


def test_offices_page_lists_quiet_offices_first_for_admins_only(store, make_user, login, web_client) -> None:
    for code in ("AAA-01", "ZZZ-09"):
        store.add_office(code, public_key_hex(Ed25519PrivateKey.generate().public_key()))
    key = Ed25519PrivateKey.generate()
    store.add_office("MMM-05", public_key_hex(key.public_key()))
    app = create_app(store)
    body = json.dumps({"waiting": 4, "refused_batches": 1, "version": "9.9.9"}).encode()
    app.test_client().post("/v1/office-health", data=body,
                           headers=sign_request(key, "MMM-05", "POST", "/v1/office-health", body))
    make_user(store, "admin1", "admin")
    make_user(store, "sara", "responder", unit="licences")
    assert login(web_client(store), "sara").get("/offices/").status_code == 403
    page = login(web_client(store), "admin1").get("/offices/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    order = re.findall(r'data-office="([A-Z]{3}-\d{2})"', html)
    assert order == ["AAA-01", "ZZZ-09", "MMM-05"]  # never heard from: quiet, first
    assert "وضعیت دفترها" in html and "۹.۹.۹" not in html and "9.9.9" in html
    assert "۲ دفتر بیش از یک روز کاری خاموش" in html


def test_metrics_need_the_token_and_hold_no_personal_data(office, central,
                                                           store, monkeypatch) -> None:
    monkeypatch.delenv("SEDA_CENTRAL_METRICS_TOKEN", raising=False)
    office.add_records(2)
    sync_once(office.home)
    off = create_app(store).test_client()
    assert off.get("/metrics").status_code == 404
    client = create_app(store, metrics_token="s3cret-token").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain; version=0.0.4")
    text = answer.get_data(as_text=True)
    assert 'seda_records_received_total{office="THR-012",kind="survey_response"} 2' in text
    assert 'seda_batches_received_total{office="THR-012"} 1' in text
    assert 'seda_office_records_waiting{office="THR-012"} 0' in text
    assert 'seda_office_quiet{office="THR-012"} 0' in text
    assert "seda_office_feed_lag_items" in text and "seda_cases_escalated_total 0" in text
    for line in text.splitlines():  # every sample line is a metric name, labels, a number
        assert line.startswith("#") or re.fullmatch(r'seda_[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?', line), line


def test_metrics_count_refusals_by_reason(store) -> None:
    client = create_app(store).test_client()
    client.post("/v1/batches", data=b"not a batch")
    text = metrics_text(store, CALENDAR)
    assert re.search(r'seda_refusals_total\{code="[a-z_]+"\} 1', text)
