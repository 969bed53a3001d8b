"""Satisfaction analysis over the central store: the figures behind the dashboard, the monthly
report and the exports (issue #6, "Analysis").

Article 9 clause 5 asks every visitor about (1) the workflow, (2) whether the visit matched
what was announced beforehand and (3) the staff's behaviour, and uses the answers both to
improve processes and to evaluate staff.  Because the figures can reward or discipline a
person, they are reported with their uncertainty and never ranked on too few answers:

- every rating question (1-5) gets its mean, a 95 % confidence interval (Student t) and n;
- question (2) gets the share of "yes" with a Wilson 95 % interval;
- :func:`rank` puts groups with fewer than ``min_responses`` answers (default 30) apart as
  "insufficient data"; they get no rank, ever.

Groups are any of ``office``, ``service``, ``desk``, ``source`` (paper | kiosk) and ``month``
(the Jalali month in Tehran time).  The SQL is one text for SQLite and PostgreSQL; only the
field expressions differ.  With :func:`ensure_analysis_indexes` the queries read monthly
roll-ups (kept current as records arrive, see below) instead of parsing every JSON body;
:meth:`Store.migrate` makes them, so every store has them.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import jdatetime

from forms.persian import parse_jalali_month

__all__ = [
    "COMMENT_PAGE", "DIMENSIONS", "MIN_RESPONSES", "RATING_QUESTIONS", "Comment", "CommentPage",
    "GroupStats", "Mean", "Share", "ServiceMatch", "analysis_index_sql", "cases_by_type",
    "comment_crop", "comment_index_sql", "comments", "drop_analysis_indexes",
    "ensure_analysis_indexes", "ensure_comment_index", "has_analysis_table", "matched_by_service",
    "mean_interval", "month_bounds", "month_key", "months_before", "rank", "refresh_analysis",
    "satisfaction", "service_catalogue", "t_quantile", "trend", "wilson_interval",
]

#: Fewer answers than this and a group is "insufficient data": shown, never ranked.
MIN_RESPONSES = 30
#: The 1-5 questions: (1) workflow, (3) staff behaviour, and the overall satisfaction.
RATING_QUESTIONS = ("workflow", "staff_behaviour", "overall")
#: What figures can be grouped by.
DIMENSIONS = ("office", "service", "desk", "source", "month")
#: Paper answers still waiting for a person (or refused) are not counted: the reviewed
#: record that replaces them is.
_NOT_COUNTED = ("review", "rejected")

_TEHRAN = ZoneInfo("Asia/Tehran")
_Z95 = 1.959963984540054
# Two-sided 95 % Student t quantiles for 1..30 degrees of freedom.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


# -- statistics (pure) ------------------------------------------------------------------


class Mean(NamedTuple):
    """Mean of a 1-5 question with its 95 % interval; ``low``/``high`` are None when n < 2."""

    n: int
    mean: float | None
    low: float | None
    high: float | None


class Share(NamedTuple):
    """Share of "yes" (question 2) with its Wilson 95 % interval."""

    n: int
    yes: int
    partly: int
    share: float | None
    low: float | None
    high: float | None


@lru_cache(maxsize=4096)
def t_quantile(df: int) -> float:
    """Two-sided 95 % Student t quantile (table to 30 df, Cornish-Fisher expansion beyond)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T95):
        return _T95[df - 1]
    z = _Z95
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def mean_interval(n: int, total: float, total_squares: float) -> Mean:
    """Mean and t interval from the sufficient statistics n, sum x and sum x^2."""
    if n <= 0:
        return Mean(0, None, None, None)
    mean = total / n
    if n < 2:
        return Mean(n, mean, None, None)
    variance = (total_squares - total * total / n) / (n - 1)
    half = t_quantile(n - 1) * math.sqrt(variance / n) if variance > 0 else 0.0
    low, high = mean - half, mean + half  # a 1-5 answer's mean cannot leave 1..5
    return Mean(n, mean, low if low > 1.0 else 1.0, high if high < 5.0 else 5.0)


def wilson_interval(yes: int, n: int, *, partly: int = 0) -> Share:
    """Share of yes among n answers with the Wilson score interval (good near 0 and 1)."""
    if n <= 0:
        return Share(0, 0, 0, None, None, None)
    p = yes / n
    z2 = _Z95 * _Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Share(n, yes, partly, p, max(0.0, centre - half), min(1.0, centre + half))


# -- Jalali months ------------------------------------------------------------------------


