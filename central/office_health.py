"""Health at the centre: what each office last reported, and how each office is doing.

Offices post their figures after every contact (``POST /v1/office-health``, signed like every
office request; the office side is sync/health_report.py).  The centre keeps the last report
per office (table ``office_health``) with the offset between the office's clock (the request's
``Seda-Date``) and its own, and joins it with what it saw itself: the last batch, records
received, refusals, the office's key.  :func:`office_health` gives one row per registered
office for the offices page (central/web/offices.py) and ``/metrics`` (central/metrics.py).

An office is *quiet* when nothing has come from it for more than a working day (Tehran
calendar, the holidays of the case deadlines): the page puts those first.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, Response, request

from forms.workdays import TEHRAN, WorkCalendar
from sync.batch import format_time
from sync.json_limits import loads_limited
from sync.refusals import Refusal
from sync.request_auth import verify_request

from .db import offices as office_rows
from .store import Store

__all__ = ["OfficeHealth", "health_blueprint", "is_quiet", "office_health", "parse_report",
           "save_report"]

log = logging.getLogger("seda.central")

#: The figures an office reports, and what each must be.
_COUNTS = ("waiting", "refused_batches", "refused_blobs", "stranded", "pull_cursor")
_TEXTS = ("version", "kiosk_seen_at", "last_refusal")
MAX_REPORT_BYTES = 4096
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class OfficeHealth:
    """One office as the offices page shows it."""

    office: str
    key_status: str                  # active / revoked
    last_contact: str | None         # the latest of its last batch and its last report
    last_batch_at: str | None
    last_batch_seq: int | None
    records: int
    refusals_7d: int
    last_refusal_code: str | None
    last_refusal_at: str | None
    reported_at: str | None
    clock_offset_seconds: int | None  # office clock minus central clock, when it last reported
    report: dict[str, Any]
    quiet: bool


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(timezone.utc)


def parse_report(data: bytes) -> dict[str, Any]:
    """The office's report, checked: whole numbers and short texts only (nothing personal)."""
    if len(data) > MAX_REPORT_BYTES:
        raise Refusal("oversized", f"a health report is at most {MAX_REPORT_BYTES} bytes")
    try:
        raw = loads_limited(data, max_depth=2)
        if not isinstance(raw, dict):
            raise ValueError
    except (ValueError, TypeError):
        raise Refusal("malformed_manifest", "a health report is one JSON object") from None
    report: dict[str, Any] = {}
    for name in _COUNTS:
        value = raw.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2 ** 63:
            raise Refusal("malformed_manifest", f"{name} must be a whole number")
        report[name] = value
    for name in _TEXTS:
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 64):
            raise Refusal("malformed_manifest", f"{name} must be a short text")
        report[name] = value
    if report["kiosk_seen_at"] is not None:
        try:
            _time(report["kiosk_seen_at"])
        except ValueError:
            raise Refusal("malformed_manifest", "kiosk_seen_at must be a UTC time") from None
    return report


def save_report(store: Store, office: str, report: dict[str, Any], office_clock: datetime,
                now: datetime | None = None) -> int:
    """Keep ``report`` as ``office``'s latest; returns the clock offset in seconds."""
    now = now or datetime.now(timezone.utc)
    offset = round((office_clock - now).total_seconds())
    with store.connect() as db:
        office_rows.save_health_report(db, office, format_time(now), offset,
                                       json.dumps(report, sort_keys=True))
    return offset


def is_quiet(last_contact: datetime | None, now: datetime, calendar: WorkCalendar) -> bool:
    """Nothing for more than a working day: a whole working day has passed (Tehran) since the
    day of the last contact; never heard from counts as quiet."""
    if last_contact is None:
        return True
    start = last_contact.astimezone(TEHRAN).date()
    today = now.astimezone(TEHRAN).date()
    return calendar.working_days_between(start, today) > 1


def office_health(store: Store, calendar: WorkCalendar,
                  now: datetime | None = None) -> list[OfficeHealth]:
    """Every registered office, quiet ones first, then by code."""
    now = now or datetime.now(timezone.utc)
    since = format_time(now.replace(microsecond=0) - _WEEK)
    with store.connect() as db:
        found = office_rows.health_figures(db, since)
    offices, batches, records = found["offices"], found["batches"], found["records"]
    recent, last_refusals, reports = (found["recent_refusals"], found["last_refusals"],
                                      found["reports"])
    rows = []
    for code, status in offices:
        batch_at, batch_seq = batches.get(code, (None, None))
        reported_at, offset, report = reports.get(code, (None, None, None))
        contacts = [t for t in (batch_at, reported_at) if t]
        last_contact = max(contacts) if contacts else None
        refusal_code, refusal_at = last_refusals.get(code, (None, None))
        rows.append(OfficeHealth(
            office=code, key_status=status, last_contact=last_contact, last_batch_at=batch_at,
            last_batch_seq=batch_seq, records=int(records.get(code, 0)),
            refusals_7d=int(recent.get(code, 0)), last_refusal_code=refusal_code,
            last_refusal_at=refusal_at, reported_at=reported_at,
            clock_offset_seconds=None if offset is None else int(offset),
            report=json.loads(report) if report else {},
            quiet=status == "active" and is_quiet(_time(last_contact) if last_contact else None,
                                                  now, calendar)))
    rows.sort(key=lambda r: (not r.quiet, r.office))
    return rows


def health_blueprint(store: Store) -> Blueprint:
    """``POST /v1/office-health``: an office's signed report (its answer is not signed: the
    office uses nothing in it)."""
    bp = Blueprint("office_health", __name__)

    @bp.post("/v1/office-health")
    def receive() -> Response:
        try:
            office = verify_request(request.headers, "POST", request.path, request.get_data(),
                                    store.office_public_key)
            report = parse_report(request.get_data())
        except Refusal as refusal:
            try:
                store.log_refusal(refusal, office=request.headers.get("Seda-Office") or None,
                                  source="health")
            except Exception:  # noqa: BLE001 - the answer still goes out
                log.exception("could not write the refusal to the store")
            return Response(json.dumps(refusal.to_json()), status=refusal.http_status,
                            mimetype="application/json")
        office_clock = _time(request.headers["Seda-Date"])
        offset = save_report(store, office, report, office_clock)
        return Response(json.dumps({"ok": True, "clock_offset_seconds": offset}),
                        mimetype="application/json")

    return bp
