"""The kiosk in a real browser: Debian's Chromium, touch, 1080x1920 portrait, driven by Playwright.

Each test taps through the screens as a visitor would, and every page they load must stay on
127.0.0.1 (checked on every request).  axe-core (vendored in tests/vendor/) checks WCAG 2.2 AA on
every visitor screen.  Screenshots of each screen are written to SEDA_SCREENSHOTS (a temporary folder unless
scripts/screenshots.sh points it at docs/screenshots/).
"""
from __future__ import annotations

import time

import pypdfium2
import pytest

from kiosk.cases import find_case
from ledger.centre_sent import CentreSent
from forms.tracking_codes import normalize_tracking_code

pytestmark = pytest.mark.slow

PERSIAN_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def central(tmp_path_factory, make_central_install):
    install = make_central_install(tmp_path_factory.mktemp("central-home"))
    yield install
    install.store.close()


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory, central, add_staff, office_code, start_live):
    home = tmp_path_factory.mktemp("kiosk-home")
    add_staff(home)
    central.set_up(home, office=office_code)  # misconduct reports are sealed to its oversight key
    live, stop = start_live(home)
    yield live
    stop()


@pytest.fixture(scope="module")
def quick_kiosk(tmp_path_factory, start_live):
    """A kiosk that gives up on an idle visitor after 4 seconds (2 of them counting down)."""
    live, stop = start_live(tmp_path_factory.mktemp("quick-home"), idle_seconds=4,
                            countdown_seconds=2)
    yield live
    stop()


@pytest.fixture(scope="session")
def Screen(axe_violations, screenshots):
    class Screen:
        """A touch-screen page plus the checks every visitor screen must pass."""

        def __init__(self, page, base: str) -> None:
            self.page = page
            self.base = base
            self.requests: list[str] = []
            self.dialogs: list[str] = []
            page.on("request", lambda request: self.requests.append(request.url))
            page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

        def go(self, path: str) -> None:
            self.page.goto(self.base + path)

        def tap(self, selector: str) -> None:
            self.page.locator(selector).first.tap()

        def tap_and_wait(self, selector: str) -> None:
            """Tap something that loads a new page, and wait until it has loaded."""
            with self.page.expect_navigation():
                self.tap(selector)

        def type_on_keyboard(self, text: str) -> None:
            """Tap each character on the on-screen keyboard (Persian, digits or pad)."""
            for char in text:
                if char == " ":
                    self.tap('#osk [data-action="space"]')
                    continue
                key = self.page.locator(f'#osk .key[data-key="{char}"]:visible')
                key.first.tap()

        def shot(self, name: str) -> None:
            screenshots.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(screenshots / f"{name}.png"))

        def axe(self) -> list[dict]:
            return axe_violations(self.page)

        def small_targets(self) -> list[str]:
            """Visible controls smaller than 48 x 48 CSS px (a checkbox counts as its label)."""
            return self.page.evaluate("""() => {
            const small = [];
            for (const el of document.querySelectorAll('a, button, input, select, textarea, [role=button]')) {
                const target = (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') ? el.closest('label') : el;
                const style = getComputedStyle(target);
                if (el.type === 'hidden' || el.classList.contains('skip-link') || style.visibility === 'hidden') continue;
                const rect = target.getBoundingClientRect();
                if (rect.width === 0 && rect.height === 0) continue;
                if (rect.width < 48 || rect.height < 48) small.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(rect.width)}x${Math.round(rect.height)}`);
            }
            return small;
        }""")

        def check_screen(self, name: str, lang: str = "fa") -> None:
            """What every visitor screen must be: Persian RTL (unless English was chosen),
        accessible, big targets; then a screenshot."""
            html = self.page.locator("html")
            expected = ("en", "ltr") if lang == "en" else ("fa", "rtl")
            assert (html.get_attribute("lang"), html.get_attribute("dir")) == expected, name
            assert self.page.evaluate("document.fonts.check('20px Vazirmatn')"), name
            violations = self.axe()
            assert violations == [], f"{name}: {violations}"
            assert self.small_targets() == [], name
            self.shot(name)

        def assert_all_local(self) -> None:
            foreign = [u for u in self.requests
                       if not (u.startswith(self.base) or u.startswith(("data:", "blob:")))]
            assert foreign == [], foreign

    return Screen