def month_key(month: str | tuple[int, int]) -> tuple[int, int]:
    """(year, month) from "1405-09", "۱۴۰۵/۰۹" or a tuple; InvalidInput if impossible."""
    if isinstance(month, tuple):
        year, number = month
        if not 1 <= number <= 12 or year < 1:
            raise ValueError(f"invalid Jalali month {month!r}")
        return int(year), int(number)
    return parse_jalali_month(month)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def month_bounds(month: str | tuple[int, int]) -> tuple[str, str]:
    """The month as a half-open UTC range [start, end) in the store's time spelling.

    A Jalali month runs from local (Tehran) midnight of its first day to local midnight of the
    next month's first day; records carry UTC, so 1405-09 (2026-11-22..2026-12-21) starts at
    2026-11-21T20:30Z.
    """
    year, number = month_key(month)
    first = jdatetime.date(year, number, 1).togregorian()
    nyear, nnumber = (year + 1, 1) if number == 12 else (year, number + 1)
    following = jdatetime.date(nyear, nnumber, 1).togregorian()
    start = datetime(first.year, first.month, first.day, tzinfo=_TEHRAN)
    end = datetime(following.year, following.month, following.day, tzinfo=_TEHRAN)
    return _utc_text(start), _utc_text(end)


def months_before(month: str | tuple[int, int], count: int) -> list[tuple[int, int]]:
    """``count`` months ending with ``month``, oldest first (for trends)."""
    year, number = month_key(month)
    out = []
    for _ in range(count):
        out.append((year, number))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out[::-1]


def _month_label(key: tuple[int, int]) -> str:
    return f"{key[0]:04d}-{key[1]:02d}"


# -- dialects: where each field lives -------------------------------------------------------

_ANSWER_FIELDS = ("service", "desk", "workflow", "matched_announcement", "staff_behaviour", "overall")
_TOP_FIELDS = ("source", "status")


def _json_text(dialect: str, path: Sequence[str], body: str = "body") -> str:
    """The JSON value at ``path`` in ``body`` as text (NULL when absent), per dialect.
    On PostgreSQL ``body`` may name a jsonb variable (``b`` in the trigger) instead."""
    if dialect == "sqlite":
        return f"CAST(json_extract({body}, '$.{'.'.join(path)}') AS TEXT)"
    source = f"{body}::jsonb" if body.endswith("body") else body
    return f"({source} #>> '{{{','.join(path)}}}')"


def _rating(text: str) -> str:
    """A 1-5 answer as an integer, anything else NULL (so it is not counted)."""
    return f"(CASE WHEN {text} IN ('1', '2', '3', '4', '5') THEN CAST({text} AS INTEGER) END)"


def _extractions(dialect: str, body: str = "body") -> dict[str, str]:
    """Field name -> SQL expression reading it from a records row's JSON body."""
    out = {name: _json_text(dialect, [name], body) for name in _TOP_FIELDS}
    for name in _ANSWER_FIELDS:
        expr = _json_text(dialect, ["answers", name], body)
        out[name] = _rating(expr) if name in RATING_QUESTIONS else expr
    return out


# -- monthly roll-ups (the "indexes" the lead may move into a migration) ------------------------
#
# Scanning millions of JSON bodies cannot answer a dashboard in 500 ms, so two small tables
# hold the sufficient statistics (n, sum, sum of squares; yes/partly counts) per Jalali month:
#   analysis_by_desk    (month, office, service, desk, source)
#   analysis_by_service (month, office, service, source)       -- 10x smaller, for trends
# Keeping them current costs ingest as little as possible.  On SQLite nothing at all: there is
# one writer, so record ids are handed out in commit order, and the next query
# (:func:`refresh_analysis`) folds every survey response past the last id folded (a counter)
# into the roll-ups under the write lock.  On PostgreSQL ids are drawn before commit, so a
# late-committing transaction could hide behind a higher id; there a trigger on ``records``
# notes each new survey response's id in ``analysis_pending`` (same transaction as the insert,
# so nothing is ever missed; a duplicate insert is ON CONFLICT DO NOTHING and notes nothing),
# and the refresh folds and deletes the pending ids in one statement, so concurrent refreshes
# never count a record twice.  ``analysis_months`` maps a UTC instant to its Jalali month (Tehran
# midnights), 1390-1450.

_ROLLUPS = {"analysis_by_desk": ("month", "office", "service", "desk", "source"),
            "analysis_by_service": ("month", "office", "service", "source")}
_COUNTERS = ("responses", *(f"{q}_{s}" for q in RATING_QUESTIONS for s in ("n", "sum", "sq")),
             "matched_n", "matched_yes", "matched_partly")
_MONTH_YEARS = range(1390, 1451)


