"""The citizens' portal on a phone (360 x 740, touch, fa-IR) in Debian's Chromium, beside the
central web app at a desk: a complaint filed on the portal is answered by its unit, read on the
portal, judged "not solved", and is back in the unit's inbox.  Every portal page: Persian RTL,
Vazirmatn served by the portal, axe-core finds no WCAG 2.2 AA violation, no request leaves the
portal, and the first load weighs at most 150 KB.  A kiosk receipt's QR code, as the screen
draws it, decodes to the portal's follow-up address of that case.
"""
from __future__ import annotations

import json
import re

import pytest

from central import open_store
from central.demo_seed import DEMO_USERS, seed_central_demo
from central.portal.server import RunningPortal
from central.portal.settings import PortalSettings
from central.server import start_central

pytestmark = pytest.mark.slow

PASSWORD = "demo-password-1405"
PORTAL_PAGES = ["/", "/file", "/report", "/follow", "/services", "/contacts"]
PAGE_BUDGET = 150 * 1024


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    home = tmp_path_factory.mktemp("central-home")
    store = open_store(home / "central.sqlite3")
    seed_central_demo(store, dict.fromkeys(DEMO_USERS, PASSWORD))
    store.publish("catalogue", "smart_id_card", {
        "name": {"fa": "کارت هوشمند ملی", "en": "Smart ID card"},
        "documents": [{"fa": "شناسنامه", "en": "Birth certificate"}], "fee_rials": 0,
        "time": {"fa": "۱۰ روز کاری", "en": "10 working days"},
        "legal_basis": {"fa": "قانون ثبت احوال", "en": "Civil registration act"}})
    store.publish("contact", "manager", {"name": {"fa": "مریم احمدی", "en": "Maryam Ahmadi"},
                                         "title": {"fa": "مدیر کل", "en": "Director general"},
                                         "phone": "066-33220001", "email": "manager@example.ir"})
    central = start_central(store, home=home)
    portal = RunningPortal(store, home=home, settings=PortalSettings(public_url="https://portal.example.ir"))
    yield store, central.url, portal.url
    portal.stop()
    central.stop()
    store.close()


@pytest.fixture(scope="session")
def Phone(axe_violations, screenshots):
    class Phone:
        def __init__(self, page, base: str) -> None:
            self.page, self.base = page, base
            self.requests: list[str] = []
            self.bytes = 0
            self.console: list[str] = []
            page.on("request", lambda r: self.requests.append(r.url))
            page.on("console", lambda m: m.type == "error" and self.console.append(m.text))

        def check(self, name: str) -> None:
            page = self.page
            page.wait_for_load_state("load")
            page.evaluate("document.fonts.ready.then(() => true)")
            assert (page.locator("html").get_attribute("lang"), page.locator("html").get_attribute("dir")) == ("fa", "rtl")
            assert page.evaluate("[...document.fonts].some(f => f.family.replace(/\"/g, '') === 'Vazirmatn'"
                                 " && f.status === 'loaded')"), name
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
            violations = axe_violations(page, with_summary=True)
            assert violations == [], f"{name}: {json.dumps(violations, ensure_ascii=False, indent=1)}"
            screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshots / f"portal-{re.sub(r'[^a-z]+', '-', name).strip('-') or 'home'}.png"),
                            full_page=True)

    return Phone


@pytest.fixture
def phone(browser, servers, Phone):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="fa-IR", timezone_id="Asia/Tehran")
    current = Phone(context.new_page(), servers[2])
    yield current
    assert [u for u in current.requests if not u.startswith(current.base + "/")] == []
    assert current.console == []
    context.close()


