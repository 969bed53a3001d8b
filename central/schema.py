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
- step 3, the central office's casework (casework.py) and its web app (web/):
  ``units`` (specialist units; the oversight unit and the triage queue are units too),
  ``routing_rules`` (case type x service x office -> unit, most specific wins), ``holidays``
  (Jalali working-day deadlines), ``cases`` (one row per case record: where it is, who has
  it, its status and deadline), ``case_events`` (every status change, assignment, note and
  answer, time-stamped and signed by a person), ``users`` / ``sessions`` (argon2 hashes;
  only a session token's SHA-256 is stored), ``audit_log`` (every view of personal data and
  every change), ``settings``.
- step 4, the security review (issue 11): ``throttles`` (sign-in delays and Open311 rate
  limits, counted atomically in the store so every server process shares them),
  ``role_grants`` (an oversight role waits here until a second oversight user confirms it),
  how a conflict was resolved (``conflicts.resolution``), and indexes for a case by
  (office, tracking code) and an office's attachment by hash.
- step 5, the call list (issue #10): ``call_marks``, what the central analyst noted about
  calling back a visitor who agreed to be contacted (called / not reachable / done), by
  survey response; who is on the list is derived from the responses (rollups.py), the marks
  are not, so a rebuild of the roll-ups never loses them.
- step 6, the citizen portal (issue #14, central/portal/): ``portal_submissions`` (a filing
  form's one-time id -> its case, so a form sent twice files one case; the tracking code is
  kept only sealed to that id, which only the citizen's browser holds), ``survey_tokens_used``
  (a one-time survey link's id once it has been answered), ``case_feedback`` (the citizen's
  "was it solved?" on an answer, by case and unit), ``notifications`` (the SMS outbox: one row
  per case, event and mobile, its tries and delivery status), and an index finding a sealed
  report by its follow-up locator.
- step 7, health at the centre (issue #16, central/office_health.py): ``office_health``, each
  office's last health report (what it says is waiting, refused, stranded; its software
  version, pull cursor and clock), one row per office, replaced on every report.
- step 8, what every office shows (issue #13): ``catalogue_versions`` (every version of every
  service's catalogue entry, draft or published, with the day it takes effect and the offices
  offering it: question (2) is compared with the version in force on the visit day),
  ``office_profiles`` (the office register: names, province, address, hours, settings),
  ``contacts`` (managers and deputies), ``announcements`` (kiosk notices with start and end
  days) and ``form_versions`` (uploaded survey form definitions, draft or published).
"""
from __future__ import annotations

# Step 3 differs between the databases only in how a generated id is spelled.
_SQLITE_ID = "INTEGER PRIMARY KEY AUTOINCREMENT"
_OFFICE_HEALTH = """
    CREATE TABLE office_health (
        office       TEXT PRIMARY KEY,
        received_at  TEXT NOT NULL,
        clock_offset INTEGER NOT NULL,
        report       TEXT NOT NULL
    );
    """
_PG_ID = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
_CASEWORK = """
    CREATE TABLE units (
        code       TEXT PRIMARY KEY,
        name_fa    TEXT NOT NULL,
        name_en    TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('unit', 'oversight', 'triage')),
        head       TEXT,
        active     INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE routing_rules (
        id         {id},
        case_type  TEXT,
        service    TEXT,
        office     TEXT,
        unit       TEXT NOT NULL REFERENCES units (code),
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (case_type, service, office)
    );
    CREATE TABLE holidays (
        day        TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        added_by   TEXT NOT NULL,
        added_at   TEXT NOT NULL
    );
    CREATE TABLE cases (
        uuid          TEXT PRIMARY KEY,
        office        TEXT NOT NULL,
        tracking_code TEXT,
        case_type     TEXT NOT NULL,
        service       TEXT,
        unit          TEXT NOT NULL,
        status        TEXT NOT NULL,
        assignee      TEXT,
        received_at   TEXT NOT NULL,
        due_at        TEXT NOT NULL,
        answered_at   TEXT,
        closed_at     TEXT,
        escalated_at  TEXT,
        updated_at    TEXT NOT NULL,
        duplicate_of  TEXT,
        person_key    TEXT,
        text_key      TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX cases_unit_status ON cases (unit, status, due_at);
    CREATE INDEX cases_assignee ON cases (assignee, status) WHERE assignee IS NOT NULL;
    CREATE INDEX cases_tracking ON cases (tracking_code);
    CREATE INDEX cases_person ON cases (person_key, received_at) WHERE person_key IS NOT NULL;
    CREATE INDEX cases_due_open ON cases (due_at) WHERE closed_at IS NULL AND answered_at IS NULL;
    CREATE TABLE case_events (
        id        {id},
        case_uuid TEXT NOT NULL REFERENCES cases (uuid),
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        event     TEXT NOT NULL,
        status    TEXT,
        unit      TEXT,
        assignee  TEXT,
        text      TEXT,
        public    INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX case_events_case ON case_events (case_uuid, id);
    CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        display_name  TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'responder', 'analyst', 'auditor', 'oversight')),
        unit          TEXT REFERENCES units (code),
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE sessions (
        token_sha256 TEXT PRIMARY KEY,
        user_name    TEXT NOT NULL REFERENCES users (name),
        csrf_token   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_seen    TEXT NOT NULL,
        expires_at   TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_name);
    CREATE TABLE audit_log (
        id     {id},
        at     TEXT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_log_target ON audit_log (target, id);
    CREATE INDEX audit_log_actor ON audit_log (actor, id);
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO units (code, name_fa, name_en, kind, created_at) VALUES
        ('triage', 'صف تعیین واحد', 'Triage queue', 'triage', '2026-11-30T00:00:00Z'),
        ('oversight', 'حراست و بازرسی', 'Oversight (security and inspection)', 'oversight', '2026-11-30T00:00:00Z');
    """

# Step 4: the security review.  ``{attachment_sha}`` is the JSON path of an attachment's hash.
_HARDENING = """
    CREATE TABLE throttles (
        key      TEXT PRIMARY KEY,
        count    INTEGER NOT NULL,
        since    TEXT NOT NULL,
        next_at  TEXT NOT NULL
    );
    CREATE TABLE role_grants (
        id            {id},
        user_name     TEXT NOT NULL,
        role          TEXT NOT NULL,
        display_name  TEXT,
        new_account   INTEGER NOT NULL DEFAULT 0,
        requested_by  TEXT NOT NULL,
        requested_at  TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'refused', 'cancelled')),
        decided_by    TEXT,
        decided_at    TEXT
    );
    CREATE INDEX role_grants_pending ON role_grants (status, requested_at);
    ALTER TABLE conflicts ADD COLUMN resolution TEXT;
    ALTER TABLE conflicts ADD COLUMN resolved_by TEXT;
    ALTER TABLE conflicts ADD COLUMN resolved_at TEXT;
    ALTER TABLE conflicts ADD COLUMN stored_uuid TEXT;
    CREATE INDEX cases_office_tracking ON cases (office, tracking_code);
    CREATE INDEX records_office_attachment ON records (office, {attachment_sha}) WHERE kind = 'attachment'
    """

# Step 5: the call list.
_CALL_MARKS = """
    CREATE TABLE call_marks (
        response   TEXT PRIMARY KEY,
        status     TEXT NOT NULL CHECK (status IN ('called', 'unreachable', 'done')),
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    """

# Step 6: the citizen portal.  ``{follow_up}`` is the JSON path of a case's follow-up locator.
_PORTAL = """
    CREATE TABLE portal_submissions (
        submission   TEXT PRIMARY KEY,
        case_uuid    TEXT NOT NULL,
        code_sealed  TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE TABLE survey_tokens_used (
        token_id     TEXT PRIMARY KEY,
        office       TEXT NOT NULL,
        response     TEXT NOT NULL,
        used_on      TEXT NOT NULL
    );
    CREATE TABLE case_feedback (
        id           {id},
        case_uuid    TEXT NOT NULL REFERENCES cases (uuid),
        unit         TEXT NOT NULL,
        at           TEXT NOT NULL,
        solved       INTEGER NOT NULL,
        comment      TEXT,
        channel      TEXT NOT NULL,
        answered_at  TEXT NOT NULL,
        UNIQUE (case_uuid, answered_at)
    );
    CREATE INDEX case_feedback_unit ON case_feedback (unit, at);
    CREATE TABLE notifications (
        id           {id},
        case_uuid    TEXT NOT NULL,
        event        TEXT NOT NULL,
        event_key    TEXT NOT NULL,
        mobile       TEXT NOT NULL,
        message      TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'delivered', 'failed')),
        tries        INTEGER NOT NULL DEFAULT 0,
        next_try_at  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        sent_at      TEXT,
        gateway_id   TEXT,
        last_error   TEXT,
        UNIQUE (case_uuid, event, event_key)
    );
    CREATE INDEX notifications_due ON notifications (status, next_try_at);
    CREATE INDEX records_follow_up ON records ({follow_up}) WHERE kind = 'case'
    """

# Step 8: content the central office manages and offices show (same text on both databases).
_CONTENT = """
    CREATE TABLE catalogue_versions (
        service        TEXT NOT NULL,
        version        INTEGER NOT NULL,
        effective_from TEXT NOT NULL,
        offices        TEXT NOT NULL DEFAULT '[]',
        body           TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('draft', 'published')),
        created_by     TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        published_by   TEXT,
        published_at   TEXT,
        PRIMARY KEY (service, version)
    );
    CREATE INDEX catalogue_versions_in_force ON catalogue_versions (service, status, effective_from);
    CREATE TABLE office_profiles (
        code       TEXT PRIMARY KEY,
        body       TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE contacts (
        id         TEXT PRIMARY KEY,
        body       TEXT NOT NULL,
        withdrawn  INTEGER NOT NULL DEFAULT 0,
        updated_by TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE announcements (
        id         TEXT PRIMARY KEY,
        body       TEXT NOT NULL,
        withdrawn  INTEGER NOT NULL DEFAULT 0,
        updated_by TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE form_versions (
        form         TEXT NOT NULL,
        version      INTEGER NOT NULL,
        definition   TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
        uploaded_by  TEXT NOT NULL,
        uploaded_at  TEXT NOT NULL,
        published_by TEXT,
        published_at TEXT,
        PRIMARY KEY (form, version)
    );
    """

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
    (3, _CASEWORK.format(id=_SQLITE_ID)),
    (4, _HARDENING.format(id=_SQLITE_ID, attachment_sha="json_extract(body, '$.sha256')")),
    (5, _CALL_MARKS),
    (6, _PORTAL.format(id=_SQLITE_ID, follow_up="json_extract(body, '$.follow_up')")),
    (7, _OFFICE_HEALTH),
    (8, _CONTENT),
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
    (3, _CASEWORK.format(id=_PG_ID)),
    (4, _HARDENING.format(id=_PG_ID, attachment_sha="((body::jsonb) ->> 'sha256')")),
    (5, _CALL_MARKS),
    (6, _PORTAL.format(id=_PG_ID, follow_up="((body::jsonb) ->> 'follow_up')")),
    (7, _OFFICE_HEALTH),
    (8, _CONTENT),
)