def _counter_values(column: dict[str, str]) -> list[str]:
    """Per-record counter values, in :data:`_COUNTERS` order."""
    values = ["1"]
    for q in RATING_QUESTIONS:
        r = column[q]
        values += [f"(CASE WHEN {r} IS NULL THEN 0 ELSE 1 END)", f"COALESCE({r}, 0)", f"COALESCE({r} * {r}, 0)"]
    m = column["matched_announcement"]
    values += [f"(CASE WHEN {m} IN ('yes', 'partly', 'no') THEN 1 ELSE 0 END)",
               f"(CASE WHEN {m} = 'yes' THEN 1 ELSE 0 END)",
               f"(CASE WHEN {m} = 'partly' THEN 1 ELSE 0 END)"]
    return values


def _counted(column: dict[str, str]) -> str:
    """Paper pages waiting for review or rejected are not counted (their reviewed copy is)."""
    s = column["status"]
    return f"({s} IS NULL OR {s} NOT IN ('review', 'rejected'))"


def _month_of(created: str) -> str:
    """The Jalali month ("1405-09") of a UTC time, from ``analysis_months`` (one index probe)."""
    return (f"(SELECT m.month FROM analysis_months m WHERE m.start_utc <= {created}"
            f" AND {created} < m.end_utc ORDER BY m.start_utc DESC LIMIT 1)")


def _extracted(dialect: str, condition: str, join: str = "", relation: str = "records") -> str:
    """One row per survey response of ``records`` (+ ``join``) meeting ``condition``, with
    its month and fields extracted once (``LIMIT -1`` / ``OFFSET 0`` keep it from being
    flattened into the counting query, which names each field several times)."""
    if dialect == "sqlite":
        fields, source = _extractions(dialect), f" FROM {relation}{join}"
    else:  # parse each body once, not once per field
        fields = _extractions(dialect, "j.b")
        source = f" FROM records{join}, LATERAL (SELECT records.body::jsonb AS b OFFSET 0) j"
    return (f"SELECT {_month_of('records.created_at')} AS month, records.office AS office, "
            + ", ".join(f"{expr} AS {name}" for name, expr in fields.items())
            + source + f" WHERE records.kind = 'survey_response' AND {condition}"
            + (" LIMIT -1" if dialect == "sqlite" else " OFFSET 0"))


def _rollup_insert(table: str, rows: str) -> str:
    """Add the rows of ``rows`` (a subquery or CTE name from :func:`_extracted`) to a roll-up."""
    keys = _ROLLUPS[table]
    plain = {name: f"x.{name}" for name in (*_TOP_FIELDS, *_ANSWER_FIELDS)}
    key_values = ["x.month", "x.office", *(f"COALESCE(x.{k}, '')" for k in keys[2:])]
    counters = [f"sum({c})" for c in _counter_values(plain)]
    names = ", ".join((*keys, *_COUNTERS))
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in _COUNTERS)
    return (f"INSERT INTO {table} ({names}) SELECT {', '.join(key_values + counters)} FROM {rows} x"
            f" WHERE x.month IS NOT NULL AND {_counted(plain)}"
            f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")


def _month_rows() -> list[tuple[str, str, str]]:
    return [(_month_label((y, m)), *month_bounds((y, m))) for y in _MONTH_YEARS for m in range(1, 13)]


#: SQLite: the counter holding the last record id folded into the roll-ups.
_FOLDED = "analysis_folded"
_FOLDED_ID = f"(SELECT value FROM counters WHERE name = '{_FOLDED}')"
_FOLD_MARK = (f"UPDATE counters SET value = (SELECT COALESCE(max(id), 0) FROM records)"
              f" WHERE name = '{_FOLDED}'")


def analysis_index_sql(dialect: str) -> list[str]:
    """The exact statements :func:`ensure_analysis_indexes` runs (the ``analysis_months``
    rows are inserted separately: :func:`_month_rows`); docs/central-analysis.md shows them."""
    integer = "INTEGER"  # per group and month: far from 2**31 even for sums of squares
    statements = ["CREATE TABLE IF NOT EXISTS analysis_months (month TEXT PRIMARY KEY,"
                  " start_utc TEXT NOT NULL UNIQUE, end_utc TEXT NOT NULL)"]
    if dialect == "postgresql":
        statements.append("CREATE TABLE IF NOT EXISTS analysis_pending (record_id BIGINT PRIMARY KEY)")
    for table, keys in _ROLLUPS.items():
        columns = ", ".join([*(f"{k} TEXT NOT NULL" for k in keys),
                             *(f"{c} {integer} NOT NULL" for c in _COUNTERS)])
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY ({', '.join(keys)}))")
    statements.append("CREATE INDEX IF NOT EXISTS records_kind_created ON records (kind, created_at)")
    if dialect == "sqlite":
        # SQLite has one writer, so record ids are handed out in commit order and "everything
        # past the last id folded" is exactly what is new: no trigger on the ingest path.
        statements.append(f"INSERT INTO counters (name, value) VALUES ('{_FOLDED}', 0)"
                          " ON CONFLICT (name) DO NOTHING")
    else:
        statements += [
            ("CREATE OR REPLACE FUNCTION analysis_pending_insert() RETURNS trigger LANGUAGE plpgsql AS $$"
             " BEGIN INSERT INTO analysis_pending (record_id) VALUES (NEW.id); RETURN NULL; END $$"),
            "DROP TRIGGER IF EXISTS analysis_pending_insert ON records",
            ("CREATE TRIGGER analysis_pending_insert AFTER INSERT ON records FOR EACH ROW"
             " WHEN (NEW.kind = 'survey_response') EXECUTE FUNCTION analysis_pending_insert()"),
        ]
    return statements


