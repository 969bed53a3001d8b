"""Reading with worker processes gives the same results, in the same order, as one process."""
from __future__ import annotations

import pytest

from scanner.pipeline import scan_paths


@pytest.fixture(scope="session")
def _inputs(fill, save, save_pdf):
    def _inputs(tmp_path, printed_sheets):
        marks = [{"workflow": 1}, {"workflow": [2, 3]}, {"mobile": "09123"}, {"overall": 5}]
        pages = [fill(printed_sheets.page(n), m) for n, m in enumerate(marks)]
        return [
            save(pages[0], tmp_path / "a.png"),
            save_pdf([pages[1], pages[2]], tmp_path / "b.pdf"),
            save(pages[3], tmp_path / "c.jpg"),
            save(pages[0], tmp_path / "d_again.png"),     # a duplicate of a.png, caught run-wide
        ]

    return _inputs


def test_two_workers_give_the_same_results_as_one(tmp_path, printed_sheets, _inputs):
    files = _inputs(tmp_path, printed_sheets)
    one = [r.to_json() for r in scan_paths(files, home=printed_sheets.home, workers=1)]
    two = [r.to_json() for r in scan_paths(files, home=printed_sheets.home, workers=2)]
    assert two == one
    assert [r["status"] for r in one] == ["accepted", "review", "review", "accepted", "rejected"]
    assert one[-1]["reason"] == "duplicate_sheet"


def test_two_workers_store_the_same_records_as_one(tmp_path, printed_sheets, _inputs, open_ledger):
    files = _inputs(tmp_path, printed_sheets)
    stored = {}
    for workers in (1, 2):
        home = printed_sheets.copy_home(tmp_path / f"home{workers}")
        list(scan_paths(files, home=home, store=True, workers=workers))
        with open_ledger(home) as ledger:
            stored[workers] = (
                sorted((r.body["sheet"], r.body["status"])
                       for r in ledger.records("survey_response")),
                sorted((r.body["sheet_id"], r.body["question"], r.body["reason"])
                       for r in ledger.records("review_item")),
            )
    assert stored[2] == stored[1]
    assert len(stored[1][0]) == 4 and len(stored[1][1]) == 2
