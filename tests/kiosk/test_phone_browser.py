"""The phone page in a real browser: Chromium with a phone's screen and touch, photos of sheets
put into the camera input one after another, as the phone's camera would.

The page takes photos through ``<input type=file accept=image/* capture=environment>`` (a
phone opens its camera for it; over the office network's plain HTTP getUserMedia is not
allowed), so the test gives that input real photos of printed, filled sheets.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.slow

PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True,
             has_touch=True, locale="fa-IR", timezone_id="Asia/Tehran")


@pytest.fixture(scope="session")
def photo(place_on_canvas):
    def photo(path, page: np.ndarray, *, blur: float = 0.0) -> str:
        image = place_on_canvas([page], (1500, 2000), [(750, 1000, 4, 1.0)])
        if blur:
            image = cv2.GaussianBlur(image, (0, 0), blur)
        # a phone's photo is colour: warm light on a grey table
        colour = cv2.merge([(image * 0.9).astype(np.uint8), (image * 0.96).astype(np.uint8), image])
        cv2.imwrite(str(path), colour, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return str(path)

    return photo


@pytest.fixture
def phone(browser, tmp_path, printed_sheets, add_staff, operator_account, start_live):
    home = printed_sheets.copy_home(tmp_path / "home")
    add_staff(home)
    live, stop = start_live(home)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live.url + "/staff/login")
    page.fill("#name", operator_account[0])
    page.fill("#password", operator_account[1])
    with page.expect_navigation():
        page.tap("button[type=submit]")
    page.goto(live.url + "/staff/phone")
    yield page, home
    foreign = [u for u in requests if not u.startswith((live.url, "data:", "blob:"))]
    context.close()
    stop()
    assert foreign == [], foreign


def test_photos_taken_one_after_another_are_read_or_sent_back_with_the_reason(
        phone, tmp_path, printed_sheets, fill, filled_answers, open_ledger, photo, screenshots):
    page, home = phone
    assert (page.locator("html").get_attribute("lang"), page.locator("html").get_attribute("dir")) \
        == ("fa", "rtl")
    assert page.locator("#photo").get_attribute("capture") == "environment"

    page.set_input_files("#photo", photo(tmp_path / "first.jpg",
                                         fill(printed_sheets.page(0), filled_answers)))
    page.wait_for_selector(".phone-result.verdict-read")
    result = page.locator("#result").inner_text()
    assert "خوانده و ثبت شد" in result and "برگه ۱" in result
    assert page.locator("#take").inner_text().strip() == "عکس برگه بعدی"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "29-staff-phone-read.png"))

    page.set_input_files("#photo", photo(tmp_path / "blurred.jpg",
                                         fill(printed_sheets.page(1), filled_answers), blur=6))
    page.wait_for_selector(".phone-result.verdict-retake")
    assert "دوباره عکس بگیرید" in page.locator("#result").inner_text()
    assert "تار" in page.locator("#result").inner_text()
    page.screenshot(path=str(screenshots / "31-staff-phone-retake.png"))

    page.set_input_files("#photo", photo(tmp_path / "second.jpg",
                                         fill(printed_sheets.page(2), {"overall": 4})))
    page.wait_for_selector(".phone-result.verdict-read")
    assert page.locator("#log li").count() == 3
    assert page.locator('[data-count="stored"]').inner_text() == "۲"
    assert page.locator('[data-count="retake"]').inner_text() == "۱"
    with open_ledger(home) as ledger:
        serials = sorted(r.body["serial"] for r in ledger.records("survey_response"))
    assert serials == [1, 3]


def test_phone_page_is_accessible_with_a_big_camera_button(phone, axe_violations):
    page, _ = phone
    assert axe_violations(page) == []
    box = page.locator("#take").bounding_box()
    assert box["height"] >= 48 and box["width"] >= 200
    assert page.evaluate("document.fonts.check('20px Vazirmatn')")