def _backfill_sql(dialect: str) -> list[str]:
    """Every survey response already stored, into both roll-ups (run once, after the trigger)."""
    rows = f"({_extracted(dialect, '1 = 1')})"
    statements = [_rollup_insert(table, rows) for table in _ROLLUPS]
    if dialect == "sqlite":
        statements.append(_FOLD_MARK)
    return statements


def _refresh_sql(dialect: str) -> list[str]:
    """Fold ``analysis_pending`` into the roll-ups and empty it."""
    if dialect == "sqlite":  # runs under the write lock: nothing can slip in between
        rows = f"({_extracted(dialect, f'records.id > {_FOLDED_ID}')})"
        return [*(_rollup_insert(table, rows) for table in _ROLLUPS), _FOLD_MARK]
    # One statement, one snapshot: exactly the rows it deletes are counted; a concurrent
    # refresh blocks on those rows and then skips them.
    extracted = _extracted(dialect, "1 = 1", join=" JOIN done ON records.id = done.record_id")
    first, second = (_rollup_insert(table, "fresh") for table in _ROLLUPS)
    return [f"WITH done AS (DELETE FROM analysis_pending RETURNING record_id), fresh AS ({extracted}),"
            f" first AS ({first}) {second}"]


def refresh_analysis(store) -> int:
    """Fold survey responses stored since the last refresh into the roll-ups; returns how
    many were pending (0: nothing written).  Every query calls it first."""
    waiting = (f"FROM records WHERE id > {_FOLDED_ID} AND kind = 'survey_response'"
               if store.dialect == "sqlite" else "FROM analysis_pending")
    with store.connect() as db:
        if db.one(f"SELECT 1 {waiting} LIMIT 1") is None:
            return 0
    with store._writing(), store.connect() as db, db.transaction():  # noqa: SLF001 - same package
        pending = db.one(f"SELECT count(*) {waiting}")[0]
        for statement in _refresh_sql(store.dialect):
            db.raw.execute(statement)
    return pending


def has_analysis_table(store) -> bool:
    """Whether :func:`ensure_analysis_indexes` has run on this store."""
    with store.connect() as db:
        if store.dialect == "sqlite":
            row = db.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'analysis_by_desk'")
        else:
            row = db.one("SELECT to_regclass('analysis_by_desk') IS NOT NULL")
            row = row if row and row[0] else None
    return row is not None


def _has_fold_counter(store) -> bool:
    with store.connect() as db:
        return db.one(f"SELECT 1 FROM counters WHERE name = '{_FOLDED}'") is not None


def ensure_analysis_indexes(store) -> None:
    """Create the month table, the two roll-ups, what tells new records apart (SQLite: a
    counter; PostgreSQL: the pending list and its trigger), and an index on records (kind,
    created_at) for case counts; fill the roll-ups from the records already stored.

    Idempotent (a store that has them is left alone; concurrent callers are serialised).
    :meth:`Store.migrate` calls it after the schema steps.
    """
    if has_analysis_table(store):
        if store.dialect != "sqlite" or _has_fold_counter(store):
            return
        # Made by a version that kept a trigger on SQLite too: rebuild the counter way.
        drop_analysis_indexes(store)
    with store._writing(), store.connect() as db, db.transaction():  # noqa: SLF001 - same package
        if store.dialect == "postgresql":
            db.raw.execute("SELECT pg_advisory_xact_lock(hashtext('seda_analysis_indexes'))")
            if db.one("SELECT to_regclass('analysis_by_desk') IS NOT NULL")[0]:
                return
        elif db.one("SELECT 1 FROM sqlite_master WHERE name = 'analysis_by_desk'") is not None:
            return
        for statement in analysis_index_sql(store.dialect):
            db.raw.execute(statement)  # no placeholders: '$$' and '?' pass untouched
        db.executemany("INSERT INTO analysis_months (month, start_utc, end_utc) VALUES (?, ?, ?)"
                       " ON CONFLICT (month) DO NOTHING", _month_rows())
        for statement in _backfill_sql(store.dialect):
            db.raw.execute(statement)
    with store.connect() as db:
        for table in ("analysis_months", *_ROLLUPS):
            db.raw.execute(f"ANALYZE {table}")


