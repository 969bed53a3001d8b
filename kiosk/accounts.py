"""Staff accounts: who may open the staff pages, and in which role.

Accounts live in their own SQLite file under ``$SEDA_HOME/kiosk/``, not in the ledger:
the ledger is append-only and synced to the central server, and password hashes must
neither travel nor be impossible to change.  Passwords are hashed with argon2id
(argon2-cffi's defaults, which follow RFC 9106's recommendations); a hash made with older
parameters is upgraded on the next successful login.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from forms.private_files import prepare_private_database

__all__ = ["ROLES", "Account", "AccountError", "AccountStore"]

#: scanner_operator: review queue and scan upload.  office_manager: everything.
ROLES = ("scanner_operator", "office_manager")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("seda-no-such-account")


class AccountError(ValueError):
    """An account could not be created or changed; the message says why."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Office managers can do everything a scanner operator can."""
        return self.role == "office_manager" or self.role == role


class AccountStore:
    """The accounts file; open one per thread (SQLite connections are thread-bound)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        prepare_private_database(self.path)  # password hashes: 0600, journal too
        self._conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS accounts ("
            " name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,"
            " created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "AccountStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, name: str, role: str, password: str) -> Account:
        """Create an account; names are lower-case logins, passwords at least 10 characters."""
        if not NAME_PATTERN.match(name or ""):
            raise AccountError("name must be 2-32 characters: a-z, 0-9, '.', '_', '-', "
                               "starting with a letter")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
        try:
            self._conn.execute(
                "INSERT INTO accounts (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, role, _hasher.hash(password), datetime.now(timezone.utc).isoformat()))
        except sqlite3.IntegrityError:
            raise AccountError(f"an account named {name!r} already exists") from None
        return Account(name, role)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
        cursor = self._conn.execute("UPDATE accounts SET password_hash = ? WHERE name = ?",
                                    (_hasher.hash(password), name))
        if cursor.rowcount == 0:
            raise AccountError(f"no account named {name!r}")

    def get(self, name: str) -> Account | None:
        row = self._conn.execute(
            "SELECT name, role FROM accounts WHERE name = ? AND disabled = 0", (name,)).fetchone()
        return Account(*row) if row else None

    def list(self) -> list[Account]:
        rows = self._conn.execute(
            "SELECT name, role FROM accounts WHERE disabled = 0 ORDER BY name").fetchall()
        return [Account(*row) for row in rows]

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account if the password is right, else None (same time either way)."""
        row = self._conn.execute(
            "SELECT name, role, password_hash FROM accounts WHERE name = ? AND disabled = 0",
            (name,)).fetchone()
        stored = row[2] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored):
            self._conn.execute("UPDATE accounts SET password_hash = ? WHERE name = ?",
                               (_hasher.hash(password), name))
        return Account(row[0], row[1])
