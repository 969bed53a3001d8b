"""The central office web app in a real browser: Debian's Chromium at a desk (1366x900, fa-IR,
Tehran time), driven by Playwright.

One central server (waitress, like ``seda central serve``) runs for the module on a SQLite store
seeded with the demo units, rules and people (central/demo_seed.py); an office sends real
signed batches: cases of several types (one misconduct report, one with a photo) and survey
responses, so every page has something on it.  Each role signs in through the real sign-in page
and opens every page it may; on each one: Persian RTL (or English LTR after the language link),
Vazirmatn loaded, axe-core (tests/vendor/) finds no WCAG 2.2 AA violation, no request leaves the
server, no console error.  Screenshots of the most useful pages go to
SEDA_SCREENSHOTS/central-NN-<name>.png (docs/screenshots/ when scripts/screenshots.sh runs).
"""
from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from central import open_store
from central.demo_seed import DEMO_USERS, seed_central_demo
from central.server import start_central
from tests.conftest import satisfaction_v2

pytestmark = pytest.mark.slow

PASSWORD = "demo-password-1405"


# -- the central office, with cases and survey responses ---------------------------------------


@dataclass
class Central:
    url: str
    cases: dict[str, str] = field(default_factory=dict)   # name -> case uuid
    codes: dict[str, str] = field(default_factory=dict)   # name -> tracking code
    responses: int = 0


def photo_png() -> bytes:
    """A small real PNG (the browser must decode it on the case page)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 160), "#dfe8e6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 220, 140), outline="#0a5c55", width=6)
    draw.line((20, 140, 120, 60, 220, 140), fill="#7a3e00", width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def voice_wav() -> bytes:
    """Half a second of a 440 Hz tone as a real WAV (the triage player must be able to load it)."""
    import math
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"".join(int(8000 * math.sin(2 * math.pi * 440 * i / 8000)).to_bytes(2, "little", signed=True)
                                 for i in range(4000)))
    return out.getvalue()


def send_responses(office, answers: list[dict]) -> None:
    """Survey responses as the office sends them: one signed batch (``POST /v1/batches``);
    a ``comment_crop`` (PNG bytes) becomes a handwritten comment box from a scanned sheet."""
    import hashlib

    from sync.batch import BatchRecord, encode_batch, format_time

    now = datetime.now(timezone.utc)
    at = format_time(now)
    records = []
    for i, given in enumerate(answers):
        given = dict(given)
        source = given.pop("source", "kiosk")
        crop = given.pop("comment_crop", None)
        created = format_time(now - timedelta(minutes=len(answers) - i))
        body = {"source": source, "form": "satisfaction", "form_version": 1,
                "answers": {"service": "smart_id_card", "desk": "07", **given}}
        if crop is not None:
            sha = hashlib.sha256(crop).hexdigest()
            office.store.put_blob(sha, crop)
            records.append(BatchRecord(uuid=str(uuid.uuid4()), kind="attachment", office=office.code,
                                       created_at=created, body={"sha256": sha, "media_type": "image/png",
                                                                 "size": len(crop)}))
            body.update(status="accepted", attachments={"comment": sha}, writing={"comment": True})
        records.append(BatchRecord(uuid=str(uuid.uuid4()), kind="survey_response", office=office.code,
                                   created_at=created, body=body))
    office.seq += 1
    data = encode_batch(office=office.code, seq=office.seq, records=records, key=office.key, created_at=at)
    answer = office.client.post("/v1/batches", data=data)
    assert answer.status_code == 200, answer.get_data(as_text=True)


def survey_answers() -> list[dict]:
    answers = []
    for i in range(36):  # desk 07 at THR-012: enough answers to be ranked
        answers.append({"workflow": 3 + i % 3, "matched_announcement": ("yes", "partly", "no")[i % 3],
                        "staff_behaviour": 4 + i % 2, "overall": 3 + i % 3})
    for i in range(12):  # desk 03: too few, shown greyed and never ranked
        answers.append({"desk": "03", "service": "birth_registration", "workflow": 2 + i % 2,
                        "matched_announcement": "no", "staff_behaviour": 3, "overall": 2 + i % 3,
                        "source": "paper"})
    answers.append({"overall": 2, "comment": "صف خیلی طولانی بود و کسی راهنمایی نکرد.",
                    "follow_up_consent": "yes", "mobile": "09121234567", "waiting_time": "over_60"})
    answers.append({"overall": 5, "comment": "کارمند باجه‌ی هفت بسیار مؤدب بود، سپاس."})
    answers.append({"overall": 3, "source": "paper", "comment_crop": photo_png()})
    return answers


@pytest.fixture(scope="module")
def central(tmp_path_factory, case_office, web_client):
    store = open_store(tmp_path_factory.mktemp("central") / "central.sqlite3")
    seed_central_demo(store, dict.fromkeys(DEMO_USERS, PASSWORD))
    office = case_office(store, web_client(store))
    found = Central(url="")
    filed = {
        "complaint": dict(case_type="complaint", identity=True),
        "photo": dict(case_type="complaint", text="در ورودی ساختمان شکسته است؛ عکسش را فرستادم.",
                      attachments=[(photo_png(), "image/png")]),
        "suggestion": dict(case_type="suggestion", service="other",
                           text="لطفاً برای سالمندان صندلی بیشتری در سالن انتظار بگذارید."),
        "misconduct": dict(case_type="misconduct", anonymous=True,
                           text="کارمند باجه‌ی سه برای جلو انداختن نوبت پول خواست."),
        "triage": dict(case_type="request", service="death_registration",
                       text="برای گواهی فوت پدرم چه مدارکی لازم است؟"),
        "voice": dict(case_type="voice", service=None, text="", attachments=[(voice_wav(), "audio/wav")]),
    }
    for name, given in filed.items():
        found.cases[name], found.codes[name] = office.file(**given)
    answers = survey_answers()
    send_responses(office, answers)
    found.responses = len(answers)
    running = start_central(store)
    found.url = running.url
    yield found
    running.stop()
    store.close()



#: Inputs a sighted person cannot name: no visible <label> (for= or around it) with text.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')].filter(el => {
    if (el.type === 'hidden' || el.type === 'submit' || !el.checkVisibility()) return false;
    const labels = [...(el.labels || [])];
    return !labels.some(l => l.checkVisibility() && l.innerText.trim().length > 0);
}).map(el => el.outerHTML.slice(0, 120))"""
#: Header cells that do not say whether they head a row or a column.
HEADERS_WITHOUT_SCOPE = """() => [...document.querySelectorAll('th')]
    .filter(th => !['col', 'row', 'colgroup', 'rowgroup'].includes(th.getAttribute('scope')))
    .map(th => th.outerHTML.slice(0, 120))"""


