"""Where the central store is, and making it: only `seda central init` creates one.

Every other command opens an *existing* Seda store and refuses anything else, so a typo in
``--store`` (a missing folder, ``mysql://``, a file that is not ours) is one line of error and
not a new, empty store quietly served, reported on or exported from.
"""
from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import CentralError
from .store import Store, open_store

__all__ = ["StoreLocationError", "create_postgres_database", "existing_store", "init_store",
           "store_kind"]

_POSTGRES = ("postgresql://", "postgres://")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StoreLocationError(CentralError, ValueError):
    """The store named cannot be used; the message (Persian / English) says what to run."""

    def __str__(self) -> str:
        return self.line()


def store_kind(url: str) -> str:
    """"postgresql" or "sqlite" (a file path or sqlite:///path); any other scheme is refused."""
    if url.startswith(_POSTGRES):
        return "postgresql"
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme and url.startswith("sqlite:///"):
        return "sqlite"
    if scheme:
        raise StoreLocationError(
            "store_unknown_scheme", scheme=scheme.group(1), url=_safe(url))
    return "sqlite"


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")).expanduser()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _hint(url: str) -> str:
    return f"seda central init --store {_safe(url)}"


def existing_store(url: str) -> Store:
    """The Seda central store at ``url``, brought up to date; refused if it is not there."""
    kind = store_kind(url)
    if kind == "sqlite":
        path = _sqlite_path(url)
        if not path.is_file():
            raise StoreLocationError(
                "store_missing", path=str(path), command=_hint(url))
        if not _sqlite_has_tables(path):  # looked at read-only: a stranger's file stays untouched
            raise StoreLocationError(
                "store_file_not_seda", path=str(path), command=_hint(url))
        store = open_store(path, migrate=False)
    else:
        try:
            store = open_store(url, migrate=False)
        except Exception as exc:  # noqa: BLE001 - any driver error becomes one readable line
            raise StoreLocationError("store_cannot_connect", url=_safe(url), error=str(exc).splitlines()[0]) from None
    if not _has_tables(store):
        raise StoreLocationError(
            "store_not_seda", store=_safe(url) if kind == "postgresql" else str(_sqlite_path(url)),
            command=_hint(url))
    store.migrate()
    return store


def _sqlite_has_tables(path: Path) -> bool:
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'"
                                ).fetchone() is not None
    except sqlite3.Error:
        return False


def _has_tables(store: Store) -> bool:
    try:
        with store.connect() as db:
            if store.dialect == "postgresql":
                return bool(db.one("SELECT to_regclass('records') IS NOT NULL")[0])
            return db.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'") is not None
    except Exception as exc:  # noqa: BLE001 - a file that is not SQLite, a refused login, ...
        raise StoreLocationError("store_unreadable", error=str(exc).splitlines()[0]) from None


def init_store(url: str) -> Store:
    """Create the central store's tables at ``url`` (a new SQLite file, in an existing folder,
    or an existing PostgreSQL database); an existing store is only brought up to date."""
    if store_kind(url) == "sqlite":
        path = _sqlite_path(url)
        if not path.parent.is_dir():
            raise StoreLocationError("store_no_folder", parent=str(path.parent))
        return open_store(path)
    try:
        return open_store(url)
    except Exception as exc:  # noqa: BLE001
        raise StoreLocationError("store_cannot_connect", url=_safe(url), error=str(exc).splitlines()[0]) from None


def create_postgres_database(url: str, superuser_url: str) -> tuple[bool, bool]:
    """Make the role and the database ``url`` names (owned by that role), connecting with
    ``superuser_url``; what exists is kept.  Returns (role created, database created)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    role, password, database = parts.username, parts.password, parts.path.lstrip("/")
    for what, name in (("role", role), ("database", database)):
        if not name or not _IDENTIFIER.match(name):
            raise StoreLocationError("store_bad_name", what=what, url=_safe(url))
    try:
        admin = psycopg.connect(superuser_url, autocommit=True)
    except Exception as exc:  # noqa: BLE001
        raise StoreLocationError("store_superuser_cannot_connect", error=str(exc).splitlines()[0]) from None
    with admin:
        role_made = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None
        if role_made:
            statement = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role))
            if password:
                statement = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password))
            admin.execute(statement)
        database_made = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                      (database,)).fetchone() is None
        if database_made:
            if not admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
                # a CREATEROLE admin may give a database only to a role it belongs to
                admin.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(role)))
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(database), sql.Identifier(role)))
    return role_made, database_made