def drop_analysis_indexes(store) -> None:
    """Undo :func:`ensure_analysis_indexes` (queries fall back to reading the JSON bodies)."""
    with store._writing(), store.connect() as db, db.transaction():  # noqa: SLF001
        if store.dialect == "sqlite":
            db.raw.execute("DROP TRIGGER IF EXISTS analysis_pending_insert")  # made by older versions
            db.raw.execute(f"DELETE FROM counters WHERE name = '{_FOLDED}'")
        else:
            db.raw.execute("DROP TRIGGER IF EXISTS analysis_pending_insert ON records")
            db.raw.execute("DROP FUNCTION IF EXISTS analysis_pending_insert()")
        for table in (*_ROLLUPS, "analysis_months", "analysis_pending"):
            db.raw.execute(f"DROP TABLE IF EXISTS {table}")
        db.raw.execute("DROP INDEX IF EXISTS records_kind_created")


# -- grouped figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupStats:
    """The figures of one group (e.g. one desk of one office in one month)."""

    key: dict[str, str | None]
    responses: int
    means: dict[str, Mean]
    matched: Share
    min_responses: int = MIN_RESPONSES

    @property
    def sufficient(self) -> bool:
        """Enough answers to rank or compare this group (the fairness rule)."""
        return self.responses >= self.min_responses

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "responses": self.responses, "sufficient": self.sufficient,
                "means": {q: m._asdict() for q, m in self.means.items()}, "matched": self.matched._asdict()}


def _stats(key: dict[str, str | None], row: Sequence[Any], min_responses: int) -> GroupStats:
    """GroupStats from one result row: responses, (n, sum, sum of squares) per rating
    question, then matched n, yes, partly (the :data:`_COUNTERS` order)."""
    workflow, staff, overall = (mean_interval(int(row[i] or 0), float(row[i + 1] or 0), float(row[i + 2] or 0))
                                for i in (1, 4, 7))
    matched = wilson_interval(int(row[11] or 0), int(row[10] or 0), partly=int(row[12] or 0))
    return GroupStats(key, int(row[0]), {"workflow": workflow, "staff_behaviour": staff, "overall": overall},
                      matched, min_responses)


def _month_case(created: str, months: Sequence[tuple[int, int]], params: list[Any]) -> str:
    """A CASE naming each row's Jalali month from the month boundaries (same SQL on both)."""
    whens = []
    for key in months:
        start, end = month_bounds(key)
        whens.append(f"WHEN {created} >= ? AND {created} < ? THEN '{_month_label(key)}'")
        params += [start, end]
    return "CASE " + " ".join(whens) + " END"


def _filters(column: dict[str, str], filters: dict[str, str | None], where: list[str],
             params: list[Any]) -> None:
    for name, value in filters.items():
        if value is not None:
            where.append(f"{column[name]} = ?")
            params.append(value)


def _query_records(store, by: Sequence[str], months: Sequence[tuple[int, int]],
                   filters: dict[str, str | None]) -> list[tuple]:
    """Read the JSON bodies directly (no roll-ups): right, but slow on millions."""
    column = _extractions(store.dialect)
    column.update(office="office")
    params: list[Any] = []
    keys = [_month_case("created_at", months, params) if d == "month" else column[d] for d in by]
    where = ["kind = 'survey_response'", "created_at >= ?", "created_at < ?", _counted(column)]
    params += [month_bounds(months[0])[0], month_bounds(months[-1])[1]]
    _filters(column, filters, where, params)
    sql = (f"SELECT {''.join(k + ', ' for k in keys)}count(*), "
           + ", ".join(f"sum({c})" for c in _counter_values(column)[1:])
           + f" FROM records WHERE {' AND '.join(where)}")
    if by:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(by)))
    with store.connect() as db:
        return db.all(sql, params)


def _query_rollup(store, by: Sequence[str], months: Sequence[tuple[int, int]],
                  filters: dict[str, str | None]) -> list[tuple]:
    table = "analysis_by_desk" if "desk" in by else "analysis_by_service"
    column = {k: k for k in _ROLLUPS[table]}
    where = ["month >= ?", "month <= ?"]
    params: list[Any] = [_month_label(months[0]), _month_label(months[-1])]
    _filters(column, filters, where, params)
    sql = (f"SELECT {''.join(k + ', ' for k in by)}" + ", ".join(f"sum({c})" for c in _COUNTERS)
           + f" FROM {table} WHERE {' AND '.join(where)}")
    if by:
        sql += " GROUP BY " + ", ".join(by)
    with store.connect() as db:
        return db.all(sql, params)


