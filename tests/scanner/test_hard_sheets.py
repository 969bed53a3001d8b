"""Sheets that are not alone, not whole or not flat: every sheet in an image is read or named,
and a sheet is placed by what is left of it.

Pages are real printed sheets at 150 dpi with marks drawn where the layout map puts them;
`read_sheets` (the pure core) is called directly.
"""
from __future__ import annotations

import json
import time

import numpy as np

import pytest

from forms.office_identity import write_office
from click.testing import CliRunner

from seda.cli import main
from scanner.page import read_sheets
from scanner.pipeline import scan_paths
from scanner.watch import HotFolder


@pytest.fixture(scope="session")
def filled_read(blank_answers, filled_answers):
    return {**blank_answers, **filled_answers}
OTHER_ANSWERS = {"service": "birth_registration", "workflow": 2, "overall": 5, "desk": "31"}


@pytest.fixture(scope="session")
def other_read(blank_answers):
    return {**blank_answers, **OTHER_ANSWERS}


@pytest.fixture(scope="module")
def first(printed_sheets, fill, filled_answers):
    return fill(printed_sheets.page(0), filled_answers)


@pytest.fixture(scope="module")
def second(printed_sheets, fill):
    return fill(printed_sheets.page(1), OTHER_ANSWERS)


def _by_serial(results) -> dict:
    return {r.code.serial: r for r in results if r.code is not None}


# -- two sheets in one image ------------------------------------------------------------------


def test_two_sheets_side_by_side_are_both_read(first, second, lookups, filled_read, other_read,
                                               place_on_canvas):
    image = place_on_canvas([first, second], (2700, 1900),
                            [(680, 950, 2, 1.0), (2010, 950, -3, 1.0)])
    results = read_sheets(image, lookups)
    assert len(results) == 2
    read = _by_serial(results)
    assert read[1].answers == filled_read and read[1].status == "accepted"
    assert read[2].answers == other_read and read[2].status == "accepted"
    assert sorted((r.sheet_index, r.sheets_found) for r in results) == [(1, 2), (2, 2)]


def test_two_sheets_one_upside_down_are_both_read(first, second, lookups, filled_read, other_read,
                                                  place_on_canvas):
    image = place_on_canvas([first, second], (2700, 1900),
                            [(680, 950, 0, 1.0), (2010, 950, 178, 1.0)])
    read = _by_serial(read_sheets(image, lookups))
    assert read[1].answers == filled_read
    assert read[2].answers == other_read


def test_questions_of_a_sheet_under_another_go_to_review_as_covered(first, second, lookups, filled_read,
                                                                    other_read, place_on_canvas):
    """The second sheet lies under the first: its right half is hidden.  Its code and what is
    in view are read; nothing hidden is answered for the person."""
    image = place_on_canvas([second, first], (2300, 1900),
                            [(700, 950, 0, 1.0), (1500, 950, 0, 1.0)])
    read = _by_serial(read_sheets(image, lookups))
    assert read[1].answers == filled_read and read[1].status == "accepted"
    under = read[2]
    assert under.status == "review"
    assert under.flags and set(under.flags.values()) <= {"covered", "registration"}
    assert "covered" in under.flags.values()
    for qid, answer in under.answers.items():
        assert answer is None or answer == other_read[qid]
        if qid not in under.flags and qid != "comment":
            assert answer == other_read[qid]


def test_a_second_sheet_whose_code_is_hidden_is_reported_not_dropped(first, second, lookups, blank_out,
                                                                     filled_read, place_on_canvas,
                                                                     satisfaction_layout):
    hidden = second.copy()
    blank_out(hidden, satisfaction_layout.qr, margin=6)
    image = place_on_canvas([first, hidden], (2700, 1900),
                            [(680, 950, 0, 1.0), (2010, 950, 0, 1.0)])
    results = read_sheets(image, lookups)
    assert len(results) == 2
    assert _by_serial(results)[1].answers == filled_read
    (lost,) = [r for r in results if r.code is None]
    data = lost.to_json()
    assert (data["status"], data["reason"]) == ("rejected", "unreadable_sheet")
    assert "جداگانه" in data["message_fa"]
    assert data["sheets_found"] == 2


def test_scan_json_gives_one_line_per_sheet_of_a_two_sheet_photo(tmp_path, monkeypatch, first,
                                                                  second, printed_sheets, place_on_canvas, save):
    image = place_on_canvas([first, second], (2700, 1900),
                            [(680, 950, 0, 1.0), (2010, 950, 0, 1.0)])
    path = save(image, tmp_path / "photo.jpg")
    monkeypatch.setenv("SEDA_HOME", str(printed_sheets.home))
    result = CliRunner().invoke(main, ["scan", str(path), "--json"])
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(line["page"], line["sheet_index"], line["sheets_found"]) for line in lines] == [
        (1, 1, 2), (1, 2, 2)]
    assert {line["serial"] for line in lines} == {1, 2}


