"""Sign-in, sessions, CSRF, throttling and the audit of sign-ins on the central web app
(central/web/), on SQLite and PostgreSQL, through the real Flask app's test client."""
from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner
from seda.cli import main
from central import Store
from central.casework import Casework
from central import accounts, audit


def _audit_actions(store: Store, **filters) -> list[str]:
    entries, _ = audit.entries(store, **filters)
    return [e.action for e in entries]


@pytest.fixture(scope="session")
def _sign_in(csrf_from):
    def _sign_in(client, name: str, password: str):
        page = client.get("/login")
        return client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})

    return _sign_in


def test_pages_redirect_to_login_with_next_when_signed_out(store: Store, web_client) -> None:
    answer = web_client(store).get("/cases/?status=all")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")
    assert "status%3Dall" in answer.headers["Location"] or "status=all" in answer.headers["Location"]


def test_login_page_is_persian_rtl_by_default_with_local_font(store: Store, web_client) -> None:
    html = web_client(store).get("/login").get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert "ورود به دفتر مرکزی" in html
    assert "/static/central/central.css" in html and "http" not in html.split("<body")[0].replace(
        'http-equiv', '')


def test_language_toggle_switches_to_english_ltr(store: Store, web_client) -> None:
    client = web_client(store)
    client.get("/lang?to=en&next=/login")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html and "Central office sign in" in html


def test_fonts_and_licence_are_served_locally(store: Store, web_client) -> None:
    client = web_client(store)
    assert client.get("/static/central/fonts/Vazirmatn-Regular.woff2").status_code == 200
    assert client.get("/static/central/fonts/OFL.txt").status_code == 200


def test_login_sets_httponly_samesite_strict_cookie_and_stores_only_its_hash(store: Store, _sign_in,
                                                                             make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    answer = _sign_in(web_client(store), "sara", "correct horse battery")
    assert answer.status_code == 302
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("seda_central_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with store.connect() as db:
        rows = db.all("SELECT token_sha256 FROM sessions")
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(),)]


