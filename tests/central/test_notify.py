"""SMS notifications (central/notify/): who is told of what, the outbox's retries and limits,
the HTTP panel adapter against a fake panel on 127.0.0.1, and `seda central notify`."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from central.app import create_app
from central.casework import Casework
from central.cli import central_group
from central.notify import outbox
from central.notify.gateways import HttpGateway, HttpSettings, LogGateway, Outcome
from central.notify.messages import EVENTS, message_for, sms_parts
from central.notify.sender import run_once
from central.held_reports import release_due
from central.portal_intake import file_case, file_report, new_submission_id
from forms.case_form import CaseDraft

URL = "https://portal.example.ir"
TEXT = "کارمند باجه‌ی سه پاسخ نداد"
LATER = timedelta(minutes=5)  # past the outbox's settling time


def _later() -> datetime:
    return datetime.now(timezone.utc) + LATER


def _portal_case(store, *, consent: bool = True, mobile: str = "09121234567"):
    draft = CaseDraft(type="complaint", service="other", text=TEXT, anonymous=False, mobile=mobile)
    return file_case(store, draft, submission=new_submission_id(),
                     extra={"sms_consent": True} if consent else {})


def _rows(store):
    with store.connect() as db:
        return db.all("SELECT event, mobile, message, status, tries, last_error FROM notifications"
                      " ORDER BY id")


def _answer(store, case_uuid: str, text: str = "کارت شما صادر شد") -> None:
    work = Casework(store)
    work.save_unit("cards", "واحد کارت", "Cards", actor="admin")
    if work.case(case_uuid).unit != "cards":
        work.refer(case_uuid, "cards", actor="admin")
    work.answer(case_uuid, text, actor="admin")


# -- the message --------------------------------------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
def test_each_message_fits_one_sms_and_holds_the_code_and_the_link(event):
    text = message_for(event, "123456789012", URL)
    assert sms_parts(text) == 1
    assert "۱۲۳۴۵۶۷۸۹۰۱۲" in text and "portal.example.ir" in text


def test_a_long_portal_address_drops_the_case_path_before_taking_a_second_part():
    text = message_for("answered", "123456789012", "https://eservice.sabtahval.gov.ir")
    assert sms_parts(text) == 1 and text.endswith("eservice.sabtahval.gov.ir")


def test_sms_parts_counts_persian_in_ucs2_units():
    assert sms_parts("س" * 70) == 1 and sms_parts("س" * 71) == 2 and sms_parts("a" * 160) == 1


# -- who is told of what ------------------------------------------------------------------


def test_a_consenting_citizen_is_told_the_case_is_registered_without_its_text(store):
    _portal_case(store)
    assert outbox.collect(store, public_url=URL, now=_later()) == 1
    ((event, mobile, message, status, _, _),) = _rows(store)
    assert (event, mobile, status) == ("registered", "09121234567", "pending")
    assert TEXT not in message and "ثبت شد" in message


def test_no_consent_no_message(store):
    _portal_case(store, consent=False)
    assert outbox.collect(store, public_url=URL, now=_later()) == 0
    assert _rows(store) == []


def test_a_kiosk_case_with_a_mobile_but_no_consent_is_not_texted(store, case_sender):
    case_sender(store).file(identity=True)
    assert outbox.collect(store, public_url=URL, now=_later()) == 0


def test_a_misconduct_report_is_never_texted(store, tmp_path):
    from central.keys import CentralKeys

    home = tmp_path / "central-home"
    home.mkdir(mode=0o700)
    keys = CentralKeys(home, store)
    draft = CaseDraft(type="misconduct", service="other", text=TEXT, anonymous=False,
                      mobile="09121234567")
    file_report(store, keys, draft, submission=new_submission_id())
    an_hour_later = datetime.now(timezone.utc) + timedelta(hours=1, minutes=5)
    assert release_due(store, an_hour_later) == 1  # in the oversight inbox, as after its hour
    assert outbox.collect(store, public_url=URL, now=an_hour_later) == 0


def test_an_answer_is_told_once_however_often_the_outbox_looks(store):
    filed = _portal_case(store)
    _answer(store, filed.case_uuid)
    assert outbox.collect(store, public_url=URL, now=_later()) == 2
    assert outbox.collect(store, public_url=URL, now=_later()) == 0
    events = [row[0] for row in _rows(store)]
    assert events == ["registered", "answered"]
    assert "پاسخ گرفت" in _rows(store)[1][2]


def test_a_case_answered_again_after_the_citizen_reopened_it_is_told_again(store):
    from central.verdicts import record_verdict

    filed = _portal_case(store)
    _answer(store, filed.case_uuid)
    outbox.collect(store, public_url=URL, now=_later())
    record_verdict(store, filed.case_uuid, solved=False)
    time.sleep(1.1)  # the second answer's time differs from the first's
    Casework(store).answer(filed.case_uuid, "دوباره بررسی شد", actor="admin")
    assert outbox.collect(store, public_url=URL, now=_later()) == 1
    assert [row[0] for row in _rows(store)] == ["registered", "answered", "answered"]


def test_a_case_past_its_deadline_is_told_once(store):
    filed = _portal_case(store)
    Casework(store).escalate_overdue(datetime.now(timezone.utc) + timedelta(days=60))
    outbox.collect(store, public_url=URL, now=datetime.now(timezone.utc) + timedelta(days=60, minutes=5),
                   max_age=timedelta(days=90))
    assert [row[0] for row in _rows(store)] == ["registered", "overdue"]
    assert filed.case_uuid


def test_events_older_than_the_limit_are_not_texted(store):
    _portal_case(store)
    assert outbox.collect(store, public_url=URL,
                          now=datetime.now(timezone.utc) + timedelta(days=3)) == 0


def test_a_young_event_is_read_again_until_it_has_settled(store):
    _portal_case(store)
    assert outbox.collect(store, public_url=URL) == 1  # queued at once ...
    with store.connect() as db:  # ... but the cursor waits for it to settle
        assert db.one("SELECT value FROM settings WHERE key = 'notify_cursor'") is None
    assert outbox.collect(store, public_url=URL, now=_later()) == 0
    with store.connect() as db:
        assert db.one("SELECT value FROM settings WHERE key = 'notify_cursor'") is not None


def test_one_mobile_gets_at_most_the_daily_limit(store):
    for _ in range(3):
        _portal_case(store)
    assert outbox.collect(store, public_url=URL, now=_later(), daily_limit=2) == 2
    statuses = [row[3] for row in _rows(store)]
    assert statuses == ["pending", "pending", "failed"]
    assert "daily limit" in _rows(store)[2][5]


# -- sending: retries, back-off, nothing twice --------------------------------------------


class _Flaky:
    name = "flaky"

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[int] = []

    def send(self, notification):
        self.sent.append(notification.id)
        return self.outcomes.pop(0)


def test_a_failed_try_waits_a_doubling_back_off_then_is_sent(store):
    _portal_case(store)
    gateway = _Flaky(Outcome("retry", error="503"), Outcome("retry", error="503"), Outcome("sent", "m-1"))
    now = _later()
    first = run_once(store, gateway, public_url=URL, now=now)
    assert (first.queued, first.sent, first.retrying) == (1, 0, 1)
    assert run_once(store, gateway, public_url=URL, now=now + timedelta(seconds=29)).retrying == 0
    assert run_once(store, gateway, public_url=URL, now=now + timedelta(seconds=30)).retrying == 1
    assert run_once(store, gateway, public_url=URL, now=now + timedelta(seconds=89)).sent == 0
    assert run_once(store, gateway, public_url=URL, now=now + timedelta(seconds=91)).sent == 1
    assert len(gateway.sent) == 3
    with store.connect() as db:
        assert db.one("SELECT status, tries, gateway_id FROM notifications") == ("sent", 3, "m-1")


def test_the_outbox_gives_up_after_the_last_try(store):
    _portal_case(store)
    gateway = _Flaky(*[Outcome("retry", error="down")] * outbox.MAX_TRIES)
    now = _later()
    for _ in range(outbox.MAX_TRIES):
        run_once(store, gateway, public_url=URL, now=now)
        now += timedelta(hours=1)
    ((_, _, _, status, tries, error),) = _rows(store)
    assert (status, tries) == ("failed", outbox.MAX_TRIES) and "gave up" in error


def test_a_message_left_sending_by_a_dead_sender_is_never_sent_again(store):
    _portal_case(store)
    now = _later()
    outbox.collect(store, public_url=URL, now=now)
    assert len(outbox.claim(store, now=now)) == 1  # the sender dies here
    gateway = _Flaky()
    run_once(store, gateway, public_url=URL, now=now + timedelta(minutes=11))
    assert gateway.sent == [] and _rows(store)[0][3] == "failed"


def test_a_message_that_waited_too_long_is_not_sent(store):
    _portal_case(store)
    outbox.collect(store, public_url=URL, now=_later())
    gateway = _Flaky()
    run_once(store, gateway, public_url=URL, now=_later() + timedelta(days=3))
    assert gateway.sent == [] and "too late" in _rows(store)[0][5]


# -- the HTTP panel adapter, against a fake panel ----------------------------------------


class _Panel:
    """An SMS panel on 127.0.0.1: answers with the next of ``replies`` (status, JSON body,
    seconds to wait first) and keeps every request it got."""

    def __init__(self, *replies: tuple[int, dict, float]) -> None:
        self.replies, self.requests = list(replies), []
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                panel.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers),
                                       "body": self.rfile.read(length).decode("utf-8")})
                status, body, wait = panel.replies.pop(0)
                time.sleep(wait)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def panel_factory():
    panels = []

    def make(*replies):
        panels.append(_Panel(*replies))
        return panels[-1]

    yield make
    for panel in panels:
        panel.close()


def _gateway(panel, **overrides) -> HttpGateway:
    settings = {"url": panel.url + "/api/send", "headers": {"Authorization": "Bearer {env:SMS_TOKEN}"},
                "template": {"receptor": "{mobile_intl}", "message": "{message}", "ref": "{id}"},
                "success_path": "return.status", "success_value": "200",
                "id_path": "entries.0.messageid", **overrides}
    return HttpGateway(HttpSettings(**settings))


def test_the_http_panel_gets_the_template_filled_and_its_message_id_is_kept(store, panel_factory,
                                                                           monkeypatch):
    monkeypatch.setenv("SMS_TOKEN", "s3cret")
    panel = panel_factory((200, {"return": {"status": 200}, "entries": [{"messageid": 8812}]}, 0))
    _portal_case(store)
    result = run_once(store, _gateway(panel), public_url=URL, now=_later())
    assert result.sent == 1
    (request,) = panel.requests
    assert request["method"] == "POST" and request["headers"]["Authorization"] == "Bearer s3cret"
    body = json.loads(request["body"])
    assert body["receptor"] == "989121234567" and "۱۲۳۴۵۶۷۸۹۰۱۲" not in TEXT
    assert body["message"].startswith("ثبت شد") and TEXT not in body["message"]
    with store.connect() as db:
        assert db.one("SELECT status, gateway_id FROM notifications") == ("sent", "8812")


def test_a_panel_that_is_down_is_tried_again_later(store, panel_factory):
    panel = panel_factory((503, {"error": "busy"}, 0), (200, {}, 0))
    gateway = _gateway(panel, headers={}, success_path=None, id_path=None)
    _portal_case(store)
    now = _later()
    assert run_once(store, gateway, public_url=URL, now=now).retrying == 1
    assert run_once(store, gateway, public_url=URL, now=now + timedelta(minutes=1)).sent == 1
    assert len(panel.requests) == 2


def test_a_panel_refusal_fails_the_message_without_retrying(store, panel_factory):
    panel = panel_factory((200, {"return": {"status": 418, "message": "credit"}}, 0))
    _portal_case(store)
    result = run_once(store, _gateway(panel, headers={}), public_url=URL, now=_later())
    assert result.failed == 1 and "refused" in result.errors[0]
    assert run_once(store, _gateway(panel, headers={}), public_url=URL,
                    now=_later() + timedelta(hours=2)).sent == 0
    assert len(panel.requests) == 1


def test_no_answer_after_sending_is_not_sent_twice(store, panel_factory):
    panel = panel_factory((200, {}, 2.0))
    gateway = _gateway(panel, headers={}, success_path=None, id_path=None, timeout=0.5)
    _portal_case(store)
    result = run_once(store, gateway, public_url=URL, now=_later())
    assert result.failed == 1 and "unknown" in result.errors[0]
    run_once(store, gateway, public_url=URL, now=_later() + timedelta(hours=2))
    assert len(panel.requests) == 1


def test_an_unreachable_panel_is_retried(store):
    gateway = HttpGateway(HttpSettings(url="http://127.0.0.1:9/api"))
    _portal_case(store)
    assert run_once(store, gateway, public_url=URL, now=_later()).retrying == 1


def test_a_get_panel_carries_the_fields_in_the_query(store, panel_factory):
    panel = panel_factory((200, {}, 0))
    gateway = _gateway(panel, method="GET", encoding="query", headers={}, success_path=None,
                       id_path=None)
    _portal_case(store)
    run_once(store, gateway, public_url=URL, now=_later())
    assert panel.requests[0]["path"].startswith("/api/send?receptor=989121234567&message=")


def test_the_log_gateway_masks_the_mobile(caplog, store):
    _portal_case(store)
    with caplog.at_level("INFO", logger="seda.central.notify"):
        assert run_once(store, LogGateway(), public_url=URL, now=_later()).sent == 1
    assert "0912***4567" in caplog.text and "09121234567" not in caplog.text


# -- the command line ---------------------------------------------------------------------


def test_notify_run_sends_through_the_configured_panel_and_status_reports_it(store, store_url,
                                                                            panel_factory, tmp_path):
    panel = panel_factory((200, {"id": "x1"}, 0))
    config = tmp_path / "sms.toml"
    config.write_text(f'gateway = "http"\n[http]\nurl = "{panel.url}/send"\nid_path = "id"\n'
                      '[http.template]\nto = "{mobile}"\ntext = "{message}"\n', encoding="utf-8")
    filed = _portal_case(store)
    with store.connect() as db:  # settled: older than the outbox waits for
        db.execute("UPDATE case_events SET at = ? WHERE case_uuid = ?",
                   ((datetime.now(timezone.utc) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    filed.case_uuid))
    runner = CliRunner()
    ran = runner.invoke(central_group, ["notify", "run", "--store", store_url, "--config", str(config),
                                        "--public-url", URL])
    assert ran.exit_code == 0, ran.output
    assert "sent 1" in ran.output and json.loads(panel.requests[0]["body"])["to"] == "09121234567"
    status = runner.invoke(central_group, ["notify", "status", "--store", store_url, "--json"])
    assert status.exit_code == 0 and json.loads(status.output)["counts"]["sent"] == 1


def test_notify_run_refuses_settings_naming_a_missing_secret(store_url, tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SMS_KEY", raising=False)
    config = tmp_path / "sms.toml"
    config.write_text('gateway = "http"\n[http]\nurl = "http://127.0.0.1:9/"\n'
                      '[http.headers]\nAuthorization = "{env:NO_SUCH_SMS_KEY}"\n', encoding="utf-8")
    ran = CliRunner().invoke(central_group, ["notify", "run", "--store", store_url, "--config",
                                             str(config), "--public-url", URL])
    assert ran.exit_code == 2 and "NO_SUCH_SMS_KEY" in ran.output


def test_notify_run_needs_the_portal_address(store_url, monkeypatch):
    monkeypatch.delenv("SEDA_PORTAL_PUBLIC_URL", raising=False)
    ran = CliRunner().invoke(central_group, ["notify", "run", "--store", store_url])
    assert ran.exit_code == 2 and "--public-url" in ran.output


def test_notify_run_refuses_a_malformed_portal_address_persian_then_english(store_url):
    ran = CliRunner().invoke(central_group, ["notify", "run", "--store", store_url, "--public-url", "portal"])
    assert ran.exit_code == 2
    assert ran.output.startswith("تنظیمات پیامک درست نیست: نشانی درگاه «portal» باید مانند")
    assert "/ SMS settings cannot be used: The portal address 'portal' must look like" in ran.output


def test_notify_status_exits_1_after_a_failure(store, store_url):
    _portal_case(store)
    run_once(store, _Flaky(Outcome("failed", error="refused")), public_url=URL, now=_later())
    status = CliRunner().invoke(central_group, ["notify", "status", "--store", store_url])
    assert status.exit_code == 1 and "refused" in status.output and "0912***4567" in status.output


# -- delivery reports: the panel calls back ------------------------------------------------


def _sent_through_panel(store, panel_factory, monkeypatch) -> None:
    monkeypatch.setenv("SMS_TOKEN", "s3cret")
    panel = panel_factory((200, {"return": {"status": 200}, "entries": [{"messageid": 8812}]}, 0))
    _portal_case(store)
    assert run_once(store, _gateway(panel), public_url=URL, now=_later()).sent == 1


def _central_with_panel(store, tmp_path, secret: str | None = "dlr-secret"):
    config = tmp_path / "sms.toml"
    config.write_text('gateway = "http"\n[http]\nurl = "http://127.0.0.1:9/api/send"\n'
                      + (f'delivery_secret = "{secret}"\n' if secret else ""), encoding="utf-8")
    return create_app(store, home=tmp_path, sms_settings=config).test_client()


def test_a_delivery_report_marks_the_message_delivered(store, panel_factory, monkeypatch, tmp_path):
    _sent_through_panel(store, panel_factory, monkeypatch)
    central = _central_with_panel(store, tmp_path)
    answer = central.post("/v1/sms/delivery?secret=dlr-secret", data={"id": "8812", "status": "Delivered"})
    assert answer.status_code == 200 and answer.get_json() == {"status": "delivered"}
    assert outbox.counts(store)["delivered"] == 1
    late_failure = central.post("/v1/sms/delivery", json={"messageid": 8812, "status": "failed"},
                                headers={"Authorization": "Bearer dlr-secret"})
    assert late_failure.get_json() == {"status": "unchanged"}  # a settled message stays settled


def test_an_undelivered_report_fails_the_message_with_the_panels_word(store, panel_factory, monkeypatch,
                                                                      tmp_path):
    _sent_through_panel(store, panel_factory, monkeypatch)
    central = _central_with_panel(store, tmp_path)
    assert central.post("/v1/sms/delivery", data={"id": "8812", "status": "UNDELIV", "secret": "dlr-secret"}
                        ).get_json() == {"status": "failed"}
    assert _rows(store)[0][3:] == ("failed", 1, "the panel reports: UNDELIV")


def test_delivery_reports_need_the_shared_secret_and_are_off_without_one(store, panel_factory, monkeypatch,
                                                                         tmp_path):
    _sent_through_panel(store, panel_factory, monkeypatch)
    central = _central_with_panel(store, tmp_path)
    assert central.post("/v1/sms/delivery", data={"id": "8812", "status": "delivered"}).status_code == 401
    assert central.post("/v1/sms/delivery?secret=wrong", data={"id": "8812", "status": "delivered"}
                        ).status_code == 401
    assert central.post("/v1/sms/delivery?secret=dlr-secret", data={"id": "1", "status": "delivered"}
                        ).status_code == 404
    (tmp_path / "other").mkdir()
    off = _central_with_panel(store, tmp_path / "other", secret=None)
    assert off.post("/v1/sms/delivery", data={"id": "8812", "status": "delivered"}).status_code == 404
    assert outbox.counts(store)["sent"] == 1
