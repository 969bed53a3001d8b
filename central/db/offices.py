"""Registered offices (with their public keys) and Open311 clients' API keys.

Both are who may talk to the central server: an office signs its batches with the key held
here, an Open311 client presents a key of which only the SHA-256 is held here.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .connection import Connection

__all__ = ["ApiKey", "Office", "add_api_key", "api_key_by_secret", "api_key_named", "api_keys",
           "api_key_exists", "health_figures", "key_hash", "office", "office_status", "offices",
           "revoke_api_key", "revoke_office", "save_health_report", "upsert_office"]

_OFFICE_COLUMNS = "code, public_key, status, added_at, revoked_at"
_KEY_COLUMNS = "name, office, status, added_at, revoked_at"


@dataclass(frozen=True)
class Office:
    code: str
    public_key: str
    status: str
    added_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class ApiKey:
    """An Open311 client's key as the store knows it: never the key itself, only its hash."""

    name: str
    office: str | None
    status: str
    added_at: str
    revoked_at: str | None


def upsert_office(conn: Connection, code: str, key_hex: str, now: str) -> None:
    """Register ``code`` (re-adding replaces the key and re-activates it)."""
    conn.execute(
        "INSERT INTO offices (code, public_key, status, added_at) VALUES (?, ?, 'active', ?)"
        " ON CONFLICT (code) DO UPDATE SET public_key = excluded.public_key,"
        " status = 'active', added_at = excluded.added_at, revoked_at = NULL",
        (code, key_hex, now))


def revoke_office(conn: Connection, code: str, now: str) -> str | None:
    """Mark ``code`` revoked; its public key, or None when no such office is registered."""
    row = conn.one("SELECT public_key FROM offices WHERE code = ?", (code,))
    if row is None:
        return None
    conn.execute("UPDATE offices SET status = 'revoked', revoked_at = ? WHERE code = ?", (now, code))
    return row[0]


def office(conn: Connection, code: str) -> Office | None:
    row = conn.one(f"SELECT {_OFFICE_COLUMNS} FROM offices WHERE code = ?", (code,))
    return None if row is None else Office(*row)


def office_status(conn: Connection, code: str) -> str | None:
    row = conn.one("SELECT status FROM offices WHERE code = ?", (code,))
    return None if row is None else row[0]


def offices(conn: Connection) -> list[Office]:
    return [Office(*row) for row in conn.all(f"SELECT {_OFFICE_COLUMNS} FROM offices ORDER BY code")]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_exists(conn: Connection, name: str) -> bool:
    return conn.one("SELECT 1 FROM api_keys WHERE name = ?", (name,)) is not None


def add_api_key(conn: Connection, name: str, key: str, office: str | None, now: str) -> None:
    conn.execute("INSERT INTO api_keys (name, key_sha256, office, status, added_at)"
                 " VALUES (?, ?, ?, 'active', ?)", (name, key_hash(key), office, now))


def revoke_api_key(conn: Connection, name: str, now: str) -> bool:
    """Revoke the key ``name``; False when no active key has that name."""
    return bool(conn.execute("UPDATE api_keys SET status = 'revoked', revoked_at = ?"
                             " WHERE name = ? AND status = 'active'", (now, name)).rowcount)


def api_keys(conn: Connection) -> list[ApiKey]:
    return [ApiKey(*row) for row in conn.all(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY name")]


def api_key_named(conn: Connection, name: str) -> ApiKey | None:
    row = conn.one(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE name = ?", (name,))
    return None if row is None else ApiKey(*row)


def api_key_by_secret(conn: Connection, key: str) -> ApiKey | None:
    """The active key whose secret is ``key``, or None (unknown or revoked)."""
    row = conn.one(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_sha256 = ? AND status = 'active'",
                   (key_hash(key),))
    return None if row is None else ApiKey(*row)


# -- offices' health (schema step 7) -------------------------------------------------------------


def save_health_report(conn: Connection, office: str, now: str, clock_offset: int, report: str) -> None:
    """Keep ``report`` (JSON text) as ``office``'s latest."""
    conn.execute("INSERT INTO office_health (office, received_at, clock_offset, report)"
                 " VALUES (?, ?, ?, ?) ON CONFLICT (office) DO UPDATE SET"
                 " received_at = excluded.received_at, clock_offset = excluded.clock_offset,"
                 " report = excluded.report", (office, now, clock_offset, report))


def health_figures(conn: Connection, since: str) -> dict[str, Any]:
    """What the offices page reads, each keyed by office: ``offices`` [(code, status)],
    ``batches`` {office: (last received_at, last seq)}, ``records`` {office: count},
    ``recent_refusals`` {office: count since ``since``}, ``last_refusals`` {office: (code,
    received_at)} and ``reports`` {office: (received_at, clock_offset, report)}."""
    return {
        "offices": conn.all("SELECT code, status FROM offices ORDER BY code"),
        "batches": {row[0]: row[1:] for row in conn.all(
            "SELECT office, max(received_at), max(seq) FROM batches GROUP BY office")},
        "records": dict(conn.all("SELECT office, count(*) FROM records GROUP BY office")),
        "recent_refusals": dict(conn.all("SELECT office, count(*) FROM refusals WHERE office IS NOT NULL"
                                         " AND received_at >= ? GROUP BY office", (since,))),
        "last_refusals": {row[0]: row[1:] for row in conn.all(
            "SELECT r.office, r.code, r.received_at FROM refusals r JOIN"
            " (SELECT office, max(id) AS id FROM refusals WHERE office IS NOT NULL GROUP BY office)"
            " latest ON latest.id = r.id")},
        "reports": {row[0]: row[1:] for row in conn.all(
            "SELECT office, received_at, clock_offset, report FROM office_health")},
    }
