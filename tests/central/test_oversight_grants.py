"""The oversight role needs a second person (issue 11 item 6), on SQLite and PostgreSQL: an
administrator only requests it (for a new account, another user or themselves); a user who
already holds oversight, and is neither the requester nor the person named, confirms it on the
web app; or it is given on the central host's command line.  Every step is audited."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from seda.cli import main
from central import Store
from central import accounts, audit, grants


@pytest.fixture
def team(store: Store, login, make_user, web_client):
    """An administrator, an analyst and an oversight user, each signed in."""
    make_user(store, "modir", "admin")
    make_user(store, "tahlil", "analyst")
    make_user(store, "bazras", "oversight")
    return {name: login(web_client(store), name) for name in ("modir", "tahlil", "bazras")}


def actions(store: Store, target: str) -> list[tuple[str, str]]:
    """Who changed ``target``'s role, oldest first (sign-ins left out)."""
    return [(e.actor, e.action) for e in reversed(audit.entries(store, target=target)[0])
            if e.action.startswith(("role_grant", "user_"))]


def new_password(html: str) -> str:
    return re.search(r'id="issued-password">([^<]+)<', html).group(1)


def test_an_admin_cannot_create_an_oversight_account_alone(store: Store, team, post, staff_password) -> None:
    answer = post(team["modir"], "/admin/users", {"name": "neda", "role": "oversight",
                                                   "password": staff_password, "password2": staff_password})
    assert answer.status_code == 302
    assert accounts.get_user(store, "neda", include_disabled=True) is None
    assert [g.user_name for g in grants.pending_grants(store)] == ["neda"]
    assert actions(store, "user:neda") == [("modir", "role_grant_requested")]


def test_an_admin_cannot_make_themselves_oversight_alone(store: Store, team, post) -> None:
    post(team["modir"], "/admin/users/modir", {"display_name": "مدیر", "role": "oversight"})
    assert accounts.get_user(store, "modir").role == "admin"
    assert team["modir"].get("/cases/?type=misconduct").status_code == 403


def test_an_admin_cannot_switch_another_user_to_oversight_alone(store: Store, team, post) -> None:
    post(team["modir"], "/admin/users/tahlil", {"display_name": "تحلیل", "role": "oversight"})
    assert accounts.get_user(store, "tahlil").role == "analyst"


def test_a_second_oversight_user_confirms_and_alone_sees_the_new_password(store: Store, team, post,
                                                                          staff_password) -> None:
    post(team["modir"], "/admin/users/tahlil", {"role": "oversight"})
    [grant] = grants.pending_grants(store)
    page = team["bazras"].get("/grants/").get_data(as_text=True)
    assert "tahlil" in page
    answer = post(team["bazras"], f"/grants/{grant.id}", {"decision": "confirm"})
    password = new_password(answer.get_data(as_text=True))
    assert accounts.get_user(store, "tahlil").role == "oversight"
    assert accounts.authenticate(store, "tahlil", staff_password) is None  # the old password is gone
    assert accounts.authenticate(store, "tahlil", password) is not None
    assert team["tahlil"].get("/analysis/").status_code == 302  # old session ended
    assert actions(store, "user:tahlil") == [("modir", "role_grant_requested"),
                                             ("bazras", "role_grant_confirmed")]
    assert password not in str(audit.entries(store)[0])


def test_a_confirmed_new_account_can_sign_in_as_oversight(store: Store, team, login, post,
                                                          staff_password, web_client) -> None:
    post(team["modir"], "/admin/users", {"name": "neda", "display_name": "ندا", "role": "oversight",
                                         "password": staff_password, "password2": staff_password})
    [grant] = grants.pending_grants(store)
    password = new_password(post(team["bazras"], f"/grants/{grant.id}",
                                 {"decision": "confirm"}).get_data(as_text=True))
    user = accounts.get_user(store, "neda")
    assert (user.role, user.unit, user.display_name) == ("oversight", "oversight", "ندا")
    assert accounts.authenticate(store, "neda", staff_password) is None  # the admin's password never works
    assert login(web_client(store), "neda", password).get("/cases/").status_code == 200


def test_the_requester_and_the_person_named_cannot_confirm(store: Store, team, make_user, post) -> None:
    grant = grants.request_grant(store, "bazras2", "oversight", requested_by="bazras")
    refused = post(team["bazras"], f"/grants/{grant.id}", {"decision": "confirm"})
    assert refused.status_code == 400 and "نفر دومی از حراست لازم است" in refused.get_data(as_text=True)
    make_user(store, "other", "auditor")
    mine = grants.request_grant(store, "other", "oversight", requested_by="modir")
    with pytest.raises(accounts.AccountError):
        grants.decide_grant(store, mine.id, by=accounts.get_user(store, "other"), confirm=True)
    assert accounts.get_user(store, "other").role == "auditor"


def test_only_oversight_users_open_the_request_page(store: Store, team, post) -> None:
    assert team["modir"].get("/grants/").status_code == 403
    assert team["tahlil"].get("/grants/").status_code == 403
    post(team["modir"], "/admin/users/tahlil", {"role": "oversight"})
    [grant] = grants.pending_grants(store)
    assert post(team["modir"], f"/grants/{grant.id}", {"decision": "confirm"}).status_code == 403
    assert accounts.get_user(store, "tahlil").role == "analyst"


def test_a_refused_request_changes_nothing_and_is_audited(store: Store, team, post) -> None:
    post(team["modir"], "/admin/users/tahlil", {"role": "oversight"})
    [grant] = grants.pending_grants(store)
    post(team["bazras"], f"/grants/{grant.id}", {"decision": "refuse"})
    assert accounts.get_user(store, "tahlil").role == "analyst" and grants.pending_grants(store) == []
    assert actions(store, "user:tahlil")[-1] == ("bazras", "role_grant_refused")


def test_a_request_expires_after_a_week(store: Store, team, make_clock) -> None:
    clock = make_clock()
    grant = grants.request_grant(store, "tahlil", "oversight", requested_by="modir", now=clock())
    clock.advance(days=grants.GRANT_DAYS, seconds=1)
    assert grants.pending_grants(store, now=clock()) == []
    with pytest.raises(accounts.AccountError):
        grants.decide_grant(store, grant.id, by=accounts.get_user(store, "bazras"), confirm=True,
                            now=clock())


def test_an_admin_cannot_reset_an_oversight_users_password(store: Store, team, post) -> None:
    answer = post(team["modir"], "/admin/users/bazras/password",
                  {"password": "admin knows this", "password2": "admin knows this"})
    assert answer.status_code == 400
    assert accounts.authenticate(store, "bazras", "admin knows this") is None


def test_the_central_host_command_line_grants_oversight_directly(store: Store, store_url: str,
                                                                  team) -> None:
    result = CliRunner().invoke(main, ["central", "user", "role", "tahlil", "oversight",
                                       "--store", store_url])
    assert result.exit_code == 0, result.output
    assert accounts.get_user(store, "tahlil").role == "oversight"
    [(actor, action)] = actions(store, "user:tahlil")
    assert actor.startswith("cli:") and action == "user_update"
