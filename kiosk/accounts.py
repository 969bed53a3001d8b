"""Staff accounts: who may open the staff pages, and in which role.

Accounts live in their own SQLite file under ``$SEDA_HOME/kiosk/``, not in the ledger:
the ledger is append-only and synced to the central server, and password hashes must
neither travel nor be impossible to change.  Passwords are hashed with argon2id
(argon2-cffi's defaults, which follow RFC 9106's recommendations); a hash made with older
parameters is upgraded on the next successful login.

Staff sessions live here too, server-side: the browser holds a random token (in the kiosk's
signed cookie), this file only the token's SHA-256 and the times that end it -- 30 minutes
without a staff page, or 12 hours after sign-in, whichever comes first.  Signing out, a new
password and ``seda kiosk user disable`` delete the rows, so a copied cookie stops working
at once and never renews itself past the 12 hours.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from forms.messages import MessageError
from forms.private_files import prepare_private_database

__all__ = ["ROLES", "SESSION_ABSOLUTE_SECONDS", "SESSION_IDLE_SECONDS", "Account", "AccountError",
           "AccountStore"]

#: scanner_operator: review queue and scan upload.  office_manager: everything.
ROLES = ("scanner_operator", "office_manager")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
#: A staff session ends after this long without a staff page (the desk may be unattended) ...
SESSION_IDLE_SECONDS = 30 * 60
#: ... and this long after sign-in, however busy.
SESSION_ABSOLUTE_SECONDS = 12 * 3600
_TOUCH_EVERY = 30

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("seda-no-such-account")


class AccountError(MessageError, ValueError):
    """An account could not be created or changed (kiosk/translations ``account_*``)."""

    catalogue = "kiosk"


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
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS staff_sessions ("
            " token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL,"
            " last_seen REAL NOT NULL)")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "AccountStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, name: str, role: str, password: str) -> Account:
        """Create an account; names are lower-case logins, passwords at least 10 characters."""
        if not NAME_PATTERN.match(name or ""):
            raise AccountError("account_name_invalid")
        if role not in ROLES:
            raise AccountError("account_role_unknown", roles=", ".join(ROLES))
        if len(password) < MIN_PASSWORD:
            raise AccountError("account_password_too_short", n=MIN_PASSWORD)
        try:
            self._conn.execute(
                "INSERT INTO accounts (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, role, _hasher.hash(password), datetime.now(timezone.utc).isoformat()))
        except sqlite3.IntegrityError:
            raise AccountError("account_name_taken", name=name) from None
        return Account(name, role)

    def exists(self, name: str) -> bool:
        """Whether an account ``name`` exists, disabled or not."""
        return self._conn.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone() is not None

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of ``name`` ends (a copied cookie dies with it)."""
        if len(password) < MIN_PASSWORD:
            raise AccountError("account_password_too_short", n=MIN_PASSWORD)
        cursor = self._conn.execute("UPDATE accounts SET password_hash = ? WHERE name = ?",
                                    (_hasher.hash(password), name))
        if cursor.rowcount == 0:
            raise AccountError("account_no_account", name=name)
        self.end_sessions(name)

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        """Disable (or re-enable) ``name``; disabling ends every session of it at once."""
        cursor = self._conn.execute("UPDATE accounts SET disabled = ? WHERE name = ?",
                                    (1 if disabled else 0, name))
        if cursor.rowcount == 0:
            raise AccountError("account_no_account", name=name)
        if disabled:
            self.end_sessions(name)

    def is_disabled(self, name: str) -> bool:
        row = self._conn.execute("SELECT disabled FROM accounts WHERE name = ?", (name,)).fetchone()
        return bool(row and row[0])

    # -- sessions -----------------------------------------------------------------

    def start_session(self, name: str, *, now: float | None = None) -> str:
        """A new session for ``name``: the token for the cookie (only its hash is kept)."""
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        self._conn.execute("DELETE FROM staff_sessions WHERE last_seen <= ? OR created_at <= ?",
                           (now - SESSION_IDLE_SECONDS, now - SESSION_ABSOLUTE_SECONDS))
        self._conn.execute("INSERT INTO staff_sessions (token_sha256, name, created_at, last_seen)"
                           " VALUES (?, ?, ?, ?)", (_token_hash(token), name, now, now))
        return token

    def session_account(self, token: str | None, *, now: float | None = None) -> Account | None:
        """The enabled account behind a live session token, or None.

        An idle, too old or orphaned session is deleted here; a live one is marked seen now.
        """
        if not token:
            return None
        now = time.time() if now is None else now
        digest = _token_hash(token)
        row = self._conn.execute(
            "SELECT s.created_at, s.last_seen, a.name, a.role, a.disabled FROM staff_sessions s"
            " LEFT JOIN accounts a ON a.name = s.name WHERE s.token_sha256 = ?", (digest,)).fetchone()
        if row is None:
            return None
        created_at, last_seen, name, role, disabled = row
        if name is None or disabled or now - last_seen >= SESSION_IDLE_SECONDS \
                or now - created_at >= SESSION_ABSOLUTE_SECONDS:
            self._conn.execute("DELETE FROM staff_sessions WHERE token_sha256 = ?", (digest,))
            return None
        if now - last_seen >= _TOUCH_EVERY:  # not one write per page view
            self._conn.execute("UPDATE staff_sessions SET last_seen = ? WHERE token_sha256 = ?",
                               (now, digest))
        return Account(name, role)

    def end_session(self, token: str | None) -> None:
        if token:
            self._conn.execute("DELETE FROM staff_sessions WHERE token_sha256 = ?",
                               (_token_hash(token),))

    def end_sessions(self, name: str) -> int:
        """End every session of ``name``; returns how many there were."""
        return self._conn.execute("DELETE FROM staff_sessions WHERE name = ?", (name,)).rowcount

    def get(self, name: str) -> Account | None:
        row = self._conn.execute(
            "SELECT name, role FROM accounts WHERE name = ? AND disabled = 0", (name,)).fetchone()
        return Account(*row) if row else None

    def list(self, *, include_disabled: bool = False) -> list[Account]:
        where = "" if include_disabled else " WHERE disabled = 0"
        rows = self._conn.execute(f"SELECT name, role FROM accounts{where} ORDER BY name").fetchall()
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
