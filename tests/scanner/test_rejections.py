"""Pages the scanner must refuse, each with the right `reason`: not ours, damaged, forged,
unknown, never issued, or already read.
"""
from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest
import segno
from click.testing import CliRunner
from PIL import Image

import forms
from seda.cli import main
from forms.layout import QR_SIZE, QR_X, QR_Y
from scanner.page import read_page
from scanner.pipeline import make_lookups, scan_paths

QR_BOX = (QR_X, QR_Y, QR_SIZE, QR_SIZE)


@pytest.fixture(scope="module")
def lookups(printed_sheets, open_ledger):
    ledger = open_ledger(printed_sheets.home)
    yield make_lookups(printed_sheets.home, ledger)
    ledger.close()


@pytest.fixture(scope="session")
def _page_with_code(rasterise, render_code_pages):
    def _page_with_code(tmp_path, code: forms.SheetCode) -> np.ndarray:
        (page,) = rasterise(render_code_pages(tmp_path / "odd.pdf", [code]))
        return page

    return _page_with_code


def _foreign_qr(text: str, size_px: int) -> np.ndarray:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=10, border=4)
    symbol = np.array(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
    return cv2.resize(symbol, (size_px, size_px), interpolation=cv2.INTER_NEAREST)


def _scan_cli(monkeypatch, home, *args, exit_code=0):
    """``exit_code``: 0 every page read, 1 some refused or sent to review."""
    monkeypatch.setenv("SEDA_HOME", str(home))
    result = CliRunner().invoke(main, ["scan", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return result


def _json_lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# -- not a sheet we can read ------------------------------------------------------------------


def test_white_page_is_rejected_as_blank_page(lookups):
    result = read_page(np.full((1754, 1240), 255, np.uint8), lookups)
    assert (result.status, result.reason) == ("rejected", "blank_page")


def test_scanned_blank_back_side_with_paper_grain_is_a_blank_page(lookups):
    rng = np.random.default_rng(5)
    paper = np.clip(rng.normal(238, 4, (1754, 1240)), 0, 255).astype(np.uint8)
    result = read_page(paper, lookups)
    assert (result.status, result.reason) == ("rejected", "blank_page")


def test_random_noise_image_is_not_a_seda_form(lookups):
    """Per-pixel noise is not an empty page: it must not be called `blank_page`."""
    noise = np.random.default_rng(1).integers(0, 256, (1754, 1240), dtype=np.uint8)
    result = read_page(noise, lookups)
    assert (result.status, result.reason) == ("rejected", "not_seda_form")


def test_photo_of_something_else_is_not_a_seda_form(lookups):
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 256, (110, 78)).astype(np.uint8)
    photo = cv2.resize(cv2.GaussianBlur(coarse, (0, 0), 2), (1240, 1754),
                       interpolation=cv2.INTER_CUBIC)
    photo = cv2.normalize(photo, None, 0, 255, cv2.NORM_MINMAX)
    cv2.putText(photo, "INVOICE 2024", (120, 900), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 6)
    result = read_page(photo, lookups)
    assert (result.status, result.reason) == ("rejected", "not_seda_form")


def test_page_with_a_foreign_qr_code_is_not_a_seda_form(lookups):
    page = np.full((1754, 1240), 255, np.uint8)
    page[300:700, 300:700] = _foreign_qr("https://example.org", 400)
    cv2.putText(page, "Hello, a letter", (100, 1000), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 3)
    result = read_page(page, lookups)
    assert (result.status, result.reason) == ("rejected", "not_seda_form")


def test_seda_sheet_carrying_a_foreign_qr_code_is_not_a_seda_form(printed_sheets, lookups, blank_out,
                                                                  pt_to_px, scan_dpi):
    page = blank_out(printed_sheets.page(0), QR_BOX, margin=0)
    size = round(pt_to_px(QR_SIZE, scan_dpi))
    top, left = round(pt_to_px(QR_Y, scan_dpi)), round(pt_to_px(QR_X, scan_dpi))
    page[top:top + size, left:left + size] = _foreign_qr("https://example.org", size)
    result = read_page(page, lookups)
    assert (result.status, result.reason) == ("rejected", "not_seda_form")


def test_sheet_with_its_qr_obliterated_is_an_unreadable_code(printed_sheets, lookups, blank_out):
    page = blank_out(printed_sheets.page(0), QR_BOX, margin=2)
    result = read_page(page, lookups)
    assert (result.status, result.reason) == ("rejected", "unreadable_code")
    assert result.answers == {}      # nothing is read from a sheet we cannot name


# -- a sheet code we must not trust -----------------------------------------------------------


def test_sheet_signed_with_another_key_is_a_forged_code(tmp_path, lookups, _page_with_code, form_id,
                                                        office_code):
    code = forms.sign(form_id, 1, office_code, 1, key=b"x" * 32)
    result = read_page(_page_with_code(tmp_path, code), lookups)
    assert (result.status, result.reason) == ("rejected", "forged_code")
    assert result.answers == {}


def test_sheet_of_an_office_without_a_key_here_is_an_unknown_office(tmp_path, lookups, _page_with_code,
                                                                    form_id):
    code = forms.sign(form_id, 1, "TEH-02", 1, key=b"y" * 32)
    result = read_page(_page_with_code(tmp_path, code), lookups)
    assert (result.status, result.reason) == ("rejected", "unknown_office")


def test_validly_signed_serial_that_was_never_issued_is_rejected(tmp_path, printed_sheets, lookups,
                                                                 _page_with_code, form_id, office_code):
    code = forms.sign(form_id, 1, office_code, 9999, key=printed_sheets.key)
    result = read_page(_page_with_code(tmp_path, code), lookups)
    assert (result.status, result.reason) == ("rejected", "never_issued")


def test_issuance_is_not_judged_without_a_ledger(tmp_path, printed_sheets, _page_with_code, form_id,
                                                 office_code):
    """An installation with the key but no ledger yet cannot tell what was issued: it reads."""
    bare = make_lookups(printed_sheets.home, None)
    code = forms.sign(form_id, 1, office_code, 9999, key=printed_sheets.key)
    result = read_page(_page_with_code(tmp_path, code), bare)
    assert (result.status, result.code.serial) == ("blank", 9999)  # read (nobody filled it in)


def test_sheet_of_an_unknown_form_version_is_rejected(tmp_path, printed_sheets, lookups,
                                                      _page_with_code, form_id, office_code):
    code = forms.sign(form_id, 99, office_code, 1, key=printed_sheets.key)
    result = read_page(_page_with_code(tmp_path, code), lookups)
    assert (result.status, result.reason) == ("rejected", "unknown_form_version")


def test_forged_sheet_stored_leaves_an_audit_record_and_no_response(tmp_path, printed_sheets,
                                                                    _page_with_code, form_id,
                                                                    office_code, open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    code = forms.sign(form_id, 1, office_code, 2, key=b"x" * 32)
    png = save(_page_with_code(tmp_path, code), tmp_path / "forged.png")
    (result,) = scan_paths([png], home=home, store=True)
    assert result.reason == "forged_code"
    with open_ledger(home) as ledger:
        assert ledger.count("survey_response") == 0
        audits = [r.body for r in ledger.records("audit")]
    assert [(a["event"], a["reason"]) for a in audits] == [("scan_rejected", "forged_code")]


# -- duplicates -------------------------------------------------------------------------------


def test_same_sheet_twice_in_one_run_is_a_duplicate_the_second_time(tmp_path, printed_sheets, fill, save):
    page = fill(printed_sheets.page(9), {"overall": 4})
    first, second = save(page, tmp_path / "a.png"), save(page, tmp_path / "b.png")
    results = list(scan_paths([first, second], home=printed_sheets.home))
    assert [r.status for r in results] == ["accepted", "rejected"]
    assert results[1].reason == "duplicate_sheet"


def test_stored_sheet_scanned_again_is_a_duplicate(tmp_path, monkeypatch, printed_sheets, fill,
                                                   open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    scan = save(fill(printed_sheets.page(10), {"overall": 3}), tmp_path / "s.png")
    _scan_cli(monkeypatch, home, scan, "--store", "--json")
    (again,) = _json_lines(_scan_cli(monkeypatch, home, scan, "--store", "--json", exit_code=1))
    assert (again["status"], again["reason"]) == ("rejected", "duplicate_sheet")
    with open_ledger(home) as ledger:
        assert ledger.count("survey_response") == 1


def test_stored_sheet_is_a_duplicate_even_in_a_run_that_does_not_store(tmp_path, monkeypatch,
                                                                       printed_sheets, fill, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    scan = save(fill(printed_sheets.page(10), {"overall": 3}), tmp_path / "s.png")
    _scan_cli(monkeypatch, home, scan, "--store")
    (again,) = _json_lines(_scan_cli(monkeypatch, home, scan, "--json", exit_code=1))
    assert again["reason"] == "duplicate_sheet"


def test_rescan_stores_the_sheet_again_replacing_the_old_response(tmp_path, monkeypatch,
                                                                  printed_sheets, fill, open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    first_scan = save(fill(printed_sheets.page(11), {"overall": 3}), tmp_path / "first.png")
    better_scan = save(fill(printed_sheets.page(11), {"overall": 5}), tmp_path / "better.png")
    _scan_cli(monkeypatch, home, first_scan, "--store")
    rescan = _scan_cli(monkeypatch, home, better_scan, "--store", "--rescan", "--json")
    (line,) = _json_lines(rescan)
    assert line["status"] == "accepted"
    with open_ledger(home) as ledger:
        old, new = ledger.find("survey_response", "sheet", line["sheet"])
        audits = [r.body for r in ledger.records("audit") if r.body["event"] == "rescan"]
    assert new.body["replaces"] == old.uuid
    assert "replaces" not in old.body
    assert new.body["answers"]["overall"] == 5
    assert audits == [{"event": "rescan", "sheet_id": line["sheet"], "replaced": old.uuid,
                       "by": new.uuid}]


def test_rescan_of_a_sheet_never_stored_replaces_nothing(tmp_path, printed_sheets, fill, open_ledger, save):
    home = printed_sheets.copy_home(tmp_path / "home")
    scan = save(fill(printed_sheets.page(11), {"overall": 1}), tmp_path / "s.png")
    (result,) = scan_paths([scan], home=home, store=True, rescan=True)
    assert result.status == "accepted"
    with open_ledger(home) as ledger:
        (response,) = ledger.records("survey_response")
        assert "replaces" not in response.body
        assert not [r for r in ledger.records("audit") if r.body["event"] == "rescan"]


def test_sheet_revoked_by_the_central_office_is_rejected_and_audited(printed_sheets, tmp_path, fill,
                                                                     open_ledger, save):
    """A revocation pulled by sync (central_items feed `revoked_sheet`) stops the sheet."""
    home = printed_sheets.copy_home(tmp_path / "home")
    path = save(fill(printed_sheets.page(2), {"overall": 3}), tmp_path / "revoked.png")
    (first,) = scan_paths([path], home=home)
    assert first.status == "accepted"
    with open_ledger(home) as ledger:
        ledger._conn.execute(
            "INSERT INTO central_items (feed, key, cursor, deleted, body, received_at)"
            " VALUES ('revoked_sheet', ?, 1, 0, ?, '2026-11-30T00:00:00Z')",
            (first.code.sheet_id, json.dumps({"reason": "lost stack"})))
    (result,) = scan_paths([path], home=home, store=True)
    assert (result.status, result.reason) == ("rejected", "revoked_sheet")
    with open_ledger(home) as ledger:
        assert ledger.count("survey_response") == 0
        assert [r.body["reason"] for r in ledger.records("audit")] == ["revoked_sheet"]
