"""Form definitions: the shipped form loads as written, broken files are refused precisely,
and a catalogue keeps every version of a form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from forms import FormCatalog, FormDefinitionError, UnknownForm, builtin_catalog, load_form_file
from forms.definition import builtin_definitions_folder

PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")
FIVE_POINTS = [1, 2, 3, 4, 5]

# What satisfaction.v1.yaml says, written out by hand so the loader is checked against the file
# rather than against itself: (id, kind, option values, digits, columns, scale).
SATISFACTION_V1 = [
    ("service", "single",
     ["birth_registration", "death_registration", "smart_id_card", "duplicate_birth_certificate",
      "marriage_divorce", "record_correction", "birth_certificate_renewal", "certificates", "other"],
     0, 3, False),
    ("workflow", "single", FIVE_POINTS, 0, 0, True),
    ("matched_announcement", "single", ["yes", "partly", "no"], 0, 0, False),
    ("staff_behaviour", "single", FIVE_POINTS, 0, 0, True),
    ("waiting_time", "single", ["under_10", "10_30", "30_60", "over_60"], 0, 0, False),
    ("overall", "single", FIVE_POINTS, 0, 0, True),
    ("desk", "digits", [], 2, 0, False),
    ("mobile", "digits", [], 11, 0, False),
    ("follow_up_consent", "single", ["yes"], 0, 0, False),
    ("comment", "text", [], 0, 0, False),
]


# -- the shipped form ----------------------------------------------------------


@pytest.fixture(scope="module")
def satisfaction():
    return builtin_catalog().get("satisfaction", 1)


def test_shipped_satisfaction_form_has_its_id_and_version_1(satisfaction) -> None:
    assert (satisfaction.id, satisfaction.version) == ("satisfaction", 1)


def test_shipped_satisfaction_form_is_loaded_from_its_yaml_file(satisfaction) -> None:
    assert Path(satisfaction.source).name == "satisfaction.v1.yaml"


def test_shipped_satisfaction_questions_are_as_defined_in_the_yaml(satisfaction) -> None:
    loaded = [(q.id, q.kind, list(q.option_values()), q.digits, q.columns, q.scale)
              for q in satisfaction.questions]
    assert loaded == [(qid, kind, values, digits, columns, scale)
                      for qid, kind, values, digits, columns, scale in SATISFACTION_V1]


def test_shipped_satisfaction_has_persian_and_english_for_every_text(satisfaction) -> None:
    texts = [satisfaction.title, satisfaction.intro, satisfaction.instructions]
    for question in satisfaction.questions:
        texts.append(question.label)
        texts.extend(option.label for option in question.options)
    for text in texts:
        assert text.fa.strip() and text.en.strip(), text
        assert PERSIAN_LETTER.search(text.fa), f"fa label is not Persian: {text.fa!r}"


def test_five_point_scale_labels_are_shared_by_all_scale_questions(satisfaction) -> None:
    scales = [q for q in satisfaction.questions if q.scale]
    assert len({q.options for q in scales}) == 1


# -- broken definition files -----------------------------------------------------


def valid_definition() -> dict[str, Any]:
    """The smallest complete definition; each case below breaks exactly one thing in it."""
    return {
        "id": "broken",
        "version": 1,
        "title": {"fa": "عنوان", "en": "Title"},
        "intro": {"fa": "مقدمه", "en": "Intro"},
        "instructions": {"fa": "راهنما", "en": "Instructions"},
        "questions": [
            {"id": "q1", "kind": "single", "label": {"fa": "پرسش", "en": "Question"},
             "options": [{"value": "a", "label": {"fa": "الف", "en": "A"}},
                         {"value": "b", "label": {"fa": "ب", "en": "B"}}]},
            {"id": "desk", "kind": "digits", "digits": 2, "label": {"fa": "باجه", "en": "Desk"}},
            {"id": "comment", "kind": "text", "label": {"fa": "نظر", "en": "Comment"}},
        ],
    }


def write_definition(folder: Path, raw: Any, name: str = "broken.v1.yaml") -> Path:
    path = folder / name
    text = raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    with pytest.raises(FormDefinitionError) as caught:
        load_form_file(path)
    message = str(caught.value)
    assert "\n" not in message, "the CLI prints this as one line"
    assert message.startswith(f"{path}: "), "the message names the file first"
    return message


def test_valid_minimal_definition_loads(tmp_path: Path) -> None:
    form = load_form_file(write_definition(tmp_path, valid_definition()))
    assert [q.id for q in form.questions] == ["q1", "desk", "comment"]


def test_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = write_definition(tmp_path, "id: broken\nquestions: [unclosed\n  - {a: b\n")
    assert "not valid YAML" in refusal(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = write_definition(tmp_path, "")
    assert "top level: must be a mapping" in refusal(path)


def test_missing_id_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    del raw["id"]
    message = refusal(write_definition(tmp_path, raw))
    assert ": id: " in message and "not a valid form id" in message


def test_upper_case_id_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["id"] = "Broken"
    message = refusal(write_definition(tmp_path, raw))
    assert ": id: 'Broken' is not a valid form id" in message


@pytest.mark.parametrize("version", [0, -1, "1", 1.5, True, None])
def test_bad_version_is_refused(tmp_path: Path, version: Any) -> None:
    raw = valid_definition()
    raw["version"] = version
    message = refusal(write_definition(tmp_path, raw))
    assert ": version: must be a whole number >= 1" in message


def test_unknown_question_kind_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][0]["kind"] = "slider"
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).kind: 'slider' is not one of single, multi, digits, text" in message


def test_shipped_mobile_question_says_its_digits_are_a_mobile_number(satisfaction) -> None:
    assert satisfaction.question("mobile").format == "mobile"
    assert {q.id for q in satisfaction.questions if q.format} == {"mobile"}


def test_a_mobile_format_under_another_id_loads(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][1].update(id="contact_number", digits=11, format="mobile")
    assert load_form_file(write_definition(tmp_path, raw)).question("contact_number").format == "mobile"


def test_format_on_a_choice_question_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][0]["format"] = "mobile"
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).format: a single question takes no format" in message


def test_unknown_digit_format_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][1]["format"] = "postcode"
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[1] (desk).format: 'postcode' is not one of mobile" in message


def test_mobile_format_with_the_wrong_number_of_digits_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][1]["format"] = "mobile"
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[1] (desk).digits: a mobile number has 11 digits" in message


def test_duplicate_option_value_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][0]["options"][1]["value"] = "a"
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).options: duplicate value(s) ['a']" in message


def test_duplicate_question_id_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][2]["id"] = "q1"
    message = refusal(write_definition(tmp_path, raw))
    assert ": questions: duplicate question id(s) ['q1']" in message


@pytest.mark.parametrize("label", [{"en": "Question"}, {"fa": "   ", "en": "Question"}])
def test_missing_persian_label_is_refused(tmp_path: Path, label: dict) -> None:
    raw = valid_definition()
    raw["questions"][0]["label"] = label
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).label.fa: missing or empty text" in message


def test_missing_english_option_label_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    del raw["questions"][0]["options"][1]["label"]["en"]
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).options[1].label.en: missing or empty text" in message


def test_options_on_a_text_question_are_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][2]["options"] = [{"value": "a", "label": {"fa": "الف", "en": "A"}}]
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[2] (comment).options: a text question takes no options" in message


@pytest.mark.parametrize("digits", [0, 17, "2", None])
def test_digits_out_of_range_are_refused(tmp_path: Path, digits: Any) -> None:
    raw = valid_definition()
    raw["questions"][1]["digits"] = digits
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[1] (desk).digits: must be a whole number from 1 to 16" in message


def test_choice_question_without_options_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    del raw["questions"][0]["options"]
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).options: a choice question needs a non-empty list" in message


def test_unknown_top_level_field_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["colour"] = "blue"
    message = refusal(write_definition(tmp_path, raw))
    assert ": top level: unknown field(s) ['colour']" in message


def test_unknown_question_field_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][0]["mandatory"] = True
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1): unknown field(s) ['mandatory']" in message


def test_required_must_be_true_or_false(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][0]["required"] = "yes"
    message = refusal(write_definition(tmp_path, raw))
    assert "questions[0] (q1).required: must be true or false" in message


def test_the_article_9_questions_are_the_required_ones() -> None:
    form = builtin_catalog().get("satisfaction", 1)
    assert [q.id for q in form.questions if q.required] == [
        "workflow", "matched_announcement", "staff_behaviour"]


def test_file_name_not_matching_id_is_refused(tmp_path: Path) -> None:
    path = write_definition(tmp_path, valid_definition(), name="other.v1.yaml")
    message = refusal(path)
    assert ": id/version: file name must be broken.v1.yaml" in message


def test_file_name_not_matching_version_is_refused(tmp_path: Path) -> None:
    path = write_definition(tmp_path, valid_definition(), name="broken.v2.yaml")
    message = refusal(path)
    assert ": id/version: file name must be broken.v1.yaml" in message


# -- a catalogue with several versions ------------------------------------------------


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """satisfaction v1 as shipped, and a v2 that differs only in its version and title."""
    shipped = (builtin_definitions_folder() / "satisfaction.v1.yaml").read_text(encoding="utf-8")
    (tmp_path / "satisfaction.v1.yaml").write_text(shipped, encoding="utf-8")
    v2 = shipped.replace("\nversion: 1\n", "\nversion: 2\n").replace(
        "en: Visitor satisfaction survey", "en: Visitor satisfaction survey (2)")
    assert v2 != shipped
    (tmp_path / "satisfaction.v2.yaml").write_text(v2, encoding="utf-8")
    return tmp_path


def test_catalog_knows_every_version(two_versions: Path) -> None:
    assert FormCatalog.from_folders(two_versions).versions("satisfaction") == [1, 2]


def test_catalog_get_without_version_is_the_newest(two_versions: Path) -> None:
    form = FormCatalog.from_folders(two_versions).get("satisfaction")
    assert (form.version, form.title.en) == (2, "Visitor satisfaction survey (2)")


def test_catalog_still_returns_an_older_version_asked_for(two_versions: Path) -> None:
    form = FormCatalog.from_folders(two_versions).get("satisfaction", 1)
    assert (form.version, form.title.en) == (1, "Visitor satisfaction survey")


def test_catalog_unknown_version_error_lists_known_versions(two_versions: Path) -> None:
    with pytest.raises(UnknownForm, match=r"has no version 3 \(known: 1, 2\)"):
        FormCatalog.from_folders(two_versions).get("satisfaction", 3)


def test_catalog_unknown_form_error_lists_known_forms(two_versions: Path) -> None:
    with pytest.raises(UnknownForm, match=r"unknown form 'complaint' \(known forms: satisfaction\)"):
        FormCatalog.from_folders(two_versions).get("complaint")


def test_catalog_refuses_the_same_version_from_two_folders(two_versions: Path,
                                                           tmp_path_factory) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "satisfaction.v2.yaml").write_bytes((two_versions / "satisfaction.v2.yaml").read_bytes())
    with pytest.raises(FormDefinitionError, match="satisfaction v2 is also defined in"):
        FormCatalog.from_folders(two_versions, other)


def test_catalog_ignores_files_that_are_not_yaml(two_versions: Path) -> None:
    (two_versions / "README.txt").write_text("not a form", encoding="utf-8")
    assert FormCatalog.from_folders(two_versions).versions("satisfaction") == [1, 2]


def test_question_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    raw = valid_definition()
    raw["questions"][0]["id"] = "q1\n"
    message = refusal(write_definition(tmp_path, raw))
    assert "is not a valid id" in message