def test_wrong_password_is_refused_in_persian_and_audited(store: Store, _sign_in, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    answer = _sign_in(web_client(store), "sara", "wrong password!")
    assert answer.status_code == 401
    assert "نام کاربری یا گذرواژه درست نیست" in answer.get_data(as_text=True)
    assert _audit_actions(store, target="user:sara") == ["login_failed"]


def test_unknown_user_is_refused_like_a_wrong_password(store: Store, _sign_in, web_client) -> None:
    answer = _sign_in(web_client(store), "nobody", "correct horse battery")
    assert answer.status_code == 401
    assert _audit_actions(store, target="user:?") == ["login_failed"]


def test_disabled_user_cannot_sign_in(store: Store, _sign_in, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    accounts.set_disabled(store, "sara")
    assert _sign_in(web_client(store), "sara", "correct horse battery").status_code == 401


def test_disabling_a_user_ends_their_live_session(store: Store, login, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = login(web_client(store), "sara")
    accounts.set_disabled(store, "sara")
    assert client.get("/audit/").status_code == 302


def test_successful_login_and_logout_are_audited(store: Store, login, make_user, post, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = login(web_client(store), "sara")
    post(client, "/logout")
    assert _audit_actions(store, actor="sara") == ["logout", "login"]


def test_logout_deletes_the_session_row_and_the_cookie_stops_working(store: Store, login, make_user,
                                                                     post, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = login(web_client(store), "sara")
    cookie = client.get_cookie("seda_central_session").value
    assert post(client, "/logout").status_code == 302
    with store.connect() as db:
        assert db.one("SELECT count(*) FROM sessions")[0] == 0
    client.set_cookie("seda_central_session", cookie)
    assert client.get("/audit/").status_code == 302


def test_after_the_free_tries_the_name_waits_from_this_client(store: Store, _sign_in, make_clock,
                                                              make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    clock = make_clock()
    client = web_client(store, clock=clock)
    for _ in range(accounts.FREE_TRIES):
        assert _sign_in(client, "sara", "wrong password!").status_code == 401
    refused = _sign_in(client, "sara", "correct horse battery")
    assert refused.status_code == 429
    assert "ثانیه دیگر" in refused.get_data(as_text=True)
    clock.advance(seconds=accounts.FIRST_DELAY)
    assert _sign_in(client, "sara", "correct horse battery").status_code == 302


def test_throttling_one_name_leaves_other_names_alone(store: Store, _sign_in, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    make_user(store, "reza", "auditor")
    client = web_client(store)
    for _ in range(accounts.FREE_TRIES + 2):
        _sign_in(client, "sara", "wrong password!")
    assert _sign_in(client, "reza", "correct horse battery").status_code == 302


def test_login_post_without_csrf_token_is_refused(store: Store, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = web_client(store)
    client.get("/login")
    answer = client.post("/login", data={"name": "sara", "password": "correct horse battery"})
    assert answer.status_code == 400
    assert "فرم منقضی یا نامعتبر بود" in answer.get_data(as_text=True)


def test_post_with_another_sessions_csrf_token_is_refused(store: Store, login, make_user, web_client) -> None:
    make_user(store, "sara", "admin")
    make_user(store, "reza", "admin")
    sara = login(web_client(store), "sara")
    reza = login(web_client(store), "reza")
    answer = sara.post("/admin/units", data={"code": "x1", "name_fa": "واحد", "csrf_token": reza.csrf})
    assert answer.status_code == 400
    assert Casework(store).unit("x1") is None


def test_logout_without_csrf_token_is_refused_and_session_stays(store: Store, login, make_user,
                                                                web_client) -> None:
    make_user(store, "sara", "auditor")
    client = login(web_client(store), "sara")
    assert client.post("/logout").status_code == 400
    assert client.get("/audit/").status_code == 200


def test_session_ends_after_30_idle_minutes(store: Store, login, make_clock, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    clock = make_clock()
    client = login(web_client(store, clock=clock), "sara")
    clock.advance(minutes=29)
    assert client.get("/audit/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert client.get("/audit/").status_code == 302
    with store.connect() as db:
        assert db.one("SELECT count(*) FROM sessions")[0] == 0


def test_activity_keeps_a_session_alive_but_not_past_12_hours(store: Store, login, make_clock,
                                                              make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    clock = make_clock()
    client = login(web_client(store, clock=clock), "sara")
    for _ in range(11 * 3):  # a request every 20 minutes for 11 hours
        clock.advance(minutes=20)
        assert client.get("/audit/").status_code == 200
    clock.advance(minutes=61)
    assert client.get("/audit/").status_code == 302


def test_expired_session_rows_are_cleaned_at_the_next_login(store: Store, login, make_clock, make_user,
                                                            web_client) -> None:
    make_user(store, "sara", "auditor")
    make_user(store, "reza", "auditor")
    clock = make_clock()
    login(web_client(store, clock=clock), "sara")
    clock.advance(hours=1)
    login(web_client(store, clock=clock), "reza")
    with store.connect() as db:
        assert db.all("SELECT user_name FROM sessions") == [("reza",)]


def test_next_parameter_never_leads_off_site(store: Store, csrf_from, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = web_client(store)
    page = client.get("/login?next=//evil.example/")
    answer = client.post("/login?next=//evil.example/", data={
        "name": "sara", "password": "correct horse battery",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.headers["Location"] == "/"


def test_login_accepts_the_name_in_any_case_and_with_spaces(store: Store, _sign_in, make_user,
                                                            web_client) -> None:
    make_user(store, "sara", "auditor")
    assert _sign_in(web_client(store), "  Sara ", "correct horse battery").status_code == 302


def test_password_shorter_than_10_characters_is_refused(store: Store) -> None:
    with pytest.raises(accounts.AccountError) as refused:
        accounts.add_user(store, "sara", "auditor", "short")
    assert "۱۰" in refused.value.message_fa


@pytest.mark.real_argon2
def test_passwords_are_stored_as_argon2id_hashes_at_the_library_default_cost(store: Store, make_user) -> None:
    from argon2 import PasswordHasher

    make_user(store, "sara", "auditor")
    with store.connect() as db:
        stored = db.one("SELECT password_hash FROM users WHERE name = 'sara'")[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    strong = PasswordHasher()
    assert f"$m={strong.memory_cost},t={strong.time_cost},p={strong.parallelism}$" in stored


@pytest.mark.real_argon2
def test_old_hash_parameters_are_upgraded_at_login(store: Store, make_user) -> None:
    from argon2 import PasswordHasher

    make_user(store, "sara", "auditor")
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("correct horse battery")
    with store.write() as db:
        db.execute("UPDATE users SET password_hash = ? WHERE name = 'sara'", (weak,))
    assert accounts.authenticate(store, "sara", "correct horse battery") is not None
    with store.connect() as db:
        assert db.one("SELECT password_hash FROM users WHERE name = 'sara'")[0] != weak


def test_pages_forbid_framing_and_caching(store: Store, web_client) -> None:
    answer = web_client(store).get("/login")
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_sync_api_is_not_behind_the_web_login(store: Store, web_client) -> None:
    assert web_client(store).get("/v1/health").status_code == 200


#: ``next`` values that must never leave the site (as sent in the query string).
OFF_SITE_NEXT = ["/%09/evil.example", "//evil.example/", "/%5Cevil.example", "/%5C/evil.example",
                 "https://evil.example/", "/%0a", "/%0d%0aSet-Cookie:%20x=1", "javascript:alert(1)",
                 "/%20/evil.example", "%09/evil.example"]


@pytest.mark.parametrize("target", OFF_SITE_NEXT)
def test_sign_in_never_follows_a_next_with_tabs_backslashes_newlines_or_a_scheme(
        store: Store, target: str, csrf_from, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = web_client(store)
    page = client.get("/login")
    answer = client.post(f"/login?next={target}", data={
        "name": "sara", "password": "correct horse battery",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE_NEXT)
def test_language_link_never_follows_a_next_off_site(store: Store, target: str, web_client) -> None:
    answer = web_client(store).get(f"/lang?to=en&next={target}")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_language_link_still_follows_a_local_next(store: Store, web_client) -> None:
    answer = web_client(store).get("/lang?to=en&next=/cases/%3Fstatus%3Dall")
    assert answer.headers["Location"] == "/cases/?status=all"


def test_a_non_ascii_csrf_token_is_refused_like_a_wrong_one(store: Store, make_user, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = web_client(store)
    client.get("/login")
    answer = client.post("/login", data={"name": "sara", "password": "correct horse battery",
                                         "csrf_token": "توکن"})
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert "فرم منقضی یا نامعتبر بود" in answer.get_data(as_text=True)


def test_the_flash_cookie_is_named_seda_central_flash(store: Store, web_client) -> None:
    answer = web_client(store).get("/login")  # stores the pre-sign-in CSRF token
    names = [h.split("=", 1)[0] for h in answer.headers.getlist("Set-Cookie")]
    assert names == ["seda_central_flash"]


def test_seda_central_https_marks_every_cookie_secure(store: Store, monkeypatch, csrf_from, make_user,
                                                      web_client) -> None:
    monkeypatch.setenv("SEDA_CENTRAL_HTTPS", "1")
    make_user(store, "sara", "auditor")
    client = web_client(store)
    page = client.get("/login")
    answer = client.post("/login", data={"name": "sara", "password": "correct horse battery",
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
    cookies = page.headers.getlist("Set-Cookie") + answer.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"seda_central_flash", "seda_central_session",
                                                     "seda_central_device"}
    assert all("; Secure" in c for c in cookies), cookies


def test_cookies_are_not_secure_over_plain_http_without_the_switch(store: Store, monkeypatch, web_client) -> None:
    monkeypatch.delenv("SEDA_CENTRAL_HTTPS", raising=False)
    answer = web_client(store).get("/login")
    assert "Secure" not in answer.headers["Set-Cookie"]


# -- error pages -------------------------------------------------------------------------------


def test_an_unknown_address_is_a_persian_404_page(store: Store, web_client) -> None:
    answer = web_client(store).get("/no-such-page")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert '<html lang="fa" dir="rtl">' in html and "پیدا نشد" in html


def test_an_unknown_address_is_an_english_404_page_when_english_was_chosen(store: Store, web_client) -> None:
    client = web_client(store)
    client.get("/lang?to=en&next=/login")
    html = client.get("/no-such-page").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html and "Not found" in html


def test_a_wrong_method_is_a_persian_405_page_with_allow(store: Store, web_client) -> None:
    answer = web_client(store).get("/logout")
    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert "این کار در این نشانی ممکن نیست" in answer.get_data(as_text=True)


def test_an_unexpected_error_on_a_web_page_is_a_persian_500_page(store: Store, monkeypatch, csrf_from,
                                                                 web_client) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(accounts, "begin_login", broken)
    client = web_client(store)
    page = client.get("/login")
    answer = client.post("/login", data={"name": "sara", "password": "x" * 12,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 500 and answer.mimetype == "text/html"
    assert "خطای سامانه" in html and '"error"' not in html


def test_the_sync_api_keeps_its_json_answer_for_an_unexpected_error(store: Store, monkeypatch,
                                                                    web_client) -> None:
    client = web_client(store)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(store), "connect", broken)
    answer = client.get("/v1/health")
    assert answer.status_code == 500
    assert answer.get_json() == {"error": "internal", "detail": "unexpected server error"}


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_creates_first_admin_who_can_sign_in(store: Store, store_url: str, tmp_path, _sign_in,
                                                 web_client) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("correct horse battery\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["central", "user", "add", "root", "--role", "admin",
                                       "--password-file", str(password_file), "--store", store_url])
    assert result.exit_code == 0, result.output
    assert _sign_in(web_client(store), "root", "correct horse battery").status_code == 302


def test_cli_prompts_for_the_password_twice(store: Store, store_url: str) -> None:
    result = CliRunner().invoke(main, ["central", "user", "add", "root", "--role", "admin",
                                       "--store", store_url],
                                input="correct horse battery\ncorrect horse battery\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("assword") >= 2
    assert accounts.authenticate(store, "root", "correct horse battery") is not None


def test_cli_unit_add_then_responder_with_unit_and_list(store: Store, store_url: str, tmp_path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("correct horse battery\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["central", "unit", "add", "licences", "--name-fa", "صدور مجوز",
                                "--name-en", "Licences", "--store", store_url]).exit_code == 0
    added = runner.invoke(main, ["central", "user", "add", "sara", "--role", "responder", "--unit",
                                 "licences", "--password-file", str(password_file), "--store", store_url])
    assert added.exit_code == 0, added.output
    head = runner.invoke(main, ["central", "unit", "add", "licences", "--name-fa", "صدور مجوز",
                                "--head", "sara", "--store", store_url])
    assert head.exit_code == 0, head.output
    units = runner.invoke(main, ["central", "unit", "list", "--store", store_url]).output
    assert "licences" in units and "sara" in units and "Licences" in units
    assert "responder" in runner.invoke(main, ["central", "user", "list", "--store", store_url]).output


def test_cli_disable_and_passwd(store: Store, store_url: str, tmp_path, make_user) -> None:
    make_user(store, "sara", "auditor")
    password_file = tmp_path / "pw"
    password_file.write_text("a brand new password\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["central", "user", "passwd", "sara", "--password-file",
                                str(password_file), "--store", store_url]).exit_code == 0
    assert accounts.authenticate(store, "sara", "a brand new password") is not None
    assert runner.invoke(main, ["central", "user", "disable", "sara", "--store", store_url]).exit_code == 0
    assert accounts.authenticate(store, "sara", "a brand new password") is None


def test_cli_refuses_a_responder_without_a_unit(store: Store, store_url: str, tmp_path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("correct horse battery\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["central", "user", "add", "sara", "--role", "responder",
                                       "--password-file", str(password_file), "--store", store_url])
    assert result.exit_code != 0 and "unit" in result.output
