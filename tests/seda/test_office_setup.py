"""`seda office setup`: one office identity every part reads; records that would strand refused."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from forms.office_identity import read_office, write_office
from kiosk.config import ConfigError, KioskConfig
from ledger.ledger import Ledger, StrandedRecord, default_ledger_path
from ledger.office_binding import claim_office
from seda.cli import main
from ledger.sync_settings import SettingsError, SyncSettings, load_settings, write_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SEDA_HOME", str(home))
    return home


def seda(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_setup_writes_the_office_every_part_reads(home: Path) -> None:
    result = seda("office", "setup", "--office", "LOR-03")
    assert result.exit_code == 0, result.output
    assert read_office(home) == "LOR-03"
    assert KioskConfig.load(home).office == "LOR-03"
    assert load_settings(home).office == "LOR-03"
    assert (home / "keys" / "sheet-LOR-03.key").is_file()
    assert "seda central office add LOR-03 --public-key " in result.stdout
    with Ledger.open(default_ledger_path(home)) as ledger:
        assert ledger.bound_office == "LOR-03"


def test_interactive_setup_asks_for_the_office_and_the_central_address(home: Path) -> None:
    result = seda("office", "setup", input="lor-03\n\n")
    assert result.exit_code == 0, result.output
    assert read_office(home) == "LOR-03"
    assert load_settings(home).central_url == ""


def test_the_identity_file_says_what_it_is_in_persian_and_english(home: Path) -> None:
    write_office(home, "LOR-03")
    lines = (home / "office.toml").read_text(encoding="utf-8").splitlines()
    assert lines == ["# This installation's office (written by `seda office setup`).",
                     "# کد ادارهٔ این نصب؛ کیوسک، اسکنر، چاپ برگه و همگام‌سازی همه از همین‌جا می‌خوانند.",
                     "# Kiosk, scanner, sheet printing and sync all read it from here.",
                     'office = "LOR-03"']


def test_kiosk_yaml_naming_another_office_is_refused_when_the_kiosk_loads(home: Path) -> None:
    write_office(home, "LOR-03")
    (home / "kiosk.yaml").write_text("office: DEMO-01\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="set up for office LOR-03, not DEMO-01"):
        KioskConfig.load(home)


def test_setup_takes_an_old_office_line_out_of_kiosk_yaml(home: Path) -> None:
    home.mkdir()
    (home / "kiosk.yaml").write_text("office: DEMO-01\nkiosk_id: entrance-2\n", encoding="utf-8")
    result = seda("office", "setup", "--office", "LOR-03")
    assert result.exit_code == 0, result.output
    assert (home / "kiosk.yaml").read_text(encoding="utf-8") == "kiosk_id: entrance-2\n"
    assert KioskConfig.load(home).kiosk_id == "entrance-2"


def test_sync_settings_naming_another_office_are_refused(home: Path) -> None:
    write_office(home, "LOR-03")
    write_settings(home, SyncSettings(office="LOR-30", central_url=""))
    with pytest.raises(SettingsError, match="not LOR-30"):
        load_settings(home)


def test_setting_up_another_office_is_refused_without_change(home: Path) -> None:
    assert seda("office", "setup", "--office", "LOR-03").exit_code == 0
    result = seda("office", "setup", "--office", "LOR-30")
    assert result.exit_code == 1
    assert "--change" in result.stderr
    assert read_office(home) == "LOR-03"
    result = seda("sync", "setup", "--office", "LOR-30")
    assert result.exit_code == 1
    assert read_office(home) == "LOR-03" and load_settings(home).office == "LOR-03"


def test_a_bound_ledger_refuses_a_record_under_another_code_and_keeps_nothing(home: Path) -> None:
    claim_office(home, "LOR-03")
    with Ledger.open(default_ledger_path(home)) as ledger:
        with pytest.raises(StrandedRecord, match="LOR-03"):
            ledger.append("case", {"text": "x"}, office="DEMO-01")
        with pytest.raises(StrandedRecord):
            ledger.issue_sheets("LOR-99", "satisfaction", 1, 5)
        assert ledger.count() == 0
        ledger.append("case", {"text": "x"}, office="LOR-03")
        assert ledger.count() == 1


def test_records_filed_before_setup_are_reported_then_adopted_once(home: Path) -> None:
    with Ledger.open(default_ledger_path(home)) as ledger:  # a kiosk that ran as DEMO-01
        first = ledger.append("case", {"tracking_code": "1234-5678-9", "text": "x"}, office="DEMO-01")
    result = seda("office", "setup", "--office", "LOR-03")
    assert result.exit_code == 0, result.output
    assert "1 record(s) under DEMO-01" in result.stderr and "seda office adopt DEMO-01" in result.stderr
    assert seda("office", "status").exit_code == 1
    adopted = seda("office", "adopt", "DEMO-01", "--by", "maryam")
    assert adopted.exit_code == 0, adopted.output
    assert "1 record(s)" in adopted.stdout
    assert "0 record(s)" in seda("office", "adopt", "DEMO-01", "--by", "maryam").stdout
    status = seda("office", "status")
    assert status.exit_code == 0, status.output
    with Ledger.open(default_ledger_path(home)) as ledger:
        copies = [r for r in ledger.records("case") if r.office == "LOR-03"]
    assert len(copies) == 1
    assert copies[0].body["tracking_code"] == "1234-5678-9"
    assert copies[0].body["adopted_from"] == {"office": "DEMO-01", "uuid": first.uuid}


def test_kiosk_serve_before_setup_is_refused_with_the_command_to_run(home: Path) -> None:
    result = seda("kiosk", "serve", "--port", "8089")  # refused before it listens
    assert result.exit_code == 1
    assert "seda office setup --office CODE" in result.stderr


def test_setup_writes_max_backoff_and_timeout_where_sync_reads_them(home: Path) -> None:
    result = seda("office", "setup", "--office", "LOR-03", "--central", "", "--max-backoff", "120",
                  "--timeout", "15")
    assert result.exit_code == 0, result.output
    settings = load_settings(home)
    assert settings.max_backoff_seconds == 120 and settings.timeout_seconds == 15
    again = seda("office", "setup", "--office", "LOR-03", "--central", "")  # left out: kept
    assert again.exit_code == 0, again.output
    assert load_settings(home).max_backoff_seconds == 120 and load_settings(home).timeout_seconds == 15


@pytest.mark.parametrize("option", [["--max-backoff", "0"], ["--timeout", "-5"], ["--timeout", "soon"]])
def test_setup_refuses_a_bad_backoff_or_timeout_and_writes_nothing(home: Path, option: list[str]) -> None:
    result = seda("office", "setup", "--office", "LOR-03", "--central", "", *option)
    assert result.exit_code == 2 and option[0] in result.output
    assert not home.exists() or not any(home.iterdir())
