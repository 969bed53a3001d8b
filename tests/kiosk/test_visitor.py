"""The visitor screens through Flask's test client, checked against the real ledger."""
from __future__ import annotations

import re

import pytest

from forms import builtin_catalog
from kiosk.survey_flow import kiosk_label, survey_order
from kiosk import create_app
from ledger.centre_sent import CentreSent
from forms.tracking_codes import is_valid_tracking_code

VISITOR_PAGES = ["/", "/survey/1", "/survey/7", "/survey/10", "/case", "/report", "/voice",
                 "/follow-up", "/contact", "/services", "/services/smart_id_card"]
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"


def page(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture(scope="session")
def file_complaint(visit_token):
    def file_complaint(client, **fields):
        html = page(client, "/case")
        data = {"visit": visit_token(html), "type": "complaint", "service": "smart_id_card",
                "text": "صف طولانی بود", **fields}
        return client.post("/case", data=data)

    return file_complaint


def receipt_code(client) -> str:
    html = page(client, "/receipt")
    match = re.search(r'data-code="(\d+)"', html)
    assert match
    return match.group(1)


# -- every screen ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_visitor_pages_are_persian_right_to_left(client, path):
    assert '<html lang="fa" dir="rtl"' in page(client, path)


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_visitor_pages_are_never_cached(client, path):
    response = client.get(path)
    assert "no-store" in response.headers["Cache-Control"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", VISITOR_PAGES)
def test_visitor_pages_name_no_external_url(client, path):
    html = page(client, path)
    assert not re.search(r"(?:src|href|action)=\"(?:https?:)?//", html)


def test_static_assets_name_no_external_url(app):
    from pathlib import Path
    static = Path(app.static_folder)
    for path in list(static.rglob("*.css")) + list(static.rglob("*.js")):
        assert not re.search(r"https?://|url\(\s*['\"]?//", path.read_text(encoding="utf-8")), path


def test_fonts_are_served_locally_with_their_licence(client):
    assert client.get("/static/fonts/Vazirmatn-Regular.woff2").status_code == 200
    assert "SIL Open Font License" in client.get("/static/fonts/OFL.txt").get_data(as_text=True)


def test_english_is_a_toggle_that_stays_for_the_visit(client):
    client.get("/prefs/lang?next=/contact")
    html = page(client, "/contact")
    assert '<html lang="en" dir="ltr"' in html and "Contact us" in html
    client.get("/reset")
    assert '<html lang="fa" dir="rtl"' in page(client, "/contact")


def test_large_text_and_high_contrast_are_toggles(client):
    client.get("/prefs/large-text")
    client.get("/prefs/contrast")
    html = page(client, "/")
    assert 'class="large-text high-contrast"' in html


def test_toggle_redirects_only_to_local_paths(client):
    response = client.get("/prefs/lang?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    response = client.get("/prefs/lang?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_home_screen_quotes_article_9(client):
    html = page(client, "/")
    assert "نظر انتقادی خود را در چارچوب مقررات ابراز کنند" in html
    assert "ماده ۹" in html


# -- survey ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def answer(visit_token):
    def answer(client, number, **data):
        html = page(client, f"/survey/{number}")
        return client.post(f"/survey/{number}", data={"visit": visit_token(html), **data})

    return answer


def test_survey_asks_the_three_article_9_questions_first_one_per_screen(client):
    form = builtin_catalog().get("satisfaction")
    order = [q.id for q in survey_order(form).questions]
    assert order[:3] == ["workflow", "matched_announcement", "staff_behaviour"]
    assert sorted(order) == sorted(q.id for q in form.questions)
    for number, question_id in enumerate(order, start=1):
        html = page(client, f"/survey/{number}")
        label = kiosk_label(form.question(question_id).label.fa)
        assert f'id="question-label">{label}</h1>' in html


def test_survey_screens_number_the_article_9_part_and_the_optional_part_apart(client):
    assert "پرسش ۱ از ۳" in page(client, "/survey/1")
    assert "پرسش ۳ از ۳" in page(client, "/survey/3")
    assert "پرسش اختیاری ۱ از ۷" in page(client, "/survey/4")


def test_survey_questions_show_no_paper_numbering(client):
    html = page(client, "/survey/1")
    assert "۱-" not in html.split('id="question-label">')[1].split("</h1>")[0]


def test_scale_questions_show_faces(client):
    html = page(client, "/survey/1")
    assert html.count('class="face face-') == 5


def test_completed_survey_is_in_the_ledger_before_the_thanks(client, kiosk_home, answer, open_ledger):
    assert answer(client, 4, answer="smart_id_card").headers["Location"] == "/survey/5"
    answer(client, 1, answer="4")
    answer(client, 2, answer="partly")
    answer(client, 7, answer="۰۷")  # desk, typed in Persian digits
    response = answer(client, 8, action="finish")
    assert response.headers["Location"] == "/survey/thanks"
    with open_ledger(kiosk_home) as ledger:
        (record,) = ledger.records("survey_response")
    body = record.body
    assert body["source"] == "kiosk" and body["form"] == "satisfaction" and body["form_version"] == 1
    assert body["kiosk_id"] == "test-kiosk" and body["visit"]
    assert body["answers"]["service"] == "smart_id_card"
    assert body["answers"]["workflow"] == 4
    assert body["answers"]["matched_announcement"] == "partly"
    assert body["answers"]["desk"] == "07"
    assert body["answers"]["overall"] is None
    assert set(body["answers"]) == {q.id for q in builtin_catalog().get("satisfaction").questions}
    assert "سپاسگزاریم" in page(client, "/survey/thanks")


def test_one_survey_response_per_visit_and_the_visit_ends_with_it(client, kiosk_home, answer,
                                                                  open_ledger, visit_token):
    answer(client, 1, answer="5")
    token_page = page(client, "/survey/3")
    token = visit_token(token_page)
    client.post("/survey/3", data={"visit": token, "action": "finish"})
    resent = client.post("/survey/3", data={"visit": token, "action": "finish"})
    assert resent.headers["Location"] == "/"  # the form belonged to the ended visit
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("survey_response") == 1
    # The next person starts afresh: nothing of the previous answers is selected.
    assert "selected" not in page(client, "/survey/2").split('class="choices')[1].split("</div>")[0]


def test_the_stored_response_uuid_makes_a_retry_harmless(app, kiosk_home):
    from kiosk.state import KioskState  # noqa: F401 - the state holds the writer
    state = app.extensions["seda_kiosk"]
    body = {"source": "kiosk", "form": "satisfaction", "form_version": 1, "answers": {},
            "kiosk_id": "k", "visit": "v"}
    first = state.writer.submit(lambda l: l.append("survey_response", body, office="LOR-01",
                                                   uuid="00000000-0000-4000-8000-000000000001"))
    again = state.writer.submit(lambda l: l.append("survey_response", body, office="LOR-01",
                                                   uuid="00000000-0000-4000-8000-000000000001"))
    assert first.seq == again.seq


def test_a_new_visit_can_answer_again(client, kiosk_home, answer, open_ledger):
    answer(client, 1, answer="5")
    answer(client, 10, action="finish")
    client.get("/reset")
    answer(client, 1, answer="1")
    answer(client, 10, action="finish")
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("survey_response") == 2


def test_back_and_skip_move_between_questions(client, answer):
    assert answer(client, 2, action="back").headers["Location"] == "/survey/1"
    assert answer(client, 2, action="skip").headers["Location"] == "/survey/3"
    assert answer(client, 5, action="back").headers["Location"] == "/survey/4"
    assert answer(client, 5, action="skip").headers["Location"] == "/survey/6"


def test_the_third_article_9_question_leads_to_the_end_screen(client, answer):
    assert answer(client, 3, answer="4").headers["Location"] == "/survey/end"
    assert answer(client, 3, action="skip").headers["Location"] == "/survey/end"
    assert answer(client, 4, action="back").headers["Location"] == "/survey/end"


def test_the_end_screen_offers_finish_first_and_the_optional_questions_second(client):
    html = page(client, "/survey/end")
    assert html.index("پایان و ارسال") < html.index('href="/survey/4"')
    assert "پاسخ به چند پرسش دیگر (اختیاری)" in html


def test_finishing_on_the_end_screen_stores_a_complete_response(client, kiosk_home, answer, open_ledger,
                                                                visit_token):
    for number, value in ((1, "2"), (2, "yes"), (3, "4")):
        answer(client, number, answer=value)
    html = page(client, "/survey/end")
    response = client.post("/survey/end", data={"visit": visit_token(html), "action": "finish"})
    assert response.headers["Location"] == "/survey/thanks"
    with open_ledger(kiosk_home) as ledger:
        (record,) = ledger.records("survey_response")
    assert record.body["complete"] is True
    assert record.body["answers"]["staff_behaviour"] == 4


def test_finishing_on_the_end_screen_with_no_answer_stores_nothing(client, kiosk_home, open_ledger,
                                                                   visit_token):
    html = page(client, "/survey/end")
    response = client.post("/survey/end", data={"visit": visit_token(html), "action": "finish"})
    assert response.status_code == 200
    assert "هنوز به هیچ پرسشی پاسخ نداده‌اید" in response.get_data(as_text=True)
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("survey_response") == 0


def test_skip_says_the_question_is_left_unanswered(client):
    html = page(client, "/survey/5")
    assert "بدون پاسخ، بعدی" in html and "رد شدن" not in html


def test_the_last_screen_has_one_send_button(client):
    html = page(client, "/survey/10")
    assert html.count('type="submit"') == 2  # back, and the one send
    assert html.count("پایان و ارسال") == 1


def test_the_consent_question_has_a_no_that_withdraws_a_yes(client, kiosk_home, answer, open_ledger):
    number = 9
    assert "موافق نیستم" in page(client, f"/survey/{number}")
    answer(client, 1, answer="3")
    answer(client, number, answer="yes")
    assert answer(client, number, answer="").headers["Location"] == "/survey/10"
    answer(client, 10, action="finish")
    with open_ledger(kiosk_home) as ledger:
        (record,) = ledger.records("survey_response")
    assert record.body["answers"]["follow_up_consent"] is None


@pytest.mark.parametrize("question_id", ["staff_behaviour", "workflow"])
def test_a_very_poor_score_offers_a_prefilled_complaint_after_sending(client, question_id, answer):
    number = 1 if question_id == "workflow" else 3
    answer(client, 4, answer="smart_id_card")
    answer(client, number, answer="1")
    answer(client, 10, action="finish")
    thanks = page(client, "/survey/thanks")
    assert "ثبت شکایت درباره این خدمت" in thanks
    form = page(client, "/case?from=survey")
    assert re.search(r'<input type="radio" name="type" value="complaint"\s+checked', form)
    assert re.search(r'<option value="smart_id_card"\s+selected', form)
    assert "خیلی بد بود" in form.split('id="text"')[1].split("</textarea>")[0]


def test_no_complaint_offer_after_a_fair_score(client, answer):
    answer(client, 3, answer="2")
    answer(client, 10, action="finish")
    assert "ثبت شکایت درباره این خدمت" not in page(client, "/survey/thanks")


def test_the_complaint_offer_goes_with_the_visit(client, answer):
    answer(client, 3, answer="1")
    answer(client, 10, action="finish")
    client.get("/reset")
    assert "خیلی بد بود" not in page(client, "/case?from=survey")


def test_a_wrong_mobile_in_the_survey_is_explained(client, answer):
    response = answer(client, 8, answer="12345")
    assert response.status_code == 200
    assert "شماره موبایل معتبر نیست" in response.get_data(as_text=True)


def test_an_option_not_in_the_form_is_refused(client, answer):
    response = answer(client, 1, answer="7")
    assert "این گزینه در فهرست نیست" in response.get_data(as_text=True)


def test_survey_questions_have_read_aloud_audio(client):
    html = page(client, "/survey/2")
    match = re.search(r'data-audio="([^"]+\.ogg)"', html)
    assert match
    audio = client.get(match.group(1))
    assert audio.status_code == 200 and audio.data[:4] == b"OggS"


# -- cases ----------------------------------------------------------------------------------


def test_complaint_is_stored_before_the_tracking_code_is_shown(client, kiosk_home, file_complaint,
                                                               open_ledger, valid_mobile):
    response = file_complaint(client, name="علي", mobile="۰۹۱۲۳۴۵۶۷۸۹")
    assert response.status_code == 302 and response.headers["Location"] == "/receipt"
    with open_ledger(kiosk_home) as ledger:
        (case,) = ledger.records("case")
    code = receipt_code(client)
    assert case.body["tracking_code"] == code and is_valid_tracking_code(code)
    assert case.body["name"] == "علی"  # Arabic yeh normalised
    assert case.body["mobile"] == valid_mobile
    html = page(client, "/receipt")
    shown = code.translate(str.maketrans("0123456789", PERSIAN_DIGITS))
    assert f"{shown[:4]} {shown[4:8]} {shown[8:]}" in html  # Persian digits, in groups
    assert "<svg" in html  # the receipt's QR code


def test_a_wrong_national_id_check_digit_says_so_and_files_nothing(client, kiosk_home, file_complaint,
                                                                   open_ledger):
    response = file_complaint(client, national_id="0499370898")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "رقم کنترل کد ملی درست نیست" in html
    assert "صف طولانی بود" in html  # what the visitor typed is kept for them
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("case") == 0


def test_the_type_must_be_chosen(client, file_complaint):
    response = file_complaint(client, type="")
    assert "نوع درخواست را انتخاب کنید" in response.get_data(as_text=True)


def test_a_form_from_an_ended_visit_is_refused(client, kiosk_home, open_ledger, visit_token):
    html = page(client, "/case")
    old_token = visit_token(html)
    client.get("/reset")
    response = client.post("/case", data={"visit": old_token, "type": "complaint", "text": "x"})
    assert response.headers["Location"] == "/"
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("case") == 0
    assert "مراجعه قبلی به پایان رسیده" in page(client, "/")


def test_the_receipt_is_gone_after_the_visit_ends(client, file_complaint):
    file_complaint(client)
    assert client.get("/receipt").status_code == 200
    client.get("/reset")
    assert client.get("/receipt").headers["Location"] == "/"


def test_a_half_filled_form_is_not_shown_to_the_next_visit(client, file_complaint):
    file_complaint(client, national_id="1", text="راز نفر قبلی")
    client.get("/reset")
    assert "راز نفر قبلی" not in page(client, "/case")


def test_too_many_cases_in_one_visit_are_refused_politely(kiosk_home, file_complaint, make_config):
    client = create_app(make_config(kiosk_home, max_cases_per_visit=2)).test_client()
    assert file_complaint(client).status_code == 302
    assert file_complaint(client).status_code == 302
    response = file_complaint(client)
    assert response.status_code == 429
    assert "به اندازه کافی پیام ثبت شده" in response.get_data(as_text=True)


def test_a_flooded_kiosk_asks_to_wait_and_keeps_the_text(kiosk_home, file_complaint, make_config):
    client = create_app(make_config(kiosk_home, max_cases_per_minute=1)).test_client()
    assert file_complaint(client).status_code == 302
    client.get("/reset")
    response = file_complaint(client, text="متن دوم")
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and "ثانیه دیگر دوباره بفرستید" in html
    assert "متن دوم" in html


# -- misconduct reports ---------------------------------------------------------------------


def test_misconduct_report_says_who_reads_it_and_what_is_kept(client, kiosk_home, central_install):
    central_install.set_up(kiosk_home)
    html = page(client, "/report")
    assert "فقط واحد نظارت و بازرسی می‌تواند آن را باز کند" in html
    assert "چه چیزی نگه داشته می‌شود" in html and "فقط ساعتِ گردشده" in html
    assert 'name="anonymous" value="1" id="anonymous" checked' in html
    assert "هر فردی حق دارد در صورت مشاهده یا اطلاع از تخلفات اداری" in html


def test_anonymous_report_stores_no_trace_of_the_device(client, kiosk_home, central_install,
                                                        open_ledger, valid_mobile, visit_token):
    central_install.set_up(kiosk_home)
    html = page(client, "/report")
    client.post("/report", data={"visit": visit_token(html), "anonymous": "1", "service": "other",
                                 "text": "رشوه در باجه", "name": "Ali", "mobile": valid_mobile},
                headers={"User-Agent": "UniqueAgent/9.9"},
                environ_base={"REMOTE_ADDR": "10.99.88.77"})
    with open_ledger(kiosk_home) as ledger:
        (case,) = ledger.held("type", "misconduct")
    opened = central_install.keys.open_body(case.body)
    assert opened["anonymous"] is True and opened["route"] == "oversight"
    assert "name" not in opened and "mobile" not in opened
    assert "kiosk_id" not in opened
    assert case.created_at.minute == 0 and case.created_at.second == 0
    raw = b"".join(p.read_bytes() for p in kiosk_home.rglob("*") if p.is_file())
    for trace in (b"UniqueAgent", b"10.99.88.77", valid_mobile.encode()):
        assert trace not in raw


# -- voice messages -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def upload_voice(visit_token, webm_recording):
    def upload_voice(client, data=None, mimetype="audio/webm"):
        data = webm_recording.read_bytes() if data is None else data
        import io
        token = visit_token(page(client, "/voice"))
        return client.post("/voice", data={"visit": token, "service": "other",
                                           "audio": (io.BytesIO(data), "message.webm", mimetype)},
                           headers={"Accept": "application/json", "X-Visit-Token": token})

    return upload_voice


def test_voice_message_is_stored_as_an_attachment_with_a_tracking_code(client, kiosk_home, open_ledger,
                                                                       upload_voice, webm_recording):
    response = upload_voice(client)
    assert response.get_json() == {"ok": True, "next": "/receipt"}
    with open_ledger(kiosk_home) as ledger:
        (case,) = ledger.records("case")
        assert case.body["type"] == "voice"
        assert ledger.blob(case.body["attachments"][0]) == webm_recording.read_bytes()
    assert receipt_code(client) == case.body["tracking_code"]


def test_voice_message_too_long_is_refused(kiosk_home, make_config, upload_voice):
    client = create_app(make_config(kiosk_home, voice_max_bytes=100)).test_client()
    response = upload_voice(client, data=b"x" * 101)
    assert response.status_code == 413 and response.get_json()["error"] == "voice_too_long"


def test_voice_message_must_really_be_audio_whatever_its_label(client, kiosk_home, open_ledger, upload_voice):
    response = upload_voice(client, data=b"<html><script>alert(1)</script></html>")
    assert response.status_code == 415
    assert response.get_json()["message"] == "آنچه فرستاده شد صدای ضبط‌شده نیست و ثبت نشد. لطفاً دوباره ضبط کنید."
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("case") == 0 and ledger.count("attachment") == 0


def test_voice_from_an_ended_visit_is_refused(client, visit_token):
    import io
    token = visit_token(page(client, "/voice"))
    client.get("/reset")
    response = client.post("/voice", data={"visit": token, "audio": (io.BytesIO(b"x"), "m.webm", "audio/webm")},
                           headers={"Accept": "application/json", "X-Visit-Token": token})
    assert response.status_code == 409 and response.get_json()["error"] == "visit_ended"


# -- follow-up ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def follow(visit_token):
    def follow(client, code, last4=""):
        token = visit_token(page(client, "/follow-up"))
        return client.post("/follow-up", data={"visit": token, "code": code, "last4": last4})

    return follow


def test_follow_up_shows_the_timeline_and_the_answer(client, kiosk_home, file_complaint, follow,
                                                     open_ledger, valid_mobile):
    file_complaint(client, mobile=valid_mobile)
    code = receipt_code(client)
    with open_ledger(kiosk_home) as ledger:
        CentreSent(ledger).store_items([{"feed": "case_update", "key": "u1", "cursor": 1, "body": {
            "tracking_code": code, "status": "answered", "answer": "<b>پاسخ</b> اداره",
            "at": "2026-12-01T08:00:00+00:00"}}])
    client.get("/reset")
    persian_code = code.translate(str.maketrans("0123456789", PERSIAN_DIGITS))
    response = follow(client, persian_code, "۶۷۸۹")
    assert response.headers["Location"] == "/follow-up/status"
    html = page(client, "/follow-up/status")
    assert "دریافت شد" in html and "پاسخ داده شد" in html
    assert "&lt;b&gt;پاسخ&lt;/b&gt; اداره" in html
    assert "۱۴۰۵/۰۹/۱۰" in html  # 2026-12-01 in the Jalali calendar, Persian digits


def test_follow_up_with_wrong_last_four_looks_like_not_found(client, file_complaint, follow, valid_mobile):
    file_complaint(client, mobile=valid_mobile)
    code = receipt_code(client)
    response = follow(client, code, "0000")
    assert response.status_code == 404
    assert "موردی با این مشخصات پیدا نشد" in response.get_data(as_text=True)


def test_a_mistyped_code_is_explained_and_not_counted(client, follow):
    for _ in range(6):
        response = follow(client, "123456789012")  # check digit wrong
        assert response.status_code == 400
        assert "رقم کنترل" in response.get_data(as_text=True)


def test_repeated_wrong_codes_are_slowed_down(client, follow):
    from forms.tracking_codes import new_tracking_code
    statuses = [follow(client, new_tracking_code()).status_code for _ in range(5)]
    assert statuses[:3] == [404, 404, 404]
    assert 429 in statuses[3:]
    assert "صبر کنید" in follow(client, new_tracking_code()).get_data(as_text=True)


def test_wrong_codes_in_earlier_visits_do_not_lock_out_the_next_visitor(client, follow):
    from forms.tracking_codes import new_tracking_code
    for _ in range(6):  # six visits, each using its three free tries: 18 wrong codes
        client.get("/reset")
        assert [follow(client, new_tracking_code()).status_code for _ in range(3)] == [404] * 3
    client.get("/reset")
    assert follow(client, new_tracking_code()).status_code == 404  # tried, not refused


def test_the_kiosk_wide_ceiling_spaces_out_wrong_codes_from_many_visits(kiosk_home, follow, make_config):
    from forms.tracking_codes import new_tracking_code
    client = create_app(make_config(kiosk_home, follow_up_kiosk_wrong_per_hour=4)).test_client()
    for _ in range(4):
        client.get("/reset")
        assert follow(client, new_tracking_code()).status_code == 404
    client.get("/reset")
    response = follow(client, new_tracking_code())
    assert response.status_code == 429
    waits = re.findall(r"([۰-۹]+) ثانیه صبر کنید", response.get_data(as_text=True))
    assert waits and int(waits[0].translate(str.maketrans(PERSIAN_DIGITS, "0123456789"))) <= 900


# -- information screens --------------------------------------------------------------------


def test_contact_lists_managers_with_phones_and_emails(client):
    html = page(client, "/contact")
    assert "مدیر اداره" in html and "manager@office.example" in html
    assert "۰۶۶-۳۳۲۲۰۰۰۱" in html


def test_service_catalogue_covers_every_service_of_the_survey(app, client):
    form = builtin_catalog().get("satisfaction")
    for option in form.question("service").options:
        html = page(client, f"/services/{option.value}")
        assert "مدارک لازم" in html and "مبنای قانونی" in html


def test_fees_are_shown_in_rials_with_persian_digits(client):
    assert "۳٬۰۰۰٬۰۰۰ ریال" in page(client, "/services/smart_id_card")


def test_unknown_pages_are_a_polite_404(client):
    response = client.get("/services/nothing")
    assert response.status_code == 404
    assert '<html lang="fa" dir="rtl"' in response.get_data(as_text=True)


# -- reading aloud beyond the survey, and the receipt's reminders ------------------------------


def test_every_screen_clip_and_digit_clip_is_shipped_in_both_languages():
    from kiosk.read_aloud import SCREEN_TEXTS, digit_clips, screen_clip
    for lang in ("fa", "en"):
        assert digit_clips(lang) is not None, lang
        for screen in SCREEN_TEXTS:
            assert screen_clip(screen, lang) is not None, (screen, lang)


def test_a_question_clip_reads_its_choices_in_persian():
    from kiosk.tools.make_audio import spoken_text
    question = next(q for q in builtin_catalog().get("satisfaction").questions if q.options)
    choices = "، ".join(option.label.fa for option in question.options)
    assert spoken_text(question) == f"{kiosk_label(question.label.fa)}. گزینه‌ها: {choices}."


def test_the_digit_clips_say_the_ten_digits_in_order_in_each_language():
    from kiosk.tools.make_audio import digit_words
    assert digit_words("fa")[:3] == ["صفر", "یک", "دو"] and len(digit_words("fa")) == 10
    assert digit_words("en") == "zero one two three four five six seven eight nine".split()


@pytest.mark.parametrize("path", ["/", "/case", "/report", "/voice", "/follow-up", "/survey/end"])
def test_main_screens_can_be_read_aloud(client, path):
    html = page(client, path)
    assert re.search(r'class="button read-aloud" data-audio="/static/audio/screen-[a-z_]+-fa\.ogg"', html)


def test_the_receipt_reads_the_tracking_code_digit_by_digit(client, file_complaint):
    file_complaint(client)
    code = receipt_code(client)
    html = page(client, "/receipt")
    match = re.search(r'<div class="read-aloud-box read-code">\s*<button type="button" '
                      r'class="button read-aloud" data-audio="([^"]+)"', html)
    assert match
    clips = match.group(1).split(" ")
    assert clips == [f"/static/audio/digit-{d}-fa.ogg" for d in code]
    assert client.get(clips[0]).data[:4] == b"OggS"


def test_the_receipt_says_the_last_four_digits_will_be_asked_when_a_mobile_was_given(client,
                                                                                     file_complaint,
                                                                                     valid_mobile):
    file_complaint(client, mobile=valid_mobile)
    assert "چهار رقم آخر شماره همراهی را که دادید" in page(client, "/receipt")


def test_the_receipt_says_nothing_of_last_four_digits_without_a_mobile(client, file_complaint):
    file_complaint(client)
    assert "چهار رقم آخر شماره همراهی را که دادید" not in page(client, "/receipt")


def test_the_receipt_asks_whether_the_code_was_noted_before_leaving(client, file_complaint):
    file_complaint(client)
    html = page(client, "/receipt")
    assert 'id="leave-dialog"' in html and "کد رهگیری را یادداشت یا چاپ کردید؟" in html


def test_the_case_identity_hint_says_the_last_four_digits_will_be_asked(client):
    html = page(client, "/case")
    assert "برای دیدن پاسخ چهار رقم آخر آن هم از شما پرسیده می‌شود" in html
    assert "هم می‌توانید ببینید" not in html


def test_the_case_screen_offers_a_voice_message_instead(client):
    assert 'href="/voice"' in page(client, "/case")


def test_an_invalid_optional_national_id_says_how_to_leave_it_empty(client, file_complaint):
    response = file_complaint(client, national_id="0499370898")
    html = response.get_data(as_text=True)
    assert "کد ملی اختیاری است" in html and 'data-clear="national_id"' in html


def test_the_voice_screen_asks_for_a_service_tile_before_recording(client):
    html = page(client, "/voice")
    assert html.count('class="type-choice service-tile"') == len(re.findall(r'name="service" value=', html))
    assert "<audio id=\"voice-playback\" preload=\"auto\"></audio>" in html  # no tiny native player
    assert 'id="voice-play"' in html


def test_the_answer_is_spoken_on_the_kiosk(client, kiosk_home, file_complaint, follow, open_ledger):
    from kiosk.read_aloud import speech_available
    if not speech_available():
        pytest.skip("espeak-ng is not installed")
    file_complaint(client)
    code = receipt_code(client)
    with open_ledger(kiosk_home) as ledger:  # the centre's answer, as sync stores it
        CentreSent(ledger).store_items([{"feed": "case_update", "key": "u1", "cursor": 1, "body": {
            "tracking_code": code, "status": "answered", "answer": "مدارک شما آماده است",
            "at": "2026-12-01T08:00:00+00:00"}}])
    client.get("/reset")
    follow(client, code)
    html = page(client, "/follow-up/status")
    match = re.search(r'data-audio="(/follow-up/spoken/\d+\.wav)"', html)
    assert match
    spoken = client.get(match.group(1))
    assert spoken.status_code == 200 and spoken.mimetype == "audio/wav"
    assert spoken.data[:4] == b"RIFF" and "no-store" in spoken.headers["Cache-Control"]


def test_no_answer_is_spoken_to_a_visit_that_did_not_look_the_case_up(client):
    assert client.get("/follow-up/spoken/0.wav").status_code == 404


def test_the_case_form_offers_sms_consent_unticked_beside_the_mobile_and_the_report_form_does_not(client):
    html = page(client, "/case")
    box = re.search(r'<input type="checkbox" name="sms"[^>]*>', html)
    assert box and "checked" not in box.group(0)
    assert html.index('id="mobile"') < html.index('name="sms"')
    assert "وقتی پرونده ثبت شد، پاسخ گرفت یا از مهلت گذشت، پیامک بفرستید." in html
    assert 'name="sms"' not in page(client, "/report")
