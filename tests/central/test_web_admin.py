"""The administrator's pages and the role matrix of the central web app, on SQLite and
PostgreSQL: users, units, routing rules, holidays, deadlines, the triage queue, the audit log."""
from __future__ import annotations

from datetime import date

import jdatetime
import pytest
from central import Store
from central.casework import Casework
from central import accounts, audit

ADMIN_PAGES = ["/admin/users", "/admin/units", "/admin/rules", "/admin/holidays", "/admin/deadlines",
               "/admin/triage"]
ROLES = ("admin", "responder", "analyst", "auditor", "oversight")
#: GET route -> roles that may open it (everyone else: 403).
MATRIX = {**{page: {"admin"} for page in ADMIN_PAGES}, "/audit/": {"auditor"},
          "/cases/": {"responder", "oversight", "auditor"},
          "/analysis/": {"analyst", "admin"}}  # web/insight.py, registered by web.init_app
#: POST route -> the one role allowed (others 403 even with a valid CSRF token).
POST_MATRIX = {"/admin/users": "admin", "/admin/units": "admin", "/admin/rules": "admin",
               "/admin/holidays": "admin", "/admin/deadlines": "admin"}


@pytest.fixture
def people(store: Store, login, make_user, web_client) -> dict[str, object]:
    """One signed-in client per role (the responder in unit 'licences')."""
    for role in ROLES:
        make_user(store, role, role, unit="licences" if role == "responder" else None)
    return {role: login(web_client(store), role) for role in ROLES}


def _entries(store: Store, **filters) -> list[audit.AuditEntry]:
    return audit.entries(store, **filters)[0]


# -- the role matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_for_every_page(store: Store, people, role: str) -> None:
    client = people[role]
    for route, allowed in MATRIX.items():
        status = client.get(route).status_code
        assert status == (200 if role in allowed else 403), (role, route, status)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_for_admin_changes(store: Store, people, role: str, post) -> None:
    client = people[role]
    for route, allowed in POST_MATRIX.items():
        status = post(client, route, {}).status_code
        assert (status == 403) == (role != allowed), (role, route, status)


def test_forbidden_page_is_persian(store: Store, people) -> None:
    answer = people["analyst"].get("/admin/users")
    assert answer.status_code == 403 and "دسترسی مجاز نیست" in answer.get_data(as_text=True)


def test_navigation_shows_only_the_roles_pages(store: Store, people) -> None:
    admin = people["admin"].get("/admin/users").get_data(as_text=True)
    auditor = people["auditor"].get("/audit/").get_data(as_text=True)
    assert 'href="/admin/rules"' in admin and 'href="/audit/"' not in admin
    assert 'href="/audit/"' in auditor and 'href="/admin/users"' not in auditor


def test_home_sends_each_role_to_its_work(store: Store, people) -> None:
    assert people["admin"].get("/").headers["Location"] == "/admin/triage"
    assert people["responder"].get("/").headers["Location"] == "/cases/"
    assert people["auditor"].get("/").headers["Location"] == "/audit/"
    assert people["analyst"].get("/").headers["Location"] == "/analysis/"


# -- users ----------------------------------------------------------------------------------------


def test_admin_creates_a_responder_in_a_unit_and_it_is_audited(store: Store, people, post) -> None:
    Casework(store).save_unit("permits", "مجوزها", "Permits", actor="t")
    answer = post(people["admin"], "/admin/users", {
        "name": "neda", "display_name": "ندا", "role": "responder", "unit": "permits",
        "password": "correct horse battery", "password2": "correct horse battery"})
    assert answer.status_code == 302
    assert accounts.get_user(store, "neda").unit == "permits"
    assert [e.action for e in _entries(store, target="user:neda")] == ["user_add"]
    assert "کاربر neda ساخته شد" in people["admin"].get("/admin/users").get_data(as_text=True)


