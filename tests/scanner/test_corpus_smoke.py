"""A tiny labelled corpus, read back by the real scanner: no silent errors, every sheet's code read.

The full corpus and report are `bench/scan_corpus.py` and `bench/scan_accuracy.py`; this keeps
them working and catches a scanner change that starts to misread on the commonest inputs.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench(name: str):
    """Import a bench script as a module (bench/ is a folder of scripts, not a package)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    scan_corpus = _bench("scan_corpus")
    scan_accuracy = _bench("scan_accuracy")
    out = tmp_path_factory.mktemp("corpus")
    env = pytest.MonkeyPatch()   # build_corpus points SEDA_HOME at the corpus; put it back after
    env.setenv("SEDA_HOME", str(out / "home"))
    try:
        scan_corpus.build_corpus(out, sheets=2, seed=3,
                                 conditions=["scan200", "rotated", "pdf", "phone", "nonsheet"],
                                 workers=1, log=lambda m: None)
        records = scan_accuracy.evaluate_corpus(out, workers=1)
    finally:
        env.undo()
    return scan_corpus.load_truth(out), records, scan_accuracy.summarise(records)


def test_corpus_has_a_truth_line_for_every_page(corpus):
    truth, records, _ = corpus
    assert len(truth) == len(records) == 2 * 4 + 3
    assert {t["condition"] for t in truth} == {"scan200", "rotated", "pdf", "phone", "nonsheet"}


def test_every_sheet_page_is_code_read_and_registered(corpus):
    _, records, _ = corpus
    sheets = [r for r in records if r["expect"] == "sheet"]
    assert sheets and all(r["code_ok"] and r["registered"] for r in sheets), [
        (r["file"], r["page"], r["status"], r["reason"]) for r in sheets if not r.get("registered")]


def test_no_silent_errors(corpus):
    _, _, summary = corpus
    assert summary["silent_errors"] == []
    assert summary["conditions"]["TOTAL"]["boxes"] > 0


def test_non_sheet_pages_are_rejected(corpus):
    _, records, _ = corpus
    others = [r for r in records if r["expect"] == "rejected"]
    assert len(others) == 3 and all(r["rejected_ok"] for r in others)
