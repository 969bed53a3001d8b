"""Open311 against abuse (issue 11 item 12 and the Info item on discovery.json), on SQLite and
PostgreSQL: the key is checked before the body is read, bodies are capped, deep JSON is a 400,
each key is rate-limited, and an office's key reads only its own office's cases and never
skips the mobile check."""
from __future__ import annotations

import pytest
from central import Store, create_app
from central.open311 import MAX_BODY

API = "/open311/v2"
FORM = {"service_code": "smart_id_card", "attribute[type]": "request",
        "description": "لطفاً زمان تحویل کارت را اعلام کنید."}


@pytest.fixture
def client(store: Store):
    return create_app(store).test_client()


@pytest.fixture
def api_key(store: Store) -> str:
    return store.add_api_key("city-app")[0]


def error_of(answer, status: int) -> str:
    assert answer.status_code == status, answer.get_data(as_text=True)
    [error] = answer.get_json()
    assert error["code"] == status
    return error["description"]


def nested(depth: int) -> bytes:
    return b'{"api_key": "x", "a": ' + b"[" * depth + b"]" * depth + b"}"


def test_a_wrong_key_in_the_query_is_refused_before_the_body_is_read(store: Store, client) -> None:
    answer = client.post(f"{API}/requests.json?api_key=not-a-key", data=nested(100_000),
                         content_type="application/json")
    error_of(answer, 403)
    assert store.record_count() == 0


def test_a_body_over_the_cap_is_413_before_it_is_parsed(store: Store, client, api_key: str) -> None:
    answer = client.post(f"{API}/requests.json?api_key={api_key}",
                         data={**FORM, "description": "ا" * MAX_BODY})
    assert "larger than" in error_of(answer, 413)
    assert store.record_count() == 0


def test_a_huge_body_with_the_key_inside_is_413_without_a_key_lookup(store: Store, client,
                                                                     monkeypatch) -> None:
    looked_up = []
    monkeypatch.setattr(store, "api_key_for", lambda key: looked_up.append(key))
    answer = client.post(f"{API}/requests.json", data={"api_key": "k", **FORM,
                                                       "padding": "x" * (4 * MAX_BODY)})
    error_of(answer, 413)
    assert looked_up == []


@pytest.mark.parametrize("depth", [50, 20_000])
def test_deeply_nested_json_is_400_not_500(store: Store, client, api_key: str, depth: int) -> None:
    answer = client.post(f"{API}/requests.json?api_key={api_key}", data=nested(depth),
                         content_type="application/json")
    assert "nested" in error_of(answer, 400)


def test_a_json_body_with_the_attribute_object_still_files(store: Store, client, api_key: str) -> None:
    answer = client.post(f"{API}/requests.json", json={
        "api_key": api_key, "service_code": "certificates", "attribute": {"type": "suggestion"},
        "description": "نوبت‌دهی اینترنتی راه بیندازید."})
    assert answer.status_code == 200 and store.record_count() == 1


def test_each_key_is_rate_limited_per_minute(store: Store, client, api_key: str) -> None:
    client.application.config["OPEN311_REQUESTS_PER_MINUTE"] = 3
    other, _ = store.add_api_key("other-app")
    for _ in range(3):
        assert client.get(f"{API}/requests.json?api_key={api_key}").status_code == 200
    refused = client.get(f"{API}/requests.json?api_key={api_key}")
    assert "3 requests a minute" in error_of(refused, 429) and refused.headers["Retry-After"]
    assert client.post(f"{API}/requests.json", data={"api_key": api_key, **FORM}).status_code == 429
    assert client.get(f"{API}/requests.json?api_key={other}").status_code == 200


def test_an_office_key_cannot_read_another_offices_case_by_its_code(store: Store, client, case_office) -> None:
    office = case_office(store, client, "THR-012")
    _, code = office.file()
    key, _ = store.add_api_key("isf-portal", office="ISF-001")
    error_of(client.get(f"{API}/requests/{code}.json?api_key={key}"), 404)
    own, _ = store.add_api_key("thr-portal", office="THR-012")
    assert client.get(f"{API}/requests/{code}.json?api_key={own}").status_code == 200


def test_an_office_key_never_skips_the_mobile_check(store: Store, client, case_office) -> None:
    office = case_office(store, client, "THR-012")
    _, code = office.file(identity=True)
    own, _ = store.add_api_key("thr-portal", office="THR-012")
    error_of(client.get(f"{API}/requests/{code}.json?api_key={own}"), 404)
    answer = client.get(f"{API}/requests/{code}.json?api_key={own}&phone_last4=4567")
    assert [c["service_request_id"] for c in answer.get_json()] == [code]


def test_the_missing_blobs_query_refuses_deep_json_with_400(store: Store, client, tmp_path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from forms.signatures import public_key_hex
    from sync.request_auth import sign_request

    key = Ed25519PrivateKey.generate()
    store.add_office("THR-012", public_key_hex(key))
    body = b'{"sha256": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = sign_request(key, "THR-012", "POST", "/v1/blobs/missing", body)
    answer = client.post("/v1/blobs/missing", data=body, headers=headers)
    assert answer.status_code == 400 and answer.get_json()["error"] == "malformed_manifest"


# -- discovery ------------------------------------------------------------------------------


def test_discovery_never_echoes_the_host_header(store: Store, monkeypatch) -> None:
    monkeypatch.delenv("SEDA_CENTRAL_PUBLIC_URL", raising=False)
    answer = create_app(store).test_client().get("/open311/discovery.json",
                                                 headers={"Host": "evil.example"})
    assert "evil.example" not in answer.get_data(as_text=True)
    assert answer.get_json()["endpoints"][0]["url"] == "/open311/v2"


def test_discovery_names_the_configured_public_url(store: Store, monkeypatch) -> None:
    monkeypatch.setenv("SEDA_CENTRAL_PUBLIC_URL", "https://seda.example.ir/")
    answer = create_app(store).test_client().get("/open311/discovery.json",
                                                 headers={"Host": "evil.example"})
    assert answer.get_json()["endpoints"][0]["url"] == "https://seda.example.ir/open311/v2"


def test_a_public_url_that_is_not_an_address_stops_the_server(store: Store) -> None:
    with pytest.raises(ValueError):
        create_app(store, public_url="javascript:alert(1)")
