"""`seda kiosk install` (systemd units under --root) and `seda kiosk watchdog`."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.appliance import CHROMIUM_KIOSK_FLAGS
from seda.cli import main

UNITS = {"seda-kiosk.service", "seda-kiosk-watchdog.service", "seda-kiosk-watchdog.timer",
         "seda-sync.service", "seda-sync.timer", "seda-kiosk-browser.service"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SEDA_HOME", str(home))
    return home


def seda(*args: str):
    return CliRunner().invoke(main, list(args))


def test_install_writes_and_enables_every_unit_under_root(home: Path, tmp_path: Path) -> None:
    assert seda("office", "setup", "--office", "LOR-03", "--central", "").exit_code == 0
    root = tmp_path / "root"
    result = seda("kiosk", "install", "--root", str(root), "--user", "kiosk", "--port", "8181",
                  "--seda", "/opt/seda/bin/seda")
    assert result.exit_code == 0, result.output
    units = root / "etc/systemd/system"
    assert {p.name for p in units.glob("seda-*")} == UNITS
    kiosk = (units / "seda-kiosk.service").read_text()
    assert "ExecStart=/opt/seda/bin/seda kiosk serve --host 127.0.0.1 --port 8181" in kiosk
    assert f"Environment=SEDA_HOME={home.resolve()}" in kiosk and "User=kiosk" in kiosk
    assert "Restart=always" in kiosk
    browser = (units / "seda-kiosk-browser.service").read_text()
    assert "--kiosk" in browser and "--disable-pinch" in browser and "http://127.0.0.1:8181/" in browser
    assert "Restart=always" in browser and "TTYPath=/dev/tty1" in browser
    watchdog = (units / "seda-kiosk-watchdog.service").read_text()
    assert "kiosk watchdog --url http://127.0.0.1:8181/healthz" in watchdog
    assert "User=" not in watchdog  # it must be allowed to restart a system service
    for target, name in (("multi-user.target", "seda-kiosk.service"), ("timers.target", "seda-sync.timer"),
                         ("timers.target", "seda-kiosk-watchdog.timer"),
                         ("graphical.target", "seda-kiosk-browser.service")):
        link = units / f"{target}.wants" / name
        assert link.is_symlink() and link.resolve() == (units / name).resolve()


def test_install_with_a_hot_folder_adds_the_scanner_unit(home: Path, tmp_path: Path) -> None:
    seda("office", "setup", "--office", "LOR-03", "--central", "")
    scans = tmp_path / "scans"
    scans.mkdir()
    root = tmp_path / "root"
    assert seda("kiosk", "install", "--root", str(root), "--hot-folder", str(scans)).exit_code == 0
    unit = (root / "etc/systemd/system/seda-scan-watch.service").read_text()
    assert f"scan watch {scans.resolve()} --store" in unit


def test_install_before_office_setup_is_refused_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = seda("kiosk", "install", "--root", str(root))
    assert result.exit_code == 1 and "seda office setup" in result.output
    assert not root.exists()


def test_install_refuses_a_mistyped_hot_folder(home: Path, tmp_path: Path) -> None:
    seda("office", "setup", "--office", "LOR-03", "--central", "")
    result = seda("kiosk", "install", "--root", str(tmp_path / "root"), "--hot-folder", str(tmp_path / "nope"))
    assert result.exit_code == 2 and not (tmp_path / "nope").exists() and not (tmp_path / "root").exists()


def test_watchdog_leaves_a_healthy_kiosk_alone(live_kiosk, tmp_path: Path) -> None:
    marker = tmp_path / "restarted"
    result = seda("kiosk", "watchdog", "--url", live_kiosk.url + "/healthz",
                  "--restart-command", f"touch {marker}")
    assert result.exit_code == 0, result.output
    assert not marker.exists()


def test_watchdog_restarts_a_kiosk_that_does_not_answer(tmp_path: Path, free_port) -> None:
    marker = tmp_path / "restarted"
    result = seda("kiosk", "watchdog", "--url", f"http://127.0.0.1:{free_port()}/healthz",
                  "--tries", "2", "--timeout", "1", "--restart-command", f"touch {marker}")
    assert result.exit_code == 1 and marker.exists()
    assert "does not answer" in result.stderr


@pytest.mark.slow
def test_chromium_takes_the_kiosk_flags_and_shows_the_start_page(live_kiosk) -> None:
    flags = [f for f in CHROMIUM_KIOSK_FLAGS if not f.startswith("--ozone-platform")]
    done = subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", *flags,
                           "--dump-dom", live_kiosk.url + "/"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'dir="rtl"' in done.stdout and "<body" in done.stdout