def test_user_form_error_is_persian_and_keeps_what_was_typed(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/users", {
        "name": "neda", "display_name": "ندا نیک", "role": "responder", "unit": "",
        "password": "correct horse battery", "password2": "correct horse battery"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "پاسخگوی واحد باید عضو یک واحد باشد" in html and 'value="ندا نیک"' in html


def test_oversight_users_always_belong_to_the_oversight_unit(store: Store) -> None:
    user = accounts.add_user(store, "bazras", "oversight", "correct horse battery", unit="licences")
    assert user.unit == "oversight"


def test_admin_disables_a_user(store: Store, people, post) -> None:
    assert post(people["admin"], "/admin/users/auditor/disabled", {"disabled": "1"}).status_code == 302
    assert accounts.get_user(store, "auditor") is None
    assert people["auditor"].get("/audit/").status_code == 302


def test_admin_resets_a_password(store: Store, people, post) -> None:
    post(people["admin"], "/admin/users/analyst/password",
         {"password": "another good password", "password2": "another good password"})
    assert accounts.authenticate(store, "analyst", "another good password") is not None
    assert [e.action for e in _entries(store, target="user:analyst")][0] == "user_password"


# -- units, rules, holidays, deadlines ---------------------------------------------------------------


def test_admin_creates_a_unit_with_a_head(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/units", {"code": "licences", "name_fa": "صدور مجوز",
                                                    "name_en": "Licences", "head": "responder"})
    assert answer.status_code == 302
    assert Casework(store).unit("licences").head == "responder"
    assert [e.action for e in _entries(store, target="unit:licences")] == ["unit_save"]


def test_admin_adds_and_deletes_a_routing_rule(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/rules", {"case_type": "complaint", "service": "smart_id_card",
                                                    "office": "", "unit": "licences"})
    assert answer.status_code == 302
    [rule] = Casework(store).rules()
    assert (rule.case_type, rule.service, rule.office, rule.unit) == (
        "complaint", "smart_id_card", None, "licences")
    post(people["admin"], f"/admin/rules/{rule.id}/delete")
    assert Casework(store).rules() == []
    assert [e.action for e in _entries(store, target=f"rule:{rule.id}")] == ["rule_delete", "rule_add"]


