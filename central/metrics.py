"""``GET /metrics``: the central server's figures in the Prometheus text format.

For the people who run the server, not for analysis: ingest (records and batches received,
by office and kind), refusals by reason, each office's last contact, waiting/refused/stranded
records and clock offset as it reported them, how far each office's pull lags the feed (items
and the age of the oldest item it has not pulled), open conflicts, escalated cases, open cases
past their deadline by unit, and cases reopened because the citizen said the answer did not
solve the problem ("was it solved? no"), by unit.  Labels are office codes, record kinds and refusal codes only:
no case, no person, no text a citizen wrote.

Access: only with ``Authorization: Bearer <token>`` where the token is the one given to
``seda central serve --metrics-token-file`` (or ``$SEDA_CENTRAL_METRICS_TOKEN``); without a
token configured the endpoint answers 404, so it is never open by accident.  Counts are
whole-store totals (Prometheus' ``rate()`` turns them into ingest rates), so every server
process behind a load balancer answers the same.
"""
from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from datetime import datetime, timezone

from flask import Blueprint, Response, request

from forms.workdays import WorkCalendar
from sync.batch import format_time

from .casework import CLOSED
from .db import metrics as metric_queries
from .office_health import office_health
from .store import Store

__all__ = ["METRICS_TOKEN_ENV", "metrics_blueprint", "metrics_text"]

METRICS_TOKEN_ENV = "SEDA_CENTRAL_METRICS_TOKEN"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, kind: str, help_text: str,
            samples: Iterable[tuple[dict[str, object], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        number = repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))
        lines.append(f"{name}{{{inner}}} {number}" if inner else f"{name} {number}")
    return lines


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(timezone.utc).timestamp()


def _oldest_unpulled(db, office: str, pull_cursor: int) -> float | None:
    """When the first feed item the office has not pulled was published (Unix time), or None."""
    published = metric_queries.oldest_unpulled(db, office, pull_cursor)
    return _epoch(published) if published else None


def metrics_text(store: Store, calendar: WorkCalendar, now: datetime | None = None) -> str:
    """The exposition text (one scrape)."""
    now = now or datetime.now(timezone.utc)
    offices = office_health(store, calendar, now)
    with store.connect() as db:
        counts = metric_queries.scrape_counts(db, sorted(CLOSED), format_time(now))
        oldest_unpulled = {row.office: _oldest_unpulled(db, row.office, int(row.report["pull_cursor"]))
                           for row in offices if "pull_cursor" in row.report}
    records, batches, refusals = counts["records"], counts["batches"], counts["refusals"]
    conflicts, escalated, overdue = counts["conflicts"], counts["escalated"], counts["overdue"]
    feed_head, past_due, reopened = counts["feed_head"], counts["past_due"], counts["reopened"]
    shared_head = int(feed_head.get("", 0) or 0)

    def per_office(pick) -> list[tuple[dict[str, object], float]]:
        out = []
        for row in offices:
            value = pick(row)
            if value is not None:
                out.append(({"office": row.office}, value))
        return out

    def feed_lag(row) -> int | None:
        if "pull_cursor" not in row.report:
            return None
        head = max(shared_head, int(feed_head.get(row.office, 0) or 0))
        return max(0, head - int(row.report["pull_cursor"]))

    def unpulled_age(row) -> int | None:
        if row.office not in oldest_unpulled:
            return None  # never reported how far it pulled
        published = oldest_unpulled[row.office]
        return 0 if published is None else max(0, round(now.timestamp() - published))

    lines: list[str] = []
    lines += _family("seda_records_received_total", "counter",
                     "Records stored at the centre, by office and kind.",
                     [({"office": o, "kind": k}, n) for o, k, n in records])
    lines += _family("seda_batches_received_total", "counter",
                     "Batches applied, by office.", [({"office": o}, n) for o, n in batches])
    lines += _family("seda_refusals_total", "counter",
                     "Refused batches and requests, by reason.",
                     [({"code": c}, n) for c, n in refusals])
    lines += _family("seda_conflicts_open", "gauge",
                     "Records that came back with different content, waiting for an operator.",
                     [({}, conflicts)])
    lines += _family("seda_cases_escalated_total", "counter",
                     "Cases escalated to their unit head for passing their deadline.",
                     [({}, escalated)])
    lines += _family("seda_cases_escalated_open", "gauge",
                     "Escalated cases not yet answered or closed.", [({}, overdue)])
    lines += _family("seda_cases_past_deadline", "gauge",
                     "Open cases past their answer deadline, by unit.",
                     [({"unit": u}, n) for u, n in past_due])
    lines += _family("seda_cases_reopened_total", "counter",
                     "Answers the citizen said did not solve the problem (the case reopened), by unit.",
                     [({"unit": u}, n) for u, n in reopened])
    lines += _family("seda_office_last_contact_timestamp_seconds", "gauge",
                     "When each office last sent a batch or a health report (Unix time).",
                     per_office(lambda r: _epoch(r.last_contact)))
    lines += _family("seda_office_quiet", "gauge",
                     "1 when an active office has been silent for more than a working day.",
                     per_office(lambda r: int(r.quiet)))
    lines += _family("seda_office_key_active", "gauge",
                     "1 when the office's key is active, 0 when revoked.",
                     per_office(lambda r: int(r.key_status == "active")))
    for name, field, help_text in (
            ("seda_office_records_waiting", "waiting", "Records waiting at the office, as it reported."),
            ("seda_office_batches_refused", "refused_batches", "Batches the centre refused, waiting at the office."),
            ("seda_office_records_stranded", "stranded", "Records under another office code at the office.")):
        lines += _family(name, "gauge", help_text,
                         per_office(lambda r, f=field: r.report.get(f) if r.report else None))
    lines += _family("seda_office_clock_offset_seconds", "gauge",
                     "Office clock minus central clock at its last report.",
                     per_office(lambda r: r.clock_offset_seconds))
    lines += _family("seda_office_feed_lag_items", "gauge",
                     "Feed items the office had not pulled at its last report.",
                     per_office(feed_lag))
    lines += _family("seda_office_feed_oldest_unpulled_age_seconds", "gauge",
                     "Age of the oldest feed item for the office newer than its last reported pull"
                     " (0 when it has pulled everything).",
                     per_office(unpulled_age))
    return "\n".join(lines) + "\n"


def metrics_blueprint(store: Store, calendar_for, token: str | None = None) -> Blueprint:
    """``/metrics`` guarded by ``token`` (default ``$SEDA_CENTRAL_METRICS_TOKEN``);
    ``calendar_for(now)`` gives the working calendar that decides "quiet"."""
    token = token if token is not None else os.environ.get(METRICS_TOKEN_ENV, "")
    token = token.strip()
    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics() -> Response:
        if not token:
            return Response("metrics are off: no token configured\n", status=404,
                            mimetype="text/plain")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode("utf-8"), f"Bearer {token}".encode("utf-8")):
            return Response("a bearer token is required\n", status=401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="seda-metrics"'})
        now = datetime.now(timezone.utc)
        return Response(metrics_text(store, calendar_for(now), now), content_type=CONTENT_TYPE)

    return bp
