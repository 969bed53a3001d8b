"""Open311 GeoReport v2 on the central server, on SQLite and on PostgreSQL (docs/open311.md).

Every test drives the real Flask app (``create_app(store)``) with its test client; office cases
arrive as real signed batches through ``POST /v1/batches``.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import central.db.schema as schema
from seda.cli import main
from kiosk.cases import CaseDraft
from forms.sealing import seal
from forms.tracking_codes import is_valid_tracking_code, new_tracking_code, verhoeff_check_digit
from sync.batch import BatchRecord, encode_batch, format_time
from central import Store, create_app, open_store
from forms.signatures import public_key_hex

OFFICE = "THR-012"
OTHER = "ISF-001"
API = "/open311/v2"
NAME, NATIONAL_ID, MOBILE = "مریم احمدی", "0499370899", "09121234567"


@pytest.fixture
def client(store: Store):
    return create_app(store).test_client()


@pytest.fixture
def api_key(store: Store) -> str:
    return store.add_api_key("city-app")[0]


class Offices:
    """Offices that send real signed batches to the app."""

    def __init__(self, store: Store, client) -> None:
        self.client = client
        self.keys = {code: Ed25519PrivateKey.generate() for code in (OFFICE, OTHER)}
        self.seq = {code: 0 for code in self.keys}
        for code, key in self.keys.items():
            store.add_office(code, public_key_hex(key))

    def file(self, *, office: str = OFFICE, case_type: str = "complaint", service: str = "smart_id_card",
             text: str = "کارت هوشمند من پس از سه ماه هنوز صادر نشده است.", anonymous: bool = False,
             identity: bool = False, created_at: datetime | None = None, sealed_to=None) -> str:
        """File one case at ``office`` and send it in a signed batch; returns its tracking code."""
        code = new_tracking_code()
        draft = CaseDraft(type=case_type, service=service, text=text, anonymous=anonymous,
                          **({"name": NAME, "national_id": NATIONAL_ID, "mobile": MOBILE}
                             if identity else {}))
        body = draft.body(code)
        if sealed_to is not None:
            body = seal(body, sealed_to)
        at = format_time(created_at or datetime.now(timezone.utc))
        record = BatchRecord(uuid=str(uuid.uuid4()), kind="case", office=office, created_at=at, body=body)
        self.seq[office] += 1
        data = encode_batch(office=office, seq=self.seq[office], records=[record],
                            key=self.keys[office], created_at=at)
        answer = self.client.post("/v1/batches", data=data)
        assert answer.status_code == 200 and answer.get_json()["new"] == 1, answer.get_data(as_text=True)
        return code


@pytest.fixture
def offices(store: Store, client) -> Offices:
    return Offices(store, client)


def file_request(client, api_key: str, **overrides):
    form = {"api_key": api_key, "service_code": "smart_id_card", "attribute[type]": "request",
            "description": "لطفاً زمان تحویل کارت را اعلام کنید.", **overrides}
    return client.post(f"{API}/requests.json", data={k: v for k, v in form.items() if v is not None})


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["service_request_id"] for item in response.get_json()]


def assert_error(response, status: int) -> None:
    assert response.status_code == status
    [error] = response.get_json()
    assert error["code"] == status and error["description"]


# -- services -------------------------------------------------------------------------


def test_services_are_the_satisfaction_form_services_named_in_persian(client) -> None:
    services = client.get(f"{API}/services.json").get_json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["smart_id_card"]["service_name"] == "کارت هوشمند ملی"
    assert {"birth_registration", "marriage_divorce", "other"} <= set(by_code)
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)


def test_services_are_named_in_english_with_lang_or_accept_language(client) -> None:
    by_param = client.get(f"{API}/services.json?lang=en").get_json()
    by_header = client.get(f"{API}/services.json", headers={"Accept-Language": "en-US,en;q=0.9"}).get_json()
    assert by_param == by_header
    names = {s["service_code"]: s["service_name"] for s in by_param}
    assert names["smart_id_card"] == "Smart national ID card"


def test_service_definition_offers_the_four_written_case_types(client) -> None:
    definition = client.get(f"{API}/services/smart_id_card.json").get_json()
    [attribute] = definition["attributes"]
    assert definition["service_code"] == "smart_id_card"
    assert (attribute["code"], attribute["datatype"], attribute["required"]) == (
        "type", "singlevaluelist", True)
    assert [(v["key"], v["name"]) for v in attribute["values"]] == [
        ("request", "درخواست"), ("complaint", "شکایت"), ("suggestion", "پیشنهاد"), ("criticism", "انتقاد")]
    english = client.get(f"{API}/services/smart_id_card.json?lang=en").get_json()
    assert [v["name"] for v in english["attributes"][0]["values"]] == [
        "Request", "Complaint", "Suggestion", "Criticism"]


def test_unknown_service_definition_is_404_in_open311_error_format(client) -> None:
    assert_error(client.get(f"{API}/services/no_such_service.json"), 404)


def test_unknown_endpoint_and_xml_format_are_404_in_open311_error_format(client) -> None:
    assert_error(client.get(f"{API}/services.xml"), 404)
    assert_error(client.get(f"{API}/nothing.json"), 404)


# -- filing a case ------------------------------------------------------------------------


def test_post_files_a_case_with_a_valid_tracking_code(store: Store, client, api_key: str) -> None:
    response = file_request(client, api_key, first_name="مریم", last_name="احمدی", phone="۰۹۱۲۱۲۳۴۵۶۷")
    assert response.status_code == 200
    [answer] = response.get_json()
    code = answer["service_request_id"]
    assert is_valid_tracking_code(code) and code in answer["service_notice"]
    [record] = store.records()
    assert (record["kind"], record["office"]) == ("case", "OPEN311")
    body = record["body"]
    assert body["tracking_code"] == code
    assert (body["type"], body["service"], body["channel"], body["route"], body["anonymous"]) == (
        "request", "smart_id_card", "open311", "office", False)
    assert (body["name"], body["mobile"], body["client"]) == ("مریم احمدی", MOBILE, "city-app")


def test_post_accepts_a_json_body(store: Store, client, api_key: str) -> None:
    response = client.post(f"{API}/requests.json", json={
        "api_key": api_key, "service_code": "certificates", "attribute": {"type": "suggestion"},
        "description": "نوبت‌دهی اینترنتی راه بیندازید."})
    [answer] = response.get_json()
    [record] = store.records()
    assert record["body"]["tracking_code"] == answer["service_request_id"]
    assert (record["body"]["type"], record["body"]["service"]) == ("suggestion", "certificates")


def test_post_files_under_the_office_the_key_names(store: Store, client) -> None:
    key, _ = store.add_api_key("thr-portal", office=OFFICE)
    assert file_request(client, key).status_code == 200
    assert [r["office"] for r in store.records()] == [OFFICE]


@pytest.mark.parametrize("key", ["", "not-a-key"])
def test_post_with_a_missing_or_unknown_key_is_403(store: Store, client, key: str) -> None:
    assert_error(file_request(client, key or None), 403)
    assert store.record_count() == 0


def test_post_with_a_revoked_key_is_403(store: Store, client, api_key: str) -> None:
    store.revoke_api_key("city-app")
    assert_error(file_request(client, api_key), 403)
    assert store.record_count() == 0


def test_post_without_service_code_is_400(store: Store, client, api_key: str) -> None:
    assert_error(file_request(client, api_key, service_code=None), 400)
    assert store.record_count() == 0


@pytest.mark.parametrize("field, value", [("attribute[type]", None), ("attribute[type]", "misconduct"),
                                          ("description", None), ("service_code", "no_such_service"),
                                          ("phone", "12345")])
def test_post_with_a_missing_or_wrong_field_is_400(store: Store, client, api_key: str, field, value) -> None:
    assert_error(file_request(client, api_key, **{field: value}), 400)
    assert store.record_count() == 0


def test_a_drawn_tracking_code_already_in_the_store_is_drawn_again(store: Store, offices: Offices) -> None:
    taken = offices.file()
    fresh = "12345678901"
    payloads = iter([taken[:-1], fresh])
    record = store.add_central_case(
        {"type": "request", "service": "other", "text": "x", "anonymous": False, "channel": "open311",
         "route": "office", "attachments": []},
        office="OPEN311",
        draw_code=lambda exists: new_tracking_code(exists, random_payload=lambda: next(payloads)))
    assert record["body"]["tracking_code"] == fresh + verhoeff_check_digit(fresh)


# -- following cases --------------------------------------------------------------------


def test_office_case_is_open_until_answered_then_closed_with_the_persian_answer(
        store: Store, client, offices: Offices) -> None:
    code = offices.file()
    [before] = client.get(f"{API}/requests/{code}.json").get_json()
    assert (before["status"], before["status_notes"]) == ("open", None)
    assert before["service_code"] == "smart_id_card" and before["service_name"] == "کارت هوشمند ملی"
    store.record_case_update(code, "in_progress", unit="واحد کارت")
    store.record_case_update(code, "answered", answer="کارت شما صادر شد و فردا تحویل می‌شود.")
    [after] = client.get(f"{API}/requests/{code}.json").get_json()
    assert (after["status"], after["status_notes"]) == ("closed", "کارت شما صادر شد و فردا تحویل می‌شود.")
    assert after["extended_attributes"]["seda_status"] == "answered"
    assert after["updated_datetime"] >= after["requested_datetime"]
    assert datetime.fromisoformat(after["updated_datetime"].replace("Z", "+00:00")).tzinfo is not None


def test_agency_responsible_is_the_units_name_in_the_asked_language(
        store: Store, client, offices: Offices) -> None:
    from central.casework import Casework

    Casework(store).save_unit("cards", "واحد کارت", "Card unit", actor="t")
    code = offices.file()
    store.record_case_update(code, "in_progress", unit="cards")
    [fa] = client.get(f"{API}/requests/{code}.json").get_json()
    [en] = client.get(f"{API}/requests/{code}.json?lang=en").get_json()
    assert (fa["agency_responsible"], en["agency_responsible"]) == ("واحد کارت", "Card unit")


def test_a_case_filed_through_open311_can_be_followed_by_its_id(store: Store, client, api_key: str) -> None:
    code = file_request(client, api_key).get_json()[0]["service_request_id"]
    [case] = client.get(f"{API}/requests/{code}.json").get_json()
    assert (case["service_request_id"], case["status"]) == (code, "open")
    assert case["description"] == "لطفاً زمان تحویل کارت را اعلام کنید."


def test_unknown_or_malformed_id_is_404(client) -> None:
    assert_error(client.get(f"{API}/requests/{new_tracking_code()}.json"), 404)
    assert_error(client.get(f"{API}/requests/123.json"), 404)


def test_listing_needs_an_api_key(client, offices: Offices) -> None:
    offices.file()
    assert_error(client.get(f"{API}/requests.json"), 403)
    assert_error(client.get(f"{API}/requests.json?api_key=wrong"), 403)


def test_listing_filters_by_id_service_dates_and_status(store: Store, client, offices: Offices,
                                                        api_key: str) -> None:
    old = offices.file(service="birth_registration",
                       created_at=datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc))
    card = offices.file(service="smart_id_card", created_at=datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc))
    other = offices.file(office=OTHER, service="smart_id_card",
                         created_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc))
    store.record_case_update(card, "rejected", answer="این درخواست تکراری است.")
    listing = f"{API}/requests.json?api_key={api_key}"
    assert ids(client.get(listing)) == [other, card, old]  # newest first
    assert ids(client.get(f"{listing}&service_request_id={old},{other}")) == [other, old]
    assert ids(client.get(f"{listing}&service_code=smart_id_card")) == [other, card]
    assert ids(client.get(f"{listing}&start_date=2026-11-01T00:00:00Z")) == [other, card]
    assert ids(client.get(f"{listing}&end_date=2026-11-21T00:00:00%2B03:30")) == [card, old]
    assert ids(client.get(f"{listing}&status=closed")) == [card]
    assert ids(client.get(f"{listing}&status=open")) == [other, old]
    assert ids(client.get(f"{listing}&status=open&service_code=smart_id_card")) == [other]


@pytest.mark.parametrize("query", ["status=pending", "start_date=yesterday"])
def test_listing_with_a_bad_filter_is_400(client, api_key: str, query: str) -> None:
    assert_error(client.get(f"{API}/requests.json?api_key={api_key}&{query}"), 400)


def test_a_key_for_one_office_lists_only_that_office(store: Store, client, offices: Offices) -> None:
    mine = offices.file(office=OFFICE)
    offices.file(office=OTHER)
    key, _ = store.add_api_key("thr-portal", office=OFFICE)
    assert ids(client.get(f"{API}/requests.json?api_key={key}")) == [mine]


# -- privacy -------------------------------------------------------------------------------


def test_anonymous_case_is_never_listed_or_shown(client, offices: Offices, api_key: str) -> None:
    code = offices.file(anonymous=True)
    assert_error(client.get(f"{API}/requests/{code}.json"), 404)
    assert_error(client.get(f"{API}/requests/{code}.json?api_key={api_key}"), 404)
    assert ids(client.get(f"{API}/requests.json?api_key={api_key}")) == []
    assert ids(client.get(f"{API}/requests.json?api_key={api_key}&service_request_id={code}")) == []


@pytest.mark.parametrize("sealed", [False, True])
def test_misconduct_report_is_never_listed_or_shown(store: Store, client, offices: Offices, api_key: str,
                                                     sealed: bool) -> None:
    oversight_key = X25519PrivateKey.generate().public_key() if sealed else None
    code = offices.file(case_type="misconduct", anonymous=False, identity=True, sealed_to=oversight_key)
    store.record_case_update(code, "answered", answer="رسیدگی شد.")
    assert_error(client.get(f"{API}/requests/{code}.json?api_key={api_key}"), 404)
    assert ids(client.get(f"{API}/requests.json?api_key={api_key}")) == []
    assert ids(client.get(f"{API}/requests.json?api_key={api_key}&status=closed")) == []


def test_no_name_national_id_or_mobile_appears_in_any_answer(client, offices: Offices, api_key: str) -> None:
    code = offices.file(identity=True)
    filed = file_request(client, api_key, first_name="مریم", last_name="احمدی", phone=MOBILE)
    filed_code = filed.get_json()[0]["service_request_id"]
    answers = [filed, client.get(f"{API}/requests/{code}.json?phone_last4=4567"),
               client.get(f"{API}/requests/{filed_code}.json?api_key={api_key}"),
               client.get(f"{API}/requests.json?api_key={api_key}")]
    for answer in answers:
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        for secret in (NAME, "احمدی", NATIONAL_ID, MOBILE, "1234567", '"name"', "national_id", "mobile",
                       '"phone"'):
            assert secret not in text, (secret, text)
    assert len(json.loads(answers[-1].get_data())) == 2


def test_case_filed_with_a_mobile_is_shown_by_id_only_with_its_last_four_digits_or_a_key(
        client, offices: Offices, api_key: str) -> None:
    code = offices.file(identity=True)
    assert_error(client.get(f"{API}/requests/{code}.json"), 404)
    assert_error(client.get(f"{API}/requests/{code}.json?phone_last4=0000"), 404)
    assert ids(client.get(f"{API}/requests/{code}.json?phone_last4=۴۵۶۷")) == [code]
    assert ids(client.get(f"{API}/requests/{code}.json?api_key={api_key}")) == [code]


# -- keys and the schema ----------------------------------------------------------------------


def test_api_keys_are_stored_only_as_their_sha256(store: Store) -> None:
    key, info = store.add_api_key("city-app", office=OFFICE)
    assert (info.name, info.office, info.status) == ("city-app", OFFICE, "active")
    with store.connect() as db:
        rows = db.all("SELECT * FROM api_keys")
    assert key not in repr(rows)
    assert store.api_key_for(key).name == "city-app" and store.api_key_for(key + "x") is None


def test_api_key_commands_add_list_and_revoke(store_url: str, tmp_path) -> None:
    def seda(*args: str):
        result = CliRunner().invoke(main, ["central", "api-key", *args, "--store", store_url],
                                    env={"SEDA_HOME": str(tmp_path)}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    opened = open_store(store_url)  # `seda central init`, and the office registered
    opened.add_office(OFFICE, Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex())
    opened.close()
    key = seda("add", "city-app", "--office", OFFICE).stdout.strip()
    listed = seda("list").stdout
    assert "city-app" in listed and OFFICE in listed and "active" in listed and key not in listed
    opened = open_store(store_url)
    try:
        assert opened.api_key_for(key).office == OFFICE
        seda("revoke", "city-app")
        assert opened.api_key_for(key) is None
        assert "revoked" in seda("list").stdout
    finally:
        opened.close()


def test_schema_step_2_upgrades_a_store_made_before_it(store_url: str, monkeypatch) -> None:
    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:1])  # as an older server
    old = open_store(store_url)
    old.add_office(OFFICE, public_key_hex(Ed25519PrivateKey.generate()))
    old.close()
    monkeypatch.undo()
    upgraded = open_store(store_url)
    try:
        with upgraded.connect() as db:
            assert [v for (v,) in db.all("SELECT version FROM schema_version ORDER BY version")] == [
                1, 2, *range(3, len(schema.STEPS) + 1)]
        assert upgraded.office(OFFICE) is not None
        assert upgraded.add_api_key("after-upgrade")[1].status == "active"
    finally:
        upgraded.close()
