"""`seda backup` / `seda restore`: a round trip gives the same ledger, keys and settings."""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from central import open_store
from kiosk.accounts import AccountStore
from ledger.ledger import Ledger, default_ledger_path
from seda.backup import MANIFEST
from seda.cli import main


def seda(home: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home)})


def everything_in(home: Path) -> list[tuple]:
    with Ledger.open(default_ledger_path(home)) as ledger:
        records = [(r.uuid, r.kind, r.office, r.created_at, r.body) for r in ledger.records()]
        blobs = [ledger.blob(r.body["sha256"]) for r in ledger.records("attachment")]
    return records + blobs


@pytest.fixture
def office(tmp_path: Path) -> Path:
    home = tmp_path / "office"
    assert seda(home, "office", "setup", "--office", "LOR-03").exit_code == 0
    with Ledger.open(default_ledger_path(home)) as ledger:
        for n in range(20):
            ledger.append("case", {"tracking_code": f"{n:09d}", "text": "صف طولانی بود"}, office="LOR-03")
        ledger.add_attachment(b"\x89PNG fake image bytes", "image/png", office="LOR-03")
    with AccountStore(home / "kiosk" / "accounts.sqlite3") as accounts:
        accounts.add("maryam", "office_manager", "a long enough password")
    return home


def test_backup_then_restore_on_a_fresh_home_gives_the_same_ledger_keys_and_settings(office: Path,
                                                                                     tmp_path: Path) -> None:
    out = tmp_path / "office.sedabackup"
    made = seda(office, "backup", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert "21 ledger records; checked after writing" in made.stdout
    fresh = tmp_path / "fresh"
    restored = seda(fresh, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    assert everything_in(fresh) == everything_in(office)
    for name in ("keys/sync-office.key", "keys/sheet-LOR-03.key", "office.toml", "sync.toml"):
        assert (fresh / name).read_bytes() == (office / name).read_bytes(), name
    with AccountStore(fresh / "kiosk" / "accounts.sqlite3") as accounts:
        assert accounts.authenticate("maryam", "a long enough password") is not None
    assert seda(fresh, "office", "status").exit_code == 0


def test_the_backup_file_and_restored_files_are_private(office: Path, tmp_path: Path) -> None:
    out = tmp_path / "office.sedabackup"
    assert seda(office, "backup", "--out", str(out)).exit_code == 0
    fresh = tmp_path / "fresh"
    assert seda(fresh, "restore", str(out)).exit_code == 0
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert stat.S_IMODE((fresh / "keys" / "sync-office.key").stat().st_mode) == 0o600
        assert stat.S_IMODE((fresh / "keys").stat().st_mode) == 0o700


def test_a_backup_taken_while_the_ledger_is_open_for_writing_is_consistent(office: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.sedabackup"
    with Ledger.open(default_ledger_path(office)) as ledger, ledger.transaction():
        ledger.append("case", {"text": "not committed yet"}, office="LOR-03")
        assert seda(office, "backup", "--out", str(out)).exit_code == 0  # the writer's lock is held
    fresh = tmp_path / "fresh"
    assert seda(fresh, "restore", str(out)).exit_code == 0
    restored = everything_in(fresh)
    assert len(restored) == 22  # 20 cases, the attachment record and its bytes: not the open write
    assert not any(isinstance(item, tuple) and item[4].get("text") == "not committed yet" for item in restored)


def test_a_damaged_backup_is_refused_before_anything_is_written(office: Path, tmp_path: Path) -> None:
    out = tmp_path / "office.sedabackup"
    assert seda(office, "backup", "--out", str(out)).exit_code == 0
    damaged = tmp_path / "damaged.sedabackup"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "keys/sync-office.key":
                data = b"0" * len(data)
            target.writestr(item, data)
    fresh = tmp_path / "fresh"
    result = seda(fresh, "restore", str(damaged))
    assert result.exit_code == 1 and "does not match its checksum" in result.stderr
    assert not fresh.exists()


def test_restore_into_a_home_in_use_is_refused(office: Path, tmp_path: Path) -> None:
    out = tmp_path / "office.sedabackup"
    assert seda(office, "backup", "--out", str(out)).exit_code == 0
    before = everything_in(office)
    result = seda(office, "restore", str(out))
    assert result.exit_code == 1 and "is not empty" in result.stderr
    assert everything_in(office) == before


def test_backup_of_a_home_without_a_ledger_is_refused(tmp_path: Path) -> None:
    result = seda(tmp_path / "typo", "backup", "--out", str(tmp_path / "x.sedabackup"))
    assert result.exit_code == 1 and "no Seda ledger" in result.stderr
    assert not (tmp_path / "x.sedabackup").exists()


def test_restore_drill_of_a_sqlite_central_store(office: Path, tmp_path: Path) -> None:
    """The centre's drill on SQLite (docs/operations.md): the store in $SEDA_HOME comes back whole."""
    store = open_store(office / "central.sqlite3")
    store.add_office("LOR-03", "11" * 32)
    store.close()
    out = tmp_path / "centre.sedabackup"
    assert seda(office, "backup", "--out", str(out)).exit_code == 0
    fresh = tmp_path / "fresh"
    assert seda(fresh, "restore", str(out)).exit_code == 0
    restored = open_store(fresh / "central.sqlite3", migrate=False)
    assert [o.code for o in restored.offices()] == ["LOR-03"]
    assert MANIFEST in zipfile.ZipFile(out).namelist()
