"""A case from the kiosk to the central office and back, in a real browser (Debian's Chromium).

A visitor files a complaint on the touch screen; the office syncs; the central server routes it
by the rules to the smart-card unit; the unit head assigns it to a responder, who answers it on
the central web app; the office syncs again; the visitor types the tracking code at the kiosk
and reads the answer.  Real servers on 127.0.0.1 (waitress), a real sync client, real pages.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from forms.tracking_codes import format_tracking_code, normalize_tracking_code
from sync.client import sync_once
from ledger.sync_settings import write_settings
from central import open_store
from central.casework import Casework
from central.demo_seed import DEMO_USERS, seed_central_demo
from central.server import start_central
from forms.identity_keys import ensure_office_key
from forms.signatures import public_key_hex
from ledger.sync_settings import SyncSettings

pytestmark = pytest.mark.slow

PASSWORD = "central demo password"
TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ANSWER = "کارت شما صادر شد؛ با رسید ثبت‌نام به باجه‌ی ۳ مراجعه کنید."



@pytest.fixture
def installation(tmp_path: Path, office_code, start_live):
    """An office (kiosk + ledger + sync settings) and the central server it syncs with."""
    store = open_store(tmp_path / "central.sqlite3")
    seed_central_demo(store, dict.fromkeys(DEMO_USERS, PASSWORD))
    central = start_central(store)
    home = tmp_path / "office"
    home.mkdir()
    key, _ = ensure_office_key(home)
    store.add_office(office_code, public_key_hex(key))
    write_settings(home, SyncSettings(office=office_code, central_url=central.url))
    kiosk, stop_kiosk = start_live(home)
    try:
        yield kiosk, central, store
    finally:
        stop_kiosk()
        central.stop()
        store.close()


def local_only(page) -> list[str]:
    """Requests the page makes; checked at the end to stay on our own servers."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_a_kiosk_complaint_is_answered_centrally_and_read_back_at_the_kiosk(browser, installation,
                                                                            screenshots) -> None:
    kiosk, central, store = installation

    # 1. The visitor files a complaint about the smart ID card on the touch screen.
    visitor_context = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True,
                                          locale="fa-IR", timezone_id="Asia/Tehran")
    visitor = visitor_context.new_page()
    visitor_requests = local_only(visitor)
    visitor.goto(kiosk.url + "/")
    visitor.locator(".tile-case").first.tap()
    visitor.wait_for_url("**/case")
    visitor.locator('label.type-choice:has(input[value="complaint"])').first.tap()
    visitor.select_option("#service", "smart_id_card")
    visitor.locator("#text").fill("کارت هوشمند ملی من پس از سه ماه هنوز صادر نشده است.")
    visitor.locator("#mobile").fill("۰۹۱۲۳۴۵۶۷۸۹")
    visitor.locator("button.submit").first.tap()
    visitor.wait_for_url("**/receipt")
    code = normalize_tracking_code(visitor.locator(".receipt .tracking-code").inner_text().translate(TO_ASCII))
    assert len(code) == 12

    # 2. The office syncs: the case reaches the centre and the rules route it to the card unit.
    report = sync_once(kiosk.home)
    assert report.records_new >= 1
    [case] = Casework(store).inbox(tracking_code=code, status="all")
    assert (case.unit, case.status) == ("cards", "routed")

    # 3. The unit head signs in, finds the case in the unit's inbox and assigns it.
    staff_context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fa-IR",
                                        timezone_id="Asia/Tehran")
    staff = staff_context.new_page()
    staff_requests = local_only(staff)
    sign_in(staff, central.url, "cards.head")
    staff.goto(central.url + "/cases/")
    assert staff.locator("html").get_attribute("dir") == "rtl"
    row_link = staff.locator(f'a.code[href$="/cases/{case.uuid}"]')
    assert row_link.inner_text() == format_tracking_code(code).translate(TO_PERSIAN)  # ۱۲۳۴ ۵۶۷۸ ۹۰۱۲
    with staff.expect_navigation():
        row_link.click()
    staff.locator("details:has(#assignee) > summary").first.click()
    staff.select_option("#assignee", "cards.sara")
    with staff.expect_navigation():
        staff.locator("form:has(#assignee) button[type=submit]").click()
    assert "cards.sara" in staff.locator("main").inner_text() or "سارا" in staff.locator("main").inner_text()
    with staff.expect_navigation():
        staff.locator("form[action$='/logout'] button").first.click()

    # 4. The responder answers the citizen.
    sign_in(staff, central.url, "cards.sara")
    staff.goto(f"{central.url}/cases/{case.uuid}")
    assert "کارت هوشمند ملی من" in staff.locator("main").inner_text()
    staff.locator("#answer-text").fill(ANSWER)
    with staff.expect_navigation():
        staff.locator("form:has(#answer-text) button[type=submit]:not([name=then])").click()
    assert "پاسخ داده شد" in staff.locator("main").inner_text()
    screenshots.mkdir(parents=True, exist_ok=True)
    staff.screenshot(path=str(screenshots / "central-e2e-answered-case.png"), full_page=True)
    assert Casework(store).case(case.uuid).status == "answered"

    # 5. The office syncs again and the visitor reads the answer by tracking code.
    report = sync_once(kiosk.home)
    assert report.items_pulled >= 1
    visitor.goto(kiosk.url + "/follow-up")
    visitor.locator("#code").fill(code.translate(TO_PERSIAN))
    visitor.locator("#last4").fill("۶۷۸۹")
    with visitor.expect_navigation():
        visitor.locator("button.submit").first.tap()
    timeline = visitor.locator(".timeline").inner_text()
    assert "به واحد مسئول ارجاع شد" in timeline
    assert "به کارشناس سپرده شد" in timeline
    assert "پاسخ داده شد" in timeline and ANSWER in timeline
    assert "sara" not in timeline and "سارا" not in timeline  # who answered stays at the centre
    visitor.screenshot(path=str(screenshots / "central-e2e-kiosk-follow-up.png"))

    for requests, origin in ((visitor_requests, kiosk.url), (staff_requests, central.url)):
        assert [u for u in requests if not u.startswith((origin, "data:", "blob:"))] == []
    visitor_context.close()
    staff_context.close()


def sign_in(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").first.click()
    assert "/login" not in page.url, page.locator("main").inner_text()
