"""A case at the centre is (office, tracking code) (issue 11 item 9), on SQLite and PostgreSQL.

Two offices draw tracking codes on their own, so both can draw the same one, and the kiosk
derives a case's record UUID from its code: the second office's case used to come back as a
"conflict", never stored, routed or answered, while its office's `seda sync status` said all
was delivered.  Now both cases are stored, routed, answered and followed up; a record is parked
only when its own office sent its UUID twice with different content, and that is loud at both
ends until an operator settles it."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from seda.cli import main
from kiosk.cases import CaseDraft, case_uuid
from forms.tracking_codes import new_tracking_code
from sync.batch import BatchRecord, encode_batch, format_time, open_batch
from central import Store, create_app
from central.casework import Casework
from central.store import StoreError, office_record_uuid
from sync.client import sync_once
from forms.identity_keys import load_office_key
from forms.signatures import public_key_hex

A, B = "THR-012", "ISF-001"
AT = format_time(datetime.now(timezone.utc))


class Offices:
    """Two offices sending real signed batches through the app."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.client = create_app(store).test_client()
        self.keys = {A: Ed25519PrivateKey.generate(), B: Ed25519PrivateKey.generate()}
        self.seq = {A: 0, B: 0}
        for code, key in self.keys.items():
            store.add_office(code, public_key_hex(key))

    def batch(self, office: str, records: list[BatchRecord]) -> bytes:
        self.seq[office] += 1
        return encode_batch(office=office, seq=self.seq[office], records=records,
                            key=self.keys[office], created_at=AT)

    def send(self, office: str, records: list[BatchRecord]) -> dict:
        answer = self.client.post("/v1/batches", data=self.batch(office, records))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()

    @staticmethod
    def kiosk_case(office: str, code: str, *, mobile: str | None = None, text: str = "متن") -> BatchRecord:
        """A case as the kiosk writes it: its UUID derived from its tracking code."""
        draft = CaseDraft(type="complaint", service="smart_id_card", text=text, anonymous=False,
                          **({"name": "مریم", "mobile": mobile} if mobile else {}))
        return BatchRecord(uuid=case_uuid(code), kind="case", office=office, created_at=AT,
                           body=draft.body(code))


@pytest.fixture
def offices(store: Store, make_user) -> Offices:
    make_user(store, "sara", "responder", unit="licences")
    Casework(store).add_rule(case_type="complaint", unit="licences", actor="t")
    return Offices(store)


def shared_code_cases(offices: Offices, a_mobile: str | None = None, **b_fields) -> tuple[str, str, str]:
    """Office A, then office B, each file a case with the same tracking code."""
    code = new_tracking_code()
    offices.send(A, [offices.kiosk_case(A, code, text="پرونده‌ی تهران", mobile=a_mobile)])
    ack = offices.send(B, [offices.kiosk_case(B, code, text="پرونده‌ی اصفهان", **b_fields)])
    assert (ack["new"], ack["conflict"], ack["conflicts"]) == (1, 0, [])
    return code, case_uuid(code), office_record_uuid(B, case_uuid(code))


def test_both_offices_cases_with_one_code_are_stored_and_routed(store: Store, offices: Offices) -> None:
    code, a_uuid, b_uuid = shared_code_cases(offices)
    cw = Casework(store)
    assert (cw.case(a_uuid).office, cw.case(b_uuid).office) == (A, B)
    assert cw.case(a_uuid).unit == cw.case(b_uuid).unit == "licences"
    assert cw.case_body(b_uuid)["text"] == "پرونده‌ی اصفهان"
    assert store.conflicts() == []


def test_a_resent_case_of_the_second_office_is_a_duplicate(store: Store, offices: Offices) -> None:
    code, _, _ = shared_code_cases(offices)
    fresh = BatchRecord(str(uuid.uuid4()), "survey_response", B, AT, {"answers": {"q1": 1}})
    ack = offices.send(B, [offices.kiosk_case(B, code, text="پرونده‌ی اصفهان"), fresh])
    assert (ack["status"], ack["new"], ack["duplicate"], ack["conflict"]) == ("applied", 1, 1, 0)
    assert store.record_count() == 3


def test_each_office_pulls_only_the_answer_to_its_own_case(store: Store, offices: Offices) -> None:
    code, a_uuid, b_uuid = shared_code_cases(offices)
    Casework(store).answer(b_uuid, "پاسخ اصفهان", actor="sara")
    answers = {office: [i["body"].get("answer") for i in store.pull(office, 0)["items"]
                        if i["feed"] == "case_update" and i["body"]["tracking_code"] == code]
               for office in (A, B)}
    assert "پاسخ اصفهان" in answers[B] and "پاسخ اصفهان" not in answers[A]