# -- a desk in a browser -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def Desk(axe_violations, screenshots):
    class Desk:
        """A desktop browser page plus the checks every central page must pass."""

        def __init__(self, page, base: str) -> None:
            self.page = page
            self.base = base
            self.requests: list[str] = []
            self.console_errors: list[str] = []
            page.on("request", lambda request: self.requests.append(request.url))
            page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(
                f"{page.url}: {msg.text} ({msg.location.get('url')})"))
            page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: {error}"))

        def go(self, path: str) -> None:
            answer = self.page.goto(self.base + path)
            assert answer is not None and answer.status == 200, (path, answer and answer.status)

        def sign_in(self, name: str) -> None:
            self.go("/login")
            self.page.fill("#name", name)
            self.page.fill("#password", PASSWORD)
            with self.page.expect_navigation():
                self.page.click("main button[type=submit]")
            assert "/login" not in self.page.url, self.page.locator("main").inner_text()

        def axe(self) -> list[dict]:
            return axe_violations(self.page, with_summary=True)

        def check_page(self, name: str, shot: str | None = None, lang: str = "fa") -> None:
            """What every central page must be: Persian RTL (English LTR when chosen), in
        Vazirmatn, accessible, quiet in the console; ``shot`` names its screenshot."""
            self.page.wait_for_load_state("load")
            self.page.evaluate("document.fonts.ready.then(() => true)")
            html = self.page.locator("html")
            expected = ("en", "ltr") if lang == "en" else ("fa", "rtl")
            assert (html.get_attribute("lang"), html.get_attribute("dir")) == expected, name
            assert self.page.evaluate("document.fonts.check('16px Vazirmatn')"), name
            assert self.page.evaluate("[...document.fonts].some(f => f.family.replace(/\"/g, '') === 'Vazirmatn'"
                                      " && f.status === 'loaded')"), name
            violations = self.axe()
            assert violations == [], f"{name}: {json.dumps(violations, ensure_ascii=False, indent=1)}"
            assert self.page.evaluate(UNLABELLED) == [], name
            assert self.page.evaluate(HEADERS_WITHOUT_SCOPE) == [], name
            assert [c for c in self.charts()
                    if not (c["role"] == "image" and c["name"] and c["description"])] == [], name
            assert self.console_errors == [], name
            if shot:
                screenshots.mkdir(parents=True, exist_ok=True)
                self.page.screenshot(path=str(screenshots / f"central-{shot}.png"), full_page=True)

        def charts(self) -> list[dict]:
            """The role, name and description a screen reader gets for every chart (an SVG)."""
            if not self.page.locator("svg").count():
                return []
            cdp = self.page.context.new_cdp_session(self.page)
            try:
                root = cdp.send("DOM.getDocument")["root"]["nodeId"]
                found = []
                for node_id in cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "svg"})["nodeIds"]:
                    (node, *_) = cdp.send("Accessibility.getPartialAXTree",
                                          {"nodeId": node_id, "fetchRelatives": False})["nodes"]
                    found.append({key: node.get(key, {}).get("value", "")
                                  for key in ("role", "name", "description")})
                return found
            finally:
                cdp.detach()

        def visit(self, path: str, shot: str | None = None, lang: str = "fa") -> None:
            self.go(path)
            self.check_page(path, shot, lang)

        def assert_all_local(self) -> None:
            foreign = [u for u in self.requests
                       if not (u.startswith(self.base + "/") or u.startswith(("data:", "blob:")))]
            assert foreign == [], foreign

    return Desk