def test_misconduct_routing_rule_is_refused_in_persian(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/rules", {"case_type": "misconduct", "unit": "licences"})
    assert answer.status_code == 400
    assert "گزارش تخلف همیشه به حراست می‌رود" in answer.get_data(as_text=True)
    assert Casework(store).rules() == []


@pytest.mark.parametrize("typed", ["۱۴۰۵/۰۲/۱۰", "١٤٠٥/٠٢/١٠", "1405/02/10", "1405-2-10"])
def test_holiday_date_accepts_persian_arabic_and_latin_digits(store: Store, people, typed: str, post) -> None:
    answer = post(people["admin"], "/admin/holidays", {"day": typed, "name": "روز آزمون"})
    assert answer.status_code == 302
    day = jdatetime.date(1405, 2, 10).togregorian()
    assert (day, "روز آزمون") in Casework(store).holidays(1405)


def test_impossible_holiday_date_is_refused_and_kept_in_the_form(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/holidays", {"day": "۱۴۰۴/۱۲/۳۰", "name": "روز آزمون"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "تاریخ معتبر نیست" in html and "۱۴۰۴/۱۲/۳۰" in html


def test_holiday_list_shows_jalali_dates_in_persian_digits(store: Store, people) -> None:
    html = people["admin"].get("/admin/holidays?year=۱۴۰۵").get_data(as_text=True)
    assert "۱۴۰۵/۰۱/۰۱" in html  # Nowruz


def test_admin_removes_a_holiday(store: Store, people, post) -> None:
    day = jdatetime.date(1405, 2, 10).togregorian()
    Casework(store).add_holiday(day, "روز آزمون", actor="t")
    post(people["admin"], "/admin/holidays/remove", {"day": day.isoformat()})
    assert day not in dict(Casework(store).holidays(1405))


def test_deadline_days_accept_persian_digits(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/deadlines", {"days_complaint": "۷"})
    assert answer.status_code == 302
    assert Casework(store).deadline_days()["complaint"] == 7
    assert [e.action for e in _entries(store, action="deadline_set")] == ["deadline_set"]


def test_deadline_out_of_range_is_refused_in_persian(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/deadlines", {"days_complaint": "۹۹۹"})
    assert answer.status_code == 400 and "مهلت باید میان" in answer.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["²", "7x", "-3", "³٣"])
def test_deadline_that_is_not_plain_digits_is_refused_in_persian(store: Store, people, typed: str, post) -> None:
    answer = post(people["admin"], "/admin/deadlines", {"days_complaint": typed})
    assert answer.status_code == 400 and "مهلت را با رقم بنویسید" in answer.get_data(as_text=True)


def test_deadline_days_accept_arabic_indic_digits(store: Store, people, post) -> None:
    assert post(people["admin"], "/admin/deadlines", {"days_complaint": "٩"}).status_code == 302
    assert Casework(store).deadline_days()["complaint"] == 9


def test_a_malformed_request_to_an_admin_page_is_a_persian_400_page(store: Store, people, post) -> None:
    answer = post(people["admin"], "/admin/holidays/remove", {"day": "not-a-date"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert '<html lang="fa" dir="rtl">' in html and "درخواست نامعتبر" in html


# -- triage -----------------------------------------------------------------------------------------


def test_unrouted_case_is_in_triage_and_admin_routes_it(store: Store, people, case_office, post) -> None:
    office = case_office(store, people["admin"])
    uuid, _ = office.file()
    html = people["admin"].get("/admin/triage").get_data(as_text=True)
    assert "کارت هوشمند من" in html
    answer = post(people["admin"], f"/admin/triage/{uuid}", {"unit": "licences"})
    assert answer.status_code == 302
    assert Casework(store).case(uuid).unit == "licences"
    assert [e.action for e in _entries(store, target=f"case:{uuid}")][:2] == ["case_route", "case_view"]


def test_triage_never_shows_identity(store: Store, people, case_office) -> None:
    case_office(store, people["admin"]).file(identity=True)
    html = people["admin"].get("/admin/triage").get_data(as_text=True)
    assert "مریم احمدی" not in html and "0499370899" not in html


def test_misconduct_never_reaches_triage(store: Store, people, case_office) -> None:
    case_office(store, people["admin"]).file(case_type="misconduct", text="رشوه گرفتن کارمند باجه ۳")
    assert "رشوه" not in people["admin"].get("/admin/triage").get_data(as_text=True)


# -- the audit log page -------------------------------------------------------------------------------


def test_auditor_filters_the_log_by_actor_and_action(store: Store, people, post) -> None:
    post(people["admin"], "/admin/units", {"code": "permits", "name_fa": "مجوزها"})
    html = people["auditor"].get("/audit/?actor=admin&action=unit_save").get_data(as_text=True)
    assert "unit:permits" in html and "user:responder" not in html


def test_auditor_filters_by_target_prefix(store: Store, people, post) -> None:
    post(people["admin"], "/admin/units", {"code": "permits", "name_fa": "مجوزها"})
    html = people["auditor"].get("/audit/?target=unit:").get_data(as_text=True)
    assert "unit:permits" in html and "login" not in html.split("<tbody>")[1]


def test_auditor_filters_by_jalali_date_in_persian_digits(store: Store, people) -> None:
    today = jdatetime.date.fromgregorian(date=date.today())
    tomorrow = today + jdatetime.timedelta(days=2)
    fa = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    html = people["auditor"].get(f"/audit/?from={today.strftime('%Y/%m/%d').translate(fa)}").get_data(as_text=True)
    assert "user:admin" in html
    html = people["auditor"].get(f"/audit/?from={tomorrow.strftime('%Y/%m/%d')}").get_data(as_text=True)
    assert "user:admin" not in html


def test_audit_log_shows_persian_jalali_times(store: Store, people) -> None:
    html = people["auditor"].get("/audit/").get_data(as_text=True)
    year = jdatetime.date.today().year
    assert str(year).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) + "/" in html


def test_audit_log_pages_keep_the_filters_in_the_links(store: Store, people) -> None:
    for n in range(105):
        audit.record(store, "cli", "case_view", f"case:{n:04d}")
    first = people["auditor"].get("/audit/?action=case_view").get_data(as_text=True)
    assert 'class="pager"' in first and "action=case_view" in first and "page=2" in first
    second = people["auditor"].get("/audit/?action=case_view&page=2").get_data(as_text=True)
    assert "case:0000" in second and "case:0104" not in second and "page=1" in second