# -- corners cut off, sheets not flat, other paper --------------------------------------------


@pytest.mark.parametrize("degrees, scale", [(12, 0.92), (-12, 0.95), (-9, 0.97), (10, 0.94)])
def test_sheet_fed_crooked_with_corners_cut_off_reads_every_answer(first, lookups, degrees,
                                                                   scale, crooked_feed, filled_read):
    page = crooked_feed(first, degrees, scale)
    (result,) = read_sheets(page, lookups)
    assert len(result.registration.markers) < 4          # the scanner's edge took some
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_answer_circle_cut_off_by_the_scanner_edge_sends_its_question_alone_to_review(
        first, lookups, crooked_feed, filled_read):
    (result,) = read_sheets(crooked_feed(first, 12, 0.95), lookups)
    assert result.flags == {"follow_up_consent": "registration"}
    assert result.answers == {**filled_read, "follow_up_consent": None}


@pytest.mark.parametrize("amplitude_pt", [3.0, 7.0])
def test_crumpled_sheet_reads_every_answer(first, lookups, amplitude_pt, crumple, filled_read):
    (result,) = read_sheets(crumple(first, amplitude_pt), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_crumpled_sheet_is_placed_by_its_circles_and_says_so(first, lookups, crumple):
    (result,) = read_sheets(crumple(first, 7.0), lookups)
    registration = result.to_json()["registration"]
    assert registration["structure"] > 0.9
    assert registration["local_pt"] > 1.0


def test_sheet_printed_for_letter_reads_like_one_on_a4(tmp_path, monkeypatch, printed_sheets, boxes_for,
                                                       draw_marks, filled_answers, filled_read,
                                                       rasterise, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    monkeypatch.setenv("SEDA_HOME", str(home))
    out = tmp_path / "letter.pdf"
    write_office(home, "LOR-01")
    printed = CliRunner().invoke(main, ["forms", "print", "satisfaction", "--office", "LOR-01",
                                        "--count", "1", "--out", str(out), "--paper", "letter"])
    assert printed.exit_code == 0, printed.output
    (page,) = rasterise(out)
    assert abs(page.shape[0] - 792 * 150 / 72) <= 1 and abs(page.shape[1] - 612 * 150 / 72) <= 1
    serial = int(printed.output.split("serials ")[1].split("-")[0])
    # the layout map is A4's, drawn at 94% and centred: mark the boxes where they print
    scale = 792 / 841.89
    left = (612 - 595.28 * scale) / 2
    draw_marks(page, [(left + x * scale, y * scale, w * scale, h * scale)
                      for x, y, w, h in boxes_for(filled_answers)])
    (result,) = scan_paths([save(page, tmp_path / "letter.png")], home=home)
    assert (result.status, result.code.serial) == ("accepted", serial)
    assert result.answers == filled_read


def test_a4_sheet_printed_at_actual_size_on_letter_reads_by_its_code(first, lookups, filled_read, on_letter):
    """Centred on Letter at 100%: the top and bottom 25 pt are cut off, markers with them,
    but the code and every circle are on the page."""
    (result,) = read_sheets(on_letter(first, 1.0), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


def test_a4_sheet_scaled_to_fit_letter_reads(first, lookups, filled_read, on_letter):
    (result,) = read_sheets(on_letter(first, 0.92), lookups)
    assert result.status == "accepted"
    assert result.answers == filled_read


# -- crossed-out answers --------------------------------------------------------------------
@pytest.fixture(scope="session")
def _option_box(satisfaction_layout):
    def _option_box(qid: str, value):
        (question,) = [q for q in satisfaction_layout.questions if q.id == qid]
        return dict(question.options)[value]

    return _option_box


def test_struck_out_answer_beside_a_new_one_is_a_changed_answer_for_that_question_alone(
        printed_sheets, lookups, _option_box, fill, filled_answers, filled_read, strike_out):
    page = fill(printed_sheets.page(4), filled_answers)
    strike_out(page, _option_box("workflow", 2))          # the new answer, 4, is filled
    (result,) = read_sheets(page, lookups)
    assert result.flags == {"workflow": "changed"}
    assert result.answers == {**filled_read, "workflow": None}
    assert result.candidates == {"workflow": 4}
    assert result.crossed_out == {"workflow": 2}
    data = result.to_json()
    assert data["crossed_out"] == {"workflow": 2}


def test_changed_answer_review_item_shows_both_and_persian_reason(tmp_path, printed_sheets, _option_box,
                                                                  fill, filled_answers, open_ledger,
                                                                  save, strike_out):
    from scanner.reasons import message
    from ledger.review_queue import open_items

    home = printed_sheets.copy_home(tmp_path / "home")
    page = fill(printed_sheets.page(5), filled_answers)
    strike_out(page, _option_box("overall", 4))
    list(scan_paths([save(page, tmp_path / "changed.png")], home=home, store=True))
    with open_ledger(home) as ledger:
        (item,) = open_items(ledger)
        body = ledger.get(item.id).body
    assert (item.question, item.reason, item.machine_value) == ("overall", "changed", 2)
    assert body["crossed_out"] == 4
    assert "خط خورده" in message("changed", "fa")


# -- the scan itself ------------------------------------------------------------------------


@pytest.mark.parametrize("dithered", [False, True])
def test_one_bit_scan_is_read_and_flagged_with_the_advice_to_scan_in_greyscale(first, lookups,
                                                                              dithered, one_bit):
    (result,) = read_sheets(one_bit(first, dithered=dithered), lookups)
    assert result.status == "accepted"
    (warning,) = result.to_json()["warnings"]
    assert warning["reason"] == "bilevel_scan"
    assert "خاکستری" in warning["message_fa"]
    assert "greyscale" in warning["message"]


def test_greyscale_scan_carries_no_warning(first, lookups):
    (result,) = read_sheets(first, lookups)
    assert "warnings" not in result.to_json()


def test_hot_folder_report_names_a_one_bit_scan(tmp_path, first, printed_sheets, one_bit, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save(one_bit(first), inbox / "bw.png")
    hot = HotFolder(inbox, home=home, store=False, settle_seconds=0)
    outcomes: list = []
    for _ in range(50):
        outcomes.extend(hot.poll())
        if outcomes:
            break
        time.sleep(0.05)
    assert [o.state for o in outcomes] == ["done"]
    report = (inbox / "done" / "bw.png.reason.txt").read_text(encoding="utf-8")
    assert "bilevel_scan" in report and "خاکستری" in report
    results = (inbox / "done" / "bw.png.results.jsonl").read_text(encoding="utf-8")
    assert json.loads(results.splitlines()[0])["warnings"][0]["reason"] == "bilevel_scan"


def test_changed_answer_shows_both_options_in_the_review_list_and_on_the_review_page(
        tmp_path, monkeypatch, printed_sheets, _option_box, fill, filled_answers, save, strike_out,
        add_staff, make_config, staff_login, operator_account):
    from kiosk import create_app

    home = printed_sheets.copy_home(tmp_path / "home")
    page = fill(printed_sheets.page(6), filled_answers)
    strike_out(page, _option_box("staff_behaviour", 1))
    list(scan_paths([save(page, tmp_path / "changed.png")], home=home, store=True))
    monkeypatch.setenv("SEDA_HOME", str(home))
    listed = CliRunner().invoke(main, ["review", "list"])
    assert "changed" in listed.output and "struck out: 1" in listed.output
    add_staff(home)
    client = create_app(make_config(home)).test_client()
    staff_login(client, operator_account)
    html = client.get("/staff/review").get_data(as_text=True)
    # in option words, as the staff page says every reading (issue 15): 1 is «خیلی بد», 5 «خیلی خوب»
    assert "گزینه خط‌خورده" in html and 'class="crossed-out">خیلی بد<' in html
    assert 'class="machine-value">خیلی خوب<' in html


def test_a_sheet_whose_reading_fails_is_reported_and_the_other_sheet_is_read(first, second,
                                                                              lookups,
                                                                              monkeypatch, place_on_canvas):
    import scanner.page as page_module

    real = page_module._read_sheet

    def failing_for_the_second(gray, placement, text, *args, **kwargs):
        if text.split(":")[5] == "2":
            raise RuntimeError("boom")
        return real(gray, placement, text, *args, **kwargs)

    monkeypatch.setattr(page_module, "_read_sheet", failing_for_the_second)
    image = place_on_canvas([first, second], (2700, 1900),
                            [(680, 950, 0, 1.0), (2010, 950, 0, 1.0)])
    results = read_sheets(image, lookups)
    assert sorted((r.status, r.reason) for r in results) == [("accepted", None),
                                                             ("rejected", "read_failed")]


def test_overexposed_photo_whose_band_turned_white_is_not_called_a_one_bit_scan(first, lookups,
                                                                                place_on_canvas):
    photo = place_on_canvas([first], (1500, 2000), [(750, 1000, 3, 1.0)])
    bright = np.clip(photo.astype(np.float32) * 1.4, 0, 255).astype(np.uint8)
    (result,) = read_sheets(bright, lookups)
    assert result.status == "accepted"
    assert result.warnings == []
