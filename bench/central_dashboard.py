"""Dashboard queries over a big central store: p50/p95 latency per query.

    .venv/bin/python bench/central_dashboard.py                        # 5,000,000 responses + 500,000 cases, SQLite
    .venv/bin/python bench/central_dashboard.py --scale 0.02           # a quick run (100,000 + 10,000)
    .venv/bin/python bench/central_dashboard.py --store postgresql     # $SEDA_TEST_POSTGRES_URL (own schema)
    .venv/bin/python bench/central_dashboard.py --store both --scale 0.1
    .venv/bin/python bench/central_dashboard.py --store both --sqlite-path /big/c.sqlite3 --pg-schema dash5m
                                                                        # load once, query again later

Loads survey responses (200 offices x 10 desks x 9 services, 60 % kiosk / 40 % paper, 30 % of
the paper ones with flagged answers and people's review decisions, some stored before their
sheet, some changed again) and cases spread evenly over the 12 Jalali months ending with
--month, straight into the records and cases tables (bulk inserts / COPY: ingest speed is
bench/sync_ingest.py's business), folds them into the roll-ups of effective answers (timed
separately), and runs every dashboard, figures and report query and the case queries behind the
units' inboxes --repeat times.  Target: p95 < 500 ms per query on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datetime import datetime, timezone  # noqa: E402

from central import analysis, open_store  # noqa: E402
from central import calls as C  # noqa: E402
from central import figures as F  # noqa: E402
from central.casework import OVERSIGHT, Casework  # noqa: E402
from central.duplicates import text_key  # noqa: E402
from central.store import Store  # noqa: E402

RESPONSES = 5_000_000
CASES = 500_000
OFFICES = 200
DESKS = 10
SERVICES = ("birth_registration", "death_registration", "smart_id_card", "duplicate_birth_certificate",
            "marriage_divorce", "record_correction", "birth_certificate_renewal", "certificates", "other")
CASE_TYPES = ("request", "complaint", "suggestion", "criticism", "misconduct", "voice")
WAITING = ("under_10", "10_30", "30_60", "over_60")
TARGET_MS = 500.0
BENCH_NOW = datetime(2026, 12, 21, 12, tzinfo=timezone.utc)  # the end of 1405-09
COLUMNS = ("uuid", "office", "kind", "created_at", "body", "fingerprint", "tracking_code", "receipt",
           "received_at")


def office_code(i: int) -> str:
    return f"OF-{i:03d}"


def _instants(months: list[tuple[int, int]], rng: random.Random) -> Callable[[], str]:
    spans = []
    for key in months:
        start, end = analysis.month_bounds(key)
        spans.append((start, end))
    from datetime import datetime

    parsed = [(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp(),
               datetime.fromisoformat(e.replace("Z", "+00:00")).timestamp()) for s, e in spans]

    def pick() -> str:
        lo, hi = parsed[rng.randrange(len(parsed))]
        t = rng.uniform(lo, hi)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"
    return pick


FLAGGABLE = ("workflow", "staff_behaviour", "overall", "service", "desk", "matched_announcement")


def _decision_row(rng: random.Random, response: str, office: str, question: str, value, when: str,
                  replaces: str | None = None) -> tuple[str, tuple]:
    uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    body = {"item": f"{response}:{question}", "response": response, "sheet_id": "bench", "question": question,
            "value": value, "machine_value": None, "reason": "multiple", "by": "bench", "replaces": replaces}
    return uid, (uid, office, "review_decision", when, json.dumps(body, separators=(",", ":")),
                 "%064x" % rng.getrandbits(256), None, "bench", "2026-12-21T00:00:00.000000Z")


def generate(count: int, kind: str, months: list[tuple[int, int]], seed: int,
             decisions: dict[str, list[tuple]] | None = None) -> Iterator[tuple]:
    """Rows for ``records``.  Survey responses: 60 % kiosk (a tenth of them incomplete), 40 %
    paper, of which 30 % have one or two questions flagged for review; when ``decisions`` is
    given, 85 % of those flags get a person's decision (one in ten changed again with --again),
    collected there under "before" (a third: loaded before their sheets) or "after"."""
    rng = random.Random(seed)
    when = _instants(months, rng)
    for i in range(count):
        office = rng.randrange(OFFICES)
        if kind == "survey_response":
            quality = 2 + (office % 7) / 3  # offices differ, so the figures are not all equal
            def score() -> int:
                return max(1, min(5, round(rng.gauss(quality, 1.1))))
            answers = {"service": SERVICES[rng.randrange(len(SERVICES))], "workflow": score(),
                       "matched_announcement": rng.choice(("yes", "yes", "partly", "no")),
                       "staff_behaviour": score(), "waiting_time": rng.choice(WAITING), "overall": score(),
                       "desk": f"{rng.randrange(1, DESKS + 1):02d}" if rng.random() < 0.8 else None}
            source = "kiosk" if rng.random() < 0.6 else "paper"
            body = {"source": source, "form": "satisfaction", "form_version": 1, "answers": answers}
            uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            created = when()
            if source == "kiosk":
                body["complete"] = rng.random() >= 0.1
            else:
                body.update(status="accepted", sheet=f"{office_code(office)}/satisfaction/1/{i}", serial=i, flags={})
                if rng.random() < 0.3:
                    flagged = rng.sample(FLAGGABLE, rng.randint(1, 2))
                    for question in flagged:
                        machine = answers[question]
                        answers[question] = None
                        body["flags"][question] = "multiple"
                        if decisions is not None and rng.random() < 0.85:
                            bucket = decisions["before" if rng.random() < 1 / 3 else "after"]
                            first, row = _decision_row(rng, uid, office_code(office), question, machine, created)
                            bucket.append(row)
                            if rng.random() < 0.1:
                                bucket.append(_decision_row(rng, uid, office_code(office), question, machine,
                                                            created, replaces=first)[1])
                    body["status"] = "review"
            tracking = None
            yield (uid, office_code(office), kind, created,
                   json.dumps(body, ensure_ascii=False, separators=(",", ":")), "%064x" % rng.getrandbits(256),
                   tracking, "bench", "2026-12-21T00:00:00.000000Z")
            continue
        tracking = f"{seed:02d}{i:010d}"
        body = {"tracking_code": tracking, "type": rng.choice(CASE_TYPES),
                "service": SERVICES[rng.randrange(len(SERVICES))], "text": "متن نمونه درخواست",
                "anonymous": rng.random() < 0.3, "channel": "kiosk", "route": "office", "attachments": []}
        yield (str(uuid.UUID(int=rng.getrandbits(128), version=4)), office_code(office), kind, when(),
               json.dumps(body, ensure_ascii=False, separators=(",", ":")), "%064x" % rng.getrandbits(256),
               tracking, "bench", "2026-12-21T00:00:00.000000Z")


CASE_COLUMNS = ("uuid", "office", "tracking_code", "case_type", "service", "unit", "status", "assignee",
                "received_at", "due_at", "answered_at", "updated_at", "person_key", "text_key")
_CASE_TEXTS = ("کارت هوشمند من پس از سه ماه هنوز صادر نشده است",
               "نوبت‌دهی اینترنتی کار نمی‌کند و صف بسیار طولانی است",
               "کارمند باجه با ارباب رجوع بد رفتار کرد",
               "پیشنهاد می‌کنم ساعت کاری روزهای پنجشنبه بیشتر شود")


def unit_of(service: str) -> str:
    return f"svc-{service}"


def generate_cases(count: int, months: list[tuple[int, int]], seed: int) -> Iterator[tuple[tuple, tuple]]:
    """(records row, cases row) pairs: a third of the people file more than once, 60 % of the
    cases are answered, the rest open (some past their deadline, as in a real backlog)."""
    from datetime import datetime, timedelta

    rng = random.Random(seed)
    when = _instants(months, rng)
    for i in range(count):
        office = office_code(rng.randrange(OFFICES))
        case_type, service = rng.choice(CASE_TYPES), SERVICES[rng.randrange(len(SERVICES))]
        tracking = f"{seed:02d}{i:010d}"
        text = f"{rng.choice(_CASE_TEXTS)} {rng.randrange(1000)}"
        anonymous = rng.random() < 0.3
        body = {"tracking_code": tracking, "type": case_type, "service": service, "text": text,
                "anonymous": anonymous, "channel": "kiosk",
                "route": "oversight" if case_type == "misconduct" else "office", "attachments": []}
        if not anonymous:
            body["national_id"] = f"{rng.randrange(count // 3 + 1):010d}"
        created = when()
        received = datetime.fromisoformat(created.replace("Z", "+00:00"))
        due = (received + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        status = rng.choice(("answered", "closed", "answered", "routed", "assigned", "in_progress"))
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        record = (uid, office, "case", created, json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                  "%064x" % rng.getrandbits(256), tracking, "bench", "2026-12-21T00:00:00.000000Z")
        person = None if anonymous else "%064x" % hash(("person", body["national_id"]))
        case = (uid, office, tracking, case_type, service,
                OVERSIGHT if case_type == "misconduct" else unit_of(service), status,
                f"user{rng.randrange(5)}" if status in ("assigned", "in_progress") else None,
                created, due, created if status in ("answered", "closed") else None, created,
                person, text_key(text))
        yield record, case


def arriving(responses: list[tuple], later: list[tuple], every: int = 20_000) -> Iterator[tuple]:
    """Responses in the order they arrive, each stretch followed by the review decisions on its
    sheets (a person settles them at the office, the next sync brings them)."""
    by_response: dict[str, list[tuple]] = {}
    for row in later:
        by_response.setdefault(json.loads(row[4])["response"], []).append(row)
    waiting: list[tuple] = []
    for i, row in enumerate(responses, 1):
        yield row
        waiting += by_response.pop(row[0], ())
        if i % every == 0:
            yield from waiting
            waiting = []
    yield from waiting
    for rows in by_response.values():
        yield from rows


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def bulk_load(store: Store, rows: Iterator[tuple], table: str = "records",
              columns: tuple[str, ...] = COLUMNS) -> int:
    """Insert straight into ``table``: executemany in big transactions (SQLite), COPY (PostgreSQL)."""
    count = 0
    with store.connect() as db:
        if store.dialect == "sqlite":
            db.raw.execute("PRAGMA synchronous = OFF")
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for chunk in _chunks(rows, 200_000):
                db.raw.execute("BEGIN")
                db.raw.executemany(sql, chunk)
                db.raw.execute("COMMIT")
                count += len(chunk)
            db.raw.execute("PRAGMA synchronous = FULL")
        else:
            with db.raw.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
    return count


def dashboard_queries(month: str) -> dict[str, Callable[[Store], object]]:
    """What the dashboard and the monthly report ask, for the latest month."""
    office = office_code(7)
    return {
        "month per office": lambda s: analysis.satisfaction(s, month, ("office",)),
        "month per service": lambda s: analysis.satisfaction(s, month, ("service",)),
        "month paper vs kiosk": lambda s: analysis.satisfaction(s, month, ("source",)),
        "month per office x desk (ranked)": lambda s: analysis.rank(
            analysis.satisfaction(s, month, ("office", "desk"))),
        "month per office x service x desk": lambda s: analysis.satisfaction(
            s, month, ("office", "service", "desk")),
        "one office: per desk x service": lambda s: analysis.satisfaction(
            s, month, ("desk", "service"), office=office),
        "Q2 per service + catalogue": lambda s: analysis.matched_by_service(s, month, catalogue={}),
        "trend 12 months": lambda s: analysis.trend(s, month, 12),
        "trend 12 months x source": lambda s: analysis.trend(s, month, 12, ("source",)),
        "one office: trend 12 months": lambda s: analysis.trend(s, month, 12, office=office),
        "cases per type (month)": lambda s: analysis.cases_by_type(s, month),
        "figures: responses + questions": lambda s: F.response_figures(s, month),
        "figures: one office": lambda s: F.response_figures(s, month, office),
        "figures: cases on time (month)": lambda s: F.case_figures(s, month, now=BENCH_NOW),
        "figures: desks + waiting time": lambda s: (F.desk_figures(s, month), F.waiting_figures(s, month)),
        "figures: per working day": lambda s: F.office_days(s, month, now=BENCH_NOW),
        "seda central figures (all)": lambda s: F.figures(s, month, now=BENCH_NOW),
        "call list (month)": lambda s: C.call_list(s, month),
    }


def case_queries(store: Store) -> dict[str, Callable[[Store], object]]:
    """What a unit's inbox and a case page ask."""
    cw = Casework(store)
    unit = unit_of("smart_id_card")
    with store.connect() as db:
        some_case, some_code = db.one("SELECT uuid, tracking_code FROM cases WHERE unit = ? AND person_key"
                                      " IS NOT NULL ORDER BY uuid LIMIT 1", (unit,))
    return {
        "inbox: unit's open cases (page 1)": lambda s: cw.inbox(units=[unit], limit=50),
        "inbox: unit's open cases (page 20)": lambda s: cw.inbox(units=[unit], limit=50, offset=950),
        "inbox: count open + overdue": lambda s: (cw.count(units=[unit]), cw.count(units=[unit], status="overdue")),
        "inbox: one person's assigned cases": lambda s: cw.inbox(units=[unit], assignee="user3"),
        "search by tracking code": lambda s: cw.inbox(tracking_code=some_code, status="all"),
        "case page: history": lambda s: cw.events(some_case),
        "case page: duplicate suggestions": lambda s: cw.duplicate_suggestions(some_case),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(backend: str, url: str, args: argparse.Namespace) -> bool:
    store = open_store(url)
    months = analysis.months_before(args.month, 12)
    responses, cases = int(RESPONSES * args.scale), int(CASES * args.scale)
    print(f"\n== {backend}: {responses:,} survey responses + {cases:,} cases over "
          f"{months[0][0]}-{months[0][1]:02d}..{args.month}")
    if store.record_count() == 0:
        start = time.perf_counter()
        decisions: dict[str, list[tuple]] = {"before": [], "after": []}
        rows = list(generate(responses, "survey_response", months, 1, decisions))
        bulk_load(store, iter(decisions["before"]))   # decisions that arrive before their sheets
        bulk_load(store, arriving(rows, decisions["after"]))
        del rows, decisions
        pairs = list(generate_cases(cases, months, 2))
        bulk_load(store, (record for record, _ in pairs))
        bulk_load(store, (case for _, case in pairs), "cases", CASE_COLUMNS)
        del pairs
        print(f"load:    {time.perf_counter() - start:8.1f} s")
    else:
        print(f"reusing {store.record_count():,} records")
    with store.connect() as db:
        decisions_total = db.one("SELECT count(*) FROM records WHERE kind = 'review_decision'")[0]
        flagged = db.one("SELECT count(*) FROM records WHERE kind = 'survey_response' AND "
                         + ("json_extract(body, '$.status') = 'review'" if store.dialect == "sqlite"
                            else "body::jsonb ->> 'status' = 'review'"))[0]
    print(f"review:  {flagged:,} paper responses with flagged answers, {decisions_total:,} review decisions"
          " (a third stored before their sheet, the rest after it; one in ten changed with --again)")
    start = time.perf_counter()
    folded = analysis.refresh_analysis(store)
    with store.connect() as db:
        db.raw.execute("VACUUM ANALYZE records" if store.dialect == "postgresql" else "ANALYZE")
    print(f"fold:    {time.perf_counter() - start:8.1f} s ({folded:,} responses and decisions into the"
          " roll-ups, once)")
    ok = True
    print(f"{'query':<38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target p95 < {TARGET_MS:.0f} ms")
    for name, query in {**dashboard_queries(args.month), **case_queries(store)}.items():
        query(store)  # warm the cache once, as a dashboard in use would be
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            query(store)
            times.append((time.perf_counter() - t0) * 1000)
        p95 = percentile(times, 0.95)
        ok &= p95 < TARGET_MS
        print(f"{name:<38} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}"
              f"  {'ok' if p95 < TARGET_MS else 'SLOW'}")
    # What a query pays after ingest: new responses and decisions wait (past the folded-id
    # counter on SQLite, in analysis_pending on PostgreSQL) until the next query folds them in;
    # decisions for responses already folded move their answers in the roll-ups.
    fresh = max(1000, responses // 500)
    late: dict[str, list[tuple]] = {"before": [], "after": []}
    # seeded by the store's size: a kept store (--sqlite-path, --pg-schema) takes new records each run
    run_seed = store.record_count()
    rows = list(generate(fresh, "survey_response", months[-1:], 3 + run_seed, late))
    with store.connect() as db:
        old = [row[0] for row in db.all("SELECT uuid FROM records WHERE kind = 'survey_response' AND "
                                        + ("json_extract(body, '$.status') = 'review'" if store.dialect == "sqlite"
                                           else "body::jsonb ->> 'status' = 'review'") + " LIMIT 200")]
    rng = random.Random(9 + run_seed)
    settled_late = [_decision_row(rng, uid, office_code(0), "workflow", 3, "2026-12-20T08:00:00.000000Z")[1]
                    for uid in old]
    bulk_load(store, iter(rows + late["before"] + late["after"] + settled_late))
    t0 = time.perf_counter()
    folded = analysis.refresh_analysis(store)
    print(f"refresh: {folded:,} new records ({fresh:,} responses, {len(late['before']) + len(late['after'])}"
          f" of their decisions, {len(settled_late)} late decisions for responses already counted) folded in"
          f" {(time.perf_counter() - t0) * 1000:.0f} ms (paid once, by the next query)")
    store.close()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 5M responses / 500k cases")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per query")
    parser.add_argument("--month", default="1405-09", help="the dashboard's month (Jalali)")
    parser.add_argument("--sqlite-path", type=Path, default=None,
                        help="keep/reuse the SQLite store here (default: a temporary folder)")
    parser.add_argument("--pg-schema", default=None,
                        help="keep/reuse the PostgreSQL store in this schema (default: a new schema,"
                             " dropped at the end)")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    ok = True
    for backend in backends:
        if backend == "sqlite":
            if args.sqlite_path:
                ok &= run(backend, str(args.sqlite_path), args)
            else:
                with tempfile.TemporaryDirectory(prefix="seda-dashboard-") as folder:
                    ok &= run(backend, str(Path(folder) / "central.sqlite3"), args)
        else:
            base = os.environ.get("SEDA_TEST_POSTGRES_URL")
            if not base:
                print("SEDA_TEST_POSTGRES_URL is not set (eval \"$(bash scripts/postgres-for-tests.sh)\")")
                return 2
            import psycopg

            schema = args.pg_schema or f"bench_{uuid.uuid4().hex[:10]}"
            if not schema.isidentifier():
                print(f"--pg-schema must be a plain name, not {schema!r}")
                return 2
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            sep = "&" if "?" in base else "?"
            try:
                ok &= run(backend, f"{base}{sep}options={quote(f'-csearch_path={schema}')}", args)
            finally:
                if not args.pg_schema:
                    with psycopg.connect(base, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print("\nall queries within target" if ok else "\nsome queries missed the target")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
