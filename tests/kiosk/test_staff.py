"""Staff pages: login, roles, CSRF, dashboard, cases (XSS-safe), printing, review and scanning."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pypdfium2
import pytest
from click.testing import CliRunner

from seda.cli import main
from kiosk import create_app
from kiosk.accounts import AccountStore

STAFF_PAGES = ["/staff/", "/staff/cases", "/staff/calls", "/staff/print", "/staff/review", "/staff/scan"]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def staff_client(kiosk_home, client, add_staff):
    add_staff(kiosk_home)
    return client


@pytest.fixture
def manager(staff_client, manager_account, staff_login):
    assert staff_login(staff_client, manager_account).status_code == 302
    return staff_client


@pytest.fixture
def operator(staff_client, operator_account, staff_login):
    assert staff_login(staff_client, operator_account).status_code == 302
    return staff_client


@pytest.fixture(scope="session")
def file_case(visit_token):
    def file_case(client, path="/case", **fields):
        html = client.get(path).get_data(as_text=True)
        data = {"visit": visit_token(html), "type": "complaint", "service": "other", "text": "x", **fields}
        response = client.post(path, data=data)
        assert response.status_code == 302, response.get_data(as_text=True)

    return file_case


# -- accounts and login ---------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


@pytest.mark.real_argon2
def test_passwords_are_stored_as_argon2id_hashes_at_the_library_default_cost(kiosk_home, add_staff,
                                                                              manager_account):
    from argon2 import PasswordHasher

    add_staff(kiosk_home)
    raw = (kiosk_home / "kiosk" / "accounts.sqlite3").read_bytes()
    assert b"$argon2id$" in raw and manager_account[1].encode() not in raw
    strong = PasswordHasher()
    assert f"$m={strong.memory_cost},t={strong.time_cost},p={strong.parallelism}$".encode() in raw


def test_wrong_password_is_refused(staff_client, manager_account, staff_login):
    response = staff_login(staff_client, (manager_account[0], "not the password"))
    assert response.status_code == 401
    assert "نام کاربری یا گذرواژه درست نیست" in response.get_data(as_text=True)
    assert staff_client.get("/staff/").status_code == 302


def test_repeated_wrong_passwords_are_slowed_down(staff_client, manager_account, staff_login):
    codes = [staff_login(staff_client, (manager_account[0], f"wrong {i}")).status_code for i in range(8)]
    assert 429 in codes
    # Even the right password has to wait while the account is slowed down.
    assert staff_login(staff_client, manager_account).status_code == 429


def test_a_post_without_the_csrf_token_is_refused(staff_client, manager_account):
    response = staff_client.post("/staff/login", data={"name": manager_account[0], "password": manager_account[1]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")
    assert staff_client.get("/staff/").status_code == 302  # not signed in


def test_every_staff_form_carries_a_csrf_token(manager):
    for path in ["/staff/print", "/staff/scan"]:
        html = manager.get(path).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S)
        assert forms and all('name="csrf_token"' in form for form in forms), path


def test_a_forged_print_request_is_refused(manager, kiosk_home, open_ledger):
    response = manager.post("/staff/print", data={"count": "5", "csrf_token": "forged"})
    assert response.status_code == 302
    with open_ledger(kiosk_home) as ledger:
        assert ledger.count("sheet_issuance") == 0


def test_scanner_operator_cannot_open_manager_pages(operator):
    assert operator.get("/staff/").status_code == 403
    assert operator.get("/staff/calls").status_code == 403
    assert operator.get("/staff/review").status_code == 200


def test_sign_out_needs_the_token_and_ends_the_session(manager, csrf_token):
    token = csrf_token(manager.get("/staff/").get_data(as_text=True))
    manager.post("/staff/logout", data={"csrf_token": token})
    assert manager.get("/staff/").status_code == 302


def test_staff_are_signed_out_after_30_idle_minutes(manager, monkeypatch):
    import kiosk.staff
    assert manager.get("/staff/").status_code == 200
    later = kiosk.staff.time.time() + kiosk.staff.STAFF_IDLE_SECONDS + 1
    monkeypatch.setattr(kiosk.staff.time, "time", lambda: later)
    assert manager.get("/staff/").status_code == 302


def test_the_kiosk_reset_also_signs_staff_out_of_that_browser(manager):
    manager.get("/reset")
    assert manager.get("/staff/").status_code == 302


def test_visitor_screens_never_link_to_staff_pages(client):
    for path in ["/", "/case", "/report", "/survey/1", "/follow-up", "/contact", "/services"]:
        assert "/staff" not in client.get(path).get_data(as_text=True)


def test_seda_kiosk_user_add_creates_an_argon2_account(kiosk_home, monkeypatch):
    monkeypatch.setenv("SEDA_HOME", str(kiosk_home))
    result = CliRunner().invoke(main, ["kiosk", "user", "add", "maryam", "--role", "office_manager",
                                       "--password-stdin"], input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    with AccountStore(kiosk_home / "kiosk" / "accounts.sqlite3") as store:
        assert store.authenticate("maryam", "a long enough secret").role == "office_manager"
        assert store.authenticate("maryam", "wrong") is None


def test_seda_kiosk_user_add_refuses_a_short_password_and_unknown_role(kiosk_home, monkeypatch):
    monkeypatch.setenv("SEDA_HOME", str(kiosk_home))
    runner = CliRunner()
    short = runner.invoke(main, ["kiosk", "user", "add", "ali", "--role", "office_manager",
                                 "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 10" in short.output
    role = runner.invoke(main, ["kiosk", "user", "add", "ali", "--role", "admin",
                                "--password-stdin"], input="a long enough secret\n")
    assert role.exit_code != 0


# -- dashboard ------------------------------------------------------------------------------


def test_dashboard_counts_kiosk_and_paper_and_averages_per_question(manager, kiosk_home, open_ledger):
    with open_ledger(kiosk_home) as ledger:
        for source, workflow in [("kiosk", 4), ("kiosk", 5), ("paper", 2)]:
            ledger.append("survey_response", {"source": source, "form": "satisfaction",
                                              "form_version": 1,
                                              "answers": {"workflow": workflow, "overall": None}},
                          office="LOR-01")
        ledger.append("survey_response", {"source": "paper", "form": "satisfaction",
                                          "form_version": 1, "answers": {"workflow": 1}},
                      office="LOR-01", created_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    html = manager.get("/staff/").get_data(as_text=True)
    today = re.search(r'row-staff_today.*?class="kiosk">(.*?)<.*?class="paper">(.*?)<', html, re.S)
    assert today.groups() == ("۲", "۱")
    total = re.search(r'row-staff_total.*?class="kiosk">(.*?)<.*?class="paper">(.*?)<', html, re.S)
    assert total.groups() == ("۲", "۲")
    workflow = re.search(r'id="avg-workflow".*?</tr>', html, re.S).group(0)
    assert "۴.۵۰" in workflow and "۱.۵۰" in workflow  # kiosk (4+5)/2, paper (2+1)/2


def test_dashboard_counts_a_reviewed_paper_answer_with_the_persons_value(kiosk_home, open_ledger):
    from kiosk.dashboard import summarize
    from forms import builtin_catalog
    with open_ledger(kiosk_home) as ledger:
        response = ledger.append("survey_response", {
            "source": "paper", "form": "satisfaction", "form_version": 1, "status": "review",
            "answers": {"workflow": None}, "flags": {"workflow": "faint"}}, office="LOR-01")
        ledger.append("review_decision", {"item": "i1", "response": response.uuid,
                                          "question": "workflow", "value": 3}, office="LOR-01")
        summary = summarize(ledger.records("survey_response"), ledger.records("review_decision"),
                            builtin_catalog().get("satisfaction"), datetime.now(timezone.utc))
    assert summary.scales["workflow"].average("paper") == 3
    assert summary.figures["questions"]["workflow"]["answered"] == 1


def test_dashboard_counts_an_unreviewed_paper_answer_as_pending(manager, kiosk_home, open_ledger):
    with open_ledger(kiosk_home) as ledger:
        ledger.append("survey_response", {
            "source": "paper", "form": "satisfaction", "form_version": 1, "status": "review",
            "answers": {"workflow": None, "overall": 4}, "flags": {"workflow": "faint"}},
            office="LOR-01")
    html = manager.get("/staff/").get_data(as_text=True)
    row = re.search(r'id="q-workflow".*?</tr>', html, re.S).group(0)
    assert re.search(r'class="answered">۰<', row) and re.search(r'class="pending">۱<', row)
    assert re.search(r'id="month-responses".*?class="paper">۱<', html, re.S)


# -- call list ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _consenting(open_ledger):
    def _consenting(kiosk_home, **answers):
        with open_ledger(kiosk_home) as ledger:
            return ledger.append("survey_response", {
                "source": "kiosk", "form": "satisfaction", "form_version": 1, "complete": True,
                "answers": {"follow_up_consent": "yes", "mobile": "09121234567",
                            "comment": "صف خیلی طولانی بود", **answers}}, office="LOR-01").uuid

    return _consenting


@pytest.fixture(scope="session")
def _audits(open_ledger):
    def _audits(kiosk_home, event):
        with open_ledger(kiosk_home) as ledger:
            return [r.body for r in ledger.records("audit") if r.body.get("event") == event]

    return _audits


def test_call_list_shows_consenting_visitors_and_each_view_is_audited(manager, kiosk_home, _audits,
                                                                      _consenting, manager_account):
    wanted = _consenting(kiosk_home)
    _consenting(kiosk_home, follow_up_consent=None)   # no consent: not listed
    html = manager.get("/staff/calls").get_data(as_text=True)
    assert re.findall(r'id="call-([^"]+)"', html) == [wanted]
    assert "۰۹۱۲۱۲۳۴۵۶۷" in html and "صف خیلی طولانی بود" in html
    assert _audits(kiosk_home, "call_list_view") == [
        {"event": "call_list_view", "by": manager_account[0], "shown": 1, "include_done": False}]


def test_call_marks_are_audit_records_and_done_leaves_the_list(manager, kiosk_home, _audits,
                                                               _consenting, csrf_token, manager_account):
    wanted = _consenting(kiosk_home)
    token = csrf_token(manager.get("/staff/calls").get_data(as_text=True))
    manager.post(f"/staff/calls/{wanted}", data={"csrf_token": token, "status": "called"})
    assert 'data-status="called"' in manager.get("/staff/calls").get_data(as_text=True)
    manager.post(f"/staff/calls/{wanted}", data={"csrf_token": token, "status": "done"})
    assert f'id="call-{wanted}"' not in manager.get("/staff/calls").get_data(as_text=True)
    assert f'id="call-{wanted}"' in manager.get("/staff/calls?all=1").get_data(as_text=True)
    assert [(a["status"], a["by"]) for a in _audits(kiosk_home, "call_mark")] == [
        ("called", manager_account[0]), ("done", manager_account[0])]


def test_call_list_is_for_the_office_manager_only(operator, kiosk_home, _audits, _consenting):
    wanted = _consenting(kiosk_home)
    assert operator.get("/staff/calls").status_code == 403
    assert _audits(kiosk_home, "call_list_view") == [] and _audits(kiosk_home, "call_mark") == []
    assert wanted


def test_a_mark_for_a_response_not_on_the_list_is_refused(manager, kiosk_home, _audits, csrf_token):
    token = csrf_token(manager.get("/staff/calls").get_data(as_text=True))
    manager.post("/staff/calls/00000000-0000-4000-8000-000000000000", data={"csrf_token": token, "status": "done"})
    assert _audits(kiosk_home, "call_mark") == []


# -- cases ----------------------------------------------------------------------------------


def test_xss_in_a_complaint_comes_back_escaped(manager, file_case):
    file_case(manager, text=XSS, name=XSS)
    html = manager.get("/staff/cases").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_misconduct_reports_are_counted_but_not_shown_to_office_staff(manager, kiosk_home,
                                                                     central_install, file_case, open_ledger):
    central_install.set_up(kiosk_home)
    file_case(manager, path="/report", text="گزارش محرمانه درباره مدیر")
    file_case(manager, text="شکایت عادی")
    html = manager.get("/staff/cases").get_data(as_text=True)
    assert "گزارش محرمانه" not in html and "شکایت عادی" in html
    assert "واحد نظارت: ۰" in html  # not even counted until its hour is over: the count would time it
    with open_ledger(kiosk_home) as ledger:
        ledger.release_held(datetime(2100, 1, 1, tzinfo=timezone.utc))
    assert "واحد نظارت: ۱" in manager.get("/staff/cases").get_data(as_text=True)


def test_voice_messages_of_office_cases_can_be_played_by_managers(manager, kiosk_home, ogg_recording,
                                                                  visit_token):
    token = visit_token(manager.get("/voice").get_data(as_text=True))
    recording = ogg_recording.read_bytes()
    manager.post("/voice", data={"visit": token, "audio": (io.BytesIO(recording), "m.ogg", "audio/ogg")},
                 headers={"Accept": "application/json", "X-Visit-Token": token})
    html = manager.get("/staff/cases").get_data(as_text=True)
    src = re.search(r'<audio controls preload="none" src="([^"]+)"', html).group(1)
    audio = manager.get(src)
    assert audio.status_code == 200 and audio.data == recording and audio.mimetype == "audio/ogg"


# -- printing -------------------------------------------------------------------------------


def test_print_gives_a_pdf_of_unique_sheets_recorded_in_the_ledger(manager, kiosk_home, csrf_token,
                                                                   open_ledger):
    token = csrf_token(manager.get("/staff/print").get_data(as_text=True))
    response = manager.post("/staff/print", data={"count": "۳", "csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    document = pypdfium2.PdfDocument(response.data)
    assert len(document) == 3
    document.close()
    with open_ledger(kiosk_home) as ledger:
        (issuance,) = ledger.records("sheet_issuance")
    assert (issuance.body["first_serial"], issuance.body["last_serial"]) == (1, 3)


def test_print_refuses_a_silly_count(manager, csrf_token):
    token = csrf_token(manager.get("/staff/print").get_data(as_text=True))
    assert manager.post("/staff/print", data={"count": "0", "csrf_token": token}).status_code == 400


# -- paper review queue and scan upload (the real scanner) ------------------------------------


@pytest.fixture
def scanner_home(tmp_path, printed_sheets, add_staff):
    """A kiosk installation whose office printed the scanner fixtures' sheets."""
    home = printed_sheets.copy_home(tmp_path / "home")
    add_staff(home)
    return home