def _query(store, by: Sequence[str], months: Sequence[tuple[int, int]], *, office: str | None,
           source: str | None, service: str | None) -> list[tuple]:
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {DIMENSIONS}")
    filters = {"office": office, "source": source, "service": service}
    if has_analysis_table(store):
        refresh_analysis(store)
        return _query_rollup(store, by, months, filters)
    return _query_records(store, by, months, filters)


def satisfaction(store, month: str | tuple[int, int], by: Sequence[str] = ("office",), *,
                 office: str | None = None, source: str | None = None, service: str | None = None,
                 min_responses: int = MIN_RESPONSES, months: int = 1) -> list[GroupStats]:
    """Figures for one Jalali month (or the ``months`` ending with it), grouped ``by`` any of
    :data:`DIMENSIONS`; optionally only one office, one source (paper|kiosk) or one service.
    Sorted by the group key; use :func:`rank` to order them fairly."""
    span = months_before(month, months)
    out = []
    for row in _query(store, by, span, office=office, source=source, service=service):
        if row[len(by)]:
            key = {d: (v if v != "" else None) for d, v in zip(by, row[:len(by)])}
            out.append(_stats(key, row[len(by):], min_responses))
    return sorted(out, key=lambda g: tuple("" if v is None else str(v) for v in g.key.values()))


def trend(store, month: str | tuple[int, int], months: int = 12, by: Sequence[str] = (), *,
          office: str | None = None, source: str | None = None,
          min_responses: int = MIN_RESPONSES) -> list[GroupStats]:
    """Per-month figures for the ``months`` ending with ``month`` (oldest first); each group
    key has ``month`` ("1405-09") plus the ``by`` dimensions.  Months with no answers appear
    with responses 0 when not grouped further."""
    rows = satisfaction(store, month, ("month", *by), office=office, source=source,
                        min_responses=min_responses, months=months)
    if by:
        return rows
    seen = {g.key["month"]: g for g in rows}
    out = []
    for key in months_before(month, months):
        label = _month_label(key)
        out.append(seen.get(label) or _stats({"month": label}, [0] * len(_COUNTERS), min_responses))
    return out


@dataclass(frozen=True)
class Ranking:
    ranked: list[tuple[int, GroupStats]]
    insufficient: list[GroupStats]
    question: str
    min_responses: int


def rank(groups: Iterable[GroupStats], question: str = "staff_behaviour", *,
         min_responses: int = MIN_RESPONSES) -> Ranking:
    """Order groups by their mean on ``question`` (best first), but only those with at least
    ``min_responses`` answers to that question; the rest are returned as insufficient data,
    unranked (clause 5 uses these figures to reward and discipline people)."""
    if question not in RATING_QUESTIONS and question != "matched_announcement":
        raise ValueError(f"unknown question {question!r}")
    ranked, insufficient = [], []
    for group in groups:
        n = group.matched.n if question == "matched_announcement" else group.means[question].n
        (ranked if n >= min_responses and group.responses >= min_responses else insufficient).append(group)

    def value(g: GroupStats) -> float:
        return g.matched.share if question == "matched_announcement" else g.means[question].mean

    ranked.sort(key=lambda g: (-value(g), tuple(str(v) for v in g.key.values())))
    return Ranking([(i + 1, g) for i, g in enumerate(ranked)], insufficient, question, min_responses)


# -- question (2) per service, with the catalogue entry -------------------------------------------


@dataclass(frozen=True)
class ServiceMatch:
    """Question (2) for one service, next to what its catalogue entry announces."""

    service: str
    stats: GroupStats
    catalogue: dict[str, Any] | None  # {"name", "documents", "fee_rials", "time", ...} or None

    @property
    def no_share(self) -> float | None:
        m = self.stats.matched
        return None if not m.n else (m.n - m.yes - m.partly) / m.n