@pytest.fixture(scope="session")
def new_screen(Screen):
    def new_screen(browser, live):
        context = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True,
                                      locale="fa-IR", timezone_id="Asia/Tehran")
        context.grant_permissions(["microphone"], origin=live.url)
        return Screen(context.new_page(), live.url)

    return new_screen


@pytest.fixture
def screen(browser, kiosk, new_screen):
    current = new_screen(browser, kiosk)
    yield current
    current.assert_all_local()
    current.page.context.close()


@pytest.fixture
def quick_screen(browser, quick_kiosk, new_screen):
    current = new_screen(browser, quick_kiosk)
    yield current
    current.assert_all_local()
    current.page.context.close()


def shown_code(screen) -> str:
    """The tracking code as a visitor reads it off the screen (Persian digits, grouped)."""
    text = screen.page.locator(".receipt .tracking-code").inner_text()
    return normalize_tracking_code(text.translate(PERSIAN_TO_ASCII))


# -- visitor journeys -----------------------------------------------------------------------


def test_survey_is_completed_by_taps_in_under_30_seconds(screen, kiosk, open_ledger):
    screen.go("/")
    screen.check_screen("01-home")
    started = time.monotonic()
    screen.tap(".tile-survey")
    screen.page.wait_for_url("**/survey/1")
    screen.check_screen("03-survey-scale-faces")
    screen.tap('button[name="answer"][value="4"]')
    screen.page.wait_for_url("**/survey/2")
    screen.tap('button[name="answer"][value="yes"]')
    screen.page.wait_for_url("**/survey/3")
    screen.tap('button[name="answer"][value="5"]')
    screen.page.wait_for_url("**/survey/end")
    screen.check_screen("02-survey-end")
    screen.tap(".end-more")
    screen.page.wait_for_url("**/survey/4")
    screen.check_screen("02-survey-service")
    screen.tap('button[name="answer"][value="smart_id_card"]')
    screen.tap('button[name="answer"][value="under_10"]')
    screen.tap('button[name="answer"][value="4"]')
    screen.page.wait_for_url("**/survey/7")
    screen.tap("#answer")
    screen.type_on_keyboard("۰۷")
    screen.check_screen("04-survey-desk-keypad")
    screen.tap('button[name="action"][value="answer"]')
    screen.page.wait_for_url("**/survey/8")
    screen.tap('button[name="action"][value="finish"]')
    screen.page.wait_for_url("**/survey/thanks")
    elapsed = time.monotonic() - started
    screen.check_screen("05-survey-thanks")
    assert elapsed < 30
    with open_ledger(kiosk.home) as ledger:
        responses = [r for r in ledger.records("survey_response") if r.body["answers"]["desk"] == "07"]
    assert responses[-1].body["answers"]["workflow"] == 4
    assert responses[-1].body["answers"]["staff_behaviour"] == 5
    assert responses[-1].body["answers"]["service"] == "smart_id_card"
    assert responses[-1].body["source"] == "kiosk"


def test_the_article_9_survey_takes_five_taps_from_the_home_screen(screen, kiosk, open_ledger):
    taps = 0

    def tap(selector):
        nonlocal taps
        screen.tap(selector)
        taps += 1

    screen.go("/")
    tap(".tile-survey")
    for number, value in ((1, "2"), (2, "partly"), (3, "4")):
        screen.page.wait_for_url(f"**/survey/{number}")
        tap(f'button[name="answer"][value="{value}"]')
    screen.page.wait_for_url("**/survey/end")
    tap(".end-finish")
    screen.page.wait_for_url("**/survey/thanks")
    assert taps == 5
    with open_ledger(kiosk.home) as ledger:
        last = list(ledger.records("survey_response"))[-1]
    assert last.body["complete"] is True
    assert (last.body["answers"]["workflow"], last.body["answers"]["matched_announcement"],
            last.body["answers"]["staff_behaviour"]) == (2, "partly", 4)


