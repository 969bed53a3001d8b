"""In a real Chromium: an administrator changes a service's fee and documents on the central web
app, sees the diff, publishes; the office syncs; the kiosk's service page shows the new fee and
documents; the version an earlier visit is compared with is still the previous one."""
from __future__ import annotations

from datetime import date, timedelta

import jdatetime
import pytest

from central import open_store, service_catalogue
from forms.catalogue import service_body
from sync.client import sync_once

pytestmark = pytest.mark.slow

CODE = "THR-012"


def jalali(day: date) -> str:
    return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")


@pytest.fixture
def world(tmp_path, serve_central, make_office, make_user, start_live):
    store = open_store(tmp_path / "central.sqlite3")
    central = serve_central(store)
    office = make_office(tmp_path, CODE, central.url, store)
    make_user(store, "admin1", "admin")
    kiosk, stop = start_live(office.home, office=CODE)
    yield central, office, kiosk
    stop()
    central.stop()


def test_a_fee_published_centrally_shows_at_the_kiosk_after_one_sync(browser, world, staff_password,
                                                                      axe_violations, screenshots) -> None:
    central, office, kiosk = world
    context = browser.new_context(locale="fa-IR", has_touch=True)
    page = context.new_page()
    # the version announced last month, which an earlier visit is compared with
    service_catalogue.save_draft(central.store, _entry(3000000, date.today() - timedelta(days=30)),
                                 offices=[], actor="setup")
    service_catalogue.publish_draft(central.store, central.keys, "smart_id_card", actor="setup")

    page.goto(central.url + "/login")
    page.fill("#name", "admin1")
    page.fill("#password", staff_password)
    page.click("button[type=submit]")
    page.goto(central.url + "/content/catalogue")
    page.click("a[href='/content/catalogue/smart_id_card']")
    page.fill("#fee_rials", "۴۵۰۰۰۰۰")
    page.fill("#documents_fa", "کارت ملی هوشمند\nرسید پیش‌ثبت‌نام اینترنتی\nدو قطعه عکس")
    page.fill("#documents_en", "Smart ID card\nOnline pre-registration receipt\nTwo photos")
    page.fill("#effective_from", jalali(date.today()))
    page.click("form.stack button[type=submit]")
    diff = page.locator("#diff")
    assert "۴۵۰۰۰۰۰" in diff.locator("[data-field=fee_rials]").inner_text()
    assert "دو قطعه عکس" in diff.locator("[data-field=documents]").inner_text()
    page.screenshot(path=str(screenshots / "central-catalogue-diff.png"), full_page=True)
    assert [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")] == []
    page.click("#diff button.primary")
    assert "منتشر شد" in page.locator("[role=status]").inner_text()

    sync_once(office.home)
    kiosk_page = context.new_page()
    kiosk_page.goto(kiosk.url + "/services/smart_id_card")
    card = kiosk_page.locator(".service-card").inner_text()
    assert "۴٬۵۰۰٬۰۰۰" in card and "دو قطعه عکس" in card
    kiosk_page.screenshot(path=str(screenshots / "kiosk-service-published.png"), full_page=True)

    earlier = service_catalogue.in_force(central.store, "smart_id_card", CODE,
                                         (date.today() - timedelta(days=5)).isoformat())
    assert (earlier.number, earlier.service.fee_rials) == (1, 3000000)
    context.close()


def _entry(fee: int, effective: date) -> dict:
    builtin = service_catalogue.builtin_services()["smart_id_card"]
    return {**service_body(builtin), "fee_rials": fee, "effective_from": effective.isoformat()}
