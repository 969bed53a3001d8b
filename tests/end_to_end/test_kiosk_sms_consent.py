"""SMS consent given at the kiosk travels in the case record to the centre, whose notification
outbox texts only the citizens who ticked it (issue #14, as the portal's consent does)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.notify import outbox
from central.store import open_store
from forms.signatures import public_key_hex
from sync.batch import encode_batch, format_time, parse_batch, verify_batch
from sync.office_state import _batch_record
from tests.conftest import OFFICE, VALID_MOBILE, open_ledger, visit_token


def _file(client, *, sms: bool) -> None:
    html = client.get("/case").get_data(as_text=True)
    data = {"visit": visit_token(html), "type": "complaint", "service": "smart_id_card",
            "text": "صف طولانی بود", "mobile": VALID_MOBILE, **({"sms": "1"} if sms else {})}
    assert client.post("/case", data=data).status_code == 302


def test_the_centre_queues_an_sms_only_for_a_kiosk_case_whose_visitor_consented(
        client, kiosk_home: Path, tmp_path: Path) -> None:
    _file(client, sms=True)
    _file(client, sms=False)
    with open_ledger(kiosk_home) as ledger:
        cases = [r for r in ledger.records() if r.kind == "case"]
    assert [r.body.get("sms_consent") for r in cases] == [True, None]
    store = open_store(tmp_path / "central.sqlite3")
    key = Ed25519PrivateKey.generate()
    store.add_office(OFFICE, public_key_hex(key))
    records = [_batch_record(r) for r in cases]  # exactly what `seda sync` sends
    data = encode_batch(office=OFFICE, seq=1, records=records, key=key,
                        created_at=format_time(datetime.now(timezone.utc)))
    store.apply_batch(verify_batch(parse_batch(data), store.office_public_key(OFFICE)))
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert outbox.collect(store, public_url="https://portal.example.ir", now=later) == 1
    with store.connect() as db:
        (row,) = db.all("SELECT n.case_uuid, n.mobile FROM notifications n")
    assert row == (cases[0].uuid, VALID_MOBILE)
    store.close()
