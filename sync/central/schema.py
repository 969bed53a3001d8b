"""The central store's tables, spelled once for SQLite and once for PostgreSQL.

Same tables, same columns, same meaning; only the type names differ.  Steps are applied in
order and never edited once shipped, like the office ledger's migrations.

- ``offices``: registered offices and their Ed25519 public keys (never a private key).
- ``records``: every record of every office, exactly once, keyed by UUID; ``fingerprint``
  is the SHA-256 of the canonical record, so "same record?" is one comparison.
- ``blobs``: attachments by SHA-256.
- ``batches``: every batch applied, keyed by (office, content hash), so a replay is answered
  from here without touching ``records``.
- ``conflicts``: a UUID that came back with different content, kept for an operator.
- ``refusals``: every refused batch or request with its reason (the central log).
- ``feed`` + ``counters``: what offices pull (case updates, catalogue, ...), ordered by a
  cursor handed out under a row lock so cursor order is commit order (no pull ever skips
  an item that commits late).
- ``api_keys`` (step 2): Open311 clients' keys, only their SHA-256 (open311.py), and an
  index finding a case's updates in ``feed`` by tracking code.
"""
from __future__ import annotations

SQLITE_STEPS: tuple[tuple[int, str], ...] = (
    (1, """
    CREATE TABLE offices (
        code        TEXT PRIMARY KEY,
        public_key  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        added_at    TEXT NOT NULL,
        revoked_at  TEXT
    );
    CREATE TABLE records (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid          TEXT NOT NULL UNIQUE,
        office        TEXT NOT NULL,
        kind          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        body          TEXT NOT NULL,
        fingerprint   TEXT NOT NULL,
        tracking_code TEXT,
        receipt       TEXT NOT NULL,
        received_at   TEXT NOT NULL
    );
    CREATE INDEX records_office ON records (office, id);
    CREATE INDEX records_tracking ON records (tracking_code) WHERE tracking_code IS NOT NULL;
    CREATE TABLE blobs (
        sha256      TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        data        BLOB NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE batches (
        office         TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        count          INTEGER NOT NULL,
        new            INTEGER NOT NULL,
        duplicate      INTEGER NOT NULL,
        conflict       INTEGER NOT NULL,
        source         TEXT NOT NULL,
        received_at    TEXT NOT NULL,
        PRIMARY KEY (office, content_sha256)
    );
    CREATE TABLE conflicts (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid                TEXT NOT NULL,
        office              TEXT NOT NULL,
        batch_seq           INTEGER NOT NULL,
        offered             TEXT NOT NULL,
        offered_fingerprint TEXT NOT NULL,
        stored_fingerprint  TEXT NOT NULL,
        received_at         TEXT NOT NULL,
        UNIQUE (uuid, offered_fingerprint)
    );
    CREATE TABLE refusals (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        office      TEXT,
        batch_seq   INTEGER,
        code        TEXT NOT NULL,
        detail      TEXT NOT NULL,
        source      TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE feed (
        cursor     INTEGER NOT NULL UNIQUE,
        feed       TEXT NOT NULL,
        key        TEXT NOT NULL,
        office     TEXT NOT NULL DEFAULT '',
        deleted    INTEGER NOT NULL DEFAULT 0,
        body       TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (feed, key)
    );
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('feed', 0);
    """),
    (2, """
    CREATE TABLE api_keys (
        name       TEXT PRIMARY KEY,
        key_sha256 TEXT NOT NULL UNIQUE,
        office     TEXT,
        status     TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        added_at   TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX feed_case_update_tracking ON feed (json_extract(body, '$.tracking_code'), cursor)
        WHERE feed = 'case_update';
    """),
)

POSTGRES_STEPS: tuple[tuple[int, str], ...] = (
    (1, """
    CREATE TABLE offices (
        code        TEXT PRIMARY KEY,
        public_key  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        added_at    TEXT NOT NULL,
        revoked_at  TEXT
    );
    CREATE TABLE records (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        uuid          TEXT NOT NULL UNIQUE,
        office        TEXT NOT NULL,
        kind          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        body          TEXT NOT NULL,
        fingerprint   TEXT NOT NULL,
        tracking_code TEXT,
        receipt       TEXT NOT NULL,
        received_at   TEXT NOT NULL
    );
    CREATE INDEX records_office ON records (office, id);
    CREATE INDEX records_tracking ON records (tracking_code) WHERE tracking_code IS NOT NULL;
    CREATE TABLE blobs (
        sha256      TEXT PRIMARY KEY,
        size        BIGINT NOT NULL,
        data        BYTEA NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE batches (
        office         TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        seq            BIGINT NOT NULL,
        count          INTEGER NOT NULL,
        new            INTEGER NOT NULL,
        duplicate      INTEGER NOT NULL,
        conflict       INTEGER NOT NULL,
        source         TEXT NOT NULL,
        received_at    TEXT NOT NULL,
        PRIMARY KEY (office, content_sha256)
    );
    CREATE TABLE conflicts (
        id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        uuid                TEXT NOT NULL,
        office              TEXT NOT NULL,
        batch_seq           BIGINT NOT NULL,
        offered             TEXT NOT NULL,
        offered_fingerprint TEXT NOT NULL,
        stored_fingerprint  TEXT NOT NULL,
        received_at         TEXT NOT NULL,
        UNIQUE (uuid, offered_fingerprint)
    );
    CREATE TABLE refusals (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        office      TEXT,
        batch_seq   BIGINT,
        code        TEXT NOT NULL,
        detail      TEXT NOT NULL,
        source      TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE feed (
        cursor     BIGINT NOT NULL UNIQUE,
        feed       TEXT NOT NULL,
        key        TEXT NOT NULL,
        office     TEXT NOT NULL DEFAULT '',
        deleted    INTEGER NOT NULL DEFAULT 0,
        body       TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (feed, key)
    );
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('feed', 0);
    """),
    (2, """
    CREATE TABLE api_keys (
        name       TEXT PRIMARY KEY,
        key_sha256 TEXT NOT NULL UNIQUE,
        office     TEXT,
        status     TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        added_at   TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX feed_case_update_tracking ON feed (((body::jsonb) ->> 'tracking_code'), cursor)
        WHERE feed = 'case_update';
    """),
)