def test_a_very_poor_staff_score_offers_a_prefilled_complaint(screen, kiosk, office_code, open_ledger):
    screen.go("/survey/1")
    screen.tap('button[name="answer"][value="3"]')
    screen.page.wait_for_url("**/survey/2")
    screen.tap('button[name="answer"][value="no"]')
    screen.page.wait_for_url("**/survey/3")
    screen.tap('button[name="answer"][value="1"]')
    screen.page.wait_for_url("**/survey/end")
    screen.tap(".end-finish")
    screen.page.wait_for_url("**/survey/thanks")
    screen.check_screen("05b-survey-thanks-complaint-offer")
    screen.tap(".complaint-offer a")
    screen.page.wait_for_url("**/case?from=survey")
    assert screen.page.locator('input[name="type"][value="complaint"]').is_checked()
    assert "خیلی بد بود" in screen.page.locator("#text").input_value()
    screen.tap("button.submit")
    screen.page.wait_for_url("**/receipt")
    code = shown_code(screen)
    with open_ledger(kiosk.home) as ledger:
        case = find_case(ledger, code, office_code)
    assert case.body["type"] == "complaint" and "رفتار متصدیان" in case.body["text"]


def test_complaint_typed_on_the_on_screen_keyboard_then_followed_up(screen, kiosk, open_ledger, screenshots):
    screen.go("/")
    screen.tap(".tile-case")
    screen.page.wait_for_url("**/case")
    screen.tap('label.type-choice:has(input[value="complaint"])')
    screen.tap("#text")
    screen.type_on_keyboard("صف طولانی بود")
    assert screen.page.locator("#text").input_value() == "صف طولانی بود"
    screen.check_screen("06-case-keyboard")
    screen.tap("#national_id")
    screen.type_on_keyboard("۰۴۹۹۳۷۰۸۹۸")  # wrong check digit
    screen.tap("#mobile")
    screen.type_on_keyboard("۰۹۱۲۳۴۵۶۷۸۹")
    screen.tap('#osk .osk-pad [data-action="hide"]')
    screen.tap_and_wait("button.submit")
    assert "رقم کنترل کد ملی درست نیست" in screen.page.locator(".errors").inner_text()
    screen.check_screen("07-case-error")
    screen.tap('#national_id ~ button.clear-field[data-clear="national_id"]')
    # the error goes as soon as the field changes, in the list at the top too
    assert screen.page.locator("#national_id-error").is_hidden()
    assert screen.page.locator('.errors li[data-error-for="national_id"]').is_hidden()
    assert screen.page.locator("#national_id").input_value() == ""
    screen.tap("#national_id")
    screen.type_on_keyboard("۰۴۹۹۳۷۰۸۹۹")
    screen.tap('#osk .osk-pad [data-action="hide"]')
    screen.tap("button.submit")
    screen.page.wait_for_url("**/receipt")
    code = shown_code(screen)
    assert len(code) == 12
    screen.check_screen("08-receipt")
    assert "چهار رقم آخر شماره همراهی" in screen.page.locator(".receipt").inner_text()
    screen.tap(".read-code .read-aloud")
    screen.page.wait_for_function(
        "() => { const a = document.querySelector('.read-code .read-aloud-audio');"
        " return a.src.includes('/static/audio/digit-') && (a.currentTime > 0 || a.ended); }",
        timeout=10000)
    pdf = screen.page.pdf(prefer_css_page_size=True, print_background=True)
    receipt_pdf = pypdfium2.PdfDocument(pdf)
    try:
        assert len(receipt_pdf) == 1
        width, height = receipt_pdf[0].get_size()
        assert abs(width - 80 / 25.4 * 72) < 1  # the 80 mm thermal roll
        receipt_pdf[0].render(scale=3).to_pil().save(screenshots / "09-receipt-print-80mm.png")
    finally:
        receipt_pdf.close()
    with open_ledger(kiosk.home) as ledger:
        (case,) = ledger.find("case", "tracking_code", code)
        CentreSent(ledger).store_items([{"feed": "case_update", "key": "u1", "cursor": 1, "body": {
            "tracking_code": code, "status": "answered",
            "answer": "صف‌ها از شنبه با دو باجه اضافه کوتاه‌تر می‌شود.",
            "at": "2026-12-02T09:30:00+00:00"}}])
    assert case.body["text"] == "صف طولانی بود" and case.body["mobile"] == "09123456789"
    screen.tap("#receipt-leave")
    screen.page.wait_for_selector("#leave-dialog:visible")
    screen.check_screen("08b-receipt-noted")
    screen.tap("#leave-no")  # not yet: the code stays on screen
    assert screen.page.locator("#leave-dialog").is_hidden() and "/receipt" in screen.page.url
    screen.tap("#receipt-leave")
    screen.tap("#leave-yes")
    screen.page.wait_for_url(kiosk.url + "/")
    screen.tap(".tile-follow")
    screen.page.wait_for_url("**/follow-up")
    screen.tap("#code")
    screen.type_on_keyboard(code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    screen.tap("#last4")
    screen.type_on_keyboard("۶۷۸۹")
    screen.check_screen("10-follow-up")
    screen.tap("button.submit")
    screen.page.wait_for_url("**/follow-up/status")
    timeline = screen.page.locator(".timeline").inner_text()
    assert "دریافت شد" in timeline and "پاسخ داده شد" in timeline and "دو باجه" in timeline
    screen.check_screen("11-follow-up-status")
    screen.tap(".answer .read-aloud")
    screen.page.wait_for_function(
        "() => { const a = document.querySelector('.answer .read-aloud-audio');"
        " return a.src.includes('/follow-up/spoken/') && (a.currentTime > 0 || a.ended); }",
        timeout=20000)


def test_wrong_tracking_code_gets_a_plain_message(screen):
    screen.go("/follow-up")
    screen.tap("#code")
    screen.type_on_keyboard("۱۲۳۴۵۶۷۸۹۰۱۲")
    screen.tap_and_wait("button.submit")
    assert screen.page.locator(".notice.warn").is_visible()
    screen.check_screen("12-follow-up-wrong-code")


def test_voice_message_recorded_with_the_fake_microphone(screen, kiosk, open_ledger):
    screen.go("/voice")
    screen.check_screen("13-voice")
    screen.tap("#voice-record")  # no service tapped yet: it says so, records nothing
    assert "اول خدمتی" in screen.page.locator("#voice-status").inner_text()
    assert screen.page.locator("#voice-stop").is_hidden()
    screen.tap('label.service-tile:has(input[value="smart_id_card"])')
    screen.tap("#voice-record")
    screen.page.wait_for_selector("#voice-stop:visible")
    assert screen.page.locator("#voice-record").is_hidden()
    screen.page.wait_for_timeout(1500)
    screen.tap("#voice-stop")
    screen.page.wait_for_selector("#voice-review:visible")
    assert screen.page.locator("#voice-stop").is_hidden()
    assert screen.page.evaluate("document.getElementById('voice-playback').src.startsWith('blob:')")
    screen.check_screen("14-voice-recorded")
    screen.tap("#voice-play")  # the big play control
    screen.page.wait_for_function("() => document.getElementById('voice-play').getAttribute('aria-pressed') === 'true'"
                                  " || document.getElementById('voice-playback').ended", timeout=10000)
    screen.tap("#voice-send")
    screen.page.wait_for_url("**/receipt")
    code = shown_code(screen)
    with open_ledger(kiosk.home) as ledger:
        (case,) = ledger.find("case", "tracking_code", code)
        (sha,) = case.body["attachments"]
        (attachment,) = ledger.find("attachment", "sha256", sha)
        recording = ledger.blob(sha)
    assert case.body["type"] == "voice" and case.body["service"] == "smart_id_card"
    assert attachment.body["media_type"].startswith("audio/") and len(recording) > 1000


def test_misconduct_report_is_anonymous_by_default(screen, kiosk, central, office_code, open_ledger):
    screen.go("/")
    screen.tap(".tile-report")
    screen.page.wait_for_url("**/report")
    assert screen.page.locator("#anonymous").is_checked()
    assert not screen.page.locator("#name").is_visible()  # identity hidden while anonymous
    screen.check_screen("15-report")
    screen.tap("#text")
    screen.type_on_keyboard("رشوه")
    screen.tap('#osk [data-action="hide"]')
    screen.tap("button.submit")
    screen.page.wait_for_url("**/receipt")
    with open_ledger(kiosk.home) as ledger:
        case = find_case(ledger, shown_code(screen), office_code)
    opened = central.keys.open_body(case.body)  # sealed at the kiosk: only the centre opens it
    assert "text" not in case.body and opened["anonymous"] and opened["route"] == "oversight"


def test_information_screens(screen):
    screen.go("/contact")
    screen.check_screen("16-contact")
    screen.go("/services")
    screen.check_screen("17-services")
    screen.tap('a[href="/services/smart_id_card"]')
    screen.page.wait_for_url("**/services/smart_id_card")
    screen.check_screen("18-service-detail")


def test_display_toggles_and_english(screen):
    screen.go("/")
    screen.tap_and_wait('a[href^="/prefs/contrast"]')
    screen.check_screen("19-high-contrast")
    screen.tap_and_wait('a[href^="/prefs/large-text"]')
    screen.go("/survey/2")
    screen.check_screen("20-large-text-high-contrast-survey")
    screen.go("/reset")
    screen.tap_and_wait('a[href^="/prefs/lang"]')
    assert "Welcome to Seda" in screen.page.content()
    screen.check_screen("21-home-english", lang="en")


LARGE_TEXT_SCREENS = ["/", "/survey/1", "/survey/2", "/survey/end", "/survey/4", "/survey/7",
                      "/survey/10", "/case", "/report", "/voice", "/follow-up", "/contact", "/services",
                      "/services/smart_id_card"]


def horizontal_overflow(screen) -> int:
    return screen.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_large_text_is_one_and_a_half_times_with_no_horizontal_scrolling(screen):
    screen.go("/survey/1")
    normal = screen.page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    face = screen.page.locator(".face").first.bounding_box()["width"]
    screen.tap_and_wait('a[href^="/prefs/large-text"]')
    large = screen.page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= 1.5 * normal
    assert screen.page.locator(".face").first.bounding_box()["width"] >= 1.3 * face  # faces grow too
    for path in LARGE_TEXT_SCREENS:
        screen.go(path)
        assert horizontal_overflow(screen) <= 0, path
        assert screen.axe() == [], path
    screen.go("/survey/1")
    screen.shot("20b-large-text-survey")


def test_large_text_in_english_has_no_horizontal_scrolling(screen):
    screen.go("/")
    screen.tap_and_wait('a[href^="/prefs/lang"]')
    screen.tap_and_wait('a[href^="/prefs/large-text"]')
    for path in LARGE_TEXT_SCREENS:
        screen.go(path)
        assert horizontal_overflow(screen) <= 0, path


def test_the_five_faces_differ_in_shape_in_high_contrast(screen):
    screen.go("/")
    screen.tap_and_wait('a[href^="/prefs/contrast"]')
    screen.go("/survey/1")
    pictures = [screen.page.locator(f".face-{level}").screenshot() for level in range(1, 6)]
    assert len(set(pictures)) == 5
    # in high contrast every face is one colour: what tells them apart is their drawing
    colours = screen.page.evaluate("[...document.querySelectorAll('.face')].map(f => getComputedStyle(f).color)")
    assert len(set(colours)) == 1


def test_display_buttons_are_within_reach_at_the_bottom(screen):
    for path in ("/", "/survey/1", "/case"):
        screen.go(path)
        for pref in screen.page.locator(".prefs .pref").all():
            box = pref.bounding_box()
            assert box["y"] > 1920 * 2 / 3, (path, box)  # the lower third of the 1920 px screen


def test_read_aloud_plays_the_questions_audio(screen):
    screen.go("/survey/2")
    screen.tap(".read-aloud")
    screen.page.wait_for_function(
        "() => { const a = document.querySelector('.read-aloud-audio'); return a.currentTime > 0 || a.ended; }",
        timeout=10000)


def test_back_after_the_receipt_does_not_show_the_previous_visitor(screen):
    screen.go("/case")
    screen.tap('label.type-choice:has(input[value="request"])')
    screen.page.locator("#text").fill("اطلاعات شخصی نفر قبل")
    screen.tap("button.submit")
    screen.page.wait_for_url("**/receipt")
    screen.tap("#receipt-leave")
    screen.tap("#leave-yes")
    screen.page.wait_for_url(screen.base + "/")
    screen.page.go_back()
    screen.page.wait_for_load_state()
    assert screen.page.locator(".tracking-code").count() == 0
    screen.page.go_back()
    screen.page.wait_for_load_state()
    assert "اطلاعات شخصی نفر قبل" not in screen.page.content()
    screen.page.reload()
    assert "اطلاعات شخصی نفر قبل" not in screen.page.content()


# -- idle reset -----------------------------------------------------------------------------


def test_idle_reset_wipes_a_half_filled_form(quick_screen):
    screen = quick_screen
    screen.go("/")
    screen.tap_and_wait(".tile-case")
    screen.tap("#text")
    screen.type_on_keyboard("نیمه")
    screen.page.wait_for_selector("#idle-dialog:visible", timeout=5000)
    assert "ثانیه" in screen.page.locator("#idle-body").inner_text()
    screen.check_screen("22-idle-countdown")
    screen.page.wait_for_url(screen.base + "/", timeout=8000)
    screen.page.wait_for_load_state()
    # The reset replaced the form's history entry: back and forward find nothing of it.
    screen.page.go_back()
    screen.page.wait_for_load_state()
    assert "نیمه" not in screen.page.content()
    screen.page.go_forward()
    screen.page.wait_for_load_state()
    assert "نیمه" not in screen.page.content()
    screen.go("/case")
    assert screen.page.locator("#text").input_value() == ""


def test_touching_during_the_countdown_keeps_the_form(quick_screen):
    screen = quick_screen
    screen.go("/case")
    screen.tap("#text")
    screen.type_on_keyboard("ادامه")
    screen.page.wait_for_selector("#idle-dialog:visible", timeout=5000)
    screen.tap("#idle-continue")
    assert screen.page.locator("#idle-dialog").is_hidden()
    assert screen.page.locator("#text").input_value() == "ادامه"


@pytest.fixture(scope="session")
def survey_responses(open_ledger):
    def survey_responses(home) -> list:
        with open_ledger(home) as ledger:
            return list(ledger.records("survey_response"))

    return survey_responses


def test_a_visitor_who_walks_away_mid_survey_leaves_an_incomplete_response(quick_screen, quick_kiosk,
                                                                           survey_responses):
    """Issue 10/11: the visitor's answers are kept, and nothing of theirs reaches the next one."""
    screen = quick_screen
    before = len(survey_responses(quick_kiosk.home))
    # A complaint refused for a wrong national-ID check digit, then «صفحه اصلی» ...
    screen.go("/case")
    screen.tap('label.type-choice:has(input[value="complaint"])')
    screen.page.locator("#text").fill("متن شکایت نفر قبلی")
    screen.page.locator("#name").fill("نام نفر قبلی")
    screen.page.locator("#national_id").fill("0499370898")
    screen.tap_and_wait("button.submit")
    assert "رقم کنترل کد ملی درست نیست" in screen.page.locator(".errors").inner_text()
    screen.tap_and_wait('.bottombar a:has-text("صفحه اصلی")')
    # ... then five survey answers, the three Article 9 questions among them, and away.
    screen.tap_and_wait(".tile-survey")
    taps = [("workflow", "2"), ("matched_announcement", "no"), ("staff_behaviour", "1"),
            ("service", "birth_registration"), ("waiting_time", "over_60")]
    for number, (_, value) in enumerate(taps, start=1):
        screen.page.wait_for_url(f"**/survey/{number}")
        screen.tap(f'button[name="answer"][value="{value}"]')
        if number == 3:
            screen.page.wait_for_url("**/survey/end")
            screen.tap(".end-more")
    screen.page.wait_for_url("**/survey/6")
    screen.page.wait_for_url(screen.base + "/", timeout=10000)  # the idle timer ended the visit
    (response,) = survey_responses(quick_kiosk.home)[before:]
    given = {k: v for k, v in response.body["answers"].items() if v is not None}
    assert given == {"service": "birth_registration", "workflow": 2, "matched_announcement": "no",
                     "staff_behaviour": 1, "waiting_time": "over_60"}
    assert response.body["complete"] is False
    # The next visitor: an empty survey and an empty complaint form.
    screen.tap_and_wait(".tile-survey")
    for number in range(1, 6):
        screen.go(f"/survey/{number}")
        assert screen.page.locator(".choice.selected").count() == 0
    screen.go("/case")
    for field in ("#text", "#name", "#national_id", "#mobile"):
        assert screen.page.locator(field).input_value() == ""
    assert screen.page.locator("input[name=type]:checked").count() == 0


def test_finishing_the_survey_with_no_answer_stores_nothing(quick_screen, quick_kiosk, survey_responses):
    screen = quick_screen
    before = len(survey_responses(quick_kiosk.home))
    screen.go("/")
    screen.tap_and_wait(".tile-survey")
    screen.tap_and_wait('button[name="action"][value="finish"]')
    notice = screen.page.locator(".notice").inner_text()
    assert "چیزی ثبت نشد" in notice and "سپاسگزاریم" not in screen.page.content()
    screen.check_screen("30-survey-finished-with-no-answer")
    screen.page.wait_for_url(screen.base + "/", timeout=10000)  # and walks away
    assert len(survey_responses(quick_kiosk.home)) == before


# -- staff pages ----------------------------------------------------------------------------


def test_xss_in_a_complaint_is_shown_as_text_on_the_staff_pages(screen, manager_account):
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    screen.go("/case")
    screen.tap('label.type-choice:has(input[value="criticism"])')
    screen.page.locator("#text").fill(payload)
    screen.tap("button.submit")
    screen.page.wait_for_url("**/receipt")
    screen.go("/reset")
    screen.go("/staff/login")
    screen.shot("23-staff-login")
    screen.page.fill("#name", manager_account[0])
    screen.page.fill("#password", manager_account[1])
    screen.page.click("button[type=submit]")
    screen.page.wait_for_url("**/staff/")
    screen.shot("24-staff-dashboard")
    screen.go("/staff/cases")
    assert payload in screen.page.locator(".case-list").inner_text()
    assert screen.page.locator(".case-list img, .case-list script").count() == 0
    assert screen.dialogs == []
    screen.shot("25-staff-cases")
    screen.go("/staff/print")
    screen.shot("26-staff-print")


def test_scan_upload_and_one_tap_review_in_the_browser(browser, tmp_path, printed_sheets, add_staff,
                                                       new_screen, open_ledger, operator_account,
                                                       start_live, fill, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    add_staff(home)
    live, stop = start_live(home)
    current = new_screen(browser, live)
    try:
        page = current.page
        current.go("/staff/login")
        page.fill("#name", operator_account[0])
        page.fill("#password", operator_account[1])
        with page.expect_navigation():
            page.click("button[type=submit]")
        current.go("/staff/scan")
        unsure = save(fill(printed_sheets.page(5), {"workflow": [2, 4], "overall": 5}),
                      tmp_path / "unsure.png")
        page.set_input_files("#files", [str(unsure)])
        with page.expect_navigation():
            page.click(".scan-form button[type=submit]")
        assert "برای بازبینی" in page.locator(".scan-results").inner_text()  # the Persian table
        current.shot("27-staff-scan-results")
        current.go("/staff/review")
        assert page.locator(".review-item img").first.evaluate("img => img.naturalWidth > 0")
        machine = page.locator(".review-item .machine-value").first.inner_text()
        assert "[" not in machine and "،" in machine  # two option labels in words, not [2, 4]
        crop = page.locator(".review-crop img").first
        width = crop.evaluate("img => img.getBoundingClientRect().width")
        assert width == crop.evaluate("img => img.naturalWidth")  # full size, never shrunk
        page.locator(".zoom-toggle").first.click()
        assert crop.evaluate("img => img.getBoundingClientRect().width") > width * 2
        page.locator(".zoom-toggle").first.click()
        assert page.locator(".review-sheet img").first.evaluate("img => img.naturalWidth > 0")
        current.shot("28-staff-review-queue")
        with page.expect_navigation():
            page.keyboard.press("4")  # one key: option 4 of the first item
        with open_ledger(home) as ledger:
            (decision,) = ledger.records("review_decision")
        assert decision.body["value"] == 4 and decision.body["by"] == operator_account[0]
        current.assert_all_local()
    finally:
        current.page.context.close()
        stop()
