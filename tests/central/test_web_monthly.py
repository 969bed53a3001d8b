"""The figures issue #10 added to the analysis dashboard (desk data quality, waiting time,
cases answered on time, responses per working day) and the central call list, through the real
central app (SQLite and PostgreSQL): analysts only, every view and mark audited."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

import pytest
from central import Store
from central import figures as F

OFFICE = "THR-012"
IN_AZAR = "2026-12-01T08:00:00.000000Z"  # 1405-09-10 in Tehran
MOBILE = "09121234567"


def add_response(store: Store, *, office: str = OFFICE, created_at: str = IN_AZAR, source: str = "kiosk",
                 extra: dict | None = None, **answers) -> str:
    uid = str(uuid.uuid4())
    body = {"source": source, "form": "satisfaction", "form_version": 1,
            "answers": {"service": "smart_id_card", **answers}, **(extra or {})}
    with store.connect() as db, db.transaction():
        db.execute("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint, tracking_code,"
                   " receipt, received_at) VALUES (?, ?, 'survey_response', ?, ?, 'fp', NULL, 'r', 'now')",
                   (uid, office, created_at, json.dumps(body, ensure_ascii=False)))
    return uid


@pytest.fixture(scope="session")
def client_for(login, make_clock, make_user, web_client):
    def client_for(store: Store, role: str = "analyst"):
        make_user(store, "ana", role)
        return login(web_client(store, clock=make_clock(datetime(2026, 12, 20, 10, tzinfo=timezone.utc))), "ana")

    return client_for


def html_of(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:400]
    return answer.get_data(as_text=True)


def audit_rows(store: Store, action: str) -> list[tuple]:
    with store.connect() as db:
        return db.all("SELECT actor, target, detail FROM audit_log WHERE action = ? ORDER BY id", (action,))


def test_responses_without_a_desk_are_a_data_quality_figure_not_a_desk(store: Store, client_for) -> None:
    for _ in range(3):
        add_response(store, staff_behaviour=5)
    add_response(store, desk="04", staff_behaviour=3)
    html = html_of(client_for(store), "/analysis/?month=1405-09")
    quality = html[html.index('id="desk-quality"'):html.index("</section>", html.index('id="desk-quality"'))]
    assert "۲۵٪" in quality and "(۱ از ۴)" in quality
    desks = html[html.index('id="table-desk"'):html.index("</table>", html.index('id="table-desk"'))]
    assert f'data-group="{OFFICE}/04"' in desks and f'data-group="{OFFICE}/"' not in desks
    assert f'data-group="{OFFICE}/"' not in html[html.index('id="ranking"'):]


def test_the_dashboard_shows_waiting_time_per_office(store: Store, client_for) -> None:
    add_response(store, waiting_time="over_60")
    add_response(store, waiting_time="over_60")
    add_response(store, waiting_time="under_10")
    html = html_of(client_for(store), "/analysis/?month=1405-09")
    table = html[html.index('id="table-waiting"'):html.index("</table>", html.index('id="table-waiting"'))]
    assert "بیش از یک ساعت" in table and "۲ (۶۷٪)" in table and "۱ (۳۳٪)" in table


def test_the_dashboard_marks_an_office_that_stopped_handing_out_sheets(store: Store, client_for) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from forms.signatures import public_key_hex

    store.add_office("ISF-001", public_key_hex(Ed25519PrivateKey.generate().public_key()))
    F.set_office_name(store, "ISF-001", "ثبت احوال اصفهان", "Isfahan civil registration")
    add_response(store, source="paper", overall=4, extra={"status": "accepted"},
                 created_at="2026-12-19T08:00:00.000000Z")  # the clock says 2026-12-20
    html = html_of(client_for(store), "/analysis/?month=1405-09")
    table = html[html.index('id="table-per-day"'):html.index("</table>", html.index('id="table-per-day"'))]
    silent = re.search(r'<tr class="attention"><th scope="row">ثبت احوال اصفهان \(ISF-001\).*?</tr>', table, re.S)
    assert silent and "دست\u200cکم ۳ روز کاری اخیر بی\u200cپاسخ" in silent.group(0)
    assert '<tr class=""><th scope="row">THR-012' in table  # a sheet yesterday: not marked


def test_the_dashboard_counts_cases_answered_on_time_per_unit(store: Store, client_for) -> None:
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO cases (uuid, office, case_type, unit, status, received_at, due_at, answered_at,"
                       " updated_at) VALUES (?, ?, 'complaint', 'triage', ?, ?, ?, ?, ?)",
                       [("c1", OFFICE, "answered", IN_AZAR, "2026-12-10T20:29:59.000000Z",
                         "2026-12-02T08:00:00.000000Z", IN_AZAR),
                        ("c2", OFFICE, "routed", IN_AZAR, "2026-12-10T20:29:59.000000Z", None, IN_AZAR)])
    html = html_of(client_for(store), "/analysis/?month=1405-09")
    table = html[html.index('id="table-cases-1"'):html.index("</table>", html.index('id="table-cases-1"'))]
    assert "صف تعیین واحد" in table and "۵۰٪" in table  # one of two answered on time


# -- the call list -------------------------------------------------------------------------


def consenting(store: Store, comment: str = "لطفاً با من تماس بگیرید") -> str:
    return add_response(store, follow_up_consent="yes", mobile=MOBILE, comment=comment)


def test_the_call_list_shows_consenting_visitors_with_their_mobile_and_comment(store: Store, client_for) -> None:
    wanted = consenting(store)
    add_response(store, follow_up_consent="yes")            # no mobile: nobody to call
    add_response(store, mobile="09120000000")                # no consent: never listed
    html = html_of(client_for(store), "/analysis/calls?month=1405-09")
    rows = re.findall(r'<tr id="call-([^"]+)"', html)
    assert rows == [wanted]
    assert "۰۹۱۲۱۲۳۴۵۶۷" in html and "لطفاً با من تماس بگیرید" in html and "09120000000" not in html
    assert audit_rows(store, "view_call_list") == [("ana", "calls:1405-09", "shown=1")]


def test_marking_a_call_is_kept_and_audited_and_done_ones_leave_the_list(store: Store, client_for,
                                                                         csrf_from, post) -> None:
    wanted = consenting(store)
    client = client_for(store)
    html = html_of(client, "/analysis/calls?month=1405-09")
    answer = client.post(f"/analysis/calls/{wanted}", data={"csrf_token": csrf_from(html), "status": "unreachable",
                                                            "month": "1405-09"})
    assert answer.status_code == 302
    assert 'data-status="unreachable"' in html_of(client, "/analysis/calls?month=1405-09")
    post(client, f"/analysis/calls/{wanted}", {"status": "done", "month": "1405-09"})
    assert f'id="call-{wanted}"' not in html_of(client, "/analysis/calls?month=1405-09")
    assert f'id="call-{wanted}"' in html_of(client, "/analysis/calls?month=1405-09&done=1")
    assert [d for _, _, d in audit_rows(store, "call_mark")] == ["status=unreachable", "status=done"]


def test_a_mark_without_the_form_token_is_refused(store: Store, client_for) -> None:
    wanted = consenting(store)
    client = client_for(store)
    assert client.post(f"/analysis/calls/{wanted}", data={"status": "done"}).status_code == 400
    assert audit_rows(store, "call_mark") == []


@pytest.mark.parametrize("role", ["admin", "responder", "auditor", "oversight"])
def test_only_the_analyst_sees_the_call_list(store: Store, role: str, login, make_user, web_client) -> None:
    wanted = consenting(store)
    make_user(store, "someone", role, unit="licences" if role == "responder" else None)
    client = login(web_client(store), "someone")
    assert client.get("/analysis/calls?month=1405-09").status_code == 403
    assert client.post(f"/analysis/calls/{wanted}", data={"status": "done"}).status_code in (400, 403)
    assert audit_rows(store, "view_call_list") == []
