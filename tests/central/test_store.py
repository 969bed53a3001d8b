"""The central store, on SQLite and on PostgreSQL: idempotent, atomic, conflict-keeping."""
from __future__ import annotations

import hashlib
import os
import threading
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.batch import BatchRecord, encode_batch, open_batch
from central import Store, StoreError, open_store
from forms.signatures import public_key_hex
from sync.refusals import BlobsMissing, Refusal
from tests.conftest import fresh_store_url

OFFICE = "THR-012"
OTHER = "ISF-001"
NOW = "2026-11-30T10:00:00.000000Z"


@pytest.fixture
def keys(store: Store) -> dict[str, Ed25519PrivateKey]:
    made = {OFFICE: Ed25519PrivateKey.generate(), OTHER: Ed25519PrivateKey.generate()}
    for code, key in made.items():
        store.add_office(code, public_key_hex(key))
    return made


def rec(office: str = OFFICE, **overrides) -> BatchRecord:
    fields = {"uuid": str(uuid.uuid4()), "kind": "survey_response", "office": office,
              "created_at": NOW, "body": {"answers": {"q1": 2}}}
    fields.update(overrides)
    return BatchRecord(**fields)


def verified(store: Store, keys, records, *, office: str = OFFICE, seq: int = 1):
    data = encode_batch(office=office, seq=seq, records=records, key=keys[office], created_at=NOW)
    return open_batch(data, store.office_public_key)


def test_new_records_are_stored_once(store: Store, keys) -> None:
    records = [rec() for _ in range(3)]
    ack = store.apply_batch(verified(store, keys, records))
    assert (ack["status"], ack["new"], ack["duplicate"], ack["conflict"]) == ("applied", 3, 0, 0)
    assert {r["uuid"] for r in store.records()} == {r.uuid for r in records}


def test_the_same_batch_again_is_acknowledged_as_a_duplicate_batch(store: Store, keys) -> None:
    batch = verified(store, keys, [rec(), rec()])
    store.apply_batch(batch)
    ack = store.apply_batch(batch)
    assert ack["status"] == "duplicate_batch" and ack["new"] == 2
    assert store.record_count() == 2


def test_records_repeated_in_a_different_batch_are_acknowledged_as_duplicates(store: Store, keys) -> None:
    first, second = rec(), rec()
    store.apply_batch(verified(store, keys, [first], seq=1))
    ack = store.apply_batch(verified(store, keys, [first, second], seq=2))
    assert (ack["new"], ack["duplicate"], ack["conflict"]) == (1, 1, 0)
    assert store.record_count() == 2


def test_same_uuid_with_other_content_is_refused_as_conflict_and_kept(store: Store, keys) -> None:
    original = rec()
    store.apply_batch(verified(store, keys, [original], seq=1))
    changed = rec(uuid=original.uuid, body={"answers": {"q1": 5}})
    fresh = rec()
    ack = store.apply_batch(verified(store, keys, [changed, fresh], seq=2))
    assert ack["conflict"] == 1 and ack["conflicts"] == [{"uuid": original.uuid, "reason": "conflict"}]
    assert ack["new"] == 1
    stored = {r["uuid"]: r for r in store.records()}
    assert stored[original.uuid]["body"] == original.body  # the first version stays
    [kept] = store.conflicts()
    assert kept["uuid"] == original.uuid and kept["offered"]["body"] == changed.body


def test_batch_naming_an_attachment_the_server_lacks_changes_nothing(store: Store, keys) -> None:
    data = os.urandom(64)
    sha = hashlib.sha256(data).hexdigest()
    attachment = rec(kind="attachment", body={"sha256": sha, "media_type": "image/png", "size": 64})
    batch = verified(store, keys, [rec(), attachment])
    with pytest.raises(BlobsMissing) as caught:
        store.apply_batch(batch)
    assert caught.value.missing == [sha]
    assert store.record_count() == 0 and store.batch_log() == []
    assert store.put_blob(sha, data) is True
    assert store.apply_batch(batch)["new"] == 2


def test_blob_whose_bytes_do_not_match_its_hash_is_refused(store: Store) -> None:
    with pytest.raises(Refusal) as caught:
        store.put_blob("0" * 64, b"hello")
    assert caught.value.code == "bad_blob"
    assert store.missing_blobs(["0" * 64]) == ["0" * 64]


def test_blob_is_stored_once(store: Store) -> None:
    data = b"voice message"
    sha = hashlib.sha256(data).hexdigest()
    assert store.put_blob(sha, data) is True
    assert store.put_blob(sha, data) is False
    assert store.blob(sha) == data and store.missing_blobs([sha]) == []


def test_revoked_office_is_refused_and_nothing_changes(store: Store, keys) -> None:
    batch = verified(store, keys, [rec()])
    store.revoke_office(OFFICE)
    with pytest.raises(Refusal) as caught:
        store.apply_batch(batch)
    assert caught.value.code == "revoked_office"
    with pytest.raises(Refusal):
        store.office_public_key(OFFICE)
    assert store.record_count() == 0