def service_catalogue(store, path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Service id -> catalogue entry: what the central office published on the ``catalogue``
    feed, else the YAML at ``path`` (else the kiosk's built-in catalogue)."""
    with store.connect() as db:
        rows = db.all("SELECT key, body FROM feed WHERE feed = 'catalogue' AND deleted = 0")
    if rows:
        import json

        return {key: json.loads(body) for key, body in rows}
    from kiosk.catalogue import load_services  # lazy: the kiosk package imports sync
    from kiosk.config import builtin_data_folder

    services = load_services(path or builtin_data_folder() / "services.yaml")
    return {s.id: {"name": {"fa": s.name.fa, "en": s.name.en},
                   "documents": [{"fa": d.fa, "en": d.en} for d in s.documents],
                   "fee_rials": s.fee_rials, "time": {"fa": s.time.fa, "en": s.time.en},
                   "legal_basis": {"fa": s.legal_basis.fa, "en": s.legal_basis.en}}
            for s in services}


def matched_by_service(store, month: str | tuple[int, int], *, office: str | None = None,
                       catalogue: dict[str, dict[str, Any]] | None = None,
                       min_responses: int = MIN_RESPONSES, months: int = 1) -> list[ServiceMatch]:
    """Question (2) per service, worst "yes" share first among services with enough answers
    (then the rest), each with its catalogue entry so the misleading announcement is found."""
    if catalogue is None:
        catalogue = service_catalogue(store)
    groups = satisfaction(store, month, ("service",), office=office,
                          min_responses=min_responses, months=months)
    out = [ServiceMatch(g.key["service"] or "", g, catalogue.get(g.key["service"] or "")) for g in groups]
    out.sort(key=lambda s: (not (s.stats.matched.n >= min_responses),
                            s.stats.matched.share if s.stats.matched.share is not None else 2.0,
                            s.service))
    return out


# -- cases ------------------------------------------------------------------------------------


def cases_by_type(store, month: str | tuple[int, int], *, office: str | None = None) -> dict[str, int]:
    """How many cases of each type (request, complaint, ..., misconduct) arrived in ``month``."""
    start, end = month_bounds(month)
    kind = _json_text(store.dialect, ["type"])
    sql = f"SELECT {kind}, count(*) FROM records WHERE kind = 'case' AND created_at >= ? AND created_at < ?"
    params: list[Any] = [start, end]
    if office is not None:
        sql += " AND office = ?"
        params.append(office)
    with store.connect() as db:
        return {k or "": n for k, n in db.all(sql + " GROUP BY 1", params)}


# -- comments (the comment browser of the web app) ----------------------------------------------
#
# A survey response's comment is either typed at a kiosk (``answers.comment``) or handwritten
# on paper, where the scanner keeps the comment box as a PNG crop (``attachments.comment``, a
# blob's SHA-256) and judges whether it holds handwriting (``writing.comment``).  A partial
# index over (created_at, id) of the responses that carry either keeps a page of comments one
# index range scan, newest first, paged by keyset.

COMMENT_PAGE = 50
_SEARCH_FOLDS = ([("\u064a", "\u06cc"), ("\u0649", "\u06cc"), ("\u0643", "\u06a9")]
                 + [(d, str(i)) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")]
                 + [(d, str(i)) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")])


@dataclass(frozen=True)
class Comment:
    """One comment, with nothing about the person beyond the comment itself."""

    uuid: str
    office: str
    created_at: str
    source: str | None
    service: str | None
    text: str | None        # typed at a kiosk
    crop: str | None        # SHA-256 of the handwritten comment box (paper)
    writing: bool           # typed text, or the scanner saw handwriting in the crop
    cursor: str             # keyset position of this comment ("created_at|id")


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    next_cursor: str | None  # None: this is the last page


def _comment_fields(dialect: str) -> dict[str, str]:
    return {"text": _json_text(dialect, ["answers", "comment"]),
            "crop": _json_text(dialect, ["attachments", "comment"]),
            "writing": _json_text(dialect, ["writing", "comment"]),
            "source": _json_text(dialect, ["source"]),
            "service": _json_text(dialect, ["answers", "service"]),
            "status": _json_text(dialect, ["status"])}


def _has_comment(dialect: str) -> str:
    """The partial index's condition, spelled exactly as the queries spell it."""
    f = _comment_fields(dialect)
    return f"kind = 'survey_response' AND ({f['text']} IS NOT NULL OR {f['crop']} IS NOT NULL)"


def comment_index_sql(dialect: str) -> str:
    """The partial index behind :func:`comments` (for the lead's schema migration)."""
    order = "created_at, id" if dialect == "sqlite" else "created_at DESC, id DESC"
    return f"CREATE INDEX IF NOT EXISTS records_comments ON records ({order}) WHERE {_has_comment(dialect)}"


def ensure_comment_index(store) -> None:
    """Create the comment index if missing (idempotent; concurrent callers serialised)."""
    with store.connect() as db:
        if store.dialect == "sqlite":
            present = db.one("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'records_comments'")
        else:
            present = db.one("SELECT 1 WHERE to_regclass('records_comments') IS NOT NULL")
    if present is not None:
        return
    with store._writing(), store.connect() as db, db.transaction():  # noqa: SLF001 - same package
        if store.dialect == "postgresql":
            db.raw.execute("SELECT pg_advisory_xact_lock(hashtext('seda_comment_index'))")
        db.raw.execute(comment_index_sql(store.dialect))


def _folded(dialect: str, expr: str) -> str:
    """``expr`` with Arabic ye/kaf and Persian/Arabic digits folded, lower-cased (search)."""
    for old, new in _SEARCH_FOLDS:
        expr = f"replace({expr}, '{old}', '{new}')"
    return f"lower({expr})"


def comments(store, month: str | tuple[int, int], *, office: str | None = None,
             service: str | None = None, source: str | None = None, writing: str = "yes",
             search: str | None = None, after: str | None = None,
             limit: int = COMMENT_PAGE) -> CommentPage:
    """One page of the month's comments, newest first.

    ``writing``: "yes" (typed text, or a crop with handwriting: the default), "no" (crops the
    scanner judged empty, to check it) or "any".  ``search`` is matched in typed text after
    folding ye/kaf and digits on both sides (pass it through ``normalize_input`` first).
    ``after`` is the ``cursor`` of the last comment of the previous page.  Rejected pages are
    never shown.
    """
    from forms.persian import normalize_input  # normalise here too: callers may forget

    start, end = month_bounds(month)
    f = _comment_fields(store.dialect)
    where = [_has_comment(store.dialect), "created_at >= ?", "created_at < ?",
             f"({f['status']} IS NULL OR {f['status']} <> 'rejected')"]
    params: list[Any] = [start, end]
    typed = f"({f['text']} IS NOT NULL AND {f['text']} <> '')"
    written = f"{f['writing']} IN ('1', 'true')"
    if writing == "yes":
        where.append(f"({typed} OR ({f['crop']} IS NOT NULL AND {written}))")
    elif writing == "no":
        where.append(f"({f['crop']} IS NOT NULL AND NOT {typed} AND ({f['writing']} IS NULL OR NOT {written}))")
    elif writing != "any":
        raise ValueError(f"writing must be yes, no or any, not {writing!r}")
    if office:
        where.append("office = ?")
        params.append(office)
    for name, value in (("service", service), ("source", source)):
        if value:
            where.append(f"{f[name]} = ?")
            params.append(value)
    if search:
        needle = normalize_input(search)
        for old, new in _SEARCH_FOLDS:
            needle = needle.replace(old, new)
        if needle:
            finder = "instr" if store.dialect == "sqlite" else "strpos"
            where.append(f"{finder}({_folded(store.dialect, f['text'])}, ?) > 0")
            params.append(needle.lower())
    if after:
        try:
            at, _, ident = after.rpartition("|")
            ident_value = int(ident) if len(ident) <= 19 else -1
        except ValueError:
            raise ValueError(f"bad page cursor {after!r}") from None
        if not 0 < ident_value < 2 ** 63:  # a record id: never more than a BIGINT holds
            raise ValueError(f"bad page cursor {after!r}")
        where.append("(created_at, id) < (?, ?)")
        params += [at, ident_value]
    params.append(limit + 1)
    with store.connect() as db:
        relation = "records"
        # SQLite's planner prefers (kind, created_at), which reads every response of the month
        # to find the few with a comment; the partial index holds only those.
        if store.dialect == "sqlite" and db.one(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'records_comments'"):
            relation = "records INDEXED BY records_comments"
        rows = db.all(f"SELECT id, uuid, office, created_at, {f['source']}, {f['service']}, {f['text']},"
                      f" {f['crop']}, {f['writing']} FROM {relation} WHERE {' AND '.join(where)}"
                      " ORDER BY created_at DESC, id DESC LIMIT ?", params)
    out = [Comment(uuid, office_code, created_at, src, svc, text, crop,
                   bool(text) or (written_flag in ("1", "true")), f"{created_at}|{ident}")
           for ident, uuid, office_code, created_at, src, svc, text, crop, written_flag in rows[:limit]]
    return CommentPage(out, out[-1].cursor if len(rows) > limit else None)


def comment_crop(store, response_uuid: str) -> str | None:
    """The SHA-256 of a survey response's handwritten comment crop, if it has one (only these
    crops are served as comments: never another attachment by its hash), and only if the
    response's own office sent an attachment record for it: blobs are stored once by hash for
    every office, so an office that names another office's hash exposes nothing."""
    crop = _comment_fields(store.dialect)["crop"]
    with store.connect() as db:
        row = db.one(f"SELECT office, {crop} FROM records WHERE uuid = ? AND kind = 'survey_response'",
                     (response_uuid,))
    if not row or not row[1]:
        return None
    return row[1] if store.office_sent_blob(row[0], row[1]) else None
