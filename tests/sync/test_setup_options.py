"""`seda sync setup --max-backoff --timeout`: the retry cap and request timeout without editing sync.toml."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ledger.sync_settings import load_settings
from seda.cli import main


def seda(home: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home)})


def test_backoff_and_timeout_are_written_and_kept_by_a_later_setup(tmp_path: Path) -> None:
    home = tmp_path / "office"
    result = seda(home, "sync", "setup", "--office", "LOR-03", "--central", "",
                  "--max-backoff", "300", "--timeout", "20")
    assert result.exit_code == 0, result.output
    settings = load_settings(home)
    assert settings.max_backoff_seconds == 300 and settings.timeout_seconds == 20
    assert seda(home, "sync", "setup", "--office", "LOR-03", "--interval", "30").exit_code == 0
    settings = load_settings(home)
    assert (settings.max_backoff_seconds, settings.timeout_seconds, settings.interval_seconds) == (300, 20, 30)


def test_a_zero_or_negative_timeout_is_refused_and_nothing_written(tmp_path: Path) -> None:
    home = tmp_path / "office"
    for bad in ("0", "-5", "abc"):
        result = seda(home, "sync", "setup", "--office", "LOR-03", "--timeout", bad)
        assert result.exit_code == 2 and "--timeout" in result.output
    assert not (home / "sync.toml").exists()
    result = seda(home, "sync", "setup", "--office", "LOR-03", "--max-backoff", "0.5")
    assert result.exit_code == 2 and "--max-backoff" in result.output