def test_unknown_office_key_lookup_is_refused(store: Store) -> None:
    with pytest.raises(Refusal) as caught:
        store.office_public_key("NOPE-1")
    assert caught.value.code == "unknown_office"


def test_concurrent_copies_of_one_batch_store_each_record_once(store_url: str, keys, store: Store) -> None:
    batch = verified(store, keys, [rec() for _ in range(300)])
    results, errors = [], []

    def apply() -> None:
        local = open_store(store_url, migrate=False)
        try:
            results.append(local.apply_batch(batch))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            local.close()

    threads = [threading.Thread(target=apply) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.record_count() == 300
    assert sum(r["new"] for r in results if r["status"] == "applied") == 300


def test_offices_do_not_share_uuid_space_by_accident(store: Store, keys) -> None:
    store.apply_batch(verified(store, keys, [rec(OFFICE)], office=OFFICE))
    store.apply_batch(verified(store, keys, [rec(OTHER)], office=OTHER))
    assert store.record_count(OFFICE) == 1 and store.record_count(OTHER) == 1


def test_refusals_are_logged_centrally(store: Store) -> None:
    store.log_refusal(Refusal("bad_signature", "does not match"), office=OFFICE, batch_seq=4)
    [logged] = store.refusals()
    assert (logged["office"], logged["batch_seq"], logged["code"]) == (OFFICE, 4, "bad_signature")


def test_migrate_twice_is_harmless(store_url: str, store: Store) -> None:
    open_store(store_url).close()
    store.migrate()


# -- the pull feed ----------------------------------------------------------------


def test_case_update_goes_only_to_the_office_that_owns_the_case(store: Store, keys) -> None:
    store.apply_batch(verified(store, keys, [rec(kind="case", body={"tracking_code": "4821"})]))
    update = store.record_case_update("4821", "answered", answer="پاسخ داده شد")
    mine = store.pull(OFFICE, 0)["items"]
    theirs = store.pull(OTHER, 0)["items"]
    assert [i["body"]["uuid"] for i in mine if i["feed"] == "case_update"] == [update["uuid"]]
    assert [i for i in theirs if i["feed"] == "case_update"] == []


def test_case_update_for_unknown_tracking_code_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError, match="No case"):
        store.record_case_update("0000", "answered")


def test_case_update_with_unknown_status_is_an_error(store: Store, keys) -> None:
    store.apply_batch(verified(store, keys, [rec(kind="case", body={"tracking_code": "77"})]))
    with pytest.raises(StoreError, match="status"):
        store.record_case_update("77", "lost")


def test_pull_pages_by_cursor_without_gaps_or_repeats(store: Store) -> None:
    for i in range(25):
        store.publish("catalogue", f"service-{i}", {"title_fa": f"خدمت {i}"})
    seen, after = [], 0
    while True:
        page = store.pull(OFFICE, after, limit=10)
        seen += [item["key"] for item in page["items"]]
        after = page["next"]
        if not page["more"]:
            break
    assert seen == [f"service-{i}" for i in range(25)]


def test_republishing_moves_the_item_past_the_cursor(store: Store) -> None:
    store.publish("contact", "unit-7", {"phone": "021-1"})
    after = store.pull(OFFICE, 0)["next"]
    store.publish("contact", "unit-7", {"phone": "021-2"})
    [item] = store.pull(OFFICE, after)["items"]
    assert item["body"] == {"phone": "021-2"}


def test_office_keys_and_revocations_are_published(store: Store, keys) -> None:
    store.revoke_office(OTHER)
    items = {i["key"]: i["body"] for i in store.pull(OFFICE, 0)["items"] if i["feed"] == "office_key"}
    assert items[OTHER]["status"] == "revoked" and items[OFFICE]["status"] == "active"


def test_unknown_feed_is_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        store.publish("gossip", "x", {})


def test_case_update_accepts_the_code_as_an_operator_types_it(store: Store, keys) -> None:
    store.apply_batch(verified(store, keys, [rec(kind="case", body={"tracking_code": "123456789012"})]))
    update = store.record_case_update("۱۲۳۴ ۵۶۷۸-۹۰۱۲", "received")
    assert update["tracking_code"] == "123456789012"


def test_a_named_lock_holds_in_its_own_store_only(tmp_path) -> None:
    """PostgreSQL's advisory locks belong to the database; stores that are schemas of one
    database (tests, benchmarks) must not wait for each other's folds."""
    from tests.conftest import fresh_store_url

    with fresh_store_url("postgresql", tmp_path) as first_url, fresh_store_url("postgresql", tmp_path) as other_url:
        first, again, other = open_store(first_url), open_store(first_url), open_store(other_url)
        try:
            with first.write() as holder:
                holder.lock("rollups")
                with other.write() as db:  # another store's same lock: free
                    db.execute("SET LOCAL lock_timeout = '2s'")
                    db.lock("rollups")
                with pytest.raises(Exception, match="lock timeout"):
                    with again.write() as db:  # the same store's: taken
                        db.execute("SET LOCAL lock_timeout = '200ms'")
                        db.lock("rollups")
        finally:
            for opened in (first, again, other):
                opened.close()
