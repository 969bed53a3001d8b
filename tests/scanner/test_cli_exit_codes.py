"""`seda scan` tells scripts what happened: 0 every page read, 1 some refused or sent to review,
2 bad arguments; a missing path, an empty folder and a file type it does not read are named."""
from __future__ import annotations

import json

from click.testing import CliRunner

from seda.cli import main


def scan(monkeypatch, home, *args):
    monkeypatch.setenv("SEDA_HOME", str(home))
    return CliRunner().invoke(main, ["scan", *map(str, args)], catch_exceptions=False)


def test_every_page_read_exits_0(tmp_path, monkeypatch, printed_sheets, fill, save):
    sheet = save(fill(printed_sheets.page(0), {"workflow": 4, "overall": 5}), tmp_path / "a.png")
    result = scan(monkeypatch, printed_sheets.home, sheet, "--json")
    assert json.loads(result.stdout)["status"] == "accepted"
    assert result.exit_code == 0, result.output


def test_a_refused_page_exits_1(tmp_path, monkeypatch, printed_sheets, fill, save):
    sheet = save(fill(printed_sheets.page(1), {"overall": 2}), tmp_path / "a.png")
    again = save(fill(printed_sheets.page(1), {"overall": 2}), tmp_path / "b.png")
    result = scan(monkeypatch, printed_sheets.home, sheet, again)  # the second is a duplicate
    assert result.exit_code == 1, result.output


def test_a_missing_path_is_not_found_and_exits_2(tmp_path, monkeypatch, printed_sheets, fill, save):
    sheet = save(fill(printed_sheets.page(2), {"overall": 2}), tmp_path / "a.png")
    result = scan(monkeypatch, printed_sheets.home, sheet, tmp_path / "missing.png", "--json")
    assert result.exit_code == 2
    assert "missing.png: پیدا نشد / not found" in result.stderr
    assert "corrupt" not in result.stderr and "خراب" not in result.stderr
    assert result.stdout == ""  # nothing was read, so nothing is half done


def test_an_empty_folder_says_it_is_empty_and_exits_2(tmp_path, monkeypatch, printed_sheets):
    (tmp_path / "empty").mkdir()
    result = scan(monkeypatch, printed_sheets.home, tmp_path / "empty")
    assert result.exit_code == 2
    assert "پوشه خالی است" in result.stderr and "the folder is empty" in result.stderr


def test_a_folder_of_heic_photos_names_the_file_type(tmp_path, monkeypatch, printed_sheets):
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(b"\0\0\0\x18ftypheic")
    result = scan(monkeypatch, printed_sheets.home, folder)
    assert result.exit_code == 2
    assert "IMG_0001.HEIC" in result.stderr and ".heic" in result.stderr and "JPEG" in result.stderr


def test_a_named_file_of_a_type_not_read_exits_2(tmp_path, monkeypatch, printed_sheets):
    photo = tmp_path / "IMG_0002.heic"
    photo.write_bytes(b"\0\0\0\x18ftypheic")
    result = scan(monkeypatch, printed_sheets.home, photo)
    assert result.exit_code == 2
    assert "file type .heic is not read" in result.stderr


def test_a_file_of_a_type_not_read_beside_sheets_is_named_and_exits_1(tmp_path, monkeypatch,
                                                                      printed_sheets, fill, save):
    folder = tmp_path / "scans"
    folder.mkdir()
    save(fill(printed_sheets.page(3), {"overall": 4}), folder / "a.png")
    (folder / "note.heic").write_bytes(b"\0\0\0\x18ftypheic")
    result = scan(monkeypatch, printed_sheets.home, folder)
    assert "note.heic" in result.stderr and "not read" in result.stderr
    assert result.exit_code == 1