@pytest.fixture
def desk(browser, central, Desk):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fa-IR",
                                  timezone_id="Asia/Tehran")
    current = Desk(context.new_page(), central.url)
    yield current
    current.assert_all_local()
    assert current.console_errors == []
    context.close()


# -- every role, every page it may open ------------------------------------------------------------


def test_sign_in_page(desk):
    desk.visit("/login", "01-login")
    desk.page.fill("#name", "cards.head")
    desk.page.fill("#password", "not the password")
    with desk.page.expect_navigation():
        desk.page.click("main button[type=submit]")
    assert desk.page.locator("#login-error").is_visible()
    # the refusal is answered 401, which Chromium reports in the console: that one is expected
    refused = [e for e in desk.console_errors if "status of 401" in e and "/login" in e]
    assert len(refused) == 1
    desk.console_errors.remove(refused[0])
    desk.check_page("login refused")


def test_administrator_pages(desk, central):
    desk.sign_in("admin")
    desk.visit("/admin/users", "02-admin-users")
    desk.page.locator("details summary").first.click()  # the opened edit form is checked too
    desk.check_page("users, one opened")
    desk.visit("/admin/units")
    desk.visit("/admin/rules", "03-admin-rules")
    desk.visit("/admin/holidays")
    desk.visit("/admin/deadlines")
    desk.visit("/admin/triage", "04-admin-triage")
    assert central.codes["triage"] in desk.page.locator("main").inner_text().translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")).replace("-", "").replace(" ", "")
    desk.visit("/analysis/")


def test_administrator_uploads_previews_and_publishes_a_survey_form_version(desk, central, tmp_path):
    desk.sign_in("admin")
    desk.visit("/content/forms", "18-content-forms")
    definition = tmp_path / "satisfaction.json"
    definition.write_text(json.dumps(satisfaction_v2(), ensure_ascii=False), encoding="utf-8")
    desk.page.set_input_files("#definition", str(definition))
    with desk.page.expect_navigation():
        desk.page.click("main form[enctype='multipart/form-data'] button[type=submit]")
    desk.check_page("form draft with its paper preview", "19-content-form-draft")
    assert desk.page.locator("img.sheet-preview").evaluate("img => img.complete && img.naturalWidth > 0")
    assert desk.page.locator('tr[data-change="added"]').count() == 1
    with desk.page.expect_navigation():
        desk.page.click("main form[action$='/publish'] button")
    desk.check_page("form published")
    assert desk.page.locator("img.sheet-preview").count() == 0  # no draft left
    desk.visit("/content/forms")
    assert "نسخه‌ی ۲" in desk.page.locator("main").inner_text()


def test_unit_head_inbox_and_case_with_a_photo(desk, central):
    desk.sign_in("cards.head")
    assert desk.page.url.endswith("/cases/")
    desk.check_page("inbox", "05-inbox-unit-head")
    assert desk.page.locator("table.data tbody tr").count() == 2
    desk.visit(f"/cases/{central.cases['photo']}", "06-case-photo")
    assert desk.page.locator(".attachment img").evaluate("img => img.complete && img.naturalWidth > 0")
    desk.visit(f"/cases/{central.cases['complaint']}")
    desk.visit("/cases/?status=escalated")


def test_unit_head_keeps_answer_templates_and_picks_one_on_a_case(desk, central):
    desk.sign_in("cards.head")
    desk.visit("/templates/")
    desk.page.fill("#tpl-title", "مدارک کامل است")
    desk.page.fill("#tpl-text", "پرونده‌ی {code} در {unit} بررسی شد؛ کارت شما در حال صدور است.")
    with desk.page.expect_navigation():
        desk.page.click("main form.stack button[type=submit]")
    desk.check_page("templates, one added", "15-answer-templates")
    assert "مدارک کامل است" in desk.page.locator("main").inner_text()
    desk.visit(f"/cases/{central.cases['complaint']}")
    with desk.page.expect_navigation():
        desk.page.click("nav.answer-templates a")
    desk.check_page("case, template chosen", "16-case-answer-template")
    answer = desk.page.locator("#answer textarea, textarea#answer, textarea[name=answer]").first.input_value()
    code = central.codes["complaint"]
    assert "{code}" not in answer and "در حال صدور" in answer
    assert code[-4:] in answer.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")).replace("-", "").replace(" ", "")


