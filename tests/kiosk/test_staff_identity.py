"""Staff pages keep visitors' identity hidden: the cases list shows type, service, status and
code; the office manager's explicit «show» reveals one case's identity and is audited; the
review queue says what was read in option words and shows the crop and the whole sheet."""
from __future__ import annotations

import re

import pytest

from forms.definition import Option, Question, Text
from kiosk.review_words import value_words
from ledger.centre_sent import CentreSent


NAME = "زهرا احمدی"


@pytest.fixture
def staff_client(kiosk_home, client, add_staff):
    add_staff(kiosk_home)
    return client


@pytest.fixture
def file_case(visit_token):
    """File one complaint at the kiosk (``fields`` added to the form), then end the visit."""
    def file(client, **fields):
        html = client.get("/case").get_data(as_text=True)
        data = {"visit": visit_token(html), "type": "complaint", "service": "other",
                "text": "رفتار متصدی باجه ۳ خیلی بد بود", **fields}
        assert client.post("/case", data=data).status_code == 302
        client.get("/reset")
    return file


@pytest.fixture
def only_case_uuid(open_ledger):
    def uuid_of(home) -> str:
        with open_ledger(home) as ledger:
            (record,) = ledger.records("case")
        return record.uuid
    return uuid_of


@pytest.fixture
def identity_audits(open_ledger):
    def audits(home) -> list[dict]:
        with open_ledger(home) as ledger:
            return [a.body for a in ledger.records("audit")
                    if a.body.get("event") == "case_identity_view"]
    return audits


def test_the_cases_list_hides_name_national_id_and_mobile_from_everyone_by_default(staff_client,
                                                                                    kiosk_home, manager_account, operator_account, staff_login, valid_mobile, valid_national_id, file_case, identity_audits):
    file_case(staff_client, name=NAME, national_id=valid_national_id, mobile=valid_mobile)
    for who in (manager_account, operator_account):
        staff_login(staff_client, who)
        html = staff_client.get("/staff/cases").get_data(as_text=True)
        assert NAME not in html and valid_national_id not in html and valid_mobile not in html
        assert valid_mobile[-4:] not in html
    assert identity_audits(kiosk_home) == []


def test_local_staff_see_type_service_status_and_code_but_not_the_text(staff_client, kiosk_home, open_ledger, operator_account, staff_login, file_case):
    file_case(staff_client, name=NAME)
    with open_ledger(kiosk_home) as ledger:
        (record,) = ledger.records("case")
        code = record.body["tracking_code"]
        CentreSent(ledger).store_items([{"feed": "case_update", "key": "u1", "cursor": 1, "body": {
            "tracking_code": code, "status": "in_progress", "at": "2025-01-01T10:00:00+00:00"}}])
    staff_login(staff_client, operator_account)
    response = staff_client.get("/staff/cases")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "شکایت" in html and "در حال رسیدگی" in html and "case-code" in html
    assert "رفتار متصدی" not in html
    assert "نمایش مشخصات" not in html


def test_a_scanner_operator_cannot_ask_to_see_identity(staff_client, kiosk_home, csrf_token, operator_account, staff_login, file_case, identity_audits, only_case_uuid):
    file_case(staff_client, name=NAME)
    staff_login(staff_client, operator_account)
    token = csrf_token(staff_client.get("/staff/cases").get_data(as_text=True))
    response = staff_client.post(f"/staff/cases/{only_case_uuid(kiosk_home)}/identity",
                                 data={"csrf_token": token})
    assert response.status_code == 403 and NAME not in response.get_data(as_text=True)
    assert identity_audits(kiosk_home) == []


def test_the_manager_sees_one_cases_identity_on_asking_and_the_showing_is_audited(staff_client,
                                                                                   kiosk_home, csrf_token, manager_account, staff_login, valid_mobile, valid_national_id, file_case, identity_audits, only_case_uuid):
    file_case(staff_client, name=NAME, national_id=valid_national_id, mobile=valid_mobile)
    staff_login(staff_client, manager_account)
    html = staff_client.get("/staff/cases").get_data(as_text=True)
    assert "رفتار متصدی" in html and "نمایش مشخصات" in html
    uuid = only_case_uuid(kiosk_home)
    response = staff_client.post(f"/staff/cases/{uuid}/identity", data={"csrf_token": csrf_token(html)})
    shown = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert NAME in shown and valid_national_id in shown and valid_mobile in shown
    (audit,) = identity_audits(kiosk_home)
    assert audit["case"] == uuid and audit["by"] == manager_account[0]
    assert audit["fields"] == ["name", "national_id", "mobile"]
    assert NAME not in staff_client.get("/staff/cases").get_data(as_text=True)  # not sticky


def test_asking_for_the_identity_of_an_anonymous_case_is_refused(staff_client, kiosk_home, csrf_token, manager_account, staff_login, file_case, identity_audits, only_case_uuid):
    file_case(staff_client, anonymous="1")
    staff_login(staff_client, manager_account)
    token = csrf_token(staff_client.get("/staff/cases").get_data(as_text=True))
    response = staff_client.post(f"/staff/cases/{only_case_uuid(kiosk_home)}/identity",
                                 data={"csrf_token": token})
    assert response.status_code == 404 and identity_audits(kiosk_home) == []


def test_the_case_form_says_who_reads_it(client):
    html = client.get("/case").get_data(as_text=True)
    assert "چه کسی این را می‌خواند" in html and "هر بار دیدن ثبت می‌شود" in html


SCALE = Question("workflow", "scale", Text("روند کار", "Workflow"), options=(
    Option(1, Text("خیلی بد", "Very bad")), Option(4, Text("خوب", "Good")),
    Option(5, Text("خیلی خوب", "Very good"))))


@pytest.mark.parametrize("value, lang, words", [
    (4, "fa", "خوب"),
    ([4, 5], "fa", "خوب، خیلی خوب"),
    ([1, 4], "en", "Very bad, Good"),
    (None, "fa", "بی‌پاسخ"),
    ([], "fa", "بی‌پاسخ"),
    ("0912", "fa", "۰۹۱۲"),
])
def test_review_values_are_said_in_option_words(value, lang, words):
    assert value_words(SCALE, value, lang, no_answer="بی‌پاسخ") == words


def test_review_values_of_a_question_without_options_keep_their_digits():
    assert value_words(None, 1234, "en", no_answer="-") == "1234"
