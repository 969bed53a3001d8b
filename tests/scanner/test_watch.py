"""The hot folder: only whole files are read, each ends in done/ or failed/ with its results,
nothing is lost, nothing is stored twice, even after a crash.
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from seda.cli import main
from scanner.pipeline import scan_paths
from scanner.reasons import both
from scanner.watch import HotFolder

SETTLE = 0.2


@pytest.fixture
def home(tmp_path, printed_sheets):
    return printed_sheets.copy_home(tmp_path / "home")


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def sheet_png(printed_sheets, fill):
    """PNG bytes of distinct filled sheets, by index."""
    def make(index: int) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(fill(printed_sheets.page(index), {"overall": 4})).save(buffer, "PNG")
        return buffer.getvalue()

    return make


def _poll_until(hot: HotFolder, count: int, timeout: float = 10.0) -> list:
    """Poll until `count` outcomes have come out (or time is up), like the watch loop does."""
    outcomes: list = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < count and time.monotonic() < deadline:
        outcomes.extend(hot.poll())
        time.sleep(0.05)
    return outcomes


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def _responses(open_ledger):
    def _responses(home: Path) -> list:
        with open_ledger(home) as ledger:
            return list(ledger.records("survey_response"))

    return _responses


def test_whole_scan_moves_to_done_with_its_results(inbox, home, sheet_png, _responses):
    (inbox / "scan1.png").write_bytes(sheet_png(0))
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    (outcome,) = _poll_until(hot, 1)
    assert (outcome.name, outcome.state) == ("scan1.png", "done")
    assert (inbox / "done" / "scan1.png").read_bytes() == sheet_png(0)
    assert not (inbox / "scan1.png").exists()
    lines = (inbox / "done" / "scan1.png.results.jsonl").read_text(encoding="utf-8").splitlines()
    (result,) = [json.loads(line) for line in lines]
    assert result["status"] == "accepted" and result["answers"]["overall"] == 4
    assert len(_responses(home)) == 1


def test_a_fresh_file_is_not_read_on_first_sight(inbox, home, sheet_png):
    (inbox / "scan1.png").write_bytes(sheet_png(0))
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    assert list(hot.poll()) == []
    assert (inbox / "scan1.png").exists()


def test_corrupt_file_moves_to_failed_with_a_reason_in_persian_and_english(inbox, home,
                                                                           printed_sheets, _responses, jpeg_bytes):
    data = jpeg_bytes(printed_sheets.page(0))
    (inbox / "broken.jpg").write_bytes(data[: len(data) // 2])
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    (outcome,) = _poll_until(hot, 1)
    assert outcome.state == "failed"
    assert (inbox / "failed" / "broken.jpg").exists()
    reason = (inbox / "failed" / "broken.jpg.reason.txt").read_text(encoding="utf-8")
    fa, en = both("unreadable_image")
    assert "unreadable_image" in reason and fa in reason and en in reason
    assert _responses(home) == []


def test_file_still_being_written_is_not_read_until_it_stops_changing(inbox, home, sheet_png):
    data = sheet_png(1)
    hot = HotFolder(inbox, home=home, settle_seconds=1.0)
    target = inbox / "growing.png"
    with open(target, "wb") as handle:
        handle.write(data[: len(data) // 2])
        handle.flush()
        assert list(hot.poll()) == []               # first sight: half a file
        handle.write(data[len(data) // 2:])
        handle.flush()
    assert list(hot.poll()) == []                   # it changed: wait again
    assert target.exists() and _files(inbox / "failed") == set()
    (outcome,) = _poll_until(hot, 1)
    assert outcome.state == "done"
    (result,) = [json.loads(line) for line in
                 (inbox / "done" / "growing.png.results.jsonl").read_text().splitlines()]
    assert result["status"] == "accepted"


def test_file_left_in_processing_by_a_crash_is_read_on_the_next_poll(inbox, home, sheet_png, _responses):
    (inbox / ".processing").mkdir()
    (inbox / ".processing" / "claimed.png").write_bytes(sheet_png(2))
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    outcomes = list(hot.poll())                     # no settling for a file already claimed
    assert [(o.name, o.state) for o in outcomes] == [("claimed.png", "done")]
    assert list((inbox / ".processing").iterdir()) == []
    assert len(_responses(home)) == 1


def test_crash_after_storing_does_not_store_the_sheet_twice(inbox, home, sheet_png, _responses):
    """The process stored the sheet, then died before moving the file out of .processing/."""
    (inbox / ".processing").mkdir()
    claimed = inbox / ".processing" / "claimed.png"
    claimed.write_bytes(sheet_png(3))
    list(scan_paths([claimed], home=home, store=True))
    assert len(_responses(home)) == 1
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    (outcome,) = list(hot.poll())
    assert outcome.name == "claimed.png"
    assert list((inbox / ".processing").iterdir()) == []
    assert outcome.state == "done"   # its sheet was stored: not a failure to show staff
    assert "claimed.png" in _files(inbox / "done")
    assert len(_responses(home)) == 1


def test_no_file_is_ever_lost(inbox, home, sheet_png, printed_sheets, jpeg_bytes, save):
    data = jpeg_bytes(printed_sheets.page(5))
    dropped = {
        "a_good.png": sheet_png(4),
        "b_cut.jpg": data[: len(data) // 3],
        "c_notes.jpg": b"not an image at all\n",
        "d_blank.png": None,                        # a white page: rejected, kept in failed/
        "e_more.pdf.part": b"%PDF-1.7 half",
        ".f_hidden.png": sheet_png(6),
    }
    for name, content in dropped.items():
        if content is None:
            save(np.full((600, 400), 255, np.uint8), inbox / name)
        else:
            (inbox / name).write_bytes(content)
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    outcomes = _poll_until(hot, 4)
    for _ in range(3):                              # nothing else happens on later looks
        time.sleep(SETTLE)
        outcomes.extend(hot.poll())
    assert sorted(o.name for o in outcomes) == ["a_good.png", "b_cut.jpg", "c_notes.jpg",
                                                "d_blank.png"]
    everything = _files(inbox)
    scans = {name for name in everything
             if not name.endswith((".results.jsonl", ".reason.txt"))}
    assert {Path(n).name for n in scans} == set(dropped)
    assert len(scans) == len(dropped)
    assert "done/a_good.png" in scans
    assert {"failed/b_cut.jpg", "failed/c_notes.jpg", "failed/d_blank.png"} <= scans


def test_temporary_and_hidden_files_are_ignored(inbox, home, sheet_png, _responses):
    names = ["scan.png.part", "scan.png.tmp", "scan.png.crdownload", ".scan.png", "~$scan.png"]
    for name in names:
        (inbox / name).write_bytes(sheet_png(7))
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    outcomes = []
    for _ in range(3):
        outcomes.extend(hot.poll())
        time.sleep(SETTLE + 0.05)
    assert outcomes == []
    assert all((inbox / name).exists() for name in names)
    assert _responses(home) == []


def test_a_second_file_of_the_same_name_does_not_overwrite_the_first(inbox, home, sheet_png, _responses):
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    (inbox / "scan.png").write_bytes(sheet_png(8))
    _poll_until(hot, 1)
    (inbox / "scan.png").write_bytes(sheet_png(9))
    _poll_until(hot, 1)
    assert (inbox / "done" / "scan.png").read_bytes() == sheet_png(8)
    assert (inbox / "done" / "scan.1.png").read_bytes() == sheet_png(9)
    assert (inbox / "done" / "scan.1.png.results.jsonl").exists()
    assert len(_responses(home)) == 2


def test_watch_command_once_processes_what_is_ready_and_exits(inbox, home, sheet_png,
                                                              monkeypatch):
    (inbox / "scan.png").write_bytes(sheet_png(10))
    monkeypatch.setenv("SEDA_HOME", str(home))
    result = CliRunner().invoke(main, ["scan", "watch", str(inbox), "--once", "--settle", "0.2",
                                       "--interval", "0.1"])
    assert result.exit_code == 0, result.output
    assert "scan.png: done" in result.stdout
    assert (inbox / "done" / "scan.png").exists()


def test_file_with_one_bad_page_goes_to_done_and_names_the_bad_page(inbox, home, tmp_path,
                                                                    printed_sheets, _responses, fill):
    good = Image.fromarray(fill(printed_sheets.page(6), {"overall": 4}))
    blank = Image.new("L", good.size, 255)
    good.save(inbox / "mixed.tif", save_all=True, append_images=[blank])
    hot = HotFolder(inbox, home=home, settle_seconds=SETTLE)
    outcomes = _poll_until(hot, 1)
    assert [(o.name, o.state) for o in outcomes] == [("mixed.tif", "done")]
    reason = (inbox / "done" / "mixed.tif.reason.txt").read_text(encoding="utf-8")
    assert "page 2: blank_page" in reason
    assert len(_responses(home)) == 1
