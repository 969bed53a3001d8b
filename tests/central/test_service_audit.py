"""The services audit what they change or reveal, whoever calls them (a page, the command
line, an API): the entry is written by the service with the actor it is given."""
from __future__ import annotations

from datetime import date

from central import Store, accounts, answer_templates, audit, exports, grants
from central.content_publisher import save_published_row, withdraw_published_row
from central.keys import CentralKeys

from .conftest import PASSWORD, make_user


def _entries(store: Store, target: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.detail) for e in audit.entries(store, target=target)[0]][::-1]


def test_account_changes_are_audited_by_the_accounts_service(store: Store) -> None:
    accounts.add_user(store, "neda", "analyst", PASSWORD, actor="cli")
    accounts.update_user(store, "neda", role="auditor", actor="modir")
    accounts.set_password(store, "neda", PASSWORD + "x", actor="modir")
    accounts.set_disabled(store, "neda", True, actor="modir")
    assert _entries(store, "user:neda") == [("cli", "user_add", "role=analyst unit="),
                                            ("modir", "user_update", "role=auditor unit="),
                                            ("modir", "user_password", ""), ("modir", "user_disable", "")]


def test_a_grant_is_audited_by_the_grants_service_and_its_account_steps_are_not_audited_twice(store: Store) -> None:
    make_user(store, "modir", "admin")
    make_user(store, "bazras", "oversight")
    grant = grants.request_grant(store, "tahlil", "oversight", requested_by="modir")
    grants.decide_grant(store, grant.id, by=accounts.get_user(store, "bazras"), confirm=True)
    assert [(a, act) for a, act, _ in _entries(store, "user:tahlil")] == [
        ("modir", "role_grant_requested"), ("bazras", "role_grant_confirmed")]


def test_sign_in_and_out_are_audited_by_the_accounts_service(store: Store) -> None:
    make_user(store, "sara", "analyst")
    assert accounts.sign_in(store, "sara", "wrong password!", client="ip:10.0.0.1", address="10.0.0.1",
                            throttle_address=True).user is None
    tried = accounts.sign_in(store, "sara", PASSWORD, client="ip:10.0.0.1", address="10.0.0.1",
                             throttle_address=True)
    accounts.sign_out(store, tried.token, tried.user)
    assert _entries(store, "user:sara") == [("-", "login_failed", "10.0.0.1"), ("sara", "login", "10.0.0.1"),
                                            ("sara", "logout", "")]
    assert accounts.session_for(store, tried.token) is None


def test_answer_templates_and_published_content_are_audited_where_they_change(store: Store, tmp_path) -> None:
    answer_templates.add(store, "registry", answer_templates.parse("آماده", "کارت {code} آماده است."), actor="head")
    assert answer_templates.delete(store, "registry", 5, actor="head") is None
    answer_templates.delete(store, "registry", 0, actor="head")
    assert [a for _, a, _ in _entries(store, "unit:registry")] == ["answer_template_add", "answer_template_delete"]
    keys = CentralKeys(tmp_path / "central-home", store)
    body = {"id": "a-1", "text": {"fa": "تعطیل", "en": "Closed"}, "starts_on": date.today().isoformat(),
            "ends_on": date.today().isoformat(), "office": ""}
    save_published_row(store, keys, "announcement", "a-1", body, actor="modir")
    withdraw_published_row(store, "announcement", "a-1", actor="modir")
    today = date.today().isoformat()
    assert _entries(store, "announcement:a-1") == [
        ("modir", "announcement_add", f"office=* starts_on={today} ends_on={today}"),
        ("modir", "announcement_withdraw", "")]


def test_an_analysis_export_is_audited_by_the_exports_service(store: Store) -> None:
    columns, rows = exports.analysis_rows(store, "cases", "1405-09", viewer="tahlil")
    assert "name" in columns and list(rows) == []
    assert _entries(store, "analysis:1405-09") == [("tahlil", "export_cases", "")]