def test_the_operator_override_asks_which_office_when_a_code_is_shared(store: Store, store_url: str,
                                                                        offices: Offices) -> None:
    code, _, b_uuid = shared_code_cases(offices)
    with pytest.raises(StoreError, match=f"{B}.*{A}|{A}.*{B}"):
        store.record_case_update(code, "answered", answer="?")
    update = store.record_case_update(code, "answered", answer="پاسخ", office=B)
    assert update["case_uuid"] == b_uuid
    result = CliRunner().invoke(main, ["central", "case-update", code, "--status", "closed",
                                       "--office", A, "--store", store_url])
    assert result.exit_code == 0, result.output


def test_the_inbox_search_by_code_lists_both_cases_with_their_offices(store: Store,
                                                                      offices: Offices, login, web_client) -> None:
    code, _, _ = shared_code_cases(offices)
    html = login(web_client(store), "sara").get(f"/cases/?code={code}").get_data(as_text=True)
    assert f'<span class="ltr">{A}</span>' in html and f'<span class="ltr">{B}</span>' in html


def test_open311_follows_each_case_by_code_and_the_mobiles_last_digits(store: Store,
                                                                      offices: Offices) -> None:
    code, _, _ = shared_code_cases(offices, a_mobile="09351112222", mobile="09121234567")
    client = offices.client
    answer = client.get(f"/open311/v2/requests/{code}.json?phone_last4=4567").get_json()
    assert [c["description"] for c in answer] == ["پرونده‌ی اصفهان"]
    answer = client.get(f"/open311/v2/requests/{code}.json?phone_last4=2222").get_json()
    assert [c["description"] for c in answer] == ["پرونده‌ی تهران"]


def test_a_case_parked_before_the_upgrade_is_stored_routed_and_its_office_told(
        store: Store, offices: Offices) -> None:
    code = new_tracking_code()
    offices.send(A, [offices.kiosk_case(A, code)])
    parked = offices.kiosk_case(B, code, text="پرونده‌ی گمشده")
    from sync.batch import canonical_json, record_fingerprint
    with store.connect() as db, db.transaction():  # what the old centre did with it
        db.execute("INSERT INTO conflicts (uuid, office, batch_seq, offered, offered_fingerprint,"
                   " stored_fingerprint, received_at) VALUES (?, ?, 1, ?, ?, 'old', ?)",
                   (parked.uuid, B, canonical_json(parked.to_json()), record_fingerprint(parked), AT))
        db.execute("DELETE FROM settings WHERE key = 'foreign_conflicts_settled'")
    assert store.settle_foreign_conflicts() == 1
    moved = office_record_uuid(B, parked.uuid)
    assert Casework(store).case(moved).office == B
    assert Casework(store).case_body(moved)["text"] == "پرونده‌ی گمشده"
    assert store.open_conflict_count() == 0
    told = [i["body"] for i in store.pull(B, 0)["items"] if i["feed"] == "record_conflict"]
    assert told == [{"uuid": parked.uuid, "status": "accepted", "at": told[0]["at"]}]
    # ... and the office's re-sent copy is now a duplicate
    assert offices.send(B, [parked])["duplicate"] == 1


# -- a real conflict: loud at the office and at the centre, until it is settled ----------------


def seda(home: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home)}, catch_exceptions=False)


def test_a_conflict_is_loud_at_both_ends_until_settled(store: Store, store_url: str, central,
                                                        tmp_path: Path, login, make_office, make_user, web_client) -> None:
    office = make_office(tmp_path, A, central.url, store)
    code = new_tracking_code()
    with office.ledger() as ledger:
        ledger.append("case", Offices.kiosk_case(A, code).body, office=A, uuid=case_uuid(code))
    # The same UUID from this office, with other content, reached the centre first
    # (a ledger restored from an old backup that drew the same code again).
    other = BatchRecord(case_uuid(code), "case", A, AT, {**Offices.kiosk_case(A, code).body, "text": "دیگر"})
    data = encode_batch(office=A, seq=999, records=[other], key=load_office_key(office.home), created_at=AT)
    store.apply_batch(open_batch(data, store.office_public_key))
    report = sync_once(office.home)
    assert report.waiting == 0 and len(report.conflicts) == 1
    status = seda(office.home, "sync", "status")
    assert status.exit_code == 1 and case_uuid(code) in status.output
    assert "ناسازگار" in status.output
    listed = CliRunner().invoke(main, ["central", "conflicts", "--store", store_url])
    assert listed.exit_code == 1 and case_uuid(code) in listed.output
    make_user(store, "modir", "admin")
    triage = login(web_client(store), "modir").get("/admin/triage").get_data(as_text=True)
    assert 'id="open-conflicts"' in triage
    [conflict] = store.conflicts(include_resolved=False)
    accepted = CliRunner().invoke(main, ["central", "conflicts", "accept", str(conflict["id"]),
                                         "--store", store_url])
    assert accepted.exit_code == 0, accepted.output
    assert CliRunner().invoke(main, ["central", "conflicts", "--store", store_url]).exit_code == 0
    [settled] = store.conflicts()
    assert Casework(store).case(settled["stored_uuid"]).office == A  # routed like any case
    sync_once(office.home)  # pulls the news
    assert seda(office.home, "sync", "status").exit_code == 0
