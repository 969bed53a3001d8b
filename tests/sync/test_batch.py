"""The batch format: records -> signed bytes -> verified records, and every way it is refused."""
from __future__ import annotations

import gzip
import hashlib
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.backoff import backoff_delay
from sync.batch import BatchRecord, Limits, canonical_json, encode_batch, open_batch, parse_batch
from sync.refusals import HTTP_STATUS, Refusal, message_for
from sync.request_auth import sign_request, verify_request

OFFICE = "THR-012"
KEY = Ed25519PrivateKey.generate()
NOW = "2026-11-30T10:00:00.000000Z"


def record(**overrides) -> BatchRecord:
    fields = {"uuid": str(uuid.uuid4()), "kind": "survey_response", "office": OFFICE,
              "created_at": NOW, "body": {"answers": {"q1": 3}, "comment": "خیلی خوب بود"}}
    fields.update(overrides)
    return BatchRecord(**fields)


def batch(records=None, *, key=KEY, office=OFFICE, seq=1) -> bytes:
    records = [record(), record()] if records is None else records
    return encode_batch(office=office, seq=seq, records=records, key=key,
                        created_at=NOW)


def key_for(office: str):
    if office != OFFICE:
        raise Refusal("unknown_office", office)
    return KEY.public_key()


def refusal_code(data: bytes, limits: Limits = Limits()) -> str:
    with pytest.raises(Refusal) as caught:
        open_batch(data, key_for, limits)
    assert caught.value.code in HTTP_STATUS
    return caught.value.code


def rebuild(data: bytes, *, manifest=None, payload=None, signature=None, key=KEY) -> bytes:
    """Reassemble a batch from (possibly altered) parts, re-signing the manifest with ``key``."""
    signed = parse_batch(data)
    manifest_line = canonical_json(manifest if manifest is not None else signed.manifest).encode()
    if signature is None:
        signature = key.sign(b"seda-batch/1\n" + manifest_line)
    return (b"SEDA-BATCH/1\n" + manifest_line + b"\n" + signature.hex().encode() + b"\n"
            + (payload if payload is not None else signed.payload))


def content_payload(lines: list[bytes]) -> tuple[bytes, dict]:
    content = b"".join(line + b"\n" for line in lines)
    return gzip.compress(content, mtime=0), {"sha256": hashlib.sha256(content).hexdigest(),
                                             "raw_size": len(content), "count": len(lines)}


def test_round_trip_gives_back_the_records() -> None:
    records = [record(), record(kind="case", body={"tracking_code": "12345"})]
    verified = open_batch(batch(records), key_for)
    assert verified.office == OFFICE and verified.seq == 1
    assert list(verified.records) == records


def test_encoding_is_deterministic_so_a_batch_can_be_rebuilt_byte_for_byte() -> None:
    records = [record(), record()]
    assert batch(records) == batch(records)


def test_manifest_names_office_seq_count_and_content_hash() -> None:
    manifest = parse_batch(batch(seq=7)).manifest
    assert manifest["office"] == OFFICE and manifest["seq"] == 7 and manifest["count"] == 2
    assert len(manifest["sha256"]) == 64


def test_signature_by_another_key_is_refused() -> None:
    assert refusal_code(batch(key=Ed25519PrivateKey.generate())) == "bad_signature"


def test_manifest_altered_after_signing_is_refused() -> None:
    data = batch()
    signed = parse_batch(data)
    altered = rebuild(data, manifest={**signed.manifest, "seq": 99}, signature=signed.signature)
    assert refusal_code(altered) == "bad_signature"


def test_unknown_office_is_refused_by_the_key_lookup() -> None:
    assert refusal_code(batch(office="ISF-001")) == "unknown_office"


def test_corrupt_gzip_is_refused() -> None:
    data = batch()
    payload = bytearray(parse_batch(data).payload)
    payload[12:20] = b"\x00" * 8
    assert refusal_code(rebuild(data, payload=bytes(payload))) in {"corrupt_gzip", "wrong_hash"}


def test_truncated_batch_is_refused_as_corrupt() -> None:
    data = batch([record() for _ in range(50)])
    assert refusal_code(data[:-30]) == "corrupt_gzip"


def test_content_not_matching_the_manifest_hash_is_refused() -> None:
    data = batch()
    signed = parse_batch(data)
    payload, _ = content_payload([canonical_json(record().to_json()).encode()] * 2)
    assert refusal_code(rebuild(data, payload=payload, signature=signed.signature)) == "wrong_hash"


def test_count_not_matching_the_content_is_refused() -> None:
    data = batch()
    payload, facts = content_payload([canonical_json(record().to_json()).encode()])
    manifest = {**parse_batch(data).manifest, **facts, "count": 2}
    assert refusal_code(rebuild(data, manifest=manifest, payload=payload)) == "wrong_count"


