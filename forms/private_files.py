"""Files and folders only their owner may read: everything under ``$SEDA_HOME``.

``$SEDA_HOME`` holds what citizens said (the ledger and its WAL), keys, staff password hashes
and exports, so it is private to the user Seda runs as: folders 0700, files 0600.  The mode is
given *when the file is made* (``os.open(..., 0o600)``), never by a ``chmod`` after the data is
written: between the two, another local user could open the file and keep the handle.  The
process umask can only take bits away from 0600, so the descriptor is then set to exactly 0600
(``fchmod`` on the still-empty file) and the result does not depend on the umask either.

SQLite makes a database's ``-wal``, ``-shm`` and ``-journal`` files with the mode of the
database file itself, so :func:`prepare_private_database` creates the (empty) database file
0600 before SQLite opens it.

On Windows POSIX modes mean nothing (the per-user folder's ACLs protect it); every function
here then just creates the file or folder and never fails because of a mode.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO

__all__ = ["FILE_MODE", "FOLDER_MODE", "create_private_file", "open_private",
           "prepare_private_database", "private_folder", "tighten_home", "write_private"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_POSIX = os.name == "posix"
#: Files SQLite makes beside a database, with the database file's own mode.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> Path:
    """Make ``path`` (and missing parents) as folders only the owner may enter."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)  # never wider than 0700, whatever the umask
        except FileExistsError:
            continue  # another program made it first; its mode was set by the same rule
        if _POSIX:
            os.chmod(folder, FOLDER_MODE)  # exactly 0700 (a umask like 0o277 takes bits away)
    return path


def _set_exact_mode(fd: int) -> None:
    if _POSIX:
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError:  # a FAT USB stick has no modes: nothing to tighten there
            pass


def create_private_file(path: Path) -> bool:
    """Create an empty file only the owner may read; False if it already exists."""
    path = Path(path)
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0),
                     FILE_MODE)
    except FileExistsError:
        return False
    try:
        _set_exact_mode(fd)
    finally:
        os.close(fd)
    return True


def open_private(path: Path, mode: str = "wb", encoding: str | None = None) -> IO:
    """``open(path, mode)`` for writing, but a file it creates is 0600 from its first byte.

    ``mode`` is ``"w"``/``"wb"`` (truncate) or ``"x"``/``"xb"`` (must not exist).  A file that
    already exists keeps its owner and is set to 0600 before anything is written into it.
    """
    if mode.rstrip("bt") not in ("w", "x"):
        raise ValueError(f"open_private writes files; mode {mode!r} is not 'w' or 'x'")
    path = Path(path)
    private_folder(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    flags |= os.O_EXCL if mode.startswith("x") else os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    try:
        _set_exact_mode(fd)
        return os.fdopen(fd, "wb" if "b" in mode else "w",
                         **({} if "b" in mode else {"encoding": encoding or "utf-8", "newline": ""}))
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes | str, *, encoding: str = "utf-8",
                  atomic: bool = True) -> Path:
    """Write ``data`` to ``path`` (0600); atomically (temporary file, fsync, rename) by default."""
    path = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    target = path.with_name(f".{path.name}.tmp") if atomic else path
    with open_private(target, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    if atomic:
        os.replace(target, path)
    return path


def prepare_private_database(path: Path) -> Path:
    """Before SQLite opens ``path``: make it (empty) 0600 so its WAL and SHM are 0600 too.

    An existing database left readable by an older Seda is tightened, with the companions
    SQLite already made beside it.
    """
    path = Path(path)
    if not create_private_file(path) and _POSIX:
        for candidate in (path, *(path.with_name(path.name + s) for s in _SQLITE_COMPANIONS)):
            try:
                if candidate.stat().st_mode & 0o077:
                    os.chmod(candidate, FILE_MODE)
            except FileNotFoundError:
                continue
            except PermissionError:  # someone else's file: SQLite will say what is wrong
                continue
    return path


def tighten_home(home: Path) -> None:
    """``$SEDA_HOME`` itself 0700 (an older Seda made it with the umask's mode)."""
    home = Path(home)
    if not home.exists():
        private_folder(home)
    elif _POSIX and home.stat().st_mode & 0o077:
        try:
            os.chmod(home, FOLDER_MODE)
        except PermissionError:
            pass