@pytest.fixture(scope="session")
def upload(csrf_token):
    def upload(client, images):
        """Upload scans, wait for the background reading to finish, return the scan page."""
        token = csrf_token(client.get("/staff/scan").get_data(as_text=True))
        files = [(io.BytesIO(path.read_bytes()), path.name) for path in images]
        posted = client.post("/staff/scan", data={"csrf_token": token, "files": files},
                             content_type="multipart/form-data")
        assert posted.status_code == 303, posted.get_data(as_text=True)
        assert client.application.extensions["seda_kiosk"].scans.wait_idle(180)
        return client.get("/staff/scan")

    return upload


def test_scan_upload_reads_and_stores_sheets(scanner_home, printed_sheets, tmp_path, fill,
                                             filled_answers, make_config, open_ledger, operator_account,
                                             save, staff_login, upload):
    client = create_app(make_config(scanner_home)).test_client()
    staff_login(client, operator_account)
    image = save(fill(printed_sheets.page(0), filled_answers), tmp_path / "filled.png")
    response = upload(client, [image])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "filled.png" in html and "accepted" in html
    with open_ledger(scanner_home) as ledger:
        (record,) = ledger.records("survey_response")
    assert record.body["source"] == "paper"
    assert record.body["answers"]["workflow"] == filled_answers["workflow"]