@pytest.mark.parametrize("line", [
    b"not json",
    b'{"uuid": "x"}',
    canonical_json({**record().to_json(), "uuid": "not-a-uuid"}).encode(),
    canonical_json({**record().to_json(), "uuid": str(uuid.uuid4()).upper()}).encode(),
    canonical_json({**record().to_json(), "created_at": "yesterday"}).encode(),
    canonical_json({**record().to_json(), "body": [1, 2]}).encode(),
    canonical_json({**record().to_json(), "kind": "DROP TABLE"}).encode(),
    canonical_json(record(kind="attachment", body={"size": 3}).to_json()).encode(),
    canonical_json(record().to_json()).replace('"body":{', '"body":{"x":"\\ud800",').encode(),
    canonical_json(record().to_json()).replace('"body":{', '"body":{"x":NaN,').encode(),
], ids=["not-json", "missing-keys", "bad-uuid", "upper-uuid", "bad-time", "body-not-object",
        "bad-kind", "attachment-without-hash", "lone-surrogate", "nan"])
def test_malformed_record_is_refused(line: bytes) -> None:
    data = batch()
    payload, facts = content_payload([line])
    manifest = {**parse_batch(data).manifest, **facts}
    assert refusal_code(rebuild(data, manifest=manifest, payload=payload)) == "malformed_record"


def test_same_uuid_twice_in_one_batch_is_refused() -> None:
    twin = record()
    assert refusal_code(batch([twin, twin])) == "malformed_record"


def test_record_of_another_office_is_refused() -> None:
    assert refusal_code(batch([record(office="ISF-001")])) == "office_mismatch"


def test_oversized_wire_batch_is_refused_before_anything_else() -> None:
    assert refusal_code(batch(), Limits(max_wire_bytes=100)) == "oversized"


def test_too_many_records_is_refused() -> None:
    assert refusal_code(batch([record() for _ in range(5)]), Limits(max_records=4)) == "oversized"


def test_gzip_bomb_stops_at_the_promised_size() -> None:
    data = batch()
    bomb = gzip.compress(b"\n" * 50_000_000, mtime=0)
    manifest = {**parse_batch(data).manifest, "raw_size": 100}
    assert refusal_code(rebuild(data, manifest=manifest, payload=bomb)) == "wrong_hash"


@pytest.mark.parametrize("data", [b"", b"hello", b"SEDA-BATCH/1\n{}", b"SEDA-BATCH/1\nnot json\nab\n"])
def test_garbage_is_refused_with_a_reason(data: bytes) -> None:
    assert refusal_code(data) in {"not_a_batch", "malformed_manifest"}


def test_every_refusal_code_has_persian_and_english_text() -> None:
    for code in HTTP_STATUS:
        fa, en = message_for(code)
        assert any("\u0600" <= ch <= "\u06ff" for ch in fa), code
        assert en and en.isascii(), code


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(bodies=st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=5), min_size=0, max_size=6))
def test_any_json_bodies_survive_the_round_trip(bodies: list[dict]) -> None:
    records = [record(body=body) for body in bodies]
    assert list(open_batch(batch(records), key_for).records) == records


# -- signed requests and backoff (small pure helpers) --------------------------------


def test_signed_request_names_the_office() -> None:
    headers = sign_request(KEY, OFFICE, "GET", "/v1/pull?after=3&limit=10")
    assert verify_request(headers, "GET", "/v1/pull?after=3&limit=10", b"", key_for) == OFFICE


def test_signed_request_for_another_target_is_refused() -> None:
    headers = sign_request(KEY, OFFICE, "GET", "/v1/pull?after=3")
    with pytest.raises(Refusal) as caught:
        verify_request(headers, "GET", "/v1/pull?after=0", b"", key_for)
    assert caught.value.code == "bad_request_signature"


def test_signed_request_from_a_wrong_clock_is_refused() -> None:
    from datetime import datetime, timedelta, timezone

    old = datetime.now(timezone.utc) - timedelta(days=3)
    headers = sign_request(KEY, OFFICE, "GET", "/v1/pull", now=old)
    with pytest.raises(Refusal) as caught:
        verify_request(headers, "GET", "/v1/pull", b"", key_for)
    assert caught.value.code == "clock_skew"


def test_backoff_grows_exponentially_and_stops_at_the_cap() -> None:
    top = [backoff_delay(n, base=2, cap=900, rand=lambda: 1.0) for n in range(1, 16)]
    assert top[:4] == [2, 4, 8, 16]
    assert max(top) == 900 and top[-1] == 900


def test_backoff_jitter_stays_within_half_to_full_ceiling() -> None:
    assert backoff_delay(3, base=2, cap=900, rand=lambda: 0.0) == 4
    assert backoff_delay(1000, base=2, cap=900, rand=lambda: 0.0) == 450


def test_json_lines_are_canonical() -> None:
    assert canonical_json({"b": 1, "a": "سلام"}) == '{"a":"سلام","b":1}'
    assert json.loads(canonical_json({"x": [1, 2]})) == {"x": [1, 2]}
