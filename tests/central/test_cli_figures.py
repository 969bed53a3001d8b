"""`seda central figures`, `report` and `export` refuse what they cannot answer truthfully: a
store that does not exist (never made on the spot), a month that is not a Jalali YYYY-MM or has
not begun, an office nobody knows; one line in Persian and English, exit 1, no file written."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from central import Store
from central.cli import central_group

IN_AZAR = "2026-12-01T08:00:00.000000Z"
COMMANDS = {"figures": ["figures", "--json"],
            "report": ["report", "--out", "{out}"],
            "export": ["export", "responses", "--out", "{out}"]}


def run(args: list[str], out: Path) -> object:
    return CliRunner().invoke(central_group, [a.format(out=out) for a in args])


@pytest.fixture
def answered(store: Store) -> Store:
    body = {"source": "kiosk", "form": "satisfaction", "form_version": 1, "complete": True,
            "answers": {"overall": 4, "service": "other"}}
    with store.connect() as db, db.transaction():
        db.execute("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint, tracking_code,"
                   " receipt, received_at) VALUES (?, 'THR-012', 'survey_response', ?, ?, 'fp', NULL, 'r', 'now')",
                   (str(uuid.uuid4()), IN_AZAR, json.dumps(body)))
    return store


def test_figures_prints_one_json_object_with_the_contract_keys(answered: Store, store_url: str, tmp_path) -> None:
    result = run(["figures", "--month", "۱۴۰۵-۰۹", "--office", "THR-012", "--store", store_url, "--json"], tmp_path)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert {"month", "responses", "questions", "cases"} <= figures.keys() and figures["month"] == "1405-09"
    assert figures["responses"]["kiosk"] == 1 and figures["questions"]["overall"]["counts"]["4"] == 1


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_store_is_an_error_and_is_not_created(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    result = run([*COMMANDS[command], "--month", "1405-09", "--store", str(missing)], tmp_path / "out.file")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"انبار مرکزی در {missing} نیست؛ برای ساختن آن `seda central init --store {missing}` را اجرا کنید. / "
        f"No central store at {missing}; to create one run `seda central init --store {missing}`."]
    assert not missing.exists() and not (tmp_path / "out.file").exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("month, words", [("2026-11", "looks like a Gregorian month"),
                                          ("1499-01", "has not begun yet"),
                                          ("1405-13", "is not a Jalali month")])
def test_a_month_that_is_not_a_jalali_month_so_far_is_an_error(answered: Store, store_url: str, command: str,
                                                               month: str, words: str, tmp_path: Path) -> None:
    out = tmp_path / "out.file"
    result = run([*COMMANDS[command], "--month", month, "--store", store_url], out)
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert words in line and " / " in line and any("\u0600" <= ch <= "\u06ff" for ch in line)
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_office_is_an_error(answered: Store, store_url: str, command: str, tmp_path: Path) -> None:
    out = tmp_path / "out.file"
    result = run([*COMMANDS[command], "--month", "1405-09", "--office", "NOPE-1", "--store", store_url], out)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "اداره‌ای با کد NOPE-1 در انبار مرکزی نیست. / No office NOPE-1 is known to the central store."]
    assert not out.exists()


def test_an_office_is_named_for_the_reports(answered: Store, store_url: str, tmp_path: Path) -> None:
    from central.figures import office_names

    result = run(["office", "name", "THR-012", "--fa", "ثبت احوال منطقه ۱۲", "--store", store_url], tmp_path)
    assert result.exit_code == 0, result.output
    assert office_names(answered)["THR-012"] == {"fa": "ثبت احوال منطقه ۱۲", "en": "ثبت احوال منطقه ۱۲"}
