"""$SEDA_HOME is private to its user: folders 0700, files 0600, from creation, whatever the
umask (issue 11, item 1)."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from seda.cli import main
from forms.private_files import (create_private_file, open_private, prepare_private_database,
                                 private_folder, tighten_home, write_private)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(home: Path) -> dict[str, int]:
    """Every folder and file under ``home`` (itself included) that is not private."""
    wrong = {}
    for path in [home, *home.rglob("*")]:
        want = 0o700 if path.is_dir() else 0o600
        if mode(path) != want:
            wrong[str(path.relative_to(home))] = oct(mode(path))
    return wrong


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_files_and_folders_get_exact_private_modes_whatever_the_umask(tmp_path, mask):
    with umask(mask):
        folder = private_folder(tmp_path / "a" / "b")
        create_private_file(folder / "empty")
        with open_private(folder / "text", "w") as handle:
            handle.write("x")
        write_private(folder / "atomic", b"y")
        prepare_private_database(folder / "db.sqlite3")
    assert {mode(p) for p in (tmp_path / "a", folder)} == {0o700}
    assert {mode(folder / n) for n in ("empty", "text", "atomic", "db.sqlite3")} == {0o600}


def test_a_private_file_is_never_readable_by_others_while_it_is_written(tmp_path):
    with umask(0o000), open_private(tmp_path / "secret", "wb") as handle:
        assert mode(tmp_path / "secret") == 0o600  # before the first byte
        handle.write(b"secret")


def test_sqlite_wal_and_shm_take_the_databases_private_mode(tmp_path):
    from ledger.ledger import Ledger

    with umask(0o000), Ledger.open(tmp_path / "home" / "ledger.sqlite3") as ledger:
        ledger.append("survey_response", {"answers": {}}, office="LOR-01")
        names = {p.name: mode(p) for p in (tmp_path / "home").iterdir()}
    assert names["ledger.sqlite3-wal"] == 0o600 and names["ledger.sqlite3-shm"] == 0o600
    assert names["ledger.sqlite3"] == 0o600 and mode(tmp_path / "home") == 0o700


def test_an_older_wide_home_and_ledger_are_tightened(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    (home / "ledger.sqlite3").touch(mode=0o644)
    os.chmod(home / "ledger.sqlite3", 0o644)
    tighten_home(home)
    prepare_private_database(home / "ledger.sqlite3")
    assert (mode(home), mode(home / "ledger.sqlite3")) == (0o700, 0o600)


def test_the_seda_command_tightens_an_existing_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    assert CliRunner().invoke(main, ["forms", "list"], env={"SEDA_HOME": str(home)}).exit_code == 0
    assert mode(home) == 0o700


def test_every_file_an_office_and_its_central_server_make_is_private(tmp_path, serve_central, visit_token):
    """A whole life under umask 0 (the worst case): setup, staff account, kiosk cases and a
    misconduct report, sync with a central server sharing the home, USB export, settings."""
    from kiosk import KioskConfig, create_app
    from kiosk.accounts import AccountStore
    from central import open_store
    from sync.client import sync_once

    home = tmp_path / "home"
    with umask(0o000):
        store = open_store(home / "central" / "central.sqlite3")
        server = serve_central(store, home / "central")
        try:
            runner = CliRunner()
            env = {"SEDA_HOME": str(home), "SEDA_CENTRAL_STORE": ""}
            assert runner.invoke(main, ["sync", "setup", "--office", "LOR-01", "--central", server.url],
                                 env=env).exit_code == 0
            key = runner.invoke(main, ["sync", "key"], env=env).output.strip()
            store.add_office("LOR-01", key)
            config = KioskConfig.load(home, office="LOR-01", testing=True)
            with AccountStore(config.state_folder / "accounts.sqlite3") as accounts:
                accounts.add("manager", "office_manager", "correct horse battery")
            client = create_app(config).test_client()
            for path, extra in (("/case", {"type": "complaint"}), ("/report", {})):
                html = client.get(path).get_data(as_text=True)
                assert client.post(path, data={"visit": visit_token(html), "service": "other",
                                               "text": "متن", **extra}).status_code == 302
            sync_once(home)
            stick = home / "exports"
            assert runner.invoke(main, ["sync", "export", "--out", str(stick / "e.batches")],
                                 env=env).exit_code == 0
        finally:
            server.stop()
            store.close()
    assert modes_under(home) == {}
