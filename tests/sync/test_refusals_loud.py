"""Refusals the office understands and reports (issue 11 item 17), on SQLite and PostgreSQL: a
batch dated outside the allowed clock skew is refused like a request, a blob over the size limit
gets a 413 with a reason instead of a reset connection, the client stops sending that blob, and
`seda sync status` shows both loudly with a non-zero exit."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import central.app as central_app
from seda.cli import main
from sync.batch import BatchRecord, encode_batch, format_time
from central import Store, create_app, import_export
from central.server import RunningCentral
from sync.client import sync_once
from sync.export_file import write_export
from forms.signatures import public_key_hex
from sync.refusals import Refusal
from sync.request_auth import MAX_SKEW
from sync.transport import CentralClient

CODE = "THR-012"
NOW = datetime.now(timezone.utc)


def signed_batch(key, *, record_at: datetime, cut_at: datetime | None = None, seq: int = 1) -> bytes:
    record = BatchRecord(uuid=str(uuid.uuid4()), kind="survey_response", office=CODE,
                         created_at=format_time(record_at), body={"answers": {"q1": 1}})
    return encode_batch(office=CODE, seq=seq, records=[record], key=key,
                        created_at=format_time(cut_at or NOW))


@pytest.fixture
def office_key(store: Store):
    key = Ed25519PrivateKey.generate()
    store.add_office(CODE, public_key_hex(key))
    return key


def status(home: Path):
    return CliRunner().invoke(main, ["sync", "status"], env={"SEDA_HOME": str(home)},
                              catch_exceptions=False)


# -- batches dated ahead --------------------------------------------------------------------------


def test_a_batch_with_records_dated_a_year_ahead_is_refused(store: Store, office_key) -> None:
    answer = create_app(store).test_client().post(
        "/v1/batches", data=signed_batch(office_key, record_at=NOW + timedelta(days=365)))
    assert answer.status_code == 422 and answer.get_json()["error"] == "future_dated"
    assert "ساعت" in answer.get_json()["message_fa"]
    assert store.record_count() == 0
    assert store.refusals()[0]["code"] == "future_dated"


def test_a_batch_cut_a_year_ahead_is_refused(store: Store, office_key) -> None:
    answer = create_app(store).test_client().post(
        "/v1/batches", data=signed_batch(office_key, record_at=NOW, cut_at=NOW + timedelta(days=365)))
    assert answer.get_json()["error"] == "future_dated" and store.record_count() == 0


def test_records_within_the_skew_or_from_long_ago_are_accepted(store: Store, office_key) -> None:
    client = create_app(store).test_client()
    ahead = client.post("/v1/batches", data=signed_batch(office_key, seq=1,
                                                         record_at=NOW + MAX_SKEW - timedelta(hours=1)))
    old = client.post("/v1/batches", data=signed_batch(office_key, seq=2, record_at=NOW - timedelta(days=90)))
    assert (ahead.status_code, old.status_code) == (200, 200) and store.record_count() == 2


def test_a_usb_import_refuses_a_batch_dated_ahead_too(store: Store, office_key, tmp_path: Path) -> None:
    path = tmp_path / "e.batches"
    with open(path, "wb") as handle:
        write_export(handle, [], [signed_batch(office_key, record_at=NOW + timedelta(days=365))])
    result = import_export(store, path)
    assert [r["code"] for r in result.refusals] == ["future_dated"] and store.record_count() == 0


def test_the_office_keeps_a_future_dated_batch_and_status_says_so(store: Store, central,
                                                                  tmp_path: Path, make_office) -> None:
    office = make_office(tmp_path, CODE, central.url, store, batch_records=1)
    with office.ledger() as ledger:
        ledger.append("survey_response", {"answers": {"q1": 1}}, office=CODE,
                      created_at=NOW + timedelta(days=365))
        ledger.append("survey_response", {"answers": {"q1": 2}}, office=CODE)
    with pytest.raises(Refusal) as refused:
        sync_once(office.home)
    assert refused.value.code == "future_dated"
    assert store.record_count() == 1  # the batch after it went through
    result = status(office.home)
    assert result.exit_code == 1
    assert "[future_dated]" in result.output and "ساعت رایانهٔ دفتر" in result.output
    assert "Waiting to send: 1 record(s)" in result.output


# -- a blob over the size limit ---------------------------------------------------------------


def test_a_blob_just_over_the_limit_gets_a_413_the_client_understands(store: Store, office_key) -> None:
    server = RunningCentral(store)
    try:
        client = CentralClient(server.url, CODE, office_key, timeout=60)
        data = b"\0" * (central_app.MAX_BLOB_BYTES + 4096)  # past the app's body limit too
        import hashlib
        with pytest.raises(Refusal) as refused:
            client.put_blob(hashlib.sha256(data).hexdigest(), data)
    finally:
        server.stop()
    assert refused.value.code == "blob_too_large"
    assert [r["code"] for r in store.refusals()] == ["blob_too_large"]  # logged centrally


def test_a_blob_far_over_the_limit_is_never_sent(store: Store, central, tmp_path: Path,
                                                 monkeypatch, make_office) -> None:
    monkeypatch.setattr(central_app, "MAX_BLOB_BYTES", 1000)
    office = make_office(tmp_path, CODE, central.url, store, batch_records=1)
    with office.ledger() as ledger:
        ledger.add_attachment(b"\x89PNG" + b"x" * 5000, "image/png", office=CODE)
        ledger.append("survey_response", {"answers": {"q1": 2}}, office=CODE)
    sent: list[str] = []
    original = CentralClient.put_blob
    monkeypatch.setattr(CentralClient, "put_blob",
                        lambda self, sha, data: (sent.append(sha), original(self, sha, data)))
    for _ in range(3):
        with pytest.raises(Refusal) as refused:
            sync_once(office.home)
        assert refused.value.code == "blob_too_large"
    assert sent == []
    assert store.record_count() == 1  # the survey response after it was delivered
    result = status(office.home)
    assert result.exit_code == 1 and "Attachment too large" in result.output
    data = json.loads(CliRunner().invoke(main, ["sync", "status", "--json"],
                                         env={"SEDA_HOME": str(office.home)}).output)
    [blob] = data["refused_blobs"]
    assert (blob["size"], blob["limit"]) == (5004, 1000)


def test_a_blob_the_server_refuses_is_not_sent_again(store: Store, central, tmp_path: Path,
                                                     monkeypatch, make_office) -> None:
    """An older server that does not say its limit: the refusal itself stops the resending."""
    office = make_office(tmp_path, CODE, central.url, store)
    with office.ledger() as ledger:
        ledger.add_attachment(b"\x89PNG" + b"y" * 3000, "image/png", office=CODE)
    monkeypatch.setattr(central_app, "MAX_BLOB_BYTES", 1000)
    original_missing = CentralClient.missing_blobs

    def silent_missing(self, hashes):
        missing = original_missing(self, hashes)
        self.max_blob_bytes = None
        return missing

    monkeypatch.setattr(CentralClient, "missing_blobs", silent_missing)
    sent: list[str] = []
    original = CentralClient.put_blob
    monkeypatch.setattr(CentralClient, "put_blob",
                        lambda self, sha, data: (sent.append(sha), original(self, sha, data)))
    for _ in range(3):
        with pytest.raises(Refusal):
            sync_once(office.home)
    assert len(sent) == 1
    assert status(office.home).exit_code == 1


def test_status_is_quiet_and_zero_when_all_is_delivered(store: Store, central, tmp_path: Path,
                                                        make_office) -> None:
    office = make_office(tmp_path, CODE, central.url, store)
    office.add_records(3, attachments=1)
    sync_once(office.home)
    result = status(office.home)
    assert result.exit_code == 0 and "!!" not in result.output
