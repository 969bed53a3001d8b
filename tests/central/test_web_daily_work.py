"""A responder's day in the central web app: a text preview in the inbox, people's names,
per-unit answer templates with placeholders, a wide answer box and save-and-next."""
from __future__ import annotations

import pytest

from central import Store, audit
from central.answer_templates import AnswerTemplate, TemplateError, fill, load, parse
from central.casework import Casework
from forms.cases import format_tracking_code
from forms.persian import to_persian_digits

LONG_TEXT = "کارت هوشمند من پس از سه ماه هنوز صادر نشده است " * 6


@pytest.fixture
def unit(store: Store, case_office, login, make_user, web_client):
    """Unit 'licences' with head sara and member reza (display names differ from logins)."""
    make_user(store, "sara", "responder", unit="licences", display_name="سارا محمدی")
    make_user(store, "reza", "responder", unit="licences", display_name="رضا کریمی")
    cw = Casework(store)
    cw.save_unit("licences", "صدور مجوز", "Licences", head="sara", actor="t")
    cw.add_rule(case_type="complaint", unit="licences", actor="t")

    class Unit:
        pass

    u = Unit()
    u.sara, u.reza = login(web_client(store), "sara"), login(web_client(store), "reza")
    u.office = case_office(store, u.sara)
    u.cw = cw
    return u


def _html(answer) -> str:
    return answer.get_data(as_text=True)


def test_the_inbox_shows_the_first_words_of_each_case(store, unit) -> None:
    unit.office.file(text=LONG_TEXT)
    html = _html(unit.sara.get("/cases/"))
    assert 'class="inbox-preview"' in html
    assert "کارت هوشمند من پس از سه ماه" in html and LONG_TEXT.strip() not in html and "…" in html


def test_an_inbox_view_is_one_audit_entry_naming_the_cases_whose_text_it_showed(store, unit) -> None:
    first, _ = unit.office.file(text=LONG_TEXT)
    second, _ = unit.office.file(text="درخواست دوم")
    unit.sara.get("/cases/")
    [entry] = audit.entries(store, action="case_preview")[0]
    assert (entry.actor, entry.target) == ("sara", "inbox")
    assert sorted(entry.detail.split()) == sorted([first, second])


def test_the_inbox_names_the_assignee_by_display_name(store, unit) -> None:
    uuid, _code = unit.office.file()
    unit.cw.assign(uuid, "reza", actor="sara")
    html = _html(unit.sara.get("/cases/"))
    assert "رضا کریمی" in html and ">reza<" not in html


def test_a_template_is_checked_for_unknown_placeholders() -> None:
    assert parse(" پاسخ  عمومی ", "پرونده {code} بررسی شد.") == AnswerTemplate("پاسخ عمومی", "پرونده {code} بررسی شد.")
    with pytest.raises(TemplateError, match="name"):
        parse("بد", "سلام {name}")
    with pytest.raises(TemplateError):
        parse("", "متن")


def test_filling_a_template_keeps_a_placeholder_the_case_lacks() -> None:
    template = AnswerTemplate("t", "پرونده {code} دربارهٔ {service}")
    assert fill(template, {"code": "۱۲۳۴", "service": ""}) == "پرونده ۱۲۳۴ دربارهٔ {service}"


def test_the_unit_head_adds_a_template_and_a_member_uses_it_filled_for_the_case(store, unit, post) -> None:
    answer = post(unit.sara, "/templates/", {"title": "در حال صدور", "text": "کارت پرونده {code} در حال صدور است."})
    assert answer.status_code == 302
    assert load(store, "licences") == [AnswerTemplate("در حال صدور", "کارت پرونده {code} در حال صدور است.")]
    uuid, code = unit.office.file()
    page = _html(unit.reza.get(f"/cases/{uuid}"))
    assert "در حال صدور" in page and f"/cases/{uuid}?template=1#answer" in page
    filled = _html(unit.reza.get(f"/cases/{uuid}", query_string={"template": "1"}))
    shown = to_persian_digits(format_tracking_code(code))
    assert f">کارت پرونده {shown} در حال صدور است.</textarea>" in filled


def test_only_the_unit_head_adds_templates(store, unit, post) -> None:
    answer = post(unit.reza, "/templates/", {"title": "x", "text": "y"})
    assert answer.status_code == 403 and load(store, "licences") == []


def test_a_template_with_an_unknown_placeholder_is_refused_and_kept_in_the_form(store, unit, post) -> None:
    answer = post(unit.sara, "/templates/", {"title": "نام", "text": "سلام {name} عزیز"})
    html = _html(answer)
    assert answer.status_code == 400 and "جای‌نگهدار ناشناخته" in html and "سلام {name} عزیز" in html
    assert load(store, "licences") == []


def test_the_answer_box_is_wide_and_tall(store, unit) -> None:
    uuid, _code = unit.office.file()
    html = _html(unit.reza.get(f"/cases/{uuid}"))
    assert 'class="panel answer-panel"' in html and 'rows="12"' in html


def test_save_and_next_opens_the_next_open_case(store, unit, post) -> None:
    first, _ = unit.office.file()
    second, _ = unit.office.file()
    answer = post(unit.reza, f"/cases/{first}/answer", {"text": "پاسخ داده شد.", "then": "next"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{second}")
    assert unit.cw.case(first).status == "answered"


def test_save_and_next_on_the_last_case_returns_to_the_inbox(store, unit, post) -> None:
    only, _ = unit.office.file()
    answer = post(unit.reza, f"/cases/{only}/answer", {"text": "پاسخ.", "then": "next"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/cases/")
    assert "پرونده باز دیگری" in _html(unit.reza.get("/cases/"))
