"""The analysis pages at /analysis (central/web/insight.py), through the real central app
and a Flask test client, on SQLite and PostgreSQL: the fairness rule, intervals, Persian digits
and Jalali months, roles, the comment browser (audited crops, normalised search, keyset pages),
question (2) per service, case counts and CSV downloads."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from central import Store, analysis, service_catalogue
from central.keys import CentralKeys
from central.db.connection import Connection

OFFICE = "THR-012"
IN_AZAR = "2026-12-01T08:00:00.000000Z"  # 1405-09-10 in Tehran
RULE = "کمتر از ۳۰ پاسخ — برای مقایسه کافی نیست"
PNG = b"\x89PNG\r\n\x1a\n" + b"handwriting" * 10


def response(*, office: str = OFFICE, created_at: str = IN_AZAR, source: str = "kiosk",
             extra: dict | None = None, **answers) -> tuple:
    body = {"source": source, "form": "satisfaction", "form_version": 1,
            "answers": {"service": "smart_id_card", "desk": "07", **answers}, **(extra or {})}
    return (str(uuid.uuid4()), office, "survey_response", created_at, json.dumps(body, ensure_ascii=False))


def case(case_type: str, text: str, *, created_at: str = IN_AZAR, **fields) -> tuple:
    body = {"type": case_type, "text": text, "service": "smart_id_card", **fields}
    return (str(uuid.uuid4()), OFFICE, "case", created_at, json.dumps(body, ensure_ascii=False))


def add(store: Store, rows: list[tuple]) -> None:
    """Insert records as ingest leaves them (like tests/central/test_analysis.py)."""
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')",
                       rows)


def paper_comment(store: Store, *, writing: bool = True, data: bytes = PNG, **answers) -> str:
    """A scanned sheet whose comment box was kept as a crop (scanner/pipeline.py's shape)."""
    sha = hashlib.sha256(data).hexdigest()
    store.put_blob(sha, data)
    row = response(source="paper", extra={"status": "accepted", "attachments": {"comment": sha},
                                          "writing": {"comment": writing}}, **answers)
    add(store, [attachment(sha, len(data)), row])  # the scanner stores the crop's record too
    return row[0]


def attachment(sha: str, size: int, *, office: str = OFFICE) -> tuple:
    body = {"sha256": sha, "media_type": "image/png", "size": size, "role": "scan_crop"}
    return (str(uuid.uuid4()), office, "attachment", IN_AZAR, json.dumps(body))


@pytest.fixture(scope="session")
def analyst(login, make_user, web_client):
    def analyst(store: Store, role: str = "analyst", *, clock = None):
        make_user(store, "ana", role)
        return login(web_client(store, clock=clock), "ana")

    return analyst


def page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def row_of(html: str, group: str) -> str:
    """The first table row (or list item) of ``group``."""
    match = re.search(rf'<(tr|li)[^>]*data-group="{re.escape(group)}"[^>]*>.*?</\1>', html, re.S)
    assert match, f"no row for {group}"
    return match.group(0)


def section(html: str, ident: str) -> str:
    start = html.index(f'id="{ident}"')
    return html[start:html.index("</table>", start)]


def audit_rows(store: Store, action: str) -> list[tuple]:
    with store.connect() as db:
        return db.all("SELECT actor, target, detail FROM audit_log WHERE action = ? ORDER BY id", (action,))


# -- the dashboard ------------------------------------------------------------------------


def test_a_desk_with_29_responses_is_greyed_with_the_rule_and_never_ranked(store: Store, analyst) -> None:
    add(store, [response(desk="01", staff_behaviour=3) for _ in range(30)]
        + [response(desk="02", staff_behaviour=5) for _ in range(29)])
    html = page(analyst(store), "/analysis/?month=1405-09")
    small = row_of(section(html, "table-desk"), f"{OFFICE}/02")
    assert 'class="insufficient"' in small and RULE in small
    assert 'class="sufficient"' in row_of(section(html, "table-desk"), f"{OFFICE}/01")
    ranking = section(html, "table-ranking")
    assert f'data-group="{OFFICE}/01"' in ranking and f'data-group="{OFFICE}/02"' not in ranking
    assert RULE in row_of(html[html.index('id="unranked"'):], f"{OFFICE}/02")


def test_the_dashboard_states_the_fairness_rule(store: Store, analyst) -> None:
    add(store, [response(overall=4)])
    html = page(analyst(store), "/analysis/?month=1405-09")
    assert RULE in html[html.index('id="fairness-rule"'):]


def test_means_are_shown_with_their_95_percent_interval(store: Store, analyst) -> None:
    add(store, [response(overall=v) for v in (1, 2, 3, 4, 5)])
    html = page(analyst(store), "/analysis/?month=1405-09")
    # mean 3, t(0.975, 4) * sqrt(2.5 / 5) = 1.96: 1.04 .. 4.96 (test_central_analysis checks the maths)
    assert '<span class="value">۳٫۰۰</span> <span class="ci">(۱٫۰۴–۴٫۹۶)</span>' in row_of(html, "kiosk")


def test_figures_are_in_persian_digits_under_the_jalali_month(store: Store, analyst) -> None:
    add(store, [response(overall=4) for _ in range(12)])
    html = page(analyst(store), "/analysis/?month=1405-09")
    assert "آذر ۱۴۰۵" in html
    row = row_of(html, "kiosk")
    assert '<td class="n">۱۲</td>' in row
    assert not re.search(r"[0-9]", re.sub(r"<[^>]+>", "", row))


def test_the_default_month_is_the_current_one_in_tehran(store: Store, analyst, make_clock) -> None:
    # 2026-11-21 21:00 UTC is already 1405-09-01 (Azar) in Tehran, still Aban in UTC terms
    clock = make_clock(datetime(2026, 11, 21, 21, 0, tzinfo=timezone.utc))
    html = page(analyst(store, clock=clock), "/analysis/")
    assert '<option value="1405-09" selected>' in html


def test_the_english_locale_shows_latin_digits_and_english_month_names(store: Store, analyst) -> None:
    add(store, [response(overall=4) for _ in range(12)])
    client = analyst(store)
    client.set_cookie("seda_lang", "en")
    html = page(client, "/analysis/?month=1405-09")
    assert "Azar 1405" in html and '<td class="n">12</td>' in row_of(html, "kiosk")


def test_paper_and_kiosk_are_shown_apart(store: Store, analyst) -> None:
    add(store, [response(source="paper", overall=2), response(source="kiosk", overall=5)])
    table = section(page(analyst(store), "/analysis/?month=1405-09"), "table-source")
    assert "کاغذی" in row_of(table, "paper") and "کیوسک" in row_of(table, "kiosk")


def test_portal_answers_are_labelled_as_the_portal_in_both_languages(store: Store, analyst) -> None:
    add(store, [response(source="portal", overall=4), response(source="kiosk", overall=5)])
    client = analyst(store)
    table = section(page(client, "/analysis/?month=1405-09"), "table-source")
    assert "درگاه اینترنتی" in row_of(table, "portal")
    client.set_cookie("seda_lang", "en")
    table = section(page(client, "/analysis/?month=1405-09"), "table-source")
    assert "Online portal" in row_of(table, "portal")


def test_comments_filter_by_the_portal_source(store: Store, analyst) -> None:
    add(store, [response(source="portal", comment="از درگاه نوشتم"), response(comment="در کیوسک نوشتم")])
    html = page(analyst(store), "/analysis/comments?month=1405-09&source=portal")
    assert "از درگاه نوشتم" in html and "در کیوسک نوشتم" not in html


def test_the_charts_on_the_dashboard_are_well_formed_svg(store: Store, analyst) -> None:
    add(store, [response(overall=v) for v in (3, 4, 5)])
    html = page(analyst(store), "/analysis/?month=1405-09")
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 3  # service bars, office bars, trend
    for svg in svgs:
        assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"


def test_a_month_that_does_not_exist_is_refused_in_persian(store: Store, analyst) -> None:
    answer = analyst(store).get("/analysis/?month=1405-13")
    assert answer.status_code == 400 and "ماه معتبر نیست" in answer.get_data(as_text=True)


def test_cases_are_counted_by_type_and_no_text_is_shown(store: Store, analyst) -> None:
    from sync.batch import BatchRecord
    from central import casework

    rows = [case("complaint", "صف طولانی"), case("complaint", "صف طولانی"),
            case("misconduct", "کارمند رشوه خواست", route="oversight")]
    add(store, rows)
    with store.connect() as db, db.transaction():  # what ingest does with a batch's cases
        casework.intake(db, [BatchRecord(u, k, o, c, json.loads(b)) for u, o, k, c, b in rows], IN_AZAR)
    html = page(analyst(store), "/analysis/?month=1405-09")
    table = section(html, "table-cases")
    assert "شکایت" in table and "<td class=\"n\">۲</td>" in table and "گزارش تخلف" in table
    assert "رشوه" not in html and "صف طولانی" not in html


def test_a_dashboard_makes_as_many_queries_for_many_responses_as_for_one(store: Store, monkeypatch,
                                                                         analyst) -> None:
    analysis.ensure_analysis_indexes(store)
    client = analyst(store)
    counted = {"n": 0}
    execute = Connection.execute

    def counting(self, sql, params=()):
        counted["n"] += 1
        return execute(self, sql, params)

    monkeypatch.setattr(Connection, "execute", counting)

    def queries() -> int:
        counted["n"] = 0
        page(client, "/analysis/?month=1405-09")
        return counted["n"]

    add(store, [response(overall=4)])
    page(client, "/analysis/?month=1405-09")  # fold the pending response into the roll-ups
    few = queries()
    add(store, [response(office=f"O-{i % 7}", desk=f"{i % 11:02d}", service=f"s{i % 5}", overall=1 + i % 5)
                for i in range(400)])
    page(client, "/analysis/?month=1405-09")
    assert queries() == few < 40


# -- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["responder", "auditor", "oversight"])
def test_other_roles_are_refused_every_analysis_page(store: Store, role: str, login, make_user,
                                                     web_client) -> None:
    make_user(store, "someone", role, unit="licences" if role == "responder" else None)
    client = login(web_client(store), "someone")
    uuid_ = paper_comment(store)
    for url in ("/analysis/", "/analysis/announcements", "/analysis/comments",
                f"/analysis/comments/{uuid_}/crop.png", "/analysis/export/responses.csv",
                "/analysis/services/smart_id_card"):
        assert client.get(url).status_code == 403, url
    assert audit_rows(store, "view_comment_crop") == []


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analysts_and_administrators_may_see_the_dashboard(store: Store, role: str, analyst) -> None:
    assert analyst(store, role).get("/analysis/").status_code == 200


def test_nobody_signed_in_is_sent_to_sign_in(store: Store, web_client) -> None:
    answer = web_client(store).get("/analysis/comments")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


# -- question (2) ----------------------------------------------------------------------------


def test_question_two_lists_the_largest_no_share_first_with_intervals(store: Store, analyst) -> None:
    add(store, [response(service="death_registration", matched_announcement="yes") for _ in range(30)]
        + [response(service="smart_id_card", matched_announcement="no") for _ in range(20)]
        + [response(service="smart_id_card", matched_announcement="yes") for _ in range(10)])
    html = page(analyst(store), "/analysis/announcements?month=1405-09")
    table = section(html, "table-announcements")
    assert table.index('data-group="smart_id_card"') < table.index('data-group="death_registration"')
    assert re.search(r"۶۷٪</span> <span class=\"ci\">\(۴۹٪–۸۱٪\)", row_of(table, "smart_id_card"))


def test_each_service_links_to_its_catalogue_entry(store: Store, analyst) -> None:
    add(store, [response(service="smart_id_card", matched_announcement="no")])
    client = analyst(store)
    html = page(client, "/analysis/announcements?month=1405-09")
    assert 'href="/analysis/services/smart_id_card?month=1405-09"' in row_of(html, "smart_id_card")
    entry = page(client, "/analysis/services/smart_id_card?month=1405-09")
    catalogue = analysis.service_catalogue(store)["smart_id_card"]
    assert catalogue["documents"][0]["fa"] in entry and "۳٬۰۰۰٬۰۰۰ ریال" in entry


# -- comments ---------------------------------------------------------------------------------


def test_a_handwritten_crop_is_served_and_every_view_is_audited(store: Store, analyst) -> None:
    uuid_ = paper_comment(store)
    client = analyst(store)
    html = page(client, "/analysis/comments?month=1405-09")
    assert f'src="/analysis/comments/{uuid_}/crop.png"' in html
    for _ in range(2):
        answer = client.get(f"/analysis/comments/{uuid_}/crop.png")
        assert answer.status_code == 200 and answer.data == PNG and answer.mimetype == "image/png"
        assert "no-store" in answer.headers["Cache-Control"]
    assert [(a, t) for a, t, _ in audit_rows(store, "view_comment_crop")] == [("ana", f"survey_response:{uuid_}")] * 2


def test_only_comment_crops_are_served_never_other_attachments(store: Store, analyst) -> None:
    other = b"an evidence photo of a case"
    store.put_blob(hashlib.sha256(other).hexdigest(), other)
    typed = response(comment="خوب بود")
    add(store, [typed])
    client = analyst(store)
    assert client.get(f"/analysis/comments/{typed[0]}/crop.png").status_code == 404
    assert client.get(f"/analysis/comments/{uuid.uuid4()}/crop.png").status_code == 404


def test_comment_search_finds_arabic_ye_and_kaf_with_persian_letters(store: Store, analyst) -> None:
    add(store, [response(comment="كارمند يك ساعت دير آمد"), response(comment="همه چیز خوب بود")])
    client = analyst(store)
    html = page(client, "/analysis/comments?month=1405-09&q=کارمند یک")
    assert "كارمند يك ساعت" in html and "همه چیز خوب" not in html
    html = page(client, "/analysis/comments?month=1405-09&q=چيز")  # Arabic ye finds Persian ye
    assert "همه چیز خوب" in html and "كارمند" not in html


def test_comment_search_matches_persian_and_latin_digits(store: Store, analyst) -> None:
    add(store, [response(comment="باجه ۷ بسته بود")])
    assert "باجه ۷ بسته" in page(analyst(store), "/analysis/comments?month=1405-09&q=باجه 7")


def test_blank_comment_boxes_are_hidden_unless_asked_for(store: Store, analyst) -> None:
    written = paper_comment(store, writing=True)
    blank = paper_comment(store, writing=False, data=PNG + b"blank")
    client = analyst(store)
    html = page(client, "/analysis/comments?month=1405-09")
    assert written in html and blank not in html
    html = page(client, "/analysis/comments?month=1405-09&writing=no")
    assert blank in html and written not in html


def test_comments_filter_by_source_and_office(store: Store, analyst) -> None:
    crop = paper_comment(store)
    add(store, [response(comment="در کیوسک نوشتم"), response(office="ISF-001", comment="اصفهان")])
    client = analyst(store)
    html = page(client, "/analysis/comments?month=1405-09&source=paper")
    assert crop in html and "در کیوسک نوشتم" not in html
    html = page(client, "/analysis/comments?month=1405-09&office=ISF-001")
    assert "اصفهان" in html and "در کیوسک نوشتم" not in html and crop not in html


def test_comments_are_paged_newest_first_without_overlap(store: Store, analyst) -> None:
    add(store, [response(comment=f"نظر {i}", created_at=f"2026-12-01T08:{i // 60:02d}:{i % 60:02d}.000000Z")
                for i in range(55)])
    client = analyst(store)
    first = page(client, "/analysis/comments?month=1405-09")
    uuids_first = re.findall(r'data-uuid="([^"]+)"', first)
    assert len(uuids_first) == analysis.COMMENT_PAGE and "نظر ۵۴" not in first  # stored text is shown as typed
    assert "نظر 54" in first and "نظر 4<" not in first
    following = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = page(client, following)
    uuids_second = re.findall(r'data-uuid="([^"]+)"', second)
    assert len(uuids_second) == 5 and not set(uuids_first) & set(uuids_second)
    assert 'rel="next"' not in second


def test_the_comment_browser_shows_no_personal_data_and_logs_the_view(store: Store, analyst) -> None:
    add(store, [response(comment="نظر من", mobile="09121234567", follow_up_consent="yes")])
    html = page(analyst(store), "/analysis/comments?month=1405-09")
    assert "نظر من" in html and "0912" not in html and "۰۹۱۲" not in html
    assert audit_rows(store, "view_comments")[0][:2] == ("ana", "comments:1405-09")


# -- downloads --------------------------------------------------------------------------------


def test_the_cases_download_has_no_identity_and_no_misconduct_text(store: Store, analyst) -> None:
    add(store, [case("complaint", "صف طولانی", name="علی رضایی", national_id="0012345679", mobile="09121234567"),
                case("misconduct", "کارمند رشوه خواست", route="oversight")])
    answer = analyst(store).get("/analysis/export/cases.csv?month=1405-09")
    assert answer.status_code == 200 and answer.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert {r["type"] for r in rows} == {"complaint", "misconduct"}
    assert all(r["name"] == r["national_id"] == r["mobile"] == "" for r in rows)
    assert "رشوه" not in answer.data.decode("utf-8-sig")
    assert audit_rows(store, "export_cases")[0][:2] == ("ana", "analysis:1405-09")


def test_the_responses_download_reuses_the_export_columns(store: Store, analyst) -> None:
    add(store, [response(overall=4, mobile="09121234567")])
    answer = analyst(store).get("/analysis/export/responses.csv?month=1405-09")
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["overall"] == "4" and "mobile" not in rows[0]


def test_the_downloads_quote_comments_that_would_start_a_formula(store: Store, analyst) -> None:
    add(store, [response(overall=4, comment='=HYPERLINK("http://evil.example","x")'),
                response(overall=3, comment="@SUM(A1)"), response(overall=5, comment="خوب بود")])
    answer = analyst(store).get("/analysis/export/responses.csv?month=1405-09")
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert sorted(r["comment"] for r in rows) == sorted(
        ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)", "خوب بود"])
    assert sorted(r["overall"] for r in rows) == ["3", "4", "5"]


def test_question_two_says_which_catalogue_version_each_answer_was_compared_with(
        store: Store, analyst, tmp_path, service_entry) -> None:
    keys = CentralKeys(tmp_path / "central-home", store)
    entry = {**service_entry("smart_id_card", fee=5000000, effective_from="2026-12-05"), "version": 0}
    service_catalogue.save_draft(store, entry, offices=[], actor="admin1")
    service_catalogue.publish_draft(store, keys, "smart_id_card", actor="admin1")
    add(store, [response(service="smart_id_card", matched_announcement="no"),  # 1405-09-10: built-in
                response(service="smart_id_card", matched_announcement="yes",
                         created_at="2026-12-10T08:00:00.000000Z")])
    row = row_of(page(analyst(store), "/analysis/announcements?month=1405-09"), "smart_id_card")
    assert "پیش از نخستین انتشار شناسنامه: ۱ پاسخ" in row
    assert "نسخهٔ ۱ شناسنامه (اجرا از ۱۴۰۵/۰۹/۱۴): ۱ پاسخ" in row
