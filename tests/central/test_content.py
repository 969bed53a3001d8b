"""The central office manages what every office shows (issue #13): real central server, real
office sync, real kiosk app; SQLite and (with SEDA_TEST_POSTGRES_URL) PostgreSQL."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import jdatetime
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from pyzbar.pyzbar import decode

import forms

from central import service_catalogue
from central import audit
from central.db import feed as feeds
from kiosk import create_app as create_kiosk
from kiosk.accounts import AccountStore
from forms.sheet_code import parse as parse_sheet_code
from ledger.centre_sent import CentreSent
from ledger.issuance import print_sheets
from ledger.published_content import published_services
from seda.cli import main as seda_main
from sync.client import sync_once
from sync.office_state import OfficeSyncState

CODE = "THR-012"


def jalali(day: date) -> str:
    return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")


@pytest.fixture
def admin(central, make_user, login, web_client):
    make_user(central.store, "admin1", "admin")
    return login(web_client(central.store), "admin1")


@pytest.fixture
def office(tmp_path, central, make_office):
    return make_office(tmp_path, CODE, central.url, central.store)


@pytest.fixture
def kiosk_for(make_config):
    return lambda office: create_kiosk(make_config(office.home, office=office.code)).test_client()


@pytest.fixture
def edit_fee(post):
    def edit(admin, fee: str, documents: str, *, effective: date | None = None):
        return _edit_fee(post, admin, fee, documents, effective=effective)
    return edit


def _edit_fee(post, admin, fee: str, documents: str, *, effective: date | None = None):
    page = admin.get("/content/catalogue/smart_id_card").get_data(as_text=True)
    fields = dict(re.findall(r'<input id="(\w+)" name="\1"[^>]*value="([^"]*)"', page))
    fields.update({k: v for k, v in re.findall(r'<textarea id="(\w+)" name="\1"[^>]*>([^<]*)</textarea>', page)})
    fields.update(fee_rials=fee, documents_fa=documents, documents_en=documents,
                  effective_from=jalali(effective or date.today()))
    return post(admin, "/content/catalogue/smart_id_card", fields)


def test_a_draft_shows_what_changes_before_it_is_published(admin, central, edit_fee) -> None:
    answer = edit_fee(admin, "۴۵۰۰۰۰۰", "کارت ملی\nعکس")
    assert answer.status_code == 302
    page = admin.get("/content/catalogue/smart_id_card").get_data(as_text=True)
    diff = page[page.index('id="diff"'):page.index("</section>")]
    assert 'data-field="fee_rials"' in diff and "۳۰۰۰۰۰۰" in diff and "۴۵۰۰۰۰۰" in diff
    assert 'data-field="documents"' in diff and 'data-field="legal_basis"' not in diff
    assert central.store.pull(CODE, 0)["items"] == [] or all(
        i["feed"] != "catalogue" for i in central.store.pull(CODE, 0)["items"])


def test_publishing_makes_a_signed_version_and_audits_it(admin, central, edit_fee, post) -> None:
    edit_fee(admin, "4500000", "کارت ملی")
    assert post(admin, "/content/catalogue/smart_id_card/publish").status_code == 302
    [version] = service_catalogue.versions(central.store, "smart_id_card")
    assert (version.status, version.number, version.service.fee_rials) == ("published", 1, 4500000)
    [item] = [i for i in central.store.pull(CODE, 0)["items"] if i["feed"] == "catalogue"]
    assert item["key"] == "smart_id_card@1" and len(item["body"]["signature"]) == 128
    actions = [e.action for e in audit.entries(central.store, target="service:smart_id_card")[0]]
    assert actions == ["catalogue_publish", "catalogue_draft"]


def test_a_fee_that_is_not_a_number_is_refused_and_what_was_typed_is_kept(admin, central, edit_fee) -> None:
    answer = edit_fee(admin, "سه میلیون", "کارت ملی")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "هزینه باید عددی صحیح" in page and "سه میلیون" in page
    assert service_catalogue.versions(central.store, "smart_id_card") == []


def test_a_draft_for_unregistered_offices_is_refused_naming_their_codes(admin, central, post) -> None:
    page = admin.get("/content/catalogue/smart_id_card").get_data(as_text=True)
    fields = dict(re.findall(r'<input id="(\w+)" name="\1"[^>]*value="([^"]*)"', page))
    fields.update({k: v for k, v in re.findall(r'<textarea id="(\w+)" name="\1"[^>]*>([^<]*)</textarea>', page)})
    fields.update(offices="ZZZ-001 ZZZ-002", effective_from=jalali(date.today()))
    answer = post(admin, "/content/catalogue/smart_id_card", fields)
    assert answer.status_code == 400
    assert "این کدها اداره‌ی ثبت‌شده نیستند: ZZZ-001، ZZZ-002" in answer.get_data(as_text=True)


def test_content_pages_are_for_administrators_and_need_the_csrf_token(central, post, make_user, login, web_client) -> None:
    make_user(central.store, "ana", "analyst")
    analyst = login(web_client(central.store), "ana")
    assert analyst.get("/content/catalogue").status_code == 403
    make_user(central.store, "admin2", "admin")
    admin = login(web_client(central.store), "admin2")
    assert admin.post("/content/catalogue/smart_id_card/publish").status_code == 400


def test_a_published_fee_shows_at_the_kiosk_after_one_sync_without_a_restart(admin, central, office, edit_fee, kiosk_for, post) -> None:
    kiosk = kiosk_for(office)
    assert "۳٬۰۰۰٬۰۰۰" in kiosk.get("/services/smart_id_card").get_data(as_text=True)
    edit_fee(admin, "4500000", "کارت ملی هوشمند\nرسید پیش‌ثبت‌نام")
    post(admin, "/content/catalogue/smart_id_card/publish")
    sync_once(office.home)
    page = kiosk.get("/services/smart_id_card").get_data(as_text=True)
    assert "۴٬۵۰۰٬۰۰۰" in page and "کارت ملی هوشمند" in page and "۳٬۰۰۰٬۰۰۰" not in page


def test_a_version_effective_later_is_not_shown_before_its_day(admin, central, office, edit_fee, post) -> None:
    edit_fee(admin, "9000000", "کارت ملی", effective=date.today() + timedelta(days=10))
    post(admin, "/content/catalogue/smart_id_card/publish")
    sync_once(office.home)
    with office.ledger() as ledger:
        today = published_services(ledger, CODE, date.today().isoformat())
        later = published_services(ledger, CODE, (date.today() + timedelta(days=10)).isoformat())
    assert "smart_id_card" not in {s.id for s in today}
    assert {s.id: s.fee_rials for s in later}["smart_id_card"] == 9000000


def test_question_two_of_an_earlier_visit_is_compared_with_the_version_then_in_force(admin, central, edit_fee, post) -> None:
    edit_fee(admin, "4000000", "کارت ملی", effective=date(2026, 1, 1))
    post(admin, "/content/catalogue/smart_id_card/publish")
    edit_fee(admin, "5000000", "کارت ملی", effective=date(2026, 6, 1))
    post(admin, "/content/catalogue/smart_id_card/publish")
    march = service_catalogue.in_force(central.store, "smart_id_card", CODE, "2026-03-15")
    july = service_catalogue.in_force(central.store, "smart_id_card", CODE, "2026-07-15")
    assert (march.number, march.service.fee_rials) == (1, 4000000)
    assert (july.number, july.service.fee_rials) == (2, 5000000)
    assert service_catalogue.in_force(central.store, "smart_id_card", CODE, "2025-12-31") is None


def test_an_unsigned_item_is_refused_and_the_kiosk_keeps_the_last_good_version(central, office, kiosk_for, publish_signed, service_entry) -> None:
    publish_signed(central, "catalogue", "smart_id_card@1",
                   service_entry("smart_id_card", fee=4000000, effective_from="2020-01-01"))
    sync_once(office.home)
    central.store.publish("catalogue", "smart_id_card@2",  # straight into the feed: no signature
                          service_entry("smart_id_card", version=2, fee=1, effective_from="2020-02-01"))
    sync_once(office.home)
    kiosk = kiosk_for(office)
    assert "۴٬۰۰۰٬۰۰۰" in kiosk.get("/services/smart_id_card").get_data(as_text=True)
    with office.ledger() as ledger:
        [refusal] = OfficeSyncState(ledger).content_refusals()
    assert refusal["key"] == "smart_id_card@2" and "not signed" in refusal["detail"]


def test_the_staff_page_warns_of_a_refused_item_until_a_good_one_replaces_it(
        central, office, kiosk_for, publish_signed, service_entry, make_config, manager_account,
        staff_login) -> None:
    with AccountStore(make_config(office.home, office=CODE).state_folder / "accounts.sqlite3") as accounts:
        accounts.add(manager_account[0], "office_manager", manager_account[1])
    central.store.publish("catalogue", "smart_id_card@1",  # straight into the feed: no signature
                          service_entry("smart_id_card", fee=1, effective_from="2020-01-01"))
    sync_once(office.home)
    kiosk = kiosk_for(office)
    staff_login(kiosk)
    assert 'id="content-refusals"' in kiosk.get("/staff/").get_data(as_text=True)
    publish_signed(central, "catalogue", "smart_id_card@1",
                   service_entry("smart_id_card", fee=4000000, effective_from="2020-01-01"))
    sync_once(office.home)
    assert 'id="content-refusals"' not in kiosk.get("/staff/").get_data(as_text=True)
    with office.ledger() as ledger:  # the refusal stays on record, as history
        assert len(OfficeSyncState(ledger).content_refusals()) == 1


def test_a_malformed_signed_item_is_refused_too(central, office, publish_signed) -> None:
    publish_signed(central, "announcement", "a1", {"id": "a1", "text": {"fa": "بسته است", "en": "Closed"},
                                                   "starts_on": "2026-01-10", "ends_on": "2026-01-01"})
    sync_once(office.home)
    with office.ledger() as ledger:
        state = OfficeSyncState(ledger)
        assert CentreSent(ledger).central_items("announcement") == {}
        assert "ends before it starts" in state.content_refusals()[0]["detail"]


def test_the_staff_page_says_built_in_lists_are_shown_until_the_first_sync(
        central, office, kiosk_for, publish_signed, service_entry, make_config, manager_account,
        staff_login) -> None:
    with AccountStore(make_config(office.home, office=CODE).state_folder / "accounts.sqlite3") as accounts:
        accounts.add(manager_account[0], "office_manager", manager_account[1])
    kiosk = kiosk_for(office)
    staff_login(kiosk)
    assert "فهرست‌های پیش‌فرض" in kiosk.get("/staff/").get_data(as_text=True)
    publish_signed(central, "catalogue", "smart_id_card@1", service_entry("smart_id_card"))
    sync_once(office.home)
    assert "همان است که ادارهٔ مرکزی منتشر کرده" in kiosk.get("/staff/").get_data(as_text=True)


def test_the_kiosk_home_names_its_office_and_shows_current_announcements(admin, central, office, kiosk_for, post) -> None:
    answer = post(admin, "/content/offices", {"code": CODE, "name_fa": "ثبت احوال منطقه ۱۲ تهران",
                                              "name_en": "Tehran District 12 Civil Registration",
                                              "province": "تهران", "city": "تهران", "phone": "021-1"})
    assert answer.status_code == 302
    today = date.today()
    post(admin, "/content/announcements", {"text_fa": "پنجشنبه اداره تعطیل است", "text_en": "Closed Thursday",
                                           "starts_on": jalali(today), "ends_on": jalali(today + timedelta(days=3))})
    post(admin, "/content/announcements", {"text_fa": "اطلاعیه‌ی گذشته", "starts_on": jalali(today - timedelta(days=9)),
                                           "ends_on": jalali(today - timedelta(days=2))})
    sync_once(office.home)
    home = kiosk_for(office).get("/").get_data(as_text=True)
    assert "ثبت احوال منطقه ۱۲ تهران" in home and "پنجشنبه اداره تعطیل است" in home
    assert "اطلاعیه‌ی گذشته" not in home
    assert [e.action for e in audit.entries(central.store, target=f"office:{CODE}")[0]] == ["office_profile_save"]


def test_an_announcement_for_an_unregistered_office_is_refused_in_persian(admin, central, post) -> None:
    today = date.today()
    answer = post(admin, "/content/announcements", {"text_fa": "اطلاعیه", "office": "NOPE-99",
                                                    "starts_on": jalali(today), "ends_on": jalali(today)})
    assert answer.status_code == 400
    assert "اداره‌ای با کد «NOPE-99» ثبت نشده است." in answer.get_data(as_text=True)
    ended_first = post(admin, "/content/announcements", {"text_fa": "اطلاعیه", "starts_on": jalali(today),
                                                         "ends_on": jalali(today - timedelta(days=1))})
    assert ended_first.status_code == 400
    assert "پایان نباید پیش از آغاز باشد" in ended_first.get_data(as_text=True)


def test_contacts_of_the_office_and_its_province_make_the_kiosk_directory(admin, central, office, kiosk_for, post) -> None:
    post(admin, "/content/offices", {"code": CODE, "name_fa": "ثبت احوال منطقه ۱۲", "province": "تهران"})
    for name, office_code, province in (("مدیر اداره", CODE, ""), ("معاون استان", "", "تهران"),
                                        ("معاون فارس", "", "فارس")):
        assert post(admin, "/content/contacts", {"name_fa": name, "title_fa": "مدیر", "phone": "021-2",
                                                 "email": "a@example.org", "office": office_code,
                                                 "province": province}).status_code == 302
    sync_once(office.home)
    page = kiosk_for(office).get("/contact").get_data(as_text=True)
    assert "مدیر اداره" in page and "معاون استان" in page and "معاون فارس" not in page
    assert "مریم احمدی" not in page  # the built-in demo people are gone


def test_the_portal_shows_each_published_service_once_in_its_version_of_today(admin, central, edit_fee,
                                                                               post) -> None:
    from central.portal.catalogue import published_services

    edit_fee(admin, "4000000", "کارت ملی", effective=date(2026, 1, 1))
    post(admin, "/content/catalogue/smart_id_card/publish")
    edit_fee(admin, "5000000", "کارت ملی", effective=date.today())
    post(admin, "/content/catalogue/smart_id_card/publish")
    shown = [s for s in published_services(central.store) if s.id == "smart_id_card"]
    assert [(s.version, s.fee_rials) for s in shown] == [(2, 5000000)]


#: Behaviour that does not differ by database: SQLite only (the suite's time budget).
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_the_sheet_prints_the_office_name_from_the_register_and_its_qr_keeps_the_code(
        admin, central, office, post, tmp_path) -> None:
    post(admin, "/content/offices", {"code": CODE, "name_fa": "ثبت احوال منطقه ۱۲ تهران", "province": "تهران"})
    sync_once(office.home)
    run = print_sheets(office.home, forms.builtin_catalog().get("satisfaction"), CODE, 1, tmp_path / "s.pdf")
    page = pdfium.PdfDocument(str(tmp_path / "s.pdf"))[0]
    assert run.office_name == "ثبت احوال منطقه ۱۲ تهران"
    assert "ثبت احوال منطقه ۱۲ تهران" in page.get_textpage().get_text_range()
    [qr] = decode(page.render(scale=2).to_pil())
    assert parse_sheet_code(qr.data.decode()).office == CODE


def test_a_sheet_printed_before_the_register_names_the_office_shows_its_code(office, tmp_path) -> None:
    run = print_sheets(office.home, forms.builtin_catalog().get("satisfaction"), CODE, 1, tmp_path / "s.pdf")
    assert run.office_name == CODE


@SQLITE_ONLY
def test_central_pages_name_the_office_with_its_code_beside(admin, central, office, post) -> None:
    post(admin, "/content/offices", {"code": CODE, "name_fa": "ثبت احوال منطقه ۱۲ تهران", "province": "تهران"})
    page = admin.get("/offices/").get_data(as_text=True)
    assert re.search(r'ثبت احوال منطقه ۱۲ تهران <span class="ltr muted office-code">THR-012</span>', page)


def _sync_status(home):
    return CliRunner().invoke(seda_main, ["sync", "status"], env={"SEDA_HOME": str(home)})


@SQLITE_ONLY
def test_sync_status_shows_a_refused_item_loudly_until_the_centre_publishes_it_again(
        central, office, publish_signed, service_entry) -> None:
    central.store.publish("catalogue", "smart_id_card@1",  # straight into the feed: no signature
                          service_entry("smart_id_card", effective_from="2020-01-01"))
    sync_once(office.home)
    refused = _sync_status(office.home)
    assert refused.exit_code == 1
    assert "!! محتوای ارسالی مرکز پذیرفته نشد: catalogue/smart_id_card@1" in refused.output
    assert "/ Item from the central server refused: catalogue/smart_id_card@1" in refused.output
    assert "not signed by the central office's key" in refused.output
    publish_signed(central, "catalogue", "smart_id_card@1", service_entry("smart_id_card", effective_from="2020-01-01"))
    sync_once(office.home)
    again = _sync_status(office.home)
    assert again.exit_code == 0 and "!!" not in again.output


@SQLITE_ONLY
def test_an_item_of_an_unknown_kind_is_refused_not_kept_and_said_in_sync_status(central, office) -> None:
    with central.store.write() as conn:  # what a newer central server might send
        feeds.publish(conn, "future_kind", "k1", {"anything": 1})
    sync_once(office.home)
    with office.ledger() as ledger:
        assert CentreSent(ledger).item_cursor("future_kind", "k1") is None
    shown = CliRunner().invoke(seda_main, ["sync", "status", "--json"], env={"SEDA_HOME": str(office.home)})
    assert shown.exit_code == 1
    [note] = json.loads(shown.output)["refused_content"]
    assert (note["feed"], note["key"]) == ("future_kind", "k1") and "unknown kind" in note["detail"]


@SQLITE_ONLY
def test_the_centres_settings_for_an_office_hold_there_after_one_sync_and_say_where_from(
        admin, central, office, kiosk_for, post, make_config, manager_account, staff_login, tmp_path) -> None:
    post(admin, "/content/offices", {"code": CODE, "name_fa": "ثبت احوال منطقه ۱۲", "province": "تهران",
                                     "sheets_per_print": "۵", "kiosk_idle_seconds": "90"})
    with AccountStore(make_config(office.home, office=CODE).state_folder / "accounts.sqlite3") as accounts:
        accounts.add(manager_account[0], "office_manager", manager_account[1])
    kiosk = kiosk_for(office)
    assert 'data-idle-seconds="60"' in kiosk.get("/").get_data(as_text=True)  # kiosk.yaml's, before the sync
    sync_once(office.home)
    assert 'data-idle-seconds="90"' in kiosk.get("/").get_data(as_text=True)
    staff_login(kiosk)
    table = kiosk.get("/staff/").get_data(as_text=True).split('id="settings-in-force"')[1].split("</table>")[0]
    assert re.search(r'data-setting="sheets_per_print" data-source="centre">.*?<td>۵</td>', table, re.S)
    assert "دفتر ادارات ادارهٔ مرکزی" in table
    with pytest.raises(ValueError, match="At most 5 sheets per print run at this office"):
        print_sheets(office.home, forms.builtin_catalog().get("satisfaction"), CODE, 6, tmp_path / "s.pdf")
    shown = CliRunner().invoke(seda_main, ["office", "status"], env={"SEDA_HOME": str(office.home)})
    assert "sheets_per_print = 5  (دفتر ادارات مرکز / the central office's register" in shown.output
