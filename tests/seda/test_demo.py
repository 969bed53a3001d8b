"""`seda demo`: kiosk and central server start on embedded SQLite with demo data."""
from __future__ import annotations

import re
import stat

import pytest
from click.testing import CliRunner

from seda.cli import main
from kiosk.cases import case_timeline
from ledger import Ledger, default_ledger_path
from central import open_store
from central.demo_seed import DEMO_USERS
from central.keys import CentralKeys
from central.accounts import authenticate
from ledger.report_key import report_key


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


def test_every_demo_role_has_its_own_password_printed_once_and_kept_private(home):
    first = run_demo()
    printed = dict(re.findall(r"login (\S+) / (\S+)", first))
    assert set(printed) == {"demo", *DEMO_USERS}
    assert len(set(printed.values())) == len(printed)  # no two roles share one
    kept = home / "demo" / "passwords.txt"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert {line.split("\t")[1]: line.split("\t")[2] for line in kept.read_text().splitlines()} == printed
    second = run_demo()
    assert not any(password in second for password in printed.values())
    assert str(kept) in second
    store = open_store(home / "central" / "central.sqlite3")
    assert authenticate(store, "oversight", printed["oversight"]) is not None
    assert authenticate(store, "oversight", printed["admin"]) is None


def test_the_demo_runs_sealed_and_private(home):
    run_demo()
    with Ledger.open(default_ledger_path(home)) as ledger:
        assert report_key(home, ledger).holder == "oversight"
        (report,) = [r for r in ledger.records("case") if r.body.get("type") == "misconduct"]
    assert "sealed" in report.body and "text" not in report.body
    raw = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert "پول خواست".encode() not in raw
    keys = CentralKeys(home / "central", open_store(home / "central" / "central.sqlite3"))
    assert "پول خواست" in keys.open_body(report.body)["text"]
    assert not (home / "keys" / "oversight.key").exists()  # the centre's key stays in central/
    wide = [str(p) for p in [home, *home.rglob("*")]
            if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)]
    assert wide == []


def test_demo_seeds_cases_surveys_and_scanned_sheets_and_brings_an_answer_back(home):
    output = run_demo()
    codes = re.search(r"tracking codes to follow up: ([\d, ]+)", output).group(1).split(", ")
    with Ledger.open(default_ledger_path(home)) as ledger:
        assert ledger.count("case") == 4  # three cases and a sealed misconduct report
        sources = {r.body["source"] for r in ledger.records("survey_response")}
        assert sources == {"kiosk", "paper"}
        timeline = case_timeline(ledger, codes[0])
    assert [event.status for event in timeline][-1] == "answered"
    assert timeline[-1].answer
    last_four = re.search(r"last four digits: (\d{4})", output).group(1)
    with Ledger.open(default_ledger_path(home)) as ledger:
        (answered,) = [r for r in ledger.records("case") if r.body.get("tracking_code") == codes[0].strip()]
    assert answered.body["mobile"].endswith(last_four)  # what the follow-up screen will ask


def test_second_demo_run_keeps_its_data_and_does_not_seed_again(home):
    first = run_demo()
    second = run_demo()
    codes = re.compile(r"tracking codes to follow up: (.*)")
    assert codes.search(first).group(1) == codes.search(second).group(1)
    with Ledger.open(default_ledger_path(home)) as ledger:
        assert ledger.count("case") == 4
