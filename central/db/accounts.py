"""Web accounts: users, their sessions, and the requests for a guarded role (role grants).

The queries behind central/accounts.py and central/grants.py.  Passwords arrive here hashed
and session tokens as their SHA-256: this module never sees a secret.  Rows come back as
tuples in the column order named below; the services keep every rule.
"""
from __future__ import annotations

from .connection import Connection

__all__ = [
    "GRANT_COLUMNS", "USER_COLUMNS", "add_grant", "add_session", "add_user", "claim_grant",
    "delete_expired_sessions", "delete_session", "delete_user_sessions", "grant", "pending_grant_for",
    "pending_grants", "reopen_grant", "session", "set_grant_cancelled", "set_password_hash",
    "set_user_disabled", "touch_session", "update_password_hash", "update_user", "user",
    "user_exists", "user_with_hash", "users",
]

#: The columns of a user row, in the order :func:`user` and :func:`users` return them.
USER_COLUMNS = "name, display_name, role, unit, disabled, created_at"
#: The columns of a role-grant row.
GRANT_COLUMNS = ("id, user_name, role, display_name, new_account, requested_by, requested_at, status,"
                 " decided_by, decided_at")


# -- users ---------------------------------------------------------------------------------------


def user_exists(conn: Connection, name: str) -> bool:
    return conn.one("SELECT 1 FROM users WHERE name = ?", (name,)) is not None


def add_user(conn: Connection, name: str, display_name: str, role: str, unit: str | None,
             password_hash: str, now: str) -> None:
    conn.execute("INSERT INTO users (name, display_name, role, unit, password_hash, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", (name, display_name, role, unit, password_hash, now))


def update_user(conn: Connection, name: str, display_name: str, role: str, unit: str | None) -> None:
    conn.execute("UPDATE users SET display_name = ?, role = ?, unit = ? WHERE name = ?",
                 (display_name, role, unit, name))


def user(conn: Connection, name: str) -> tuple | None:
    return conn.one(f"SELECT {USER_COLUMNS} FROM users WHERE name = ?", (name,))


def user_with_hash(conn: Connection, name: str) -> tuple | None:
    """The user row followed by its password hash."""
    return conn.one(f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = ?", (name,))


def users(conn: Connection, *, unit: str | None = None, include_disabled: bool = True) -> list[tuple]:
    where: list[str] = []
    params: list[str] = []
    if unit is not None:
        where.append("unit = ?")
        params.append(unit)
    if not include_disabled:
        where.append("disabled = 0")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return conn.all(f"SELECT {USER_COLUMNS} FROM users{clause} ORDER BY name", params)


def set_password_hash(conn: Connection, name: str, password_hash: str) -> bool:
    """False when there is no such user."""
    return bool(conn.execute("UPDATE users SET password_hash = ? WHERE name = ?",
                             (password_hash, name)).rowcount)


def update_password_hash(conn: Connection, name: str, old_hash: str, new_hash: str) -> None:
    """Replace the hash only if it is still ``old_hash`` (a rehash at sign-in)."""
    conn.execute("UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?",
                 (new_hash, name, old_hash))


def set_user_disabled(conn: Connection, name: str, disabled: bool) -> bool:
    """False when there is no such user."""
    return bool(conn.execute("UPDATE users SET disabled = ? WHERE name = ?",
                             (1 if disabled else 0, name)).rowcount)


# -- sessions ------------------------------------------------------------------------------------


def add_session(conn: Connection, token_sha256: str, user_name: str, csrf: str, now: str,
                expires_at: str) -> None:
    conn.execute("INSERT INTO sessions (token_sha256, user_name, csrf_token, created_at,"
                 " last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (token_sha256, user_name, csrf, now, now, expires_at))


def session(conn: Connection, token_sha256: str) -> tuple | None:
    """``(csrf_token, created_at, last_seen, expires_at, *user row)`` of a session, or None."""
    return conn.one("SELECT s.csrf_token, s.created_at, s.last_seen, s.expires_at,"
                    f" {', '.join('u.' + c.strip() for c in USER_COLUMNS.split(','))}"
                    " FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.token_sha256 = ?",
                    (token_sha256,))


def touch_session(conn: Connection, token_sha256: str, now: str) -> None:
    conn.execute("UPDATE sessions SET last_seen = ? WHERE token_sha256 = ?", (now, token_sha256))


def delete_session(conn: Connection, token_sha256: str) -> None:
    conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (token_sha256,))


def delete_user_sessions(conn: Connection, name: str) -> int:
    return conn.execute("DELETE FROM sessions WHERE user_name = ?", (name,)).rowcount


def delete_expired_sessions(conn: Connection, now: str, idle_since: str) -> int:
    """Sessions past their end, or idle since ``idle_since``; how many went."""
    return conn.execute("DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?",
                        (now, idle_since)).rowcount


# -- role grants ---------------------------------------------------------------------------------


def pending_grant_for(conn: Connection, name: str, since: str) -> bool:
    """Whether a request for ``name`` made after ``since`` is still waiting."""
    return conn.one("SELECT 1 FROM role_grants WHERE user_name = ? AND status = 'pending'"
                    " AND requested_at > ?", (name, since)) is not None


def add_grant(conn: Connection, name: str, role: str, display_name: str | None, new_account: bool,
              requested_by: str, now: str) -> tuple:
    """Record a waiting request; its row."""
    conn.execute("INSERT INTO role_grants (user_name, role, display_name, new_account, requested_by,"
                 " requested_at, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                 (name, role, display_name, 1 if new_account else 0, requested_by, now))
    return conn.one(f"SELECT {GRANT_COLUMNS} FROM role_grants WHERE user_name = ? AND status = 'pending'"
                    " ORDER BY id DESC LIMIT 1", (name,))


def pending_grants(conn: Connection, since: str) -> list[tuple]:
    return conn.all(f"SELECT {GRANT_COLUMNS} FROM role_grants WHERE status = 'pending'"
                    " AND requested_at > ? ORDER BY id", (since,))


def grant(conn: Connection, grant_id: int) -> tuple | None:
    return conn.one(f"SELECT {GRANT_COLUMNS} FROM role_grants WHERE id = ?", (grant_id,))


def claim_grant(conn: Connection, grant_id: int, status: str, by: str, now: str) -> bool:
    """Decide a waiting request; False when it was no longer waiting."""
    return bool(conn.execute("UPDATE role_grants SET status = ?, decided_by = ?, decided_at = ?"
                             " WHERE id = ? AND status = 'pending'",
                             (status, by, now, grant_id)).rowcount)


def reopen_grant(conn: Connection, grant_id: int) -> None:
    conn.execute("UPDATE role_grants SET status = 'pending', decided_by = NULL,"
                 " decided_at = NULL WHERE id = ?", (grant_id,))


def set_grant_cancelled(conn: Connection, grant_id: int, by: str, now: str) -> None:
    conn.execute("UPDATE role_grants SET status = 'cancelled', decided_by = ?, decided_at = ?"
                 " WHERE id = ?", (by, now, grant_id))
