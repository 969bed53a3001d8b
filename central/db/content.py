"""What every office shows, as the central database keeps it (schema step 8).

Catalogue versions (draft or published, with the day each takes effect), office profiles
(the offices register), contacts and announcements (one JSON body per id, withdrawn rather
than deleted) and form definition versions.  SQL only: checking, signing and publishing are
the services' (central/service_catalogue.py, office_register.py, content_publisher.py,
form_versions.py).
"""
from __future__ import annotations

import json
from typing import Any

from .connection import Connection

__all__ = ["CATALOGUE_COLUMNS", "FORM_COLUMNS", "ROW_TABLES", "catalogue_rows", "delete_catalogue_draft",
           "delete_form_draft", "form_rows", "insert_catalogue_draft", "insert_form_draft",
           "next_catalogue_number", "next_form_number", "office_profile_rows", "publish_catalogue_draft",
           "published_catalogue_rows",
           "publish_form_draft", "row_bodies", "upsert_office_profile", "upsert_row", "withdraw_row"]

CATALOGUE_COLUMNS = "body, offices, status, created_by, created_at, published_by, published_at"
FORM_COLUMNS = "form, version, definition, status, uploaded_by, uploaded_at, published_by, published_at"

#: Content kept as one JSON body per id, by feed.
ROW_TABLES = {"contact": "contacts", "announcement": "announcements"}

_DRAFT_FIRST = "ORDER BY CASE status WHEN 'draft' THEN 0 ELSE 1 END, version DESC"


# -- the service catalogue ---------------------------------------------------------------------

def catalogue_rows(conn: Connection, service: str | None = None, *, published_only: bool = False) -> list[tuple]:
    """Rows (:data:`CATALOGUE_COLUMNS`) of one service (draft first, then newest) or of all."""
    where, params = [], []
    if service is not None:
        where.append("service = ?")
        params.append(service)
    if published_only:
        where.append("status = 'published'")
    sql = f"SELECT {CATALOGUE_COLUMNS} FROM catalogue_versions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " " + (_DRAFT_FIRST if service is not None else "ORDER BY service, version DESC")
    return conn.all(sql, params)


def published_catalogue_rows(conn: Connection) -> tuple[list[tuple], list[tuple[str, str]]]:
    """In one round trip: the published versions (:data:`CATALOGUE_COLUMNS`) and the catalogue
    items put on the feed before versions existed (``(key, body)``, keys without ``@``)."""
    rows = conn.all(f"SELECT 'v', {CATALOGUE_COLUMNS} FROM catalogue_versions WHERE status = 'published'"
                    " UNION ALL SELECT 'f', key, body, '', '', '', NULL, NULL FROM feed"
                    " WHERE feed = 'catalogue' AND deleted = 0 AND key NOT LIKE ?", ("%@%",))
    versions = [tuple(row[1:]) for row in rows if row[0] == "v"]
    legacy = [(row[1], row[2]) for row in rows if row[0] == "f"]
    return versions, legacy


def delete_catalogue_draft(conn: Connection, service: str) -> bool:
    return conn.execute("DELETE FROM catalogue_versions WHERE service = ? AND status = 'draft'",
                        (service,)).rowcount > 0


def next_catalogue_number(conn: Connection, service: str) -> int:
    return int(conn.one("SELECT coalesce(max(version), 0) + 1 FROM catalogue_versions WHERE service = ?",
                        (service,))[0])


def insert_catalogue_draft(conn: Connection, service: str, version: int, effective_from: str,
                           offices: list[str], body: dict[str, Any], actor: str, now: str) -> None:
    conn.execute("INSERT INTO catalogue_versions (service, version, effective_from, offices, body, status,"
                 " created_by, created_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?)",
                 (service, version, effective_from, json.dumps(offices),
                  json.dumps(body, ensure_ascii=False), actor, now))


def publish_catalogue_draft(conn: Connection, service: str, version: int, actor: str, now: str) -> bool:
    """Mark the draft published; False when someone else published or discarded it first."""
    return conn.execute("UPDATE catalogue_versions SET status = 'published', published_by = ?,"
                        " published_at = ? WHERE service = ? AND version = ? AND status = 'draft'",
                        (actor, now, service, version)).rowcount == 1


# -- the offices register ----------------------------------------------------------------------

def office_profile_rows(conn: Connection) -> list[tuple[str, str]]:
    return conn.all("SELECT code, body FROM office_profiles ORDER BY code")


def upsert_office_profile(conn: Connection, code: str, body: dict[str, Any], actor: str, now: str) -> None:
    conn.execute("INSERT INTO office_profiles (code, body, updated_by, updated_at) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (code) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,"
                 " updated_at = excluded.updated_at",
                 (code, json.dumps(body, ensure_ascii=False), actor, now))


# -- contacts and announcements ----------------------------------------------------------------

def upsert_row(conn: Connection, feed: str, item_id: str, body: dict[str, Any], actor: str, now: str) -> None:
    conn.execute(f"INSERT INTO {ROW_TABLES[feed]} (id, body, withdrawn, updated_by, updated_at)"
                 " VALUES (?, ?, 0, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, withdrawn = 0,"
                 " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                 (item_id, json.dumps(body, ensure_ascii=False), actor, now))


def withdraw_row(conn: Connection, feed: str, item_id: str, actor: str, now: str) -> bool:
    return conn.execute(f"UPDATE {ROW_TABLES[feed]} SET withdrawn = 1, updated_by = ?, updated_at = ?"
                        " WHERE id = ? AND withdrawn = 0", (actor, now, item_id)).rowcount > 0


def row_bodies(conn: Connection, feed: str) -> list[dict[str, Any]]:
    """The current (not withdrawn) rows: their bodies plus ``id`` and ``updated_*``."""
    rows = conn.all(f"SELECT id, body, updated_by, updated_at FROM {ROW_TABLES[feed]}"
                    " WHERE withdrawn = 0 ORDER BY id")
    return [{**json.loads(body), "id": item_id, "updated_by": by, "updated_at": at}
            for item_id, body, by, at in rows]


# -- form definitions --------------------------------------------------------------------------

def form_rows(conn: Connection, form: str | None = None) -> list[tuple]:
    """Rows (:data:`FORM_COLUMNS`) of one form (draft first, then newest) or of all."""
    if form is None:
        return conn.all(f"SELECT {FORM_COLUMNS} FROM form_versions ORDER BY form, version DESC")
    return conn.all(f"SELECT {FORM_COLUMNS} FROM form_versions WHERE form = ? {_DRAFT_FIRST}", (form,))


def next_form_number(conn: Connection, form: str) -> int:
    return int(conn.one("SELECT coalesce(max(version), 0) + 1 FROM form_versions WHERE form = ?", (form,))[0])


def delete_form_draft(conn: Connection, form: str) -> bool:
    return conn.execute("DELETE FROM form_versions WHERE form = ? AND status = 'draft'", (form,)).rowcount > 0


def insert_form_draft(conn: Connection, form: str, version: int, definition: str, actor: str, now: str) -> None:
    conn.execute("INSERT INTO form_versions (form, version, definition, status, uploaded_by, uploaded_at)"
                 " VALUES (?, ?, ?, 'draft', ?, ?)", (form, version, definition, actor, now))


def publish_form_draft(conn: Connection, form: str, version: int, actor: str, now: str) -> bool:
    return conn.execute("UPDATE form_versions SET status = 'published', published_by = ?, published_at = ?"
                        " WHERE form = ? AND version = ? AND status = 'draft'",
                        (actor, now, form, version)).rowcount == 1
