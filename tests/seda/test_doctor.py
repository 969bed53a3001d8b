"""`seda doctor`: each check finds its problem, says it in Persian and English with the command
that fixes it, and exits non-zero while anything needs attention."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from forms.identity_keys import office_key_path
from ledger.ledger import Ledger, default_ledger_path
from ledger.sync_settings import load_settings, write_settings
from seda.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SEDA_HOME", str(home))
    return home


def seda(*args: str):
    return CliRunner().invoke(main, list(args))


def doctor(*checks: str) -> tuple[int, list[dict]]:
    result = seda("doctor", "--json")
    found = json.loads(result.stdout)["checks"]
    return result.exit_code, [f for f in found if not checks or f["check"] in checks]


def problems(found: list[dict]) -> list[dict]:
    return [f for f in found if f["status"] != "ok"]


def set_up(office: str = "LOR-03", central: str = "") -> None:
    result = seda("office", "setup", "--office", office, "--central", central)
    assert result.exit_code == 0, result.output


def test_a_fresh_home_needs_setup_and_says_which_command(home: Path) -> None:
    home.mkdir()
    code, found = doctor("identity")
    assert code == 1
    [identity] = found
    assert identity["status"] == "fail" and "seda office setup" in identity["fix"]
    assert "تنظیم نشده" in identity["fa"] and "not set up" in identity["en"]


def test_a_usb_office_just_set_up_is_all_good(home: Path) -> None:
    set_up()
    result = seda("doctor")
    assert result.exit_code == 0, result.output
    assert "All good" in result.output and "✗" not in result.output


def test_a_key_others_can_read_is_found_with_the_chmod_that_fixes_it(home: Path) -> None:
    set_up()
    os.chmod(office_key_path(home), 0o644)
    code, found = doctor("keys", "home")
    assert code == 1
    fixes = [f["fix"] for f in problems(found)]
    assert f'chmod 600 "{office_key_path(home)}"' in fixes
    assert any(fix.startswith("chmod -R u=rwX,go=") for fix in fixes)


def test_sync_settings_of_another_office_break_the_identity(home: Path) -> None:
    set_up()
    path = home / "sync.toml"
    path.write_text(path.read_text().replace('"LOR-03"', '"LOR-99"'))
    code, found = doctor("identity")
    assert code == 1 and problems(found)[0]["fix"] == "seda office setup --office LOR-03"


def test_a_damaged_ledger_is_found(home: Path) -> None:
    set_up()
    path = default_ledger_path(home)
    with Ledger.open(path) as ledger:
        for n in range(200):
            ledger.append("survey_response", {"answers": {"q": n}, "pad": "x" * 500}, office="LOR-03")
    data = bytearray(path.read_bytes())
    data[4096 * 3: 4096 * 3 + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    code, found = doctor("ledger")
    assert code == 1 and found[0]["status"] == "fail" and found[0]["fix"] == "seda restore BACKUP-FILE"


def test_records_stranded_under_another_code_are_found_with_the_adopt_command(home: Path) -> None:
    with Ledger.open(default_ledger_path(home)) as ledger:
        ledger.append("case", {"tracking_code": "1234-5678-9", "text": "x"}, office="DEMO-01")
    set_up()
    code, found = doctor("records")
    assert code == 1 and problems(found)[0]["fix"] == "seda office adopt DEMO-01 --by NAME"


def test_central_unreachable_is_a_failure(home: Path, free_port) -> None:
    set_up(central=f"http://127.0.0.1:{free_port()}")
    code, found = doctor("sync")
    assert code == 1 and found[0]["status"] == "fail" and "does not answer" in found[0]["en"]


def test_central_reachable_with_its_pinned_key_is_good_and_another_key_is_not(
        home: Path, central) -> None:
    set_up(central=central.url)
    code, found = doctor("sync", "clock")
    assert not problems(found), found
    settings = load_settings(home)
    write_settings(home, settings.__class__(**{**settings.__dict__, "central_key": "ab" * 32}))
    code, found = doctor("sync")
    assert code == 1 and "not the pinned" in problems(found)[0]["en"]


def test_a_network_printer_that_does_not_answer_is_found(home: Path, free_port) -> None:
    set_up()
    with (home / "kiosk.yaml").open("a", encoding="utf-8") as f:
        f.write(f"receipt_printer: network:127.0.0.1:{free_port()}\n")
    code, found = doctor("printer")
    assert code == 1 and found[0]["status"] == "fail" and "power and cable" in found[0]["fix"]


def test_text_output_has_persian_english_and_the_fix(home: Path) -> None:
    home.mkdir()
    result = seda("doctor")
    assert result.exit_code == 1
    assert "این نصب هنوز" in result.output and "This installation is not set up" in result.output
    assert "→ seda office setup --office CODE --central URL" in result.output


def test_a_missing_home_is_a_failure_not_created(home: Path) -> None:
    result = seda("doctor")
    assert result.exit_code == 1 and "does not exist" in result.output
