"""Survey form definitions published centrally (issue #13): upload as a draft, paper preview,
diff, publish as a signed feed item; the office side is in tests/end_to_end/test_form_versions.py."""
from __future__ import annotations

import io
import json

import pytest
import yaml

from central import audit, form_versions
from forms.definition import FormDefinitionError

from tests.conftest import satisfaction_v2

CODE = "THR-012"

#: The queries are the catalogue's (tested on both databases in test_content.py).
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def as_file(raw, name: str = "satisfaction.yaml") -> tuple[io.BytesIO, str]:
    text = raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    return io.BytesIO(text.encode("utf-8")), name


@pytest.fixture
def admin(central, make_user, login, web_client):
    make_user(central.store, "admin1", "admin")
    return login(web_client(central.store), "admin1")


def test_a_new_version_is_uploaded_previewed_and_published_on_the_pages(admin, central, post) -> None:
    answer = post(admin, "/content/forms", {"definition": as_file(satisfaction_v2())},
                  content_type="multipart/form-data")
    assert answer.status_code == 302 and answer.location.endswith("/content/forms/satisfaction")
    page = admin.get("/content/forms/satisfaction").get_data(as_text=True)
    assert 'data-question="cleanliness" data-change="added"' in page
    assert 'data-question="waiting_time" data-change="removed"' in page
    assert 'data-question="workflow"' not in page  # unchanged questions are not listed
    preview = admin.get("/content/forms/satisfaction/preview.png")
    assert preview.mimetype == "image/png" and preview.data.startswith(b"\x89PNG")
    assert central.store.pull(CODE, 0)["items"] == [] or all(
        i["feed"] != "form_definition" for i in central.store.pull(CODE, 0)["items"])
    assert post(admin, "/content/forms/satisfaction/publish").status_code == 302
    [item] = [i for i in central.store.pull(CODE, 0)["items"] if i["feed"] == "form_definition"]
    assert item["key"] == "satisfaction@v2" and len(item["body"]["signature"]) == 128
    assert item["body"]["definition"]["version"] == 2
    actions = [e.action for e in audit.entries(central.store, target="form:satisfaction")[0]]
    assert actions == ["form_publish", "form_upload"]
    listing = admin.get("/content/forms").get_data(as_text=True)
    assert "نسخه‌ی ۲" in listing


def test_an_administrator_reaches_every_content_page_from_the_menu(admin) -> None:
    home = admin.get("/admin/triage").get_data(as_text=True)  # an administrator's first page
    assert 'href="/content/catalogue"' in home
    page = admin.get("/content/catalogue").get_data(as_text=True)
    links = ["/content/catalogue", "/content/offices", "/content/contacts", "/content/announcements",
             "/content/forms"]
    for link in links:
        assert f'href="{link}"' in page
        assert admin.get(link).status_code == 200
    forms_page = admin.get("/content/forms").get_data(as_text=True)
    assert 'href="/content/forms" aria-current="page"' in forms_page


def test_a_malformed_definition_is_refused_in_persian_and_nothing_is_stored(admin, central, post) -> None:
    broken = satisfaction_v2()
    broken["questions"][1]["kind"] = "stars"
    answer = post(admin, "/content/forms", {"definition": as_file(broken)}, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "satisfaction.yaml، بخش questions[1] (workflow).kind" in page and "پذیرفته نیست" in page
    assert form_versions.versions(central.store, "satisfaction") == []
    assert audit.entries(central.store, target="form:satisfaction")[0] == []


def test_a_yaml_syntax_error_names_its_line(central) -> None:
    with pytest.raises(FormDefinitionError) as caught:
        form_versions.upload(central.store, "id: satisfaction\nquestions: [\n  - {id: a\n", actor="t", name="f.yaml")
    assert "سطر ۳، ستون ۳" in caught.value.message_fa and "line 3, column 3" in caught.value.message_en
    assert form_versions.versions(central.store, "satisfaction") == []


def test_a_form_too_tall_for_the_sheet_is_refused(central) -> None:
    raw = satisfaction_v2()
    raw["questions"].insert(4, {**raw["questions"][4], "id": "quietness"})
    with pytest.raises(FormDefinitionError, match="A4 sheet has room for"):
        form_versions.upload(central.store, yaml.safe_dump(raw, allow_unicode=True), actor="t")
    assert form_versions.versions(central.store, "satisfaction") == []


def test_only_administrators_upload_and_publish_forms(central, post, make_user, login, web_client) -> None:
    make_user(central.store, "ana", "analyst")
    analyst = login(web_client(central.store), "ana")
    assert analyst.get("/content/forms").status_code == 403
    assert post(analyst, "/content/forms", {"definition": as_file(satisfaction_v2())},
                content_type="multipart/form-data").status_code == 403
    form_versions.upload(central.store, yaml.safe_dump(satisfaction_v2(), allow_unicode=True), actor="t")
    assert post(analyst, "/content/forms/satisfaction/publish").status_code == 403
    make_user(central.store, "admin2", "admin")
    admin = login(web_client(central.store), "admin2")
    assert admin.post("/content/forms/satisfaction/publish").status_code == 400  # no CSRF token
    assert form_versions.draft(central.store, "satisfaction") is not None


def test_the_command_line_refuses_a_broken_file_and_publishes_a_good_one(tmp_path, store, store_url, monkeypatch) -> None:
    from click.testing import CliRunner

    from seda.cli import main

    monkeypatch.setenv("SEDA_HOME", str(tmp_path / "home"))
    run = CliRunner()
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: satisfaction\nquestions: [\n", encoding="utf-8")
    refused = run.invoke(main, ["central", "forms", "upload", str(broken), "--store", store_url])
    assert refused.exit_code == 1 and "broken.yaml: YAML یا JSON درستی نیست، سطر ۳" in refused.output
    good = tmp_path / "v2.yaml"
    good.write_text(yaml.safe_dump(satisfaction_v2(), allow_unicode=True), encoding="utf-8")
    assert run.invoke(main, ["central", "forms", "upload", str(good), "--store", store_url]).exit_code == 0
    published = run.invoke(main, ["central", "forms", "publish", "satisfaction", "--store", store_url])
    assert published.exit_code == 0 and "Version 2 of form satisfaction is published" in published.output
    listed = json.loads(run.invoke(main, ["central", "forms", "list", "--json", "--store", store_url]).output)
    assert listed[0]["in_use"] == 2 and listed[0]["versions"][0]["status"] == "published"


def test_a_published_versions_sheet_link_asks_that_versions_questions_on_the_portal(central) -> None:
    from datetime import date

    from central.portal_survey import token_form
    from forms.survey_tokens import SheetRef, SurveyToken

    form_versions.upload(central.store, yaml.safe_dump(satisfaction_v2(), allow_unicode=True), actor="t")
    form_versions.publish_draft(central.store, central.keys, "satisfaction", actor="t")
    sheet = SurveyToken(CODE, date.today(), "n", b"", sheet=SheetRef("satisfaction", 2, 7))
    assert "cleanliness" in [q.id for q in token_form(sheet, central.store).questions]
