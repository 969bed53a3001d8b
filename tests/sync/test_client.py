"""Real office clients against a real central server on 127.0.0.1 (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forms.definition import builtin_definitions_folder
from ledger.centre_sent import CentreSent
from sync.client import SyncReport, run_forever, sync_once
from sync.office_state import OfficeSyncState
from forms.signatures import public_key_hex
from sync.refusals import Refusal
from sync.request_auth import sign_request
from sync.transport import CentralClient, TransportError


@pytest.fixture
def office(tmp_path: Path, central, make_office):
    return make_office(tmp_path, "THR-012", central.url, central.store, batch_records=100)


def state_of(office, name: str):
    with office.ledger() as ledger:
        return OfficeSyncState(ledger).get(name)


def test_sync_once_delivers_every_record_in_batches(office, central, assert_exactly_the_union) -> None:
    office.add_records(250, attachments=3)
    report = sync_once(office.home)
    assert report.batches_sent == 3 and report.records_new == 253 and report.waiting == 0
    assert_exactly_the_union(central.store, [office])
    assert state_of(office, "last_success_at")


def test_second_sync_sends_nothing_again(office, central) -> None:
    office.add_records(10, attachments=1)
    sync_once(office.home)
    report = sync_once(office.home)
    assert (report.batches_sent, report.blobs_sent, report.records_new) == (0, 0, 0)


def test_attachment_the_server_already_has_is_not_sent_again(office, central) -> None:
    with office.ledger() as ledger:
        ledger.add_attachment(b"same photo", "image/jpeg", office=office.code)
    assert sync_once(office.home).blobs_sent == 1
    with office.ledger() as ledger:  # the same bytes attached to a second comment
        ledger.add_attachment(b"same photo", "image/jpeg", office=office.code)
    report = sync_once(office.home)
    assert report.records_new == 1 and report.blobs_sent == 0


def test_lost_acknowledgement_means_the_batch_is_sent_again_and_acknowledged_as_duplicate(
        office, central, assert_exactly_the_union) -> None:
    office.add_records(5)
    with office.ledger() as ledger:
        state = OfficeSyncState(ledger)
        batch = state.cut_batch(office.code)
        from forms.identity_keys import load_office_key

        data = state.batch_bytes(batch, load_office_key(office.home))
    CentralClient(central.url, office.code, Ed25519PrivateKey.generate(),  # its ack "lost"
                  central_key=central.keys.signing.public_key()).send_batch(data)
    report = sync_once(office.home)
    assert report.batches_sent == 1 and report.records_duplicate + report.records_new == 5
    assert_exactly_the_union(central.store, [office])


def test_two_offices_end_with_exactly_their_union(tmp_path: Path, central, assert_exactly_the_union,
                                                  make_office) -> None:
    offices = [make_office(tmp_path, code, central.url, central.store, batch_records=50)
               for code in ("THR-012", "ISF-001", "TBZ-003")]
    for i, office in enumerate(offices):
        office.add_records(60 + i * 10, attachments=i)
    threads = [threading.Thread(target=sync_once, args=(o.home,)) for o in offices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_exactly_the_union(central.store, offices)


def test_case_answer_comes_back_to_the_kiosk_office(office, central) -> None:
    with office.ledger() as ledger:
        ledger.append("case", {"tracking_code": "31415", "text": "..."}, office=office.code)
    sync_once(office.home)
    central.store.record_case_update("31415", "routed", unit="رسیدگی به شکایات")
    central.store.record_case_update("31415", "answered", answer="مشکل برطرف شد")
    assert sync_once(office.home).items_pulled >= 2
    with office.ledger() as ledger:
        updates = CentreSent(ledger).pulled_case_updates("31415")
    assert [u["status"] for u in updates] == ["routed", "answered"]
    assert updates[-1]["answer"] == "مشکل برطرف شد"


def test_catalogue_contacts_forms_and_revoked_sheets_are_pulled(office, central, publish_signed,
                                                               service_entry) -> None:
    publish_signed(central, "catalogue", "passport@1", service_entry())
    publish_signed(central, "contact", "unit-7", {"name": {"fa": "مدیر", "en": "Manager"},
                                                  "title": {"fa": "مدیر", "en": "Manager"},
                                                  "phone": "021-1234", "email": "m@example.org"})
    definition = yaml.safe_load((builtin_definitions_folder() / "satisfaction.v1.yaml").read_text(encoding="utf-8"))
    publish_signed(central, "form_definition", "satisfaction@v2", {"definition": {**definition, "version": 2}})
    central.store.publish("revoked_sheet", "S1-THR-012-77", {"reason": "lost stack"})
    sync_once(office.home)
    with office.ledger() as ledger:
        state = CentreSent(ledger)
        assert state.central_items("catalogue")["passport@1"]["fee_rials"] == 1000
        assert state.central_items("contact")["unit-7"]["phone"] == "021-1234"
        assert "satisfaction@v2" in state.central_items("form_definition")
        assert state.is_sheet_revoked("S1-THR-012-77") and not state.is_sheet_revoked("S1-THR-012-78")
        assert state.central_items("office_key")[office.code]["status"] == "active"


def test_withdrawn_item_disappears_at_the_office(office, central, publish_signed, service_entry) -> None:
    publish_signed(central, "catalogue", "old@1", service_entry("old"))
    sync_once(office.home)
    central.store.publish("catalogue", "old@1", {}, deleted=True)
    sync_once(office.home)
    with office.ledger() as ledger:
        assert CentreSent(ledger).central_items("catalogue") == {}


def test_unregistered_office_is_refused_and_status_keeps_the_reason(tmp_path: Path, central, make_office) -> None:
    office = make_office(tmp_path, "NEW-01", central.url, store=None)
    office.add_records(3)
    with pytest.raises(Refusal) as caught:
        sync_once(office.home)
    assert caught.value.code == "unknown_office"
    refusal = state_of(office, "last_refusal")
    assert refusal["code"] == "unknown_office" and "ثبت نشده" in refusal["message_fa"]
    assert central.store.record_count() == 0
    assert central.store.refusals()[0]["code"] == "unknown_office"


def test_revoked_office_is_refused(office, central) -> None:
    office.add_records(2)
    central.store.revoke_office(office.code)
    with pytest.raises(Refusal) as caught:
        sync_once(office.home)
    assert caught.value.code == "revoked_office"
    assert central.store.record_count() == 0


def test_office_with_a_replaced_key_is_refused_as_bad_signature(office, central) -> None:
    central.store.add_office(office.code, public_key_hex(Ed25519PrivateKey.generate()))
    office.add_records(2)
    with pytest.raises(Refusal) as caught:
        sync_once(office.home)
    assert caught.value.code == "bad_signature"
    assert state_of(office, "last_refusal")["code"] == "bad_signature"


def test_conflict_is_reported_to_the_office_and_sync_moves_on(office, central) -> None:
    office.add_records(1)
    [uuid] = office.uuids()
    # Another copy of this UUID with other content reached the centre first (e.g. a restored backup).
    from sync.batch import BatchRecord, encode_batch, open_batch
    from forms.identity_keys import load_office_key

    forged = BatchRecord(uuid, "survey_response", office.code, "2026-01-01T00:00:00.000000Z", {"x": 1})
    data = encode_batch(office=office.code, seq=999, records=[forged], key=load_office_key(office.home),
                        created_at="2026-01-01T00:00:00.000000Z")
    central.store.apply_batch(open_batch(data, central.store.office_public_key))
    office.add_records(2)
    report = sync_once(office.home)
    assert [c["uuid"] for c in report.conflicts] == [uuid]
    assert report.waiting == 0
    assert state_of(office, "last_refusal")["code"] == "conflict"
    assert central.store.conflicts()[0]["uuid"] == uuid


def test_server_down_is_a_transport_error_remembered_for_status(tmp_path: Path, free_port, make_office) -> None:
    office = make_office(tmp_path, "THR-012", f"http://127.0.0.1:{free_port()}", timeout=2)
    office.add_records(2)
    with pytest.raises(TransportError):
        sync_once(office.home)
    assert state_of(office, "last_error")["detail"]
    assert state_of(office, "last_success_at") is None


def test_unsigned_pull_is_refused(central) -> None:
    request = urllib.request.Request(central.url + "/v1/pull?after=0")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401
    assert json.loads(caught.value.read())["error"] == "bad_request_signature"


def test_signed_request_replayed_for_another_target_is_refused(office, central) -> None:
    from forms.identity_keys import load_office_key

    headers = sign_request(load_office_key(office.home), office.code, "GET", "/v1/pull?after=0&limit=5")
    request = urllib.request.Request(central.url + "/v1/pull?after=5&limit=5", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401


def test_garbage_batch_gets_a_precise_refusal(central) -> None:
    request = urllib.request.Request(central.url + "/v1/batches", data=b"SEDA-BATCH/1\n{}\n00\n",
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    answer = json.loads(caught.value.read())
    assert caught.value.code == 400 and answer["error"] == "malformed_manifest"
    assert answer["message_fa"] and answer["message_en"]
    assert central.store.refusals()[0]["code"] == "malformed_manifest"


def test_health_names_the_store(central) -> None:
    with urllib.request.urlopen(central.url + "/v1/health", timeout=5) as response:
        assert json.loads(response.read()) == {"ok": True, "store": central.store.dialect}


def test_run_forever_keeps_trying_until_the_server_comes_back(tmp_path: Path, store,
                                                              assert_exactly_the_union, free_port,
                                                              make_office) -> None:
    port = free_port()
    office = make_office(tmp_path, "THR-012", f"http://127.0.0.1:{port}", store, timeout=2)
    office.add_records(20)
    outcomes: list[SyncReport | Exception] = []
    stop = threading.Event()
    loop = threading.Thread(target=run_forever, args=(office.home, stop),
                            kwargs={"on_report": lambda o, d: outcomes.append(o), "base_delay": 0.05})
    loop.start()
    try:
        deadline = time.monotonic() + 30
        while sum(isinstance(o, TransportError) for o in outcomes) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        from werkzeug.serving import make_server

        from central import create_app

        server = make_server("127.0.0.1", port, create_app(store), threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        try:
            while store.record_count() < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            loop.join(5)
            server.shutdown()
            server.server_close()
    finally:
        stop.set()
    assert sum(isinstance(o, TransportError) for o in outcomes) >= 3
    assert any(isinstance(o, SyncReport) for o in outcomes)
    assert_exactly_the_union(store, [office])


def test_records_of_another_office_code_in_the_ledger_are_not_sent(office, central) -> None:
    with office.ledger() as ledger:
        ledger.append("audit", {"note": "test print"}, office="DEMO-01")
    office.add_records(2)
    report = sync_once(office.home)
    assert report.records_new == 2 and report.waiting == 0
    assert central.store.record_count("DEMO-01") == 0


def test_oversized_batch_is_refused_with_413_and_logged(store) -> None:
    from sync.batch import Limits
    from central import create_app

    app = create_app(store, limits=Limits(max_wire_bytes=500))
    key = Ed25519PrivateKey.generate()
    store.add_office("THR-012", public_key_hex(key))
    from sync.batch import BatchRecord, encode_batch

    records = [BatchRecord(f"00000000-0000-4000-8000-{i:012d}", "survey_response", "THR-012",
                           "2026-11-30T10:00:00.000000Z", {"text": "x" * 200}) for i in range(20)]
    data = encode_batch(office="THR-012", seq=1, records=records, key=key,
                        created_at="2026-11-30T10:00:00.000000Z")
    answer = app.test_client().post("/v1/batches", data=data)
    assert answer.status_code == 413 and answer.get_json()["error"] == "oversized"
    assert store.record_count() == 0 and store.refusals()[0]["code"] == "oversized"


def test_attachment_whose_bytes_are_gone_stops_sync_with_a_clear_error(office, central) -> None:
    import sqlite3

    from sync.client import SyncError

    with office.ledger() as ledger:
        record = ledger.add_attachment(b"crop", "image/png", office=office.code)
    conn = sqlite3.connect(office.ledger_path)
    conn.execute("DELETE FROM blobs")
    conn.commit()
    conn.close()
    with pytest.raises(SyncError, match=record.body["sha256"]):
        sync_once(office.home)
    assert "not its bytes" in state_of(office, "last_error")["detail"]
    assert central.store.record_count() == 0


def test_central_started_in_a_thread_serves_an_office_and_stops(tmp_path: Path,
                                                                assert_exactly_the_union, make_office) -> None:
    from central import start_central

    with start_central(tmp_path / "central.sqlite3") as running:
        office = make_office(tmp_path, "THR-012", running.url, running.store)
        office.add_records(3, attachments=1)
        assert sync_once(office.home).records_new == 4
    with pytest.raises(TransportError):
        CentralClient(running.url, "THR-012", Ed25519PrivateKey.generate(), timeout=2).health()
    assert_exactly_the_union(running.store, [office])


def test_a_refused_batch_waits_while_later_batches_are_still_delivered(office, central) -> None:
    with office.ledger() as ledger:
        ledger.append("audit", {"blob": "x" * (1024 * 1024 + 10)}, office=office.code)  # > 1 MiB record
        state = OfficeSyncState(ledger)
        state.cut_batch(office.code)
    office.add_records(5)
    with pytest.raises(Refusal) as caught:
        sync_once(office.home)
    assert caught.value.code == "oversized"
    assert central.store.record_count() == 5
    refusal = state_of(office, "last_refusal")
    assert refusal["code"] == "oversized" and refusal["batch"] == 1
    with office.ledger() as ledger:
        assert [b.batch_seq for b in OfficeSyncState(ledger).pending_batches()] == [1]
        assert OfficeSyncState(ledger).waiting_count(office.code) == 1


@pytest.mark.parametrize("url", ["postgresql://nobody@127.0.0.1:1/nothing"])
def test_store_that_does_not_answer_gives_503_which_the_client_retries(url: str) -> None:
    from central import Store, create_app

    app = create_app(Store(url))
    answer = app.test_client().post("/v1/batches", data=b"SEDA-BATCH/1\n" + b'{"format":"seda-batch/1",'
                                    b'"office":"THR-012","seq":1,"count":0,"sha256":"' + b"0" * 64 +
                                    b'","raw_size":0,"created_at":"2026-11-30T10:00:00Z",'
                                    b'"first_seq":0,"last_seq":0}\n' + b"00" * 64 + b"\n")
    assert answer.status_code == 503 and answer.get_json()["error"] == "store_unavailable"
