"""A stored file is served only through a record of the office that sent it (issue 11 item 14),
on SQLite and PostgreSQL: blobs are kept once by hash for every office, so a rogue office that
learnt another office's hash must not get that file shown to analysts or responders."""
from __future__ import annotations

import hashlib
import json
import uuid
from central import Store
from central.casework import Casework

VICTIM, ROGUE = "THR-012", "ISF-001"
SECRET = b"\x89PNG\r\n\x1a\n" + b"a citizen's handwriting at THR-012" * 4
AT = "2026-12-01T08:00:00.000000Z"  # 1405-09-10 in Tehran


def add(store: Store, *rows: tuple) -> None:
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')",
                       rows)


def record(office: str, kind: str, body: dict) -> tuple:
    return (str(uuid.uuid4()), office, kind, AT, json.dumps(body, ensure_ascii=False))


def crop_response(office: str, sha: str) -> tuple:
    return record(office, "survey_response", {
        "source": "paper", "form": "satisfaction", "form_version": 1, "status": "accepted",
        "answers": {"service": "smart_id_card"}, "attachments": {"comment": sha},
        "writing": {"comment": True}})


def victim_file(store: Store) -> str:
    sha = hashlib.sha256(SECRET).hexdigest()
    store.put_blob(sha, SECRET)
    add(store, record(VICTIM, "attachment", {"sha256": sha, "media_type": "image/png",
                                             "size": len(SECRET)}))
    return sha


def test_a_rogue_offices_comment_cannot_show_another_offices_file(store: Store, login, make_user,
                                                                  web_client) -> None:
    sha = victim_file(store)
    own, rogue = crop_response(VICTIM, sha), crop_response(ROGUE, sha)
    add(store, own, rogue)
    make_user(store, "ana", "analyst")
    client = login(web_client(store), "ana")
    assert client.get(f"/analysis/comments/{rogue[0]}/crop.png").status_code == 404
    assert client.get(f"/analysis/comments/{own[0]}/crop.png").data == SECRET


def test_a_rogue_offices_case_cannot_show_another_offices_file(store: Store, case_office, login,
                                                               make_user, web_client) -> None:
    sha = victim_file(store)
    make_user(store, "sara", "responder", unit="licences")
    Casework(store).add_rule(case_type="complaint", unit="licences", actor="t")
    client = login(web_client(store), "sara")
    rogue = case_office(store, client, ROGUE)
    # The rogue office names the victim's hash in a signed case without ever sending the file.
    from kiosk.cases import CaseDraft
    from forms.tracking_codes import new_tracking_code
    from sync.batch import BatchRecord, encode_batch

    body = CaseDraft(type="complaint", service="smart_id_card", text="x", anonymous=False,
                     attachments=(sha,)).body(new_tracking_code())
    case = BatchRecord(uuid=str(uuid.uuid4()), kind="case", office=ROGUE, created_at=AT, body=body)
    batch = encode_batch(office=ROGUE, seq=1, records=[case], key=rogue.key, created_at=AT)
    assert client.post("/v1/batches", data=batch).status_code == 200
    case_uuid = case.uuid
    answer = client.get(f"/cases/{case_uuid}/attachments/{sha}")
    assert answer.status_code == 404 and SECRET not in answer.data


def test_an_offices_own_case_attachment_is_served(store: Store, case_office, login, make_user,
                                                  web_client) -> None:
    make_user(store, "sara", "responder", unit="licences")
    Casework(store).add_rule(case_type="complaint", unit="licences", actor="t")
    client = login(web_client(store), "sara")
    office = case_office(store, client, VICTIM)
    case_uuid, _ = office.file(attachments=[(SECRET, "image/png")])
    sha = hashlib.sha256(SECRET).hexdigest()
    assert client.get(f"/cases/{case_uuid}/attachments/{sha}").data == SECRET
