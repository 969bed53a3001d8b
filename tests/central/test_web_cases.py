"""Unit inboxes and case pages of the central web app, on SQLite and PostgreSQL: who sees
which case, the misconduct wall, audited views, answering, statuses, sealed reports."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from forms.persian import to_persian_digits
from forms.cases import format_tracking_code
from central import Store
from central.casework import Casework
from central import audit

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def desk(store: Store, case_office, login, make_user, web_client):
    """A unit 'licences' (head: sara, member: reza) with a rule sending complaints to it, a
    second unit, oversight, an auditor, an analyst and an admin, each signed in."""
    make_user(store, "sara", "responder", unit="licences")
    make_user(store, "reza", "responder", unit="licences")
    make_user(store, "omid", "responder", unit="permits")
    cw = Casework(store)
    cw.save_unit("licences", "صدور مجوز", "Licences", head="sara", actor="t")
    cw.add_rule(case_type="complaint", unit="licences", actor="t")
    for name, role in (("bazras", "oversight"), ("hesab", "auditor"), ("tahlil", "analyst"),
                       ("modir", "admin")):
        make_user(store, name, role)

    class Desk:
        pass

    d = Desk()
    for name in ("sara", "reza", "omid", "bazras", "hesab", "tahlil", "modir"):
        setattr(d, name, login(web_client(store), name))
    d.office = case_office(store, d.sara)
    d.cw = cw
    return d


def _html(answer) -> str:
    return answer.get_data(as_text=True)


def _fa(code: str) -> str:
    return to_persian_digits(code)


def _shown(code: str) -> str:
    """A tracking code as the pages show it: Persian digits in groups of four."""
    return to_persian_digits(format_tracking_code(code))


def _actions(store: Store, target: str) -> list[str]:
    return [e.action for e in audit.entries(store, target=target)[0]]


# -- inbox ---------------------------------------------------------------------------------------


def test_responder_inbox_lists_their_units_cases_only(store: Store, desk) -> None:
    mine, code = desk.office.file()
    other, other_code = desk.office.file(case_type="request")  # no rule: triage
    html = _html(desk.sara.get("/cases/"))
    assert _shown(code) in html and _shown(other_code) not in html
    assert _html(desk.omid.get("/cases/")).count("/cases/" + mine) == 0


def test_inbox_tracking_code_search_accepts_persian_digits(store: Store, desk) -> None:
    uuid, code = desk.office.file()
    desk.office.file()
    html = _html(desk.sara.get("/cases/", query_string={"code": _fa(code)}))
    assert html.count('class="code" href="/cases/') == 1 and f"/cases/{uuid}" in html


def test_inbox_filter_assigned_to_me(store: Store, desk) -> None:
    uuid, _ = desk.office.file()
    desk.office.file()
    desk.cw.assign(uuid, "reza", actor="sara")
    html = _html(desk.reza.get("/cases/?assignee=me"))
    assert html.count('class="code" href="/cases/') == 1 and f"/cases/{uuid}" in html


def test_overdue_case_is_highlighted_with_days_late(store: Store, desk) -> None:
    desk.office.file(created_at=datetime.now(timezone.utc) - timedelta(days=40))
    html = _html(desk.sara.get("/cases/"))
    assert 'class="overdue"' in html and "روز کاری دیرکرد" in html


def test_fresh_case_shows_working_days_left(store: Store, desk) -> None:
    desk.office.file()
    assert "روز کاری مانده" in _html(desk.sara.get("/cases/"))


def test_unit_head_sees_escalated_cases_and_members_do_not(store: Store, desk) -> None:
    uuid, _ = desk.office.file(created_at=datetime.now(timezone.utc) - timedelta(days=40))
    desk.cw.escalate_overdue()
    head = _html(desk.sara.get("/cases/?status=escalated"))
    assert f"/cases/{uuid}" in head and "نمای رئیس واحد" in head
    assert "نمای رئیس واحد" not in _html(desk.reza.get("/cases/"))
    assert 'value="escalated"' not in _html(desk.reza.get("/cases/"))


def test_a_voice_case_plays_in_the_inbox_and_listening_is_audited(store: Store, desk) -> None:
    desk.cw.add_rule(case_type="voice", unit="licences", actor="t")
    wav = b"RIFF" + b"\x00" * 40
    uuid, _ = desk.office.file(case_type="voice", service=None, text="", attachments=[(wav, "audio/wav")])
    page = _html(desk.sara.get("/cases/"))
    players = re.findall(r'<audio class="inbox-player"[^>]*src="([^"]+)"', page)
    assert players == [f"/cases/{uuid}/attachments/{hashlib.sha256(wav).hexdigest()}"]
    assert "attachment_view" not in _actions(store, f"case:{uuid}")  # listed, not yet heard
    heard = desk.sara.get(players[0])
    assert heard.status_code == 200 and heard.data == wav
    assert "attachment_view" in _actions(store, f"case:{uuid}")
    assert desk.omid.get(players[0]).status_code == 404  # another unit's member never hears it


def test_inbox_pages_fifty_cases_at_a_time(store: Store, desk) -> None:
    for _ in range(51):
        desk.office.file()
    first = _html(desk.sara.get("/cases/"))
    second = _html(desk.sara.get("/cases/?page=۲"))
    assert first.count('class="code" href="/cases/') == 50
    assert second.count('class="code" href="/cases/') == 1


# -- the case page --------------------------------------------------------------------------------


def test_case_page_shows_text_and_identity_and_is_audited(store: Store, desk, citizen_mobile,
                                                          citizen_name, citizen_national_id) -> None:
    uuid, _ = desk.office.file(identity=True)
    html = _html(desk.reza.get(f"/cases/{uuid}"))
    assert "کارت هوشمند من" in html and citizen_name in html
    assert _fa(citizen_national_id) in html and _fa(citizen_mobile) in html
    [entry] = audit.entries(store, target=f"case:{uuid}", action="case_view")[0]
    assert entry.actor == "reza" and "national_id" in entry.detail


def test_anonymous_case_shows_no_identity(store: Store, desk, citizen_name) -> None:
    uuid, _ = desk.office.file(anonymous=True)
    html = _html(desk.sara.get(f"/cases/{uuid}"))
    assert "بی‌نام" in html and citizen_name not in html


def test_responder_of_another_unit_is_refused_the_case(store: Store, desk) -> None:
    uuid, _ = desk.office.file()
    assert desk.omid.get(f"/cases/{uuid}").status_code == 404


def test_auditor_reads_a_case_but_has_no_actions(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    html = _html(desk.hesab.get(f"/cases/{uuid}"))
    assert "کارت هوشمند من" in html and "فقط می‌توانید ببینید" in html
    assert post(desk.hesab, f"/cases/{uuid}/note", {"text": "x"}).status_code == 403


@pytest.mark.parametrize("who", ["tahlil", "modir"])
def test_analysts_and_admins_have_no_case_pages(store: Store, desk, who: str) -> None:
    uuid, _ = desk.office.file()
    client = getattr(desk, who)
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/cases/{uuid}").status_code == 403


def test_image_attachment_is_inline_and_its_download_audited(store: Store, desk) -> None:
    uuid, _ = desk.office.file(attachments=[(PNG, "image/png")])
    html = _html(desk.sara.get(f"/cases/{uuid}"))
    [url] = re.findall(r'<img src="([^"]+)"', html)
    answer = desk.sara.get(url)
    assert answer.status_code == 200 and answer.data == PNG and answer.mimetype == "image/png"
    assert _actions(store, f"case:{uuid}")[0] == "attachment_view"


def test_audio_attachment_gets_a_player(store: Store, desk) -> None:
    uuid, _ = desk.office.file(attachments=[(b"OggS" + b"1" * 40, "audio/ogg")])
    assert "<audio controls" in _html(desk.sara.get(f"/cases/{uuid}"))


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def test_svg_attachment_is_a_download_never_shown_inline(store: Store, desk) -> None:
    uuid, _ = desk.office.file(attachments=[(SVG, "image/svg+xml")])
    html = _html(desk.sara.get(f"/cases/{uuid}"))
    assert "<img" not in html
    [url] = re.findall(r'<a href="(/cases/[^"]+/attachments/[^"]+)"', html)
    answer = desk.sara.get(url)
    assert answer.status_code == 200 and answer.data == SVG
    assert answer.mimetype == "application/octet-stream"
    assert answer.headers["Content-Disposition"].startswith("attachment;")


def test_html_attachment_is_a_download_never_shown_inline(store: Store, desk) -> None:
    uuid, _ = desk.office.file(attachments=[(b"<script>alert(1)</script>", "text/html")])
    sha = desk.cw.case_body(uuid)["attachments"][0]
    answer = desk.sara.get(f"/cases/{uuid}/attachments/{sha}")
    assert answer.mimetype == "application/octet-stream"
    assert answer.headers["Content-Disposition"].startswith("attachment;")


def test_attachments_are_sent_with_nosniff_and_a_sandbox_csp(store: Store, desk) -> None:
    uuid, _ = desk.office.file(attachments=[(PNG, "image/png"), (SVG, "image/svg+xml")])
    for sha in desk.cw.case_body(uuid)["attachments"]:
        answer = desk.sara.get(f"/cases/{uuid}/attachments/{sha}")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_timeline_and_duplicate_suggestions_link_same_person(store: Store, desk) -> None:
    first, _ = desk.office.file(identity=True)
    second, _ = desk.office.file(identity=True, text="موضوع دیگری درباره همان کارت")
    html = _html(desk.sara.get(f"/cases/{second}"))
    assert f'href="/cases/{first}"' in html and "همان شهروند" in html
    assert "روند پرونده" in html


# -- actions ----------------------------------------------------------------------------------------


def test_answering_the_citizen_changes_status_flashes_and_audits(store: Store, desk, post) -> None:
    uuid, code = desk.office.file()
    answer = post(desk.reza, f"/cases/{uuid}/answer", {"text": "کارت شما صادر شد."},
                  follow_redirects=True)
    html = _html(answer)
    assert "پاسخ ثبت شد" in html and "کارت شما صادر شد." in html
    assert desk.cw.case(uuid).status == "answered"
    assert _actions(store, f"case:{uuid}")[1] == "case_answer"
    assert store.public_cases(tracking_codes=[code])[0]["answer"] == "کارت شما صادر شد."


def test_empty_answer_is_refused_in_persian(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    answer = post(desk.reza, f"/cases/{uuid}/answer", {"text": "   "})
    assert answer.status_code == 400 and "متن پاسخ خالی است" in _html(answer)


def test_answer_text_survives_a_refused_submission(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    typed = "پاسخی که نباید گم شود، " * 400  # over the 8000-character limit: refused
    answer = post(desk.reza, f"/cases/{uuid}/answer", {"text": typed})
    assert answer.status_code == 400 and typed.strip() in _html(answer)


def test_note_is_internal_and_normalised(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    post(desk.reza, f"/cases/{uuid}/note", {"text": "تماس گرفته شد ۲ بار"})
    [event] = [e for e in desk.cw.events(uuid) if e.event == "note"]
    assert not event.public and event.actor == "reza"
    assert _actions(store, f"case:{uuid}")[0] == "case_note"


def test_only_allowed_status_transitions_are_accepted(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    assert post(desk.reza, f"/cases/{uuid}/status", {"status": "in_progress"}).status_code == 302
    refused = post(desk.reza, f"/cases/{uuid}/status", {"status": "in_progress"})
    assert refused.status_code == 400 and "نمی‌توان" in _html(refused)
    assert desk.cw.case(uuid).status == "in_progress"


def test_head_assigns_to_a_member_and_member_cannot_assign_others(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    refused = post(desk.reza, f"/cases/{uuid}/assign", {"assignee": "sara"})
    assert refused.status_code == 400 and "فقط رئیس واحد" in _html(refused)
    assert post(desk.sara, f"/cases/{uuid}/assign", {"assignee": "reza"}).status_code == 302
    assert desk.cw.case(uuid).assignee == "reza"
    assert _actions(store, f"case:{uuid}")[0] == "case_assign"


def test_head_cannot_assign_outside_the_unit(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    answer = post(desk.sara, f"/cases/{uuid}/assign", {"assignee": "omid"})
    assert answer.status_code == 400 and "کاربر «omid» عضو واحد «صدور مجوز» نیست" in _html(answer)


def test_member_takes_a_case_for_themselves(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    assert post(desk.reza, f"/cases/{uuid}/assign", {"assignee": "me"}).status_code == 302
    assert desk.cw.case(uuid).assignee == "reza"


def test_refer_moves_the_case_to_another_unit(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    assert post(desk.reza, f"/cases/{uuid}/refer", {"unit": "permits"}).status_code == 302
    assert desk.cw.case(uuid).unit == "permits"
    assert desk.reza.get(f"/cases/{uuid}").status_code == 404
    assert desk.omid.get(f"/cases/{uuid}").status_code == 200


def test_reject_as_duplicate_by_persian_tracking_code(store: Store, desk, post) -> None:
    original, code = desk.office.file()
    copy, _ = desk.office.file()
    answer = post(desk.reza, f"/cases/{copy}/reject", {"reason": "duplicate", "original": _fa(code),
                                                        "note": "تکراری است"})
    assert answer.status_code == 302
    case = desk.cw.case(copy)
    assert (case.status, case.duplicate_of) == ("rejected_duplicate", original)


def test_reject_as_not_ours(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file()
    post(desk.reza, f"/cases/{uuid}/reject", {"reason": "not_ours", "note": "به شهرداری مراجعه کنید"})
    assert desk.cw.case(uuid).status == "rejected_not_ours"


def test_case_action_without_csrf_is_refused(store: Store, desk) -> None:
    uuid, _ = desk.office.file()
    assert desk.reza.post(f"/cases/{uuid}/note", data={"text": "x"}).status_code == 400
    assert [e for e in desk.cw.events(uuid) if e.event == "note"] == []


# -- the misconduct wall -----------------------------------------------------------------------------


def test_misconduct_report_is_invisible_to_everyone_but_oversight(store: Store, desk, citizen_name, post) -> None:
    uuid, code = desk.office.file(case_type="misconduct", text="کارمند باجه ۳ رشوه خواست", identity=True,
                                  attachments=[(PNG, "image/png")])
    sha = __import__("hashlib").sha256(PNG).hexdigest()
    for who in ("sara", "reza", "omid", "hesab"):
        client = getattr(desk, who)
        for url in ("/cases/", "/cases/?status=all", f"/cases/?code={_fa(code)}", "/cases/?type=misconduct"):
            html = _html(client.get(url))
            assert uuid not in html and "رشوه" not in html, (who, url)
        assert client.get(f"/cases/{uuid}").status_code == 404, who
        assert client.get(f"/cases/{uuid}/attachments/{sha}").status_code == 404, who
        assert post(client, f"/cases/{uuid}/note", {"text": "x"}).status_code in (403, 404), who
    for who in ("tahlil", "modir"):
        assert getattr(desk, who).get(f"/cases/{uuid}").status_code == 403
        assert "رشوه" not in _html(getattr(desk, who).get("/admin/triage"))
    html = _html(desk.bazras.get(f"/cases/?code={code}"))
    assert f"/cases/{uuid}" in html
    page = _html(desk.bazras.get(f"/cases/{uuid}"))
    assert "رشوه" in page and citizen_name in page
    assert desk.bazras.get(f"/cases/{uuid}/attachments/{sha}").status_code == 200


def test_oversight_sees_only_oversight_cases(store: Store, desk) -> None:
    uuid, _ = desk.office.file()
    assert desk.bazras.get(f"/cases/{uuid}").status_code == 404
    assert f"/cases/{uuid}" not in _html(desk.bazras.get("/cases/?status=all"))


def test_oversight_answers_a_misconduct_report(store: Store, desk, post) -> None:
    uuid, _ = desk.office.file(case_type="misconduct", text="گزارش")
    assert post(desk.bazras, f"/cases/{uuid}/answer", {"text": "رسیدگی شد."}).status_code == 302
    assert desk.cw.case(uuid).status == "answered"


def test_sealed_report_stays_sealed_without_the_key(store: Store, desk, citizen_name) -> None:
    key = X25519PrivateKey.generate()
    uuid, _ = desk.office.file(case_type="misconduct", text="متن مهروموم", identity=True,
                               sealed_to=key.public_key())
    html = _html(desk.bazras.get(f"/cases/{uuid}"))
    assert "مهروموم‌شده" in html and "متن مهروموم" not in html and citizen_name not in html


def _oversight_public(client):
    return client.application.extensions["seda.central_keys"].oversight_private().public_key()


def test_sealed_report_opens_for_oversight_with_the_key_on_the_server(store: Store, desk, citizen_name) -> None:
    uuid, _ = desk.office.file(case_type="misconduct", text="متن مهروموم", identity=True,
                               sealed_to=_oversight_public(desk.bazras))
    html = _html(desk.bazras.get(f"/cases/{uuid}"))
    assert "متن مهروموم" in html and citizen_name in html


def test_sealed_report_stays_sealed_for_an_auditor_even_with_the_key_on_the_server(store: Store, desk) -> None:
    uuid, _ = desk.office.file(case_type="misconduct", text="متن مهروموم", identity=True,
                               sealed_to=_oversight_public(desk.bazras))
    assert desk.hesab.get(f"/cases/{uuid}").status_code == 404


def test_case_page_in_english_is_ltr(store: Store, desk) -> None:
    uuid, _ = desk.office.file()
    desk.sara.get("/lang?to=en")
    html = _html(desk.sara.get(f"/cases/{uuid}"))
    assert '<html lang="en" dir="ltr">' in html and "The citizen&#39;s text" in html