def _first_load_bytes(browser, url: str) -> int:
    """Bytes a phone with an empty cache downloads for ``url`` (page, CSS, fonts)."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    context.close()
    return sum(sizes.values())


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_every_portal_page_is_accessible_on_a_phone_and_within_budget(phone, browser, path):
    phone.page.goto(phone.base + path)
    phone.check(path)
    assert _first_load_bytes(browser, phone.base + path) <= PAGE_BUDGET


def test_complaint_answered_then_not_solved_goes_back_to_the_units_inbox(phone, browser, servers):
    store, central_url, portal_url = servers
    page = phone.page
    page.goto(portal_url + "/file")
    page.tap("label.choice:has(input[value=complaint])")
    page.select_option("#f-service", "smart_id_card")
    page.fill("#f-text", "نوبت کارت هوشمند سه بار عقب افتاد.")
    page.fill("#f-mobile", "۰۹۱۲۱۲۳۴۵۶۷")
    with page.expect_navigation():
        page.tap("form.case-form button[type=submit]")
    phone.check("filed")
    code = page.locator(".tracking-code").get_attribute("data-code")
    with store.connect() as db:
        (uuid,) = db.one("SELECT uuid FROM cases WHERE tracking_code = ?", (code,))

    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fa-IR").new_page()
    desk.goto(central_url + "/login")
    desk.fill("#name", "cards.head")
    desk.fill("#password", PASSWORD)
    with desk.expect_navigation():
        desk.click("main button[type=submit]")
    desk.goto(f"{central_url}/cases/{uuid}")
    desk.fill("#answer-text", "نوبت شما برای شنبه قطعی شد.")
    with desk.expect_navigation():
        desk.click("form[action$='/answer'] button[type=submit]")

    page.goto(portal_url + "/follow")
    page.fill("#f-code", code)
    page.fill("#f-last4", "4567")
    with page.expect_navigation():
        page.tap("form.case-form button[type=submit]")
    assert "نوبت شما برای شنبه قطعی شد." in page.locator("main").inner_text()
    phone.check("case-answered")
    page.tap("label.choice:has(input[value=no])")
    page.fill("#f-comment", "شنبه هم نوبت ندادند.")
    with page.expect_navigation():
        page.tap("form.verdict button[type=submit]")
    assert "دوباره به واحد مسئول برگشت" in page.locator("main").inner_text()

    desk.goto(central_url + "/cases/")
    assert desk.locator(f"main a[href$='/cases/{uuid}']").count() >= 1  # back in the inbox
    desk.goto(f"{central_url}/cases/{uuid}")
    assert "شنبه هم نوبت ندادند." in desk.locator("main").inner_text()
    desk.context.close()


def test_the_kiosk_receipts_qr_code_is_the_portals_follow_up_url(browser, tmp_path, make_config):
    from PIL import Image
    from pyzbar.pyzbar import decode

    from kiosk import create_app
    from forms.identity_keys import ensure_office_key

    home = tmp_path / "office"
    home.mkdir()
    ensure_office_key(home)
    app = create_app(make_config(home, portal_url="https://portal.example.ir"))
    client = app.test_client()
    html = client.get("/case").get_data(as_text=True)
    visit = re.search(r'name="visit" value="([^"]+)"', html).group(1)
    client.post("/case", data={"visit": visit, "type": "complaint", "service": "smart_id_card",
                               "text": "صف طولانی بود", "mobile": "09121234567"})
    receipt = client.get("/receipt").get_data(as_text=True)
    code = re.search(r'data-code="(\d+)"', receipt).group(1)
    assert "روز کاری" in receipt and "portal.example.ir" in receipt and "چهار رقم آخر" in receipt
    svg = re.search(r'<div class="receipt-qr"[^>]*>(.*?)</div>', receipt, re.S).group(1)
    page = browser.new_page()
    page.set_content(f"<body style='margin:0;background:#fff'>{svg}</body>")
    shot = tmp_path / "qr.png"
    page.locator("svg").screenshot(path=str(shot))
    page.close()
    (found,) = decode(Image.open(shot))
    url = found.data.decode()
    assert url.startswith(f"https://portal.example.ir/f/{code}?o=LOR-01&s=LOR-01.")
