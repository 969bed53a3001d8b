"""`seda backup` and `seda restore`: one file holding everything an office owns, checked twice.

    seda backup --out E:/seda-LOR-03-1405-09-11.sedabackup   # while the kiosk keeps running
    seda restore E:/seda-LOR-03-1405-09-11.sedabackup        # into an empty $SEDA_HOME

Every SQLite database under $SEDA_HOME (the ledger with its attachments and sync state, staff
accounts) is copied with SQLite's online backup, so the kiosk and the scanner may keep writing;
keys and settings are copied as they are.  The archive carries a manifest (each file's SHA-256,
and a digest of every ledger record) that is checked after writing and again before a restore
touches anything.  The file holds the office's private keys: it is written 0600 and must be kept
like them.
"""
from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tempfile
import zipfile
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import click

from forms import seda_home
from forms.private_files import private_folder, write_private

from .messages import MESSAGES

__all__ = ["BackupError", "backup_command", "ledger_digest", "restore_command", "restore_home", "write_backup"]

MANIFEST = "seda-backup.json"
FORMAT = 1
SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", "-writer")  # -writer: the writers' lock (central/db/connection.py)
#: Folders under $SEDA_HOME that are not the office's own state (a demo's scratch files).
SKIPPED_FOLDERS = ("demo",)


class BackupError(Exception):
    """The backup could not be written, or a backup file is damaged or does not fit; says which."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _online_copy(path: Path) -> bytes:
    """A consistent copy of a live SQLite database (other programs may be writing)."""
    with tempfile.TemporaryDirectory(prefix="seda-backup-") as folder:
        target = Path(folder) / "copy.sqlite3"
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        return target.read_bytes()


def ledger_digest(path: Path) -> tuple[int, str]:
    """How many records the ledger holds, and one SHA-256 over all of them in order."""
    digest = hashlib.sha256()
    count = 0
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        for row in conn.execute("SELECT uuid, kind, office, created_at, body FROM records ORDER BY seq"):
            digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
            count += 1
        for sha, data in conn.execute("SELECT sha256, data FROM blobs ORDER BY sha256"):
            digest.update(sha.encode("ascii") + _sha256(data).encode("ascii"))
    return count, digest.hexdigest()


def _files(home: Path) -> list[Path]:
    found = []
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home)
        if not path.is_file() or relative.parts[0] in SKIPPED_FOLDERS or path.name.endswith(SKIPPED_SUFFIXES):
            continue
        found.append(path)
    return found


def write_backup(home: Path, out: Path) -> dict:
    """Write the backup of ``home`` to ``out`` and check it; returns the manifest."""
    if not (home / "ledger.sqlite3").is_file():
        raise BackupError(f"{home} holds no Seda ledger: nothing to back up (is SEDA_HOME right?)")
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist.")
    entries: dict[str, bytes] = {}
    for path in _files(home):
        name = path.relative_to(home).as_posix()
        entries[name] = _online_copy(path) if path.suffix in SQLITE_SUFFIXES else path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="seda-backup-") as folder:
        ledger_copy = Path(folder) / "ledger.sqlite3"
        ledger_copy.write_bytes(entries["ledger.sqlite3"])
        records, digest = ledger_digest(ledger_copy)
    manifest = {"format": FORMAT, "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "files": {name: _sha256(data) for name, data in entries.items()},
                "ledger": {"records": records, "digest": digest}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        for name, data in entries.items():
            archive.writestr(name, data)
    write_private(out, buffer.getvalue())
    verify_backup(out)
    return manifest


def verify_backup(path: Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and files of a backup, every file's hash and the ledger's digest checked."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            files = {name: archive.read(name) for name in manifest["files"]}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not a readable Seda backup ({type(exc).__name__}: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is a backup format this Seda does not know ({manifest.get('format')}).")
    for name, expected in manifest["files"].items():
        if _sha256(files[name]) != expected:
            raise BackupError(f"{path} is damaged: {name} does not match its checksum.")
    with tempfile.TemporaryDirectory(prefix="seda-restore-") as folder:
        for name, data in files.items():
            if name.endswith(SQLITE_SUFFIXES):
                copy = Path(folder) / "check.sqlite3"
                copy.write_bytes(data)
                with closing(sqlite3.connect(copy)) as conn:
                    if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                        raise BackupError(f"{path} is damaged: {name} fails SQLite's integrity check.")
                if name == "ledger.sqlite3" and ledger_digest(copy) != (
                        manifest["ledger"]["records"], manifest["ledger"]["digest"]):
                    raise BackupError(f"{path} is damaged: the ledger's records differ from the manifest.")
                copy.unlink()
    return manifest, files


def restore_home(path: Path, home: Path) -> dict:
    """Put a checked backup into ``home``, which must be empty or absent (nothing is overwritten)."""
    manifest, files = verify_backup(path)
    if home.exists() and any(home.iterdir()):
        raise BackupError(f"{home} is not empty; restore into a new, empty SEDA_HOME "
                          "(move the old one aside first).")
    for name in files:
        if name.startswith("/") or ".." in Path(name).parts:
            raise BackupError(f"{path} names a file outside SEDA_HOME ({name}); refused.")
    private_folder(home)
    for name, data in files.items():
        target = home / name
        private_folder(target.parent)
        write_private(target, data)
    return manifest


@click.command("backup")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to write (it holds the office's private keys: keep it like them).")
def backup_command(out: Path) -> None:
    """Back up this installation (ledger, attachments, accounts, keys, settings) into one file."""
    try:
        manifest = write_backup(seda_home(), out)
    except (BackupError, OSError, sqlite3.Error) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {out}: {len(manifest['files'])} files, {manifest['ledger']['records']} ledger "
               "records; checked after writing.")
    click.echo(MESSAGES.line("backup_holds_keys"), err=True)


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(backup: Path) -> None:
    """Restore a backup into $SEDA_HOME (which must be empty), after checking every file."""
    home = seda_home()
    try:
        manifest = restore_home(backup, home)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {len(manifest['files'])} files and {manifest['ledger']['records']} ledger records "
               f"into {home} (backup made {manifest['made_at']}).")
