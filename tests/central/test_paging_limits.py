"""Page numbers and cursors from the address bar are checked: a huge ``page`` or ``after`` gets
a page (clamped) or a 400, never an HTTP 500 (security review, issue 11 item 16)."""
from __future__ import annotations

import pytest
from central import Store

HUGE = "9" * 40


@pytest.fixture
def people(store: Store, login, make_user, web_client):
    make_user(store, "sara", "responder", unit="licences")
    make_user(store, "hesab", "auditor")
    make_user(store, "tahlil", "analyst")
    return {name: login(web_client(store), name) for name in ("sara", "hesab", "tahlil")}


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "۹" * 30])
def test_a_huge_inbox_page_number_is_clamped(store: Store, people, value: str) -> None:
    assert people["sara"].get(f"/cases/?page={value}").status_code == 200


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE])
def test_a_huge_audit_log_page_number_is_clamped(store: Store, people, value: str) -> None:
    assert people["hesab"].get(f"/audit/?page={value}").status_code == 200


@pytest.mark.parametrize("cursor", [f"2026-01-01T00:00:00Z|{HUGE}", f"x|-{HUGE}"])
def test_a_huge_comment_cursor_is_a_bad_request(store: Store, people, cursor: str) -> None:
    assert people["tahlil"].get("/analysis/comments", query_string={"after": cursor}).status_code == 400


@pytest.mark.parametrize("after", [HUGE, "-" + HUGE])
def test_a_huge_pull_cursor_is_a_bad_request(store: Store, central, tmp_path, after: str, make_office) -> None:
    from forms.identity_keys import load_office_key
    from sync.refusals import Refusal
    from sync.transport import CentralClient

    office = make_office(tmp_path, "THR-012", central.url, store)
    client = CentralClient(central.url, "THR-012", load_office_key(office.home))
    with pytest.raises(Refusal) as refused:
        client._call("GET", f"/v1/pull?after={after}&limit=10", b"", {})
    assert refused.value.code == "bad_request"
