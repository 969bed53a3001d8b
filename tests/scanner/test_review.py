"""`seda scan --json` output, `--store` into the ledger, and the review queue from the command
line: the machine's reading and the person's decision kept apart, the person's one winning.
"""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from seda.cli import main
from ledger.review_queue import ReviewError, effective_answers, open_items, resolve

CONTRACT_KEYS = {"source", "page", "status", "reason", "sheet", "form", "answers", "flags"}
REVIEW_MARKS = {"workflow": [2, 4], "mobile": "09123", "overall": 5}   # multiple + partial


def _run(monkeypatch, home, *args, ok=True, exit_code=0):
    """``exit_code`` of `seda scan`: 0 every page read, 1 some refused or sent to review."""
    monkeypatch.setenv("SEDA_HOME", str(home))
    result = CliRunner().invoke(main, [*map(str, args)])
    if ok:
        assert result.exit_code == exit_code, result.output
    return result


def _json_lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def review_home(tmp_path, monkeypatch, printed_sheets, fill, save, write_comment):
    """A private installation with one stored sheet that has two flagged questions."""
    home = printed_sheets.copy_home(tmp_path / "home")
    page = write_comment(fill(printed_sheets.page(3), REVIEW_MARKS))
    scan = save(page, tmp_path / "review.png")
    (line,) = _json_lines(_run(monkeypatch, home, "scan", scan, "--store", "--json", exit_code=1))
    assert line["status"] == "review"
    return home


@pytest.fixture(scope="session")
def _items(open_ledger):
    def _items(home) -> dict[str, object]:
        with open_ledger(home) as ledger:
            return {item.question: item for item in open_items(ledger)}

    return _items


# -- the JSON contract ------------------------------------------------------------------------


def test_scan_json_prints_one_object_per_page_with_the_contract_keys(tmp_path, monkeypatch,
                                                                     printed_sheets, fill, filled_answers, question_ids, save_pdf):
    pages = [fill(printed_sheets.page(0), filled_answers), printed_sheets.page(1)]
    pdf = save_pdf(pages, tmp_path / "two.pdf")
    lines = _json_lines(_run(monkeypatch, printed_sheets.home, "scan", pdf, "--json"))
    assert len(lines) == 2
    assert [line["page"] for line in lines] == [1, 2]
    for line in lines:
        assert CONTRACT_KEYS <= set(line)
        assert set(line["answers"]) == set(question_ids)
        assert line["source"] == str(pdf)
        assert line["form"] == "satisfaction"
    assert lines[0]["answers"] == {**{q: None for q in question_ids}, **filled_answers}
    assert (lines[0]["status"], lines[0]["reason"], lines[0]["flags"]) == ("accepted", None, {})


def test_an_unfilled_sheet_is_blank_with_its_own_persian_message(tmp_path, monkeypatch, printed_sheets, save):
    scan = save(printed_sheets.page(2), tmp_path / "unfilled.png")
    (line,) = _json_lines(_run(monkeypatch, printed_sheets.home, "scan", scan, "--json"))
    assert CONTRACT_KEYS <= set(line)
    assert (line["status"], line["reason"], line["sheet"]) == ("blank", "blank_sheet", "LOR-01/satisfaction/3")
    assert "پر نشده" in line["message_fa"] and "blank sheet" in line["message"]


