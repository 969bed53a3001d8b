"""Central sign-in throttling (issue 11 item 10, and the Info item on failed-login names), on
SQLite and PostgreSQL: growing delays per account *and* client, counted atomically in the
store, so an attacker slows only their own guesses and can never lock a named user out."""
from __future__ import annotations

import threading

import pytest
from central import Store, open_store
from central.throttle import delay_after
from central import accounts, audit

GOOD, BAD = "correct horse battery", "wrong password!"
ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture(scope="session")
def sign_in(csrf_from):
    def sign_in(client, name: str, password: str, address: str = "127.0.0.1"):
        page = client.get("/login", environ_base={"REMOTE_ADDR": address})
        return client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))},
                           environ_base={"REMOTE_ADDR": address})

    return sign_in


def test_delays_grow_from_two_seconds_and_stop_at_fifteen_minutes() -> None:
    delays = [delay_after(n, free=accounts.FREE_TRIES, base=accounts.FIRST_DELAY,
                          cap=accounts.MAX_DELAY) for n in range(1, 20)]
    assert delays[:accounts.FREE_TRIES - 1] == [0.0] * (accounts.FREE_TRIES - 1)
    assert delays[accounts.FREE_TRIES - 1:accounts.FREE_TRIES + 2] == [2.0, 4.0, 8.0]
    assert max(delays) == accounts.MAX_DELAY == 900


def test_each_further_wrong_password_waits_twice_as_long(store: Store, make_clock, make_user, sign_in,
                                                         web_client) -> None:
    make_user(store, "sara", "auditor")
    clock = make_clock()
    client = web_client(store, clock=clock)
    for _ in range(accounts.FREE_TRIES):
        assert sign_in(client, "sara", BAD).status_code == 401
    assert sign_in(client, "sara", BAD).status_code == 429
    clock.advance(seconds=2)
    assert sign_in(client, "sara", BAD).status_code == 401
    clock.advance(seconds=3)
    assert sign_in(client, "sara", BAD).status_code == 429
    clock.advance(seconds=1)
    assert sign_in(client, "sara", GOOD).status_code == 302


@pytest.mark.parametrize("role", ["admin", "oversight"])
def test_an_attacker_elsewhere_cannot_lock_the_owner_out(store: Store, role: str, make_user, sign_in,
                                                         web_client) -> None:
    make_user(store, "boss", role)
    attacker = web_client(store)
    for _ in range(30):
        sign_in(attacker, "boss", BAD, ATTACKER)
    assert sign_in(attacker, "boss", GOOD, ATTACKER).status_code == 429
    assert sign_in(web_client(store), "boss", GOOD, OWNER).status_code == 302


def test_a_browser_that_signed_in_before_is_not_slowed_by_guesses_from_its_own_address(
        store: Store, login, make_user, post, sign_in, web_client) -> None:
    make_user(store, "boss", "admin")
    owner = login(web_client(store), "boss")  # gets the device cookie
    post(owner, "/logout")
    attacker = web_client(store)  # same address (127.0.0.1), no device cookie
    for _ in range(10):
        sign_in(attacker, "boss", BAD)
    assert sign_in(attacker, "boss", GOOD).status_code == 429
    assert sign_in(owner, "boss", GOOD).status_code == 302


def test_the_device_cookie_is_signed_and_only_sent_to_the_login_page(store: Store, csrf_from, make_user,
                                                                     sign_in, web_client) -> None:
    make_user(store, "boss", "admin")
    client = web_client(store)
    page = client.get("/login")
    answer = client.post("/login", data={"name": "boss", "password": GOOD,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("seda_central_device="))
    assert "HttpOnly" in cookie and "Path=/login" in cookie and "SameSite=Strict" in cookie
    attacker = web_client(store)
    attacker.set_cookie("seda_central_device", "eyJ1IjoiYm9zcyIsImQiOiJ4In0.forged", path="/login")
    for _ in range(accounts.FREE_TRIES):
        sign_in(attacker, "boss", BAD)
    assert sign_in(attacker, "boss", GOOD).status_code == 429


def test_one_address_trying_many_names_is_slowed_too(store: Store, make_user, sign_in, web_client) -> None:
    make_user(store, "sara", "auditor")
    client = web_client(store)
    codes = [sign_in(client, f"name{i}", BAD, ATTACKER).status_code
             for i in range(accounts.ADDRESS_FREE_TRIES + 1)]
    assert codes[:accounts.ADDRESS_FREE_TRIES] == [401] * accounts.ADDRESS_FREE_TRIES
    assert codes[-1] == 429
    assert sign_in(web_client(store), "sara", GOOD, OWNER).status_code == 302


def test_good_sign_ins_from_one_office_address_do_not_add_up(store: Store, make_user, sign_in,
                                                             web_client) -> None:
    for i in range(accounts.ADDRESS_FREE_TRIES + 5):
        make_user(store, f"staff{i}", "auditor")
    for i in range(accounts.ADDRESS_FREE_TRIES + 5):
        assert sign_in(web_client(store), f"staff{i}", GOOD, OWNER).status_code == 302


def test_parallel_wrong_passwords_get_only_the_free_tries(store_url: str, store: Store, csrf_from,
                                                          make_user, web_client) -> None:
    """Twelve requests at once, each through its own store connection (as separate server
    processes would be): exactly the free tries are checked, every other one waits."""
    make_user(store, "boss", "admin")
    clients = []
    for _ in range(12):
        client = web_client(open_store(store_url, migrate=False))
        page = client.get("/login")
        clients.append((client, csrf_from(page.get_data(as_text=True))))
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def attempt(client, token) -> None:
        barrier.wait()
        codes.append(client.post("/login", data={"name": "boss", "password": BAD,
                                                 "csrf_token": token}).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [401] * accounts.FREE_TRIES + [429] * (12 - accounts.FREE_TRIES)


def test_a_failed_login_with_an_unknown_name_never_shows_what_was_typed(store: Store, login, make_user,
                                                                        sign_in, web_client) -> None:
    typed = "my-secret-passphrase"  # a password typed into the name box
    sign_in(web_client(store), typed, BAD)
    entries, _ = audit.entries(store)
    assert [(e.action, e.actor, e.target) for e in entries] == [("login_failed", "-", "user:?")]
    assert all(typed not in f"{e.actor} {e.target} {e.detail}" for e in entries)
    make_user(store, "hesab", "auditor")
    page = login(web_client(store), "hesab").get("/audit/").get_data(as_text=True)
    assert typed not in page


def test_a_failed_login_of_a_real_account_names_the_account(store: Store, make_user, sign_in, web_client) -> None:
    make_user(store, "sara", "auditor")
    sign_in(web_client(store), "sara", BAD, ATTACKER)
    [entry] = audit.entries(store, action="login_failed")[0]
    assert (entry.actor, entry.target, entry.detail) == ("-", "user:sara", ATTACKER)
