"""Kiosk staff sessions and sign-in limits (issue 11 items 7 and 11): server-side sessions
with idle and absolute expiry, ended by signing out, a new password, ``seda kiosk user
disable`` and the kiosk's reset, so a captured cookie stops working; Secure cookies behind TLS;
the kiosk-wide limit on wrong staff passwords is really counted."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from click.testing import CliRunner

import kiosk.staff
from seda.cli import main
from kiosk import create_app
from kiosk.accounts import SESSION_ABSOLUTE_SECONDS, SESSION_IDLE_SECONDS, AccountStore
from kiosk.state import STAFF_LOGIN_KIOSK_FREE_TRIES

COOKIE = "seda_kiosk"


@pytest.fixture
def manager(kiosk_home, client, add_staff, manager_account, staff_login):
    add_staff(kiosk_home)
    assert staff_login(client, manager_account).status_code == 302
    return client


def captured(client) -> str:
    return client.get_cookie(COOKIE).value


def replay(app, cookie: str):
    """A second browser that copied the cookie: what does /staff/ give it?"""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief.get("/staff/")


def cli(kiosk_home, monkeypatch, *args: str, stdin: str | None = None):
    monkeypatch.setenv("SEDA_HOME", str(kiosk_home))
    return CliRunner().invoke(main, ["kiosk", "user", *args], input=stdin)


def test_a_copied_cookie_works_only_while_the_session_lives(app, manager) -> None:
    assert replay(app, captured(manager)).status_code == 200


def test_a_copied_cookie_stops_working_after_sign_out(app, manager, csrf_token) -> None:
    cookie = captured(manager)
    manager.post("/staff/logout", data={"csrf_token": csrf_token(manager.get("/staff/").get_data(as_text=True))})
    assert replay(app, cookie).status_code == 302


def test_a_copied_cookie_stops_working_after_a_password_change(app, manager, kiosk_home,
                                                               monkeypatch, manager_account) -> None:
    cookie = captured(manager)
    result = cli(kiosk_home, monkeypatch, "password", manager_account[0], "--password-stdin",
                 stdin="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert replay(app, cookie).status_code == 302
    assert manager.get("/staff/").status_code == 302


def test_seda_kiosk_user_disable_ends_the_session_and_blocks_sign_in(app, manager, kiosk_home,
                                                                    monkeypatch, manager_account, staff_login) -> None:
    cookie = captured(manager)
    assert cli(kiosk_home, monkeypatch, "disable", manager_account[0]).exit_code == 0
    assert replay(app, cookie).status_code == 302
    assert staff_login(app.test_client(), manager_account).status_code == 401
    assert "disabled" in cli(kiosk_home, monkeypatch, "list").output
    assert cli(kiosk_home, monkeypatch, "enable", manager_account[0]).exit_code == 0
    assert staff_login(app.test_client(), manager_account).status_code == 302


def test_disabling_an_unknown_account_is_an_error(kiosk_home, monkeypatch, add_staff) -> None:
    add_staff(kiosk_home)
    result = cli(kiosk_home, monkeypatch, "disable", "nobody")
    assert result.exit_code != 0 and "no account named" in result.output


def test_the_kiosk_reset_ends_the_server_side_session(app, manager) -> None:
    cookie = captured(manager)
    manager.get("/reset")
    assert replay(app, cookie).status_code == 302


def test_a_session_ends_after_30_idle_minutes_even_with_a_copied_cookie(app, manager,
                                                                        monkeypatch) -> None:
    cookie = captured(manager)
    later = kiosk.staff.time.time() + SESSION_IDLE_SECONDS + 1
    monkeypatch.setattr(kiosk.staff.time, "time", lambda: later)
    assert replay(app, cookie).status_code == 302


def test_activity_never_keeps_a_session_past_12_hours(app, manager, monkeypatch) -> None:
    start = kiosk.staff.time.time()
    moments = iter(range(0, SESSION_ABSOLUTE_SECONDS + 600, 20 * 60))
    for offset in moments:
        monkeypatch.setattr(kiosk.staff.time, "time", lambda offset=offset: start + offset)
        expected = 200 if offset < SESSION_ABSOLUTE_SECONDS else 302
        assert manager.get("/staff/").status_code == expected, offset


def test_only_the_tokens_hash_is_stored(manager, kiosk_home) -> None:
    with sqlite3.connect(kiosk_home / "kiosk" / "accounts.sqlite3") as db:
        [(digest,)] = db.execute("SELECT token_sha256 FROM staff_sessions").fetchall()
    assert len(digest) == 64
    from flask.sessions import SecureCookieSessionInterface
    app = manager.application
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    token = serializer.loads(captured(manager))["staff_token"]
    assert token != digest and token not in (kiosk_home / "kiosk" / "accounts.sqlite3").read_bytes().decode("latin-1")


def test_cookies_are_secure_behind_tls_with_seda_kiosk_https(kiosk_home, monkeypatch, add_staff,
                                                             make_config, manager_account, staff_login) -> None:
    monkeypatch.setenv("SEDA_KIOSK_HTTPS", "1")
    add_staff(kiosk_home)
    client = create_app(make_config(kiosk_home)).test_client()
    answer = staff_login(client, manager_account)
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    assert "; Secure" in cookie and "HttpOnly" in cookie


def test_cookies_are_secure_over_https_and_not_over_plain_http(kiosk_home, monkeypatch, make_config) -> None:
    monkeypatch.delenv("SEDA_KIOSK_HTTPS", raising=False)
    app = create_app(make_config(kiosk_home))
    assert "Secure" not in app.test_client().get("/").headers["Set-Cookie"]
    secure = app.test_client().get("/", base_url="https://kiosk.office.example")
    assert "; Secure" in secure.headers["Set-Cookie"]


# -- item 11: the kiosk-wide limit ------------------------------------------------------------


def test_wrong_passwords_on_many_names_slow_the_whole_kiosk_down(kiosk_home, client, add_staff,
                                                                 manager_account, staff_login) -> None:
    add_staff(kiosk_home)
    codes = [staff_login(client, (f"name{i}", "wrong password")).status_code
             for i in range(STAFF_LOGIN_KIOSK_FREE_TRIES)]
    assert codes == [401] * STAFF_LOGIN_KIOSK_FREE_TRIES
    refused = staff_login(client, manager_account)
    assert refused.status_code == 429
    assert "ثانیه" in refused.get_data(as_text=True)


def test_good_sign_ins_do_not_use_up_the_kiosk_wide_allowance(kiosk_home, app, add_staff,
                                                              operator_account, staff_login) -> None:
    add_staff(kiosk_home)
    for _ in range(STAFF_LOGIN_KIOSK_FREE_TRIES + 5):
        assert staff_login(app.test_client(), operator_account).status_code == 302


def test_parallel_wrong_passwords_for_one_name_get_no_extra_tries(kiosk_home, app, add_staff,
                                                                  csrf_token, manager_account) -> None:
    add_staff(kiosk_home)
    clients = [app.test_client() for _ in range(12)]
    tokens = [csrf_token(c.get("/staff/login").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def attempt(client, token) -> None:
        barrier.wait()
        codes.append(client.post("/staff/login", data={"name": manager_account[0], "password": "wrong one!",
                                                       "csrf_token": token}).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    free = app.extensions["seda_kiosk"].staff_logins.free_tries
    assert sorted(codes) == [401] * free + [429] * (12 - free)