def test_administrator_hears_a_voice_message_in_triage(desk, central):
    desk.sign_in("admin")
    desk.visit("/admin/triage", "17-admin-triage-voice")
    player = desk.page.locator(".voice-player audio")
    assert player.count() == 1
    desk.page.evaluate("""() => { const a = document.querySelector('.voice-player audio');
        a.preload = 'auto'; a.load(); }""")
    for _ in range(100):  # polled from here: wait_for_function evaluates a string, which the CSP forbids
        if desk.page.evaluate("document.querySelector('.voice-player audio').readyState") >= 1:
            break
        desk.page.wait_for_timeout(50)
    assert desk.page.evaluate("document.querySelector('.voice-player audio').duration") == pytest.approx(0.5, abs=0.05)


def test_analyst_pages(desk):
    desk.sign_in("analyst")
    assert "/analysis/" in desk.page.url
    desk.check_page("dashboard", "07-analysis-dashboard")
    assert desk.page.locator("#table-ranking").count() == 1
    charts = desk.charts()  # service, office, trend: each read out with its figures
    assert len(charts) == 3 and "THR-012: " in charts[1]["description"]
    desk.visit("/analysis/announcements", "08-analysis-announcements")
    desk.visit("/analysis/services/smart_id_card", "09-analysis-service")
    desk.visit("/analysis/comments?writing=any", "10-analysis-comments")
    assert desk.page.locator(".comment-crop").evaluate("img => img.complete && img.naturalWidth > 0")
    desk.visit("/analysis/calls", "14-analysis-call-list")
    assert desk.page.locator("#table-calls tbody tr").count() == 1
    desk.page.select_option("#table-calls select", "called")
    with desk.page.expect_navigation():
        desk.page.click("#table-calls button[type=submit]")
    assert desk.page.locator('#table-calls tr[data-status="called"]').count() == 1


def test_auditor_pages(desk, central):
    desk.sign_in("auditor")
    desk.visit("/audit/", "11-audit-log")
    desk.visit("/cases/")
    desk.visit(f"/cases/{central.cases['complaint']}")


def test_oversight_sees_the_misconduct_report(desk, central):
    desk.sign_in("oversight")
    desk.visit("/cases/")
    assert desk.page.locator("table.data tbody tr").count() == 1
    desk.visit(f"/cases/{central.cases['misconduct']}", "12-case-misconduct-oversight")


def test_english_after_the_language_link(desk, central):
    desk.sign_in("analyst")
    with desk.page.expect_navigation():
        desk.page.click(".account a[href^='/lang']")
    desk.check_page("dashboard en", "13-analysis-dashboard-english", lang="en")
    assert f"n={central.responses}" in desk.charts()[1]["description"]
    desk.visit("/analysis/comments?writing=any", lang="en")
    desk.visit("/analysis/announcements", lang="en")


# -- the keyboard ---------------------------------------------------------------------------------


FOCUS_OUTLINE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    return {tag: el.tagName.toLowerCase(), text: (el.textContent || el.value || '').trim().slice(0, 40),
            outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""


def test_sign_in_with_the_keyboard_only(desk):
    desk.go("/login")
    assert desk.page.evaluate("document.activeElement.id") == "name"  # autofocus
    desk.page.keyboard.type("cards.head")
    desk.page.keyboard.press("Tab")
    assert desk.page.evaluate("document.activeElement.id") == "password"
    desk.page.keyboard.type(PASSWORD)
    with desk.page.expect_navigation():
        desk.page.keyboard.press("Enter")
    assert desk.page.url.endswith("/cases/")


def test_focus_is_visible_on_every_link_and_button(desk, central):
    desk.sign_in("cards.head")
    for path in ("/cases/", f"/cases/{central.cases['photo']}"):
        desk.go(path)
        desk.page.keyboard.press("Tab")  # the first stop: the skip link, shown when focused
        assert desk.page.evaluate("document.activeElement.classList.contains('skip-link')"), path
        assert desk.page.locator(".skip-link").is_visible()
        assert desk.page.locator(".skip-link").bounding_box()["y"] >= 0
        seen = []
        for _ in range(60):
            focused = desk.page.evaluate(FOCUS_OUTLINE)
            if focused is None:
                break
            if focused["tag"] in ("a", "button", "summary", "input", "select", "textarea"):
                seen.append(focused)
            desk.page.keyboard.press("Tab")
        assert len(seen) >= 8, path
        assert [f for f in seen if not f["outline"]] == [], path
