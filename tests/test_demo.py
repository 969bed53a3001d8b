"""`seda demo`: kiosk and central server start on embedded SQLite with demo data."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from forms.cli import main
from kiosk.cases import case_timeline
from sync import Ledger, default_ledger_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SEDA_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run_demo():
    result = CliRunner().invoke(main, ["demo", "--once", "--kiosk-port", "0", "--central-port", "0"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_starts_kiosk_and_central_server_that_answer(home):
    output = run_demo()
    assert re.search(r"http://127\.0\.0\.1:\d+/ -> 200", output)
    assert re.search(r"http://127\.0\.0\.1:\d+/v1/health -> 200", output)
    assert "staff pages:" in output and "login demo / " in output


def test_demo_seeds_cases_surveys_and_scanned_sheets_and_brings_an_answer_back(home):
    output = run_demo()
    codes = re.search(r"tracking codes to follow up: ([\d, ]+)", output).group(1).split(", ")
    with Ledger.open(default_ledger_path(home)) as ledger:
        assert ledger.count("case") == 3
        sources = {r.body["source"] for r in ledger.records("survey_response")}
        assert sources == {"kiosk", "paper"}
        timeline = case_timeline(ledger, codes[0])
    assert [event.status for event in timeline][-1] == "answered"
    assert timeline[-1].answer


def test_second_demo_run_keeps_its_data_and_does_not_seed_again(home):
    first = run_demo()
    second = run_demo()
    codes = re.compile(r"tracking codes to follow up: (.*)")
    assert codes.search(first).group(1) == codes.search(second).group(1)
    with Ledger.open(default_ledger_path(home)) as ledger:
        assert ledger.count("case") == 3
