"""The central database's tables, written once for SQLite and PostgreSQL.

Same tables, same columns, same meaning on both; the few words the databases spell
differently are tokens filled in by :func:`steps` (``{id}`` a generated key, ``{big}`` a 64-bit
integer, ``{bytes}`` a byte string, ``{json:key}`` a JSON field of ``body`` as text).  Steps
are applied in order by :func:`migrate` and never edited once shipped, like the office
ledger's migrations; a new table is a new step appended at the end.

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
- step 9, held misconduct reports (issue #14, central/held_reports.py): ``held_reports``, a
  report filed on the portal, sealed at rest, until the hour it is stamped with has ended;
  then it joins ``records`` and ``cases`` in shuffled order, so arrival order links nobody.
- step 10, paper sheets answered online (issue #14, forms/survey_tokens.py): two partial indexes
  finding a sheet's responses by (office, sheet): scanned ones (the portal refuses a sheet's
  link once the centre holds the sheet) and ones given from the sheet's link (the roll-ups
  count one response per sheet: central/db/sheets.py).
- derived tables (not steps: rebuilt whenever :data:`ROLLUP_VERSION` changes): the
  satisfaction roll-ups (rollups.py, :func:`rollup_statements`) and the partial index behind
  the comment search (:func:`comment_index_sql`).
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from forms.responses import RATING_QUESTIONS
from sync.batch import format_time

from .connection import Database, json_text

__all__ = ["COUNTERS", "DERIVED_TABLES", "FOLDED_KINDS", "ROLLUPS", "ROLLUP_VERSION", "STEPS",
           "comment_fields", "comment_index_sql", "has_comment", "json_path_text", "migrate",
           "rollup_drop_statements", "rollup_statements", "steps"]

_OFFICE_RECORDS = """
    CREATE TABLE offices (
        code        TEXT PRIMARY KEY,
        public_key  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        added_at    TEXT NOT NULL,
        revoked_at  TEXT
    );
    CREATE TABLE records (
        id            {id},
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
        size        {big} NOT NULL,
        data        {bytes} NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE batches (
        office         TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        seq            {big} NOT NULL,
        count          INTEGER NOT NULL,
        new            INTEGER NOT NULL,
        duplicate      INTEGER NOT NULL,
        conflict       INTEGER NOT NULL,
        source         TEXT NOT NULL,
        received_at    TEXT NOT NULL,
        PRIMARY KEY (office, content_sha256)
    );
    CREATE TABLE conflicts (
        id                  {id},
        uuid                TEXT NOT NULL,
        office              TEXT NOT NULL,
        batch_seq           {big} NOT NULL,
        offered             TEXT NOT NULL,
        offered_fingerprint TEXT NOT NULL,
        stored_fingerprint  TEXT NOT NULL,
        received_at         TEXT NOT NULL,
        UNIQUE (uuid, offered_fingerprint)
    );
    CREATE TABLE refusals (
        id          {id},
        office      TEXT,
        batch_seq   {big},
        code        TEXT NOT NULL,
        detail      TEXT NOT NULL,
        source      TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE TABLE feed (
        cursor     {big} NOT NULL UNIQUE,
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
        value {big} NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('feed', 0);
    """

_API_KEYS = """
    CREATE TABLE api_keys (
        name       TEXT PRIMARY KEY,
        key_sha256 TEXT NOT NULL UNIQUE,
        office     TEXT,
        status     TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        added_at   TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX feed_case_update_tracking ON feed ({json:tracking_code}, cursor)
        WHERE feed = 'case_update';
    """

# Step 3: the central office's casework and its web app.
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

# Step 4: the security review.  ``{json:sha256}`` is the JSON path of an attachment's hash.
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
    CREATE INDEX records_office_attachment ON records (office, {json:sha256}) WHERE kind = 'attachment'
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

# Step 7: health at the centre (each office's last report; central/office_health.py).
_OFFICE_HEALTH = """
    CREATE TABLE office_health (
        office       TEXT PRIMARY KEY,
        received_at  TEXT NOT NULL,
        clock_offset INTEGER NOT NULL,
        report       TEXT NOT NULL
    );
    """

# Step 6: the citizen portal.  
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
    CREATE INDEX records_follow_up ON records ({json:follow_up}) WHERE kind = 'case'
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


# Step 9: misconduct reports filed on the portal wait, sealed, until the hour they are stamped
# with has ended (central/held_reports.py), then join records and cases in shuffled order.
_HELD_REPORTS = """
    CREATE TABLE held_reports (
        uuid          TEXT PRIMARY KEY,
        office        TEXT NOT NULL,
        release_after TEXT NOT NULL,
        hour          TEXT NOT NULL,
        follow_up     TEXT NOT NULL UNIQUE,
        body          TEXT NOT NULL,
        blob          {bytes},
        media_type    TEXT
    );
    CREATE INDEX held_reports_due ON held_reports (release_after)
    """


# Step 10: a paper sheet's responses by sheet (scanned, or answered from its survey link).
_SHEET_RESPONSES = """
    CREATE INDEX records_sheet_paper ON records (office, {json:sheet})
        WHERE kind = 'survey_response' AND {json:source} = 'paper';
    CREATE INDEX records_sheet_links ON records (office, {json:sheet})
        WHERE kind = 'survey_response' AND {json:source} = 'sheet_link'
    """


#: Every schema step, in order: ``(version, DDL with dialect tokens)``.
STEPS: tuple[tuple[int, str], ...] = (
    (1, _OFFICE_RECORDS),
    (2, _API_KEYS),
    (3, _CASEWORK),
    (4, _HARDENING),
    (5, _CALL_MARKS),
    (6, _PORTAL),
    (7, _OFFICE_HEALTH),
    (8, _CONTENT),
    (9, _HELD_REPORTS),
    (10, _SHEET_RESPONSES),
)

_TYPES = {
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "big": "INTEGER", "bytes": "BLOB"},
    "postgresql": {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "big": "BIGINT",
                   "bytes": "BYTEA"},
}
_TOKEN = re.compile(r"\{(id|big|bytes|json:[a-z0-9_]+)\}")


def render(script: str, dialect: str) -> str:
    """``script`` with its dialect tokens spelled for ``dialect``."""
    def spell(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("json:"):
            # an index expression, spelled as the queries spell it (PostgreSQL's is parenthesised)
            return json_text(dialect, "body", token.removeprefix("json:"))
        return _TYPES[dialect][token]
    return _TOKEN.sub(spell, script)


def steps(dialect: str) -> tuple[tuple[int, str], ...]:
    """The schema steps as ``dialect`` runs them."""
    return tuple((version, render(script, dialect)) for version, script in STEPS)


def statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement.strip()


def migrate(database: Database) -> int:
    """Apply the schema steps this database lacks (several processes may call it at once);
    returns the highest step now applied."""
    with database.connect() as conn:
        for version, script in steps(database.dialect):
            with conn.transaction():
                conn.lock("migrate")
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version"
                             " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
                if conn.one("SELECT 1 FROM schema_version WHERE version = ?", (version,)):
                    continue
                for statement in statements(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                             (version, format_time(datetime.now(timezone.utc))))
    return max(version for version, _ in STEPS)


# -- derived tables: the satisfaction roll-ups (rollups.py) --------------------------------------

#: Bump when what the roll-ups hold changes: stores with another version are rebuilt.
ROLLUP_VERSION = 5  # 4: sheets answered twice; 5: analysis_matched_by_day (question 2 per catalogue version)
#: The record kinds the roll-ups are folded from.
FOLDED_KINDS = ("survey_response", "review_decision")
#: The counters rows: how far SQLite has folded, and the roll-ups' version.
FOLDED_COUNTER = "analysis_folded"
VERSION_COUNTER = "analysis_version"
ROLLUPS = {"analysis_by_desk": ("month", "office", "service", "desk", "source"),
           "analysis_by_service": ("month", "office", "service", "source")}
#: The summed columns of a roll-up row: what a mean, a t interval and a Wilson interval need.
COUNTERS = ("responses", "incomplete",
            *(f"{q}_{s}" for q in RATING_QUESTIONS for s in ("n", "sum", "sq")),
            "matched_n", "matched_yes", "matched_partly")
DERIVED_TABLES = ("analysis_by_desk", "analysis_by_service", "analysis_answers", "analysis_waiting",
                  "analysis_by_day", "analysis_calls", "analysis_decisions", "analysis_replaced",
                  "analysis_duplicates", "analysis_pending", "analysis_months", "analysis_matched_by_day")


def rollup_statements(dialect: str) -> list[str]:
    """The statements that make the derived tables (docs/central-analysis.md shows them)."""
    statements = []
    for table, keys in ROLLUPS.items():
        columns = ", ".join([*(f"{k} TEXT NOT NULL" for k in keys), *(f"{c} BIGINT NOT NULL" for c in COUNTERS)])
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY ({', '.join(keys)}))")
    statements += [
        "CREATE TABLE IF NOT EXISTS analysis_answers (month TEXT NOT NULL, office TEXT NOT NULL,"
        " source TEXT NOT NULL, question TEXT NOT NULL, value TEXT NOT NULL,"
        " n BIGINT NOT NULL, pending BIGINT NOT NULL, PRIMARY KEY (month, office, source, question, value))",
        "CREATE TABLE IF NOT EXISTS analysis_waiting (month TEXT NOT NULL, office TEXT NOT NULL,"
        " service TEXT NOT NULL, value TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (month, office, service, value))",
        "CREATE TABLE IF NOT EXISTS analysis_by_day (day TEXT NOT NULL, office TEXT NOT NULL,"
        " source TEXT NOT NULL, responses BIGINT NOT NULL, PRIMARY KEY (day, office, source))",
        # question (2) per visit day, so each answer is compared with the catalogue version in
        # force at its office on that day (analysis.matched_by_version)
        "CREATE TABLE IF NOT EXISTS analysis_matched_by_day (day TEXT NOT NULL, office TEXT NOT NULL,"
        " service TEXT NOT NULL, matched_n BIGINT NOT NULL, matched_yes BIGINT NOT NULL,"
        " matched_partly BIGINT NOT NULL, PRIMARY KEY (day, office, service))",
        "CREATE TABLE IF NOT EXISTS analysis_calls (response TEXT PRIMARY KEY, office TEXT NOT NULL,"
        " month TEXT NOT NULL, created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS analysis_calls_month ON analysis_calls (month, office, created_at)",
        "CREATE TABLE IF NOT EXISTS analysis_decisions (uuid TEXT PRIMARY KEY, response TEXT NOT NULL,"
        " item TEXT NOT NULL, question TEXT NOT NULL, value TEXT NOT NULL, replaces TEXT, at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS analysis_decisions_response ON analysis_decisions (response)",
        "CREATE TABLE IF NOT EXISTS analysis_replaced (uuid TEXT PRIMARY KEY, by_uuid TEXT NOT NULL)",
        # a sheet answered twice (scanned and online): the response not counted, and the one counted
        "CREATE TABLE IF NOT EXISTS analysis_duplicates (uuid TEXT PRIMARY KEY, office TEXT NOT NULL,"
        " sheet TEXT NOT NULL, month TEXT NOT NULL, counted TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS analysis_duplicates_month ON analysis_duplicates (month, office)",
        "CREATE INDEX IF NOT EXISTS records_kind_created ON records (kind, created_at)",
        # the month's cases counted from the index alone (figures.case_figures, cases_by_type)
        "CREATE INDEX IF NOT EXISTS cases_received_cover ON cases"
        " (received_at, unit, office, case_type, status, due_at, answered_at)",
    ]
    if dialect == "sqlite":
        statements.append(f"INSERT INTO counters (name, value) VALUES ('{FOLDED_COUNTER}', 0)"
                          " ON CONFLICT (name) DO UPDATE SET value = 0")
    else:
        kinds = ", ".join(f"'{k}'" for k in FOLDED_KINDS)
        statements += [
            "CREATE TABLE IF NOT EXISTS analysis_pending (record_id BIGINT PRIMARY KEY)",
            ("CREATE OR REPLACE FUNCTION analysis_pending_insert() RETURNS trigger LANGUAGE plpgsql AS $$"
             " BEGIN INSERT INTO analysis_pending (record_id) VALUES (NEW.id); RETURN NULL; END $$"),
            "DROP TRIGGER IF EXISTS analysis_pending_insert ON records",
            ("CREATE TRIGGER analysis_pending_insert AFTER INSERT ON records FOR EACH ROW"
             f" WHEN (NEW.kind IN ({kinds})) EXECUTE FUNCTION analysis_pending_insert()"),
            # everything stored before the trigger, to be folded by the first refresh
            f"INSERT INTO analysis_pending (record_id) SELECT id FROM records WHERE kind IN ({kinds})"
            " ON CONFLICT (record_id) DO NOTHING",
        ]
    statements.append(f"INSERT INTO counters (name, value) VALUES ('{VERSION_COUNTER}', {ROLLUP_VERSION})"
                      f" ON CONFLICT (name) DO UPDATE SET value = {ROLLUP_VERSION}")
    return statements


def rollup_drop_statements(dialect: str) -> list[str]:
    """The statements that remove the derived tables (the call list's marks are a schema step
    of their own, ``call_marks``, and are never dropped)."""
    if dialect == "sqlite":
        statements = ["DROP TRIGGER IF EXISTS analysis_pending_insert"]  # made by older versions
    else:
        statements = ["DROP TRIGGER IF EXISTS analysis_pending_insert ON records",
                      "DROP FUNCTION IF EXISTS analysis_pending_insert()"]
    statements += [f"DROP TABLE IF EXISTS {table}" for table in DERIVED_TABLES]
    statements.append(f"DELETE FROM counters WHERE name IN ('{FOLDED_COUNTER}', '{VERSION_COUNTER}')")
    return statements


# -- derived index: the comment search (analysis.comments) ---------------------------------------


def json_path_text(dialect: str, path: Sequence[str], body: str = "body") -> str:
    """The JSON value at ``path`` in ``body`` as text (NULL when absent), per dialect."""
    if dialect == "sqlite":
        return f"CAST(json_extract({body}, '$.{'.'.join(path)}') AS TEXT)"
    return f"({body}::jsonb #>> '{{{','.join(path)}}}')"


def comment_fields(dialect: str) -> dict[str, str]:
    """A survey response's comment fields as SQL, spelled as the comment index spells them."""
    return {"text": json_path_text(dialect, ["answers", "comment"]),
            "crop": json_path_text(dialect, ["attachments", "comment"]),
            "writing": json_path_text(dialect, ["writing", "comment"]),
            "source": json_path_text(dialect, ["source"]),
            "service": json_path_text(dialect, ["answers", "service"]),
            "status": json_path_text(dialect, ["status"])}


def has_comment(dialect: str) -> str:
    """The partial index's condition, spelled exactly as the queries spell it."""
    f = comment_fields(dialect)
    return f"kind = 'survey_response' AND ({f['text']} IS NOT NULL OR {f['crop']} IS NOT NULL)"


def comment_index_sql(dialect: str) -> str:
    """The partial index behind the comment search."""
    order = "created_at, id" if dialect == "sqlite" else "created_at DESC, id DESC"
    return f"CREATE INDEX IF NOT EXISTS records_comments ON records ({order}) WHERE {has_comment(dialect)}"