def test_a_blank_sheet_is_not_stored_and_is_read_when_filled_later(tmp_path, monkeypatch,
                                                                   printed_sheets, fill, filled_answers,
                                                                   open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    unfilled = save(printed_sheets.page(4), tmp_path / "unfilled.png")
    (line,) = _json_lines(_run(monkeypatch, home, "scan", unfilled, "--store", "--json"))
    assert line["status"] == "blank"
    with open_ledger(home) as ledger:
        assert ledger.count("survey_response") == 0 and ledger.count("review_item") == 0
    filled = save(fill(printed_sheets.page(4), filled_answers), tmp_path / "filled.png")
    (line,) = _json_lines(_run(monkeypatch, home, "scan", filled, "--store", "--json"))
    assert (line["status"], line["answers"]["overall"]) == ("accepted", filled_answers["overall"])
    with open_ledger(home) as ledger:
        assert ledger.count("survey_response") == 1


def test_a_blank_and_a_filled_copy_of_one_sheet_in_one_run_keep_the_filled_one(tmp_path, monkeypatch,
                                                                                  printed_sheets, fill, filled_answers, save_pdf):
    home = printed_sheets.copy_home(tmp_path / "home")
    pdf = save_pdf([printed_sheets.page(5), fill(printed_sheets.page(5), filled_answers)], tmp_path / "both.pdf")
    lines = _json_lines(_run(monkeypatch, home, "scan", pdf, "--store", "--json"))
    assert [line["status"] for line in lines] == ["blank", "accepted"]


def test_scan_json_of_a_rejected_page_keeps_the_contract_keys(tmp_path, monkeypatch,
                                                              printed_sheets, save):
    white = save(np.full((1754, 1240), 255, np.uint8), tmp_path / "back.png")
    (line,) = _json_lines(_run(monkeypatch, printed_sheets.home, "scan", white, "--json", exit_code=1))
    assert CONTRACT_KEYS <= set(line)
    assert (line["status"], line["reason"], line["sheet"], line["form"]) == (
        "rejected", "blank_page", None, None)
    assert line["message"] and line["message_fa"]


def test_scan_json_of_a_flagged_page_names_each_flag(tmp_path, monkeypatch, printed_sheets, fill, save):
    scan = save(fill(printed_sheets.page(3), REVIEW_MARKS), tmp_path / "r.png")
    (line,) = _json_lines(_run(monkeypatch, printed_sheets.home, "scan", scan, "--json", exit_code=1))
    assert line["status"] == "review"
    assert line["flags"] == {"workflow": "multiple", "mobile": "partial"}
    assert line["answers"]["workflow"] is None and line["answers"]["overall"] == 5


def test_scan_without_store_writes_nothing(tmp_path, monkeypatch, printed_sheets, fill, open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    scan = save(fill(printed_sheets.page(3), REVIEW_MARKS), tmp_path / "r.png")
    with open_ledger(home) as ledger:
        before = ledger.count()
    _run(monkeypatch, home, "scan", scan, exit_code=1)  # a page to review
    with open_ledger(home) as ledger:
        assert ledger.count() == before


# -- storing ----------------------------------------------------------------------------------


def test_store_writes_a_paper_survey_response(review_home, open_ledger, question_ids):
    with open_ledger(review_home) as ledger:
        (response,) = ledger.records("survey_response")
    body = response.body
    assert body["source"] == "paper"
    assert body["status"] == "review"
    assert body["sheet"] == "LOR-01/satisfaction/4"
    assert body["flags"] == {"workflow": "multiple", "mobile": "partial"}
    assert set(body["answers"]) == set(question_ids)
    assert body["answers"]["overall"] == 5 and body["answers"]["workflow"] is None
    assert body["writing"] == {"comment": True}
    assert response.office == "LOR-01"


def test_store_writes_one_review_item_per_flag_with_a_decodable_crop(review_home, open_ledger):
    with open_ledger(review_home) as ledger:
        (response,) = ledger.records("survey_response")
        items = list(ledger.records("review_item"))
        assert sorted((i.body["question"], i.body["reason"]) for i in items) == [
            ("mobile", "partial"), ("workflow", "multiple")]
        for item in items:
            assert item.body["response"] == response.uuid
            crop = cv2.imdecode(np.frombuffer(ledger.blob(item.body["crop"]), np.uint8),
                                cv2.IMREAD_UNCHANGED)
            assert crop is not None and crop.shape[0] > 20 and crop.shape[1] > 20
            assert ledger.blob(item.body["crop"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_store_keeps_the_whole_sheet_image_for_a_review_page(review_home, open_ledger):
    with open_ledger(review_home) as ledger:
        (response,) = ledger.records("survey_response")
        items = list(ledger.records("review_item"))
        sheet = cv2.imdecode(np.frombuffer(ledger.blob(response.body["sheet_image"]), np.uint8),
                             cv2.IMREAD_GRAYSCALE)
        assert {i.body["sheet_image"] for i in items} == {response.body["sheet_image"]}
    assert sheet is not None and sheet.shape[0] > sheet.shape[1] > 500


def test_store_keeps_the_comment_crop_as_an_attachment(review_home, open_ledger):
    with open_ledger(review_home) as ledger:
        (response,) = ledger.records("survey_response")
        sha = response.body["attachments"]["comment"]
        crop = cv2.imdecode(np.frombuffer(ledger.blob(sha), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop is not None and crop.min() < 100


def test_accepted_sheet_is_stored_without_review_items(tmp_path, monkeypatch, printed_sheets, fill,
                                                       filled_answers, open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    scan = save(fill(printed_sheets.page(0), filled_answers), tmp_path / "ok.png")
    _run(monkeypatch, home, "scan", scan, "--store")
    with open_ledger(home) as ledger:
        (response,) = ledger.records("survey_response")
        assert ledger.count("review_item") == 0
    assert response.body["status"] == "accepted"
    assert response.body["answers"]["mobile"] == filled_answers["mobile"]


def test_rejected_page_is_not_stored(tmp_path, monkeypatch, printed_sheets, open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    white = save(np.full((1754, 1240), 255, np.uint8), tmp_path / "back.png")
    _run(monkeypatch, home, "scan", white, "--store", exit_code=1)
    with open_ledger(home) as ledger:
        assert ledger.count("survey_response") == 0


# -- the review queue -------------------------------------------------------------------------


def test_review_list_shows_the_open_items(review_home, monkeypatch, _items):
    out = _run(monkeypatch, review_home, "review", "list").stdout
    items = _items(review_home)
    for question, item in items.items():
        assert item.short_id in out
        assert question in out
    assert "multiple" in out and "partial" in out


def test_review_list_json_gives_ids_and_machine_values(review_home, monkeypatch):
    listed = json.loads(_run(monkeypatch, review_home, "review", "list", "--json").stdout)
    by_question = {entry["question"]: entry for entry in listed}
    assert set(by_question) == {"workflow", "mobile"}
    assert sorted(by_question["workflow"]["machine_value"]) == [2, 4]
    assert by_question["mobile"]["machine_value"] == "09123??????"


def test_resolve_records_a_decision_and_audit_and_closes_the_item(review_home, monkeypatch, _items,
                                                                  open_ledger):
    item = _items(review_home)["workflow"]
    _run(monkeypatch, review_home, "review", "resolve", item.short_id, "4", "--by", "maryam")
    with open_ledger(review_home) as ledger:
        (decision,) = ledger.records("review_decision")
        audits = [r.body for r in ledger.records("audit") if r.body["event"] == "review_decision"]
        assert [i.question for i in open_items(ledger)] == ["mobile"]
    assert decision.body["item"] == item.id
    assert decision.body["value"] == 4 and decision.body["by"] == "maryam"
    assert sorted(decision.body["machine_value"]) == [2, 4]
    assert len(audits) == 1 and audits[0]["decision"] == decision.uuid
    assert audits[0]["by"] == "maryam" and audits[0]["value"] == 4
    out = _run(monkeypatch, review_home, "review", "list").stdout
    assert item.short_id not in out


def test_resolve_with_a_value_that_is_not_an_option_fails_and_writes_nothing(review_home,
                                                                             monkeypatch, _items, open_ledger):
    item = _items(review_home)["workflow"]
    with open_ledger(review_home) as ledger:
        before = ledger.count()
    result = _run(monkeypatch, review_home, "review", "resolve", item.short_id, "7", ok=False)
    assert result.exit_code != 0
    assert "not an option" in result.output
    with open_ledger(review_home) as ledger:
        assert ledger.count() == before
        assert len(open_items(ledger)) == 2


def test_resolve_twice_needs_again(review_home, monkeypatch, _items, open_ledger):
    item = _items(review_home)["workflow"]
    _run(monkeypatch, review_home, "review", "resolve", item.short_id, "2")
    refused = _run(monkeypatch, review_home, "review", "resolve", item.short_id, "4", ok=False)
    assert refused.exit_code != 0 and "--again" in refused.output
    _run(monkeypatch, review_home, "review", "resolve", item.short_id, "4", "--again")
    with open_ledger(review_home) as ledger:
        first, second = ledger.records("review_decision")
        assert second.body["replaces"] == first.uuid
        assert effective_answers(ledger, item.response_uuid)["workflow"] == 4


def test_effective_answers_take_the_human_value(review_home, open_ledger):
    with open_ledger(review_home) as ledger:
        item = {i.question: i for i in open_items(ledger)}["workflow"]
        resolve(ledger, item.id, "2", "reza")
        answers = effective_answers(ledger, item.response_uuid)
        stored = ledger.get(item.response_uuid).body["answers"]
    assert answers["workflow"] == 2
    assert stored["workflow"] is None          # the machine's reading is kept as it was
    assert answers["overall"] == 5


def test_persian_digits_are_accepted_for_a_digit_grid(review_home, open_ledger):
    with open_ledger(review_home) as ledger:
        item = {i.question: i for i in open_items(ledger)}["mobile"]
        decision = resolve(ledger, item.id, "۰۹۱۲۳۴۵۶۷۸۹", "reza")
        answers = effective_answers(ledger, item.response_uuid)
    assert decision.body["value"] == "09123456789"
    assert answers["mobile"] == "09123456789"


def test_digit_grid_decision_of_the_wrong_length_is_refused(review_home, open_ledger):
    with open_ledger(review_home) as ledger:
        item = {i.question: i for i in open_items(ledger)}["mobile"]
        with pytest.raises(ReviewError, match="11 digits"):
            resolve(ledger, item.id, "0912", "reza")
        assert ledger.count("review_decision") == 0


def test_blank_decision_clears_a_flagged_answer(review_home, monkeypatch, _items, open_ledger):
    item = _items(review_home)["mobile"]
    _run(monkeypatch, review_home, "review", "resolve", item.short_id, "-")
    with open_ledger(review_home) as ledger:
        assert effective_answers(ledger, item.response_uuid)["mobile"] is None
        assert [i.question for i in open_items(ledger)] == ["workflow"]


def test_review_crop_writes_the_evidence_png(review_home, monkeypatch, tmp_path, _items):
    item = _items(review_home)["workflow"]
    out = tmp_path / "crop.png"
    _run(monkeypatch, review_home, "review", "crop", item.short_id, "--out", out)
    assert cv2.imread(str(out), cv2.IMREAD_GRAYSCALE) is not None


def test_review_crop_into_a_missing_folder_is_one_line(review_home, monkeypatch, tmp_path, _items):
    item = _items(review_home)["workflow"]
    result = _run(monkeypatch, review_home, "review", "crop", item.short_id,
                  "--out", tmp_path / "missing" / "x.png", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "پیدا نشد" in result.output and "not found" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_review_list_without_a_ledger_says_so(tmp_path, monkeypatch):
    result = _run(monkeypatch, tmp_path / "empty-home", "review", "list", ok=False)
    assert result.exit_code != 0 and "no office ledger" in result.output


def test_review_crop_sheet_writes_the_whole_sheet_image(review_home, monkeypatch, tmp_path, _items):
    item = _items(review_home)["mobile"]
    out = tmp_path / "sheet.jpg"
    _run(monkeypatch, review_home, "review", "crop", item.short_id, "--out", out, "--sheet")
    sheet = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    assert sheet is not None and sheet.shape[0] > sheet.shape[1]


def test_rescan_takes_the_replaced_responses_items_off_the_queue(review_home, monkeypatch,
                                                                 printed_sheets, tmp_path, fill, open_ledger, save):
    """The flagged sheet is scanned again (--rescan) after the stray mark was cleaned up: the
    new response is accepted, so nothing is left for a person to decide about the old one."""
    cleaner = save(fill(printed_sheets.page(3), {"workflow": 2, "mobile": "09123456789",
                                                 "overall": 5}), tmp_path / "clean.png")
    (line,) = _json_lines(_run(monkeypatch, review_home, "scan", cleaner, "--store", "--rescan",
                               "--json"))
    assert line["status"] == "accepted"
    with open_ledger(review_home) as ledger:
        assert open_items(ledger) == []
