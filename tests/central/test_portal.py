"""The citizens' portal (central/portal/) on SQLite and PostgreSQL: filing, sealed reports,
follow-up, "was it solved?", what the centre publishes, one-time survey links, abuse limits."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.casework import Casework
from central.held_reports import release_due
from central.portal.settings import PORTAL_OFFICE
from central.verdicts import acceptance_by_unit
from forms.responses import paper_response
from forms.survey_tokens import make_sheet_survey_token, make_survey_token
from sync.batch import format_time
from forms.signatures import public_key_hex

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def home(tmp_path):
    folder = tmp_path / "central-home"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def client(store, home, portal_client):
    return portal_client(store, home)


def _routed_case(store):
    """The one case, routed out of the triage queue to a specialist unit."""
    work = Casework(store)
    work.save_unit("licences", "واحد مجوزها", "Licences", actor="admin")
    (case,) = work.inbox(status="all")
    return work, work.refer(case.uuid, "licences", actor="admin")


def _case_records(store):
    return [r for r in store.records() if r["kind"] == "case"]


def _after_the_hour(store) -> int:
    """Release the held misconduct reports as the server does once their hour has ended."""
    return release_due(store, datetime.now(timezone.utc) + timedelta(hours=1))


def test_a_complaint_filed_on_the_portal_is_stored_routed_and_its_code_shown(client, store, code_in,
                                                                             file_complaint):
    answer = file_complaint(client)
    assert answer.status_code == 201
    code = code_in(answer)
    (record,) = _case_records(store)
    assert record["office"] == PORTAL_OFFICE
    assert record["body"]["tracking_code"] == code and record["body"]["channel"] == "portal"
    assert record["body"]["mobile"] == "09121234567"
    (case,) = Casework(store).inbox(status="all")
    assert case.tracking_code == code
    html = answer.get_data(as_text=True)
    assert "یادداشت کنید" in html and "چهار رقم آخر" in html and "روز کاری" in html


def test_a_form_sent_twice_files_one_case_and_shows_the_same_code(client, store, code_in, submission_of):
    submission = submission_of(client)
    data = {"submission": submission, "type": "request", "service": "other", "text": "درخواست"}
    first, second = client.post("/file", data=data), client.post("/file", data=data)
    assert code_in(first) == code_in(second)
    assert len(_case_records(store)) == 1
    assert "پیش‌تر فرستاده شده" in second.get_data(as_text=True)


def test_bad_input_is_refused_in_persian_and_nothing_is_stored(client, store, submission_of):
    answer = client.post("/file", data={"submission": submission_of(client), "type": "complaint",
                                        "service": "smart_id_card", "text": "", "mobile": "123"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "لطفاً متن خود را بنویسید" in html
    assert 'aria-invalid="true"' in html and _case_records(store) == []


def test_the_honeypot_field_files_nothing(client, store, file_complaint):
    answer = file_complaint(client, website="http://spam.example")
    assert answer.status_code == 400 and _case_records(store) == []


def test_one_photo_is_stored_as_the_cases_attachment(client, store, file_complaint):
    answer = file_complaint(client, attachment=(io.BytesIO(PNG), "photo.png"))
    assert answer.status_code == 201
    (case,) = _case_records(store)
    (sha,) = case["body"]["attachments"]
    assert store.office_sent_blob(PORTAL_OFFICE, sha)["media_type"] == "image/png"
    assert store.blob(sha) == PNG


def test_an_attachment_over_the_limit_or_of_another_kind_is_refused(store, home, file_complaint,
                                                                    portal_client):
    client = portal_client(store, home, max_attachment_bytes=100)
    big = file_complaint(client, attachment=(io.BytesIO(PNG + b"\0" * 100), "big.png"))
    assert big.status_code == 400 and "مگابایت" in big.get_data(as_text=True)
    exe = file_complaint(client, attachment=(io.BytesIO(b"MZ\x90\0"), "photo.png"))
    assert exe.status_code == 400 and "JPEG" in exe.get_data(as_text=True)
    assert _case_records(store) == []


def test_an_attachment_refusal_says_the_limit_in_each_languages_digits() -> None:
    from central.portal_intake import AttachmentRefused, check_attachment

    with pytest.raises(AttachmentRefused) as refused:
        check_attachment(PNG * 50_000, 2 * 1024 * 1024)
    assert refused.value.message_fa == "پیوست بزرگ‌تر از ۲ مگابایت است."
    assert refused.value.message_en == "The attachment is larger than 2 MB."


def test_a_misconduct_report_is_sealed_anonymous_and_keeps_only_the_hour(client, store, code_in,
                                                                         submission_of):
    answer = client.post("/report", data={"submission": submission_of(client, "/report"),
                                          "service": "other", "text": "رشوه خواستند",
                                          "anonymous": "1", "name": "علی"},
                         environ_base={"REMOTE_ADDR": "203.0.113.77",
                                       "HTTP_USER_AGENT": "PhoneBrowser/1.0"})
    assert answer.status_code == 201
    code = code_in(answer)
    assert _after_the_hour(store) == 1
    (record,) = _case_records(store)
    assert set(record["body"]) == {"type", "route", "channel", "follow_up", "sealed"}
    assert record["created_at"].endswith(":00:00.000000Z") or record["created_at"][14:16] == "00"
    with store.connect() as db:
        dump = json.dumps([db.all(f"SELECT * FROM {table}") for table in
                           ("records", "cases", "case_events", "throttles", "portal_submissions",
                            "audit_log", "settings", "held_reports")], default=str)
    for secret in ("203.0.113.77", "PhoneBrowser", "رشوه", "علی", code):
        assert secret not in dump
    (case,) = Casework(store).inbox(status="all")
    assert case.unit == "oversight"


def test_a_report_left_with_a_name_keeps_the_name_inside_the_seal(client, store, home, submission_of):
    from central.keys import CentralKeys

    client.post("/report", data={"submission": submission_of(client, "/report"), "service": "other",
                                 "text": "تخلف", "name": "مریم"})  # the box unticked: named
    _after_the_hour(store)
    (record,) = _case_records(store)
    opened = CentralKeys(home, store).open_body(record["body"])
    assert opened["name"] == "مریم" and opened["anonymous"] is False


def test_a_case_is_shown_only_with_the_last_four_digits_of_its_mobile(client, code_in, file_complaint):
    code = code_in(file_complaint(client))
    wrong = client.post("/follow", data={"code": code, "last4": "0000"})
    assert wrong.status_code == 403 and "چهار رقم آخر" in wrong.get_data(as_text=True)
    right = client.post("/follow", data={"code": code, "last4": "۴۵۶۷"})
    html = right.get_data(as_text=True)
    assert right.status_code == 200 and "به واحد مسئول ارجاع شد" in html or "دریافت شد" in html
    assert "09121234567" not in html


def test_wrong_digits_for_one_code_soon_have_to_wait(store, home, code_in, file_complaint, portal_client):
    client = portal_client(store, home, free_wrong_tries_per_code=2)
    code = code_in(file_complaint(client))
    for _ in range(2):
        client.post("/follow", data={"code": code, "last4": "0000"})
    waiting = client.post("/follow", data={"code": code, "last4": "4567"})
    assert waiting.status_code == 429 and "ثانیه" in waiting.get_data(as_text=True)


def test_an_unknown_code_says_so_in_persian(client):
    answer = client.post("/follow", data={"code": "123456789012", "last4": ""})
    assert answer.status_code == 404 and "پیدا نشد" in answer.get_data(as_text=True)


def test_a_sealed_report_is_followed_by_its_code_without_unit_or_minute(client, store, code_in,
                                                                        submission_of):
    code = code_in(client.post("/report", data={"submission": submission_of(client, "/report"),
                                                "service": "other", "text": "تخلف", "anonymous": "1"}))
    _after_the_hour(store)
    answer = client.post("/follow", data={"code": code, "last4": ""})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "حراست و بازرسی است" in html
    assert "حراست و بازرسی</dd>" not in html


def test_not_solved_reopens_the_case_in_its_unit_with_a_new_deadline(client, store, code_in, file_complaint):
    code = code_in(file_complaint(client))
    work, case = _routed_case(store)
    work.answer(case.uuid, "صف دوم باز شد.", actor="sara")
    shown = client.post("/follow", data={"code": code, "last4": "4567"}).get_data(as_text=True)
    assert "صف دوم باز شد." in shown and "آیا این پاسخ مشکل شما را حل کرد؟" in shown
    answer = client.post("/verdict", data={"code": code, "last4": "4567", "solved": "no",
                                           "comment": "هنوز صف یکی است"})
    assert "دوباره به واحد مسئول برگشت" in answer.get_data(as_text=True)
    reopened = work.case(case.uuid)
    fresh = format_time(work.calendar().deadline(datetime.now(timezone.utc), 10))
    assert reopened.status == "in_progress" and reopened.due_at == fresh  # counted from the "no"
    assert reopened.answered_at is None and reopened.escalated_at is None
    assert reopened.uuid in {c.uuid for c in work.inbox(units=[reopened.unit])}
    assert acceptance_by_unit(store) == {reopened.unit: {"judged": 1, "accepted": 0, "share": 0.0}}
    again = client.post("/verdict", data={"code": code, "last4": "4567", "solved": "yes"})
    assert "پاسخی ندارد" in again.get_data(as_text=True)


def test_solved_closes_nothing_and_counts_as_accepted(client, store, code_in, file_complaint):
    code = code_in(file_complaint(client))
    work, case = _routed_case(store)
    work.answer(case.uuid, "انجام شد.", actor="sara")
    client.post("/verdict", data={"code": code, "last4": "4567", "solved": "yes"})
    assert work.case(case.uuid).status == "answered"
    assert acceptance_by_unit(store)[case.unit]["share"] == 1.0
    shown = client.post("/follow", data={"code": code, "last4": "4567"}).get_data(as_text=True)
    assert "حل کرد" in shown and 'name="solved"' not in shown


def test_the_catalogue_and_directory_are_what_the_centre_published(client, store):
    store.publish("catalogue", "passport", {"name": {"fa": "گذرنامه", "en": "Passport"},
                                             "documents": [{"fa": "کارت ملی", "en": "ID card"}],
                                             "fee_rials": 500000, "time": {"fa": "۲ روز", "en": "2 days"},
                                             "legal_basis": {"fa": "قانون", "en": "Law"}})
    store.publish("catalogue", "broken", {"name": "no"})
    store.publish("contact", "boss", {"name": {"fa": "مریم احمدی", "en": "Maryam"},
                                      "title": {"fa": "مدیر", "en": "Manager"},
                                      "phone": "066-33220001", "email": "m@example.ir"})
    services = client.get("/services").get_data(as_text=True)
    assert "گذرنامه" in services and "کارت ملی" in services and "broken" not in services
    contacts = client.get("/contacts").get_data(as_text=True)
    assert "مریم احمدی" in contacts and "m@example.ir" in contacts


def test_a_kept_catalogue_page_gives_way_to_a_new_publication_and_to_the_other_language(client, store):
    passport = {"name": {"fa": "گذرنامه", "en": "Passport"}, "documents": [{"fa": "کارت ملی", "en": "ID card"}],
                "fee_rials": 500000, "time": {"fa": "۲ روز", "en": "2 days"}, "legal_basis": {"fa": "قانون", "en": "Law"}}
    store.publish("catalogue", "passport", passport)
    assert "۵۰۰٬۰۰۰" in client.get("/services").get_data(as_text=True)
    assert "۵۰۰٬۰۰۰" in client.get("/services").get_data(as_text=True)  # kept, not drawn again
    store.publish("catalogue", "passport", {**passport, "fee_rials": 700000})
    assert "۷۰۰٬۰۰۰" in client.get("/services").get_data(as_text=True)
    client.get("/lang?next=/")
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    assert "700,000" in client.get("/services").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/cases/", "/admin/users", "/v1/health", "/v1/setup",
                                  "/open311/v2/services.json", "/analysis/"])
def test_no_staff_api_or_open311_route_is_reachable_from_the_portal(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/", "/file", "/report", "/follow", "/services", "/contacts"])
def test_portal_pages_are_persian_rtl_and_load_nothing_from_elsewhere(client, path):
    answer = client.get(path)
    html = answer.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl"' in html and "<script" not in html
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_too_many_filings_from_one_address_are_refused(store, home, file_complaint, portal_client):
    client = portal_client(store, home, filings_per_address_per_hour=2)
    assert [file_complaint(client).status_code for _ in range(3)] == [201, 201, 429]
    assert len(_case_records(store)) == 2


# -- one-time survey links --------------------------------------------------------------------


@pytest.fixture
def office_key(store):
    key = Ed25519PrivateKey.generate()
    store.add_office("LOR-01", public_key_hex(key.public_key()))
    return key


def _survey(client, token, **answers):
    return client.post(f"/s/{token}", data={"workflow": "4", "matched_announcement": "yes", **answers})


def test_a_survey_link_works_once_and_only_once(client, store, office_key):
    token = make_survey_token("LOR-01", office_key, today=date.today())
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "نحوه گردش کار" in page.get_data(as_text=True)
    assert _survey(client, token).status_code == 201
    again = _survey(client, token)
    assert again.status_code == 410 and "فقط یک بار" in again.get_data(as_text=True)
    assert client.get(f"/s/{token}").status_code == 410
    (response,) = [r for r in store.records() if r["kind"] == "survey_response"]
    assert response["office"] == "LOR-01" and response["body"]["source"] == "portal"
    assert response["body"]["answers"]["workflow"] == 4


def test_a_forged_token_is_refused_in_persian(client, office_key):
    forged = make_survey_token("LOR-01", Ed25519PrivateKey.generate(), today=date.today())
    answer = _survey(client, forged)
    assert answer.status_code == 400 and "معتبر نیست" in answer.get_data(as_text=True)
    assert client.get("/s/not-a-token").status_code == 400


def test_a_stale_token_is_refused_in_persian(client, office_key):
    stale = make_survey_token("LOR-01", office_key, today=date.today() - timedelta(days=31))
    answer = client.get(f"/s/{stale}")
    assert answer.status_code == 410 and "مهلت" in answer.get_data(as_text=True)


def _sheet_token(key, serial: int = 42, today: date | None = None) -> str:
    return make_sheet_survey_token("LOR-01", key, form="satisfaction", form_version=1, serial=serial,
                                   today=today or date.today())


def test_a_sheet_link_works_once_and_stores_a_response_naming_its_sheet(client, store, office_key):
    token = _sheet_token(office_key)
    assert _survey(client, token).status_code == 201
    assert _survey(client, token).status_code == 410
    (response,) = [r for r in store.records() if r["kind"] == "survey_response"]
    body = response["body"]
    assert response["office"] == "LOR-01"
    assert (body["source"], body["sheet"], body["serial"], body["form_version"]) == (
        "sheet_link", "LOR-01/satisfaction/42", 42, 1)


def test_a_sheet_link_is_good_for_months_in_a_drawer(client, office_key):
    token = _sheet_token(office_key, today=date.today() - timedelta(days=200))
    assert client.get(f"/s/{token}").status_code == 200


def test_a_sheet_link_is_refused_in_persian_once_the_centre_holds_the_scanned_sheet(client, store, office_key):
    from central import ingest
    from sync.batch import BatchRecord

    scanned = paper_response(form="satisfaction", form_version=1, sheet="LOR-01/satisfaction/42", serial=42,
                             status="accepted", answers={"workflow": 2})
    now = format_time(datetime.now(timezone.utc))
    with store.write() as db:
        ingest.insert_central_record(db, BatchRecord(uuid="paper-42", kind="survey_response", office="LOR-01",
                                                     created_at=now, body=scanned), received_at=now)
    answer = _survey(client, _sheet_token(office_key))
    assert answer.status_code == 410 and "روی کاغذ" in answer.get_data(as_text=True)
    assert client.get(f"/s/{_sheet_token(office_key, serial=43)}").status_code == 200  # another sheet
    assert [r["uuid"] for r in store.records() if r["kind"] == "survey_response"] == ["paper-42"]


def test_a_kiosk_token_cannot_be_passed_off_as_a_sheets(office_key):
    from forms.survey_tokens import TokenRefused, read_survey_token, verify_survey_token

    kiosk = make_survey_token("LOR-01", office_key, today=date.today())
    office, day, _nonce, signature = kiosk.split(".")
    relabelled = read_survey_token(f"{office}.{day}.S1-42-satisfaction.{signature}")
    with pytest.raises(TokenRefused, match="forged"):
        verify_survey_token(relabelled, office_key.public_key(), today=date.today())


def test_a_survey_without_any_answer_spends_nothing(client, store, office_key):
    token = make_survey_token("LOR-01", office_key, today=date.today())
    empty = client.post(f"/s/{token}", data={})
    assert empty.status_code == 400 and "دست‌کم" in empty.get_data(as_text=True)
    assert _survey(client, token).status_code == 201