def test_review_queue_shows_the_crop_and_records_a_one_tap_decision(scanner_home, printed_sheets,
                                                                    tmp_path, csrf_token, fill, make_config, open_ledger, operator_account, save, staff_login, upload):
    client = create_app(make_config(scanner_home)).test_client()
    staff_login(client, operator_account)
    marks = {"workflow": [2, 4], "overall": 5}  # two marks on a one-answer question
    image = save(fill(printed_sheets.page(2), marks), tmp_path / "unsure.png")
    assert "review" in upload(client, [image]).get_data(as_text=True)
    html = client.get("/staff/review").get_data(as_text=True)
    item_id = re.search(r'action="/staff/review/([0-9a-f-]+)"', html).group(1)
    crop = re.search(r'<img src="(/staff/blob/[0-9a-f]{64})"', html).group(1)
    machine = re.search(r'<strong class="machine-value">([^<]*)</strong>', html).group(1)
    assert machine == "بد، خوب" and "<code" not in html  # the reading and the reason in words
    assert client.get(crop).mimetype.startswith("image/")
    token = csrf_token(html)
    response = client.post(f"/staff/review/{item_id}", data={"csrf_token": token, "choice": "4"})
    assert response.status_code == 302
    with open_ledger(scanner_home) as ledger:
        decisions = ledger.find("review_decision", "item", item_id)
        audits = [a for a in ledger.records("audit") if a.body.get("review_item") == item_id]
    assert decisions[-1].body["value"] == 4 and decisions[-1].body["by"] == operator_account[0]
    assert audits and audits[0].body["by"] == operator_account[0]
    assert item_id not in client.get("/staff/review").get_data(as_text=True)


def test_review_blank_decision_and_unknown_item(scanner_home, printed_sheets, tmp_path, csrf_token,
                                                fill, make_config, open_ledger, operator_account, save,
                                                staff_login, upload):
    client = create_app(make_config(scanner_home)).test_client()
    staff_login(client, operator_account)
    image = save(fill(printed_sheets.page(4), {"workflow": [1, 5]}), tmp_path / "unsure.png")
    upload(client, [image])
    html = client.get("/staff/review").get_data(as_text=True)
    item_id = re.search(r'action="/staff/review/([0-9a-f-]+)"', html).group(1)
    token = csrf_token(html)
    client.post(f"/staff/review/{item_id}", data={"csrf_token": token, "action": "blank"})
    with open_ledger(scanner_home) as ledger:
        assert ledger.find("review_decision", "item", item_id)[-1].body["value"] is None
    response = client.post("/staff/review/ffffffff", data={"csrf_token": token, "action": "blank"},
                           follow_redirects=True)
    assert "no review item" in response.get_data(as_text=True)
