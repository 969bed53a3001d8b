"""The central office's casework: route every case to a unit, track it to an answer.

A case record (filed at a kiosk, on paper, or through Open311) gets a row in ``cases`` in the
same transaction that stores the record (:func:`intake`), so no case is ever stored without a
unit: a routing rule names one, misconduct reports always go to the oversight unit
(Article 9, clause 1), and a case no rule matches goes to the triage queue (the ``triage``
unit), where the administrator routes it by hand.

From there :class:`Casework` moves it through its lifecycle — assigned, in progress,
answered, closed; referred to another unit; rejected as a duplicate or as not ours — and
writes every step to ``case_events`` with the person who took it.  Each step the citizen
should know of is published on the ``case_update`` feed to the office that took the case, so
the kiosk's follow-up screen shows it after the office's next sync; internal notes and
assignments to a named person never leave the centre.

Deadlines are working days on the Jalali calendar (workdays.py), set per case type by the
administrator; a case past its deadline is escalated once to its unit's head
(:meth:`Casework.escalate_overdue`, run by the server every few minutes).

Rules are matched most specific first: a rule naming the office beats one naming the
service, which beats one naming only the case type (weights 4, 2, 1, so there is never a tie).
"""
from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any

import jdatetime

from forms.persian import normalize_letters

from sync.batch import BatchRecord, format_time
from forms.cases import (ANSWER_DEADLINE_DAYS, CASE_STATUSES, normalize_tracking_code, status_label,
                         status_text)
from forms.follow_up import seal_answer
from .duplicates import SIMILAR_TEXT, person_key, text_key, text_similarity
from .errors import CentralError
from forms.workdays import TEHRAN, WorkCalendar, fixed_holidays

from . import audit
from .db import cases as case_rows, feed, records as record_rows
from .db.connection import Connection, Database
from .errors import StoreError

__all__ = [
    "CASE_TYPES", "CLOSED", "DEFAULT_DEADLINE_DAYS", "OPEN_STATUSES", "OVERSIGHT", "TRIAGE",
    "Case", "CaseReading", "Casework", "CaseworkError", "Event", "PREVIEW_CHARS", "Rule", "Suggestion",
    "Unit", "hour_of", "intake", "misconduct_update", "preview", "route", "status_label",
]

#: How much of a case's text its inbox row shows.
PREVIEW_CHARS = 120

CASE_TYPES = ("request", "complaint", "suggestion", "criticism", "misconduct", "voice")
TRIAGE = "triage"
#: The store's schema step that made the casework tables (schema.py).
SCHEMA_STEP = 3
OVERSIGHT = "oversight"
#: Statuses after which nobody needs to act (the deadline no longer runs).
CLOSED = frozenset({"answered", "closed", "rejected", "rejected_duplicate", "rejected_not_ours"})
OPEN_STATUSES = tuple(s for s in CASE_STATUSES if s not in CLOSED)
#: Working days to answer, per case type, until the administrator changes them.
DEFAULT_DEADLINE_DAYS = dict(ANSWER_DEADLINE_DAYS)
#: Where a case may go next, by what it is now.  ``assigned``, ``answered``, ``referred`` and
#: the rejections have their own methods (they need a person, a text, a unit, an original).
_REJECTIONS = {"rejected_duplicate", "rejected_not_ours"}
_WORKING = {"assigned", "in_progress", "answered", "referred", *_REJECTIONS}
_TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"routed", *_REJECTIONS}),   # the triage queue
    "routed": frozenset(_WORKING),
    "referred": frozenset(_WORKING),
    "assigned": frozenset(_WORKING),
    "in_progress": frozenset(_WORKING - {"in_progress"}),
    "answered": frozenset({"closed", "in_progress", "answered"}),
    "rejected_duplicate": frozenset({"closed", "in_progress"}),
    "rejected_not_ours": frozenset({"closed", "in_progress"}),
    "rejected": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
}
_SIMPLE_STATUSES = frozenset({"in_progress", "closed"})  # change_status() alone may set these
_DUPLICATE_WINDOW_DAYS = 180
_MAX_TEXT_CANDIDATES = 2000
_MAX_TEXT = 8000
_CASE_COLUMNS = case_rows.CASE_COLUMNS


class CaseworkError(CentralError):
    """A casework action that cannot be done; Persian for the screen, English for logs."""


@dataclass(frozen=True)
class Unit:
    code: str
    name_fa: str
    name_en: str
    kind: str
    head: str | None
    active: bool


@dataclass(frozen=True)
class Rule:
    id: int
    case_type: str | None
    service: str | None
    office: str | None
    unit: str

    @property
    def weight(self) -> int:
        return (1 if self.case_type else 0) + (2 if self.service else 0) + (4 if self.office else 0)

    def matches(self, case_type: str | None, service: str | None, office: str | None) -> bool:
        return ((self.case_type is None or self.case_type == case_type)
                and (self.service is None or self.service == service)
                and (self.office is None or self.office == office))


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Case:
    uuid: str
    office: str
    tracking_code: str | None
    case_type: str
    service: str | None
    unit: str
    status: str
    assignee: str | None
    received_at: str
    due_at: str
    answered_at: str | None
    closed_at: str | None
    escalated_at: str | None
    updated_at: str
    duplicate_of: str | None

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    @property
    def is_misconduct(self) -> bool:
        return self.case_type == "misconduct" or self.unit == OVERSIGHT

    @property
    def received(self) -> datetime:
        return _parse_time(self.received_at)

    @property
    def due(self) -> datetime:
        return _parse_time(self.due_at)

    def overdue(self, now: datetime | None = None) -> bool:
        return self.is_open and (now or datetime.now(timezone.utc)) > self.due


@dataclass(frozen=True)
class Event:
    id: int
    case_uuid: str
    at: str
    actor: str
    event: str
    status: str | None
    unit: str | None
    assignee: str | None
    text: str | None
    public: bool


@dataclass(frozen=True)
class Suggestion:
    case: Case
    reason: str  # 'same_person' | 'similar_text'
    score: float


@dataclass(frozen=True)
class CaseReading:
    """A case's body as one reader was shown it (:meth:`Casework.read`)."""

    body: dict[str, Any]
    sealed: bool                # still sealed: this reader may not, or this server cannot, open it
    anonymous: bool
    identity: dict[str, Any]    # name, national_id, mobile: those given and shown


def preview(body: Mapping[str, Any], sealed: bool) -> str:
    """The first words of a case's text on one line (nothing of a sealed report)."""
    if sealed or "sealed" in body:
        return ""
    text = " ".join(str(body.get("text") or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS].rstrip() + "…"


def route(rules: Sequence[Rule], body: Mapping[str, Any], office: str,
          active_units: set[str]) -> str:
    """The unit a case goes to (pure): oversight for misconduct, else the most specific rule
    naming an active unit, else the triage queue."""
    if body.get("type") == "misconduct" or body.get("route") == OVERSIGHT:
        return OVERSIGHT
    case_type, service = body.get("type"), body.get("service")
    best: Rule | None = None
    for rule in rules:
        if rule.unit in active_units and rule.matches(case_type, service, office):
            if best is None or rule.weight > best.weight:
                best = rule
    return best.unit if best else TRIAGE


# -- reading settings inside a transaction ------------------------------------------------------


def _setting(db: Connection, key: str, default: Any) -> Any:
    value = record_rows.setting(db, key)
    return json.loads(value) if value is not None else default


def _put_setting(db: Connection, key: str, value: Any) -> None:
    record_rows.put_setting(db, key, json.dumps(value, ensure_ascii=False))


def deadline_days_in(db: Connection) -> dict[str, int]:
    return {**DEFAULT_DEADLINE_DAYS, **_setting(db, "deadline_days", {})}


def work_calendar(db: Connection, around: date) -> WorkCalendar:
    """The working calendar for deadlines near ``around``: the fixed holidays of the Jalali
    years around it (less those the administrator removed) and the holidays added."""
    removed = set(_setting(db, "holidays_removed", []))
    year = jdatetime.date.fromgregorian(date=around).year
    days = {d for y in (year - 1, year, year + 1) for d, _ in fixed_holidays(y)
            if d.isoformat() not in removed}
    days |= {date.fromisoformat(day) for day in case_rows.holiday_days(db)}
    return WorkCalendar.of(days)


def _rules(db: Connection) -> list[Rule]:
    return [Rule(*row) for row in case_rows.rules(db)]


def _active_units(db: Connection) -> set[str]:
    return case_rows.active_unit_codes(db)


def record_event(db: Connection, case_uuid: str, at: str, actor: str, event: str, *, status: str | None = None,
           unit: str | None = None, assignee: str | None = None, text: str | None = None,
           public: bool = False) -> None:
    case_rows.insert_event(db, case_uuid, at, actor, event, status=status, unit=unit,
                           assignee=assignee, text=text, public=public)


def _unit_names(db: Connection, code: str) -> tuple[str, str]:
    return case_rows.unit_names(db, code).get(code, (code, code))


#: Opens a sealed case body (the central keys' ``open_body``); None when it cannot.
Opener = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


def publish_update(db: Connection, case: Case, status: str, at: str, *,
                    answer: str | None = None, opener: Opener | None = None) -> None:
    """Tell the case's office (and through it the citizen) the case's new public status."""
    if case.is_misconduct:
        text = case_rows.case_body_text(db, case.uuid)
        update = misconduct_update(json.loads(text) if text else {}, status, at, answer=answer,
                                   opener=opener)
        if update is not None:
            feed.publish(db, "case_update", update["uuid"], update, office=case.office)
        return
    if not case.tracking_code:
        return
    update = _update_body(case.tracking_code, status, case.unit, _unit_names(db, case.unit), at, answer)
    feed.publish(db, "case_update", update["uuid"], update, office=case.office)


def hour_of(at: str) -> str:
    """``at`` rounded down to its hour: the only time a misconduct report ever carries."""
    return format_time(_parse_time(at).astimezone(timezone.utc).replace(minute=0, second=0,
                                                                         microsecond=0))


def misconduct_update(body: Mapping[str, Any], status: str, at: str, *, answer: str | None = None,
                      opener: Opener | None = None) -> dict[str, Any] | None:
    """What the office may receive about a misconduct report: only what its kiosk follow-up
    shows (docs/sync-protocol.md).

    A report the office sealed is named by its follow-up locator, never its tracking code; it
    gets the status, the hour, and the answer (or note) sealed to the tracking code, which
    the central server reads from the report with the oversight key (``opener``); without
    it, the status only.  A report that reached the centre unsealed (an older office, or a
    complaint moved to oversight) gets its status only.  No unit, no person, no minute.
    """
    hour = hour_of(at)
    locator = body.get("follow_up")
    if isinstance(locator, str) and locator:
        update: dict[str, Any] = {"uuid": str(uuidlib.uuid4()), "follow_up": locator,
                                  "status": status, "at": hour}
        opened = opener(body) if (answer and opener is not None) else None
        code = opened.get("tracking_code") if opened else None
        if answer and code:
            update["answer_sealed"] = seal_answer(answer, str(code), locator)
        return update
    code = body.get("tracking_code")
    if not code:
        return None
    return {"uuid": str(uuidlib.uuid4()), "tracking_code": normalize_tracking_code(str(code)),
            "status": status, "at": hour}


def _update_body(tracking_code: str, status: str, unit: str, unit_names: tuple[str, str], at: str,
                 answer: str | None = None) -> dict[str, Any]:
    """What the office receives on the ``case_update`` feed (docs/sync-protocol.md)."""
    return {"uuid": str(uuidlib.uuid4()), "tracking_code": tracking_code, "status": status,
            "answer": answer, "unit": unit, "unit_fa": unit_names[0], "unit_en": unit_names[1],
            "at": at}


# -- intake: called by ingest inside the transaction that stores the case records --------------


def intake(db: Connection, records: Sequence[BatchRecord], now: str, *,
           publish: bool = True) -> int:
    """Give every case record in ``records`` its ``cases`` row, routed and with a deadline.

    Runs inside the caller's write transaction (the batch's or Open311's), so a stored case
    always has a unit.  Records already in ``cases`` are skipped.  Returns how many were added.
    A few statements per batch, not per case: on PostgreSQL every statement is a round trip.
    """
    cases = [r for r in records if r.kind == "case"]
    known = case_rows.known_case_uuids(db, [r.uuid for r in cases])
    cases = [r for r in cases if r.uuid not in known]
    if not cases:
        return 0
    rules, active = _rules(db), _active_units(db)
    days = deadline_days_in(db)
    received_now = _parse_time(now)
    calendar = work_calendar(db, received_now.astimezone(TEHRAN).date())
    names = case_rows.unit_names(db)
    rows, events, updates = [], [], []
    for record in cases:
        body = record.body
        unit = route(rules, body, record.office, active)
        # The citizen's clock starts when the office took the case, not when it synced.
        try:
            received = min(_parse_time(record.created_at), received_now)
        except ValueError:
            received = received_now
        # A misconduct report carries no time finer than the hour, here either: not the
        # "received" event, not its row (docs/security.md).
        at = hour_of(now) if unit == OVERSIGHT else now
        if unit == OVERSIGHT:
            received = _parse_time(hour_of(format_time(received)))
        case_type = str(body.get("type") or "request")
        due = format_time(calendar.deadline(received, int(days.get(case_type, 10))))
        code = body.get("tracking_code")
        code = normalize_tracking_code(code) if code is not None else None
        status = "routed" if unit != TRIAGE else "received"
        rows.append((record.uuid, record.office, code, case_type, body.get("service"), unit, status,
                     format_time(received), due, at, person_key(body),
                     "" if "sealed" in body else text_key(str(body.get("text") or ""))[:_MAX_TEXT]))
        events.append((record.uuid, at, "system", "received", "received", unit, 0))
        if unit != TRIAGE:
            events.append((record.uuid, at, "system", "routed", "routed", unit, 1))
            update = None
            if publish and unit == OVERSIGHT:
                update = misconduct_update(body, "routed", now)
            elif publish and code:
                update = _update_body(code, "routed", unit, names.get(unit, (unit, unit)), now)
            if update is not None:
                updates.append((update["uuid"], update, record.office))
    added = case_rows.insert_cases(db, rows)
    if added != len(rows):  # another transaction took these cases in between: write nothing twice
        raise RuntimeError("case intake raced with another writer; the transaction is rolled back")
    case_rows.insert_case_events(db, events)
    feed.publish_many(db, "case_update", updates)
    return added


def backfill(database: Database) -> int:
    """Give cases that reached the store before casework existed their ``cases`` rows (run
    by :meth:`Store.migrate` until it has once finished; then a single settings lookup).
    Nothing is published for them: their office already has whatever status the central
    office sent before."""
    with database.connect() as db:
        if _setting(db, "casework_backfilled", False):
            return 0
    added = 0
    while True:
        with database.write() as db:
            db.lock("casework_backfill")  # several servers may migrate at once: one at a time
            rows = case_rows.unknown_case_records(db, 1000)
            if not rows:
                _put_setting(db, "casework_backfilled", True)
                return added
            records = [BatchRecord(uuid=u, kind=k, office=o, created_at=c, body=json.loads(b))
                       for u, o, k, c, b in rows]
            now = format_time(datetime.now(timezone.utc))
            added += intake(db, records, now, publish=False)
            _adopt_sent_statuses(db, records, now)


def _adopt_sent_statuses(db: Connection, records: Sequence[BatchRecord], now: str) -> None:
    """Cases answered before casework existed keep what their office was told: the latest
    status sent on the feed (``seda central case-update``), its times, and no escalation of a
    deadline nobody could see."""
    for record in records:
        code = record.body.get("tracking_code")
        if code is None:
            continue
        sent = feed.latest_case_update(db, record.office, normalize_tracking_code(code))
        if sent is None:
            continue
        status, at = sent.get("status"), sent.get("at") or now
        if status not in CASE_STATUSES:
            continue
        done = at if status in CLOSED else None
        case_rows.set_sent_status(db, record.uuid, status, at, done,
                                  at if status == "closed" else None, now)
        record_event(db, record.uuid, at, "system", "status", status=status, text=sent.get("answer"),
               public=True)


def operator_update(database: Database, tracking_code: str, status: str, *,
                    answer: str | None = None, unit: str | None = None, actor: str = "operator",
                    office: str | None = None) -> dict[str, Any]:
    """Record a new status (and answer) for a case; its office pulls it at next contact.

    The operator's override (``seda central case-update``): no lifecycle check, unlike
    :class:`Casework`; the case row and its history follow, with ``actor`` as the one who did
    it.  A misconduct report's office is sent the status only (:func:`misconduct_update`);
    the answer stays here.  Returns the update sent to the office, with its ``cursor``, the
    ``case_uuid`` it applies to and whether that case is a ``misconduct`` report.

    A case is (office, tracking code): when two offices drew the same code, ``office`` must
    say which case is meant (a :class:`StoreError` names the offices otherwise).
    """
    if status not in CASE_STATUSES:
        raise StoreError("store_unknown_status", status=str(status), expected=", ".join(CASE_STATUSES))
    tracking_code = normalize_tracking_code(tracking_code)
    with database.write() as db:
        found = record_rows.cases_with_code(db, str(tracking_code), office)
        if not found:
            raise StoreError("store_no_case_of_office" if office else "store_no_case",
                             code=str(tracking_code), office=office or "")
        if len(found) > 1:
            offices = ", ".join(sorted({o for o, _ in found}))
            raise StoreError("store_code_ambiguous", code=str(tracking_code), n=len(found), offices=offices)
        case_office, case_uuid = found[0]
        case_rows.lock_case(db, case_uuid)  # the case row before the feed counter, as Casework does
        now = format_time(datetime.now(timezone.utc))
        oversight = case_rows.is_oversight_case(db, case_uuid)
        if oversight:  # a misconduct report: its office learns the status only
            update = misconduct_update(record_rows.record_body(db, case_uuid) or {}, status, now)
        else:
            update = {"uuid": str(uuidlib.uuid4()), "tracking_code": str(tracking_code),
                      "status": status, "answer": answer, "unit": unit, "at": now}
        update["cursor"] = feed.publish(db, "case_update", update["uuid"], update, office=case_office)
        done = now if status in CLOSED else None
        case_rows.set_operator_status(db, case_uuid, status, now, done)
        case_rows.insert_event(db, case_uuid, now, actor, "status", status=status, text=answer,
                               public=True)
    return {**update, "case_uuid": case_uuid, "misconduct": bool(oversight)}


def _case(row: Sequence[Any]) -> Case:
    return Case(*row)


class Casework:
    """The casework of one central database (SQLite or PostgreSQL); holds nothing but the
    database and, for the oversight unit's answers, ``opener``: how to open a sealed report (the central
    keys' ``open_body``), without which an answer to a sealed report reaches its office as a
    status only."""

    def __init__(self, db: Database, *, opener: Opener | None = None) -> None:
        self.db = db
        self.opener = opener

    # -- units ---------------------------------------------------------------------------

    def units(self, include_inactive: bool = False) -> list[Unit]:
        with self.db.connect() as db:
            return [Unit(c, fa, en, k, h, bool(a)) for c, fa, en, k, h, a in
                    case_rows.units(db, include_inactive=include_inactive)]

    def unit(self, code: str) -> Unit | None:
        return next((u for u in self.units(include_inactive=True) if u.code == code), None)

    def save_unit(self, code: str, name_fa: str, name_en: str, *, head: str | None = None,
                  actor: str) -> Unit:
        """Create an ordinary unit, or rename it and set its head (``head=None`` leaves it
        without one: pass the current head to keep it).  The triage queue and the oversight
        unit exist from the start; only their names and head can change."""
        code = (code or "").strip().lower()
        if not code or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
            raise CaseworkError("casework_unit_code_latin_letters")
        if not (name_fa or "").strip():
            raise CaseworkError("casework_give_unit_persian_name")
        now = format_time(datetime.now(timezone.utc))
        with self.db.write() as db:
            if head:
                self._check_member(db, head, code, allow_new_unit=True)
            name_fa, name_en = name_fa.strip(), (name_en or name_fa).strip()
            case_rows.upsert_unit(db, code, name_fa, name_en, head or None, now)
            audit.record_in(db, actor, "unit_save", f"unit:{code}",
                            f"name_fa={name_fa} name_en={name_en} head={head or ''}", at=now)
        unit = self.unit(code)
        assert unit is not None
        return unit

    def set_unit_active(self, code: str, active: bool, *, actor: str) -> Unit:
        with self.db.write() as db:
            kind = case_rows.unit_kind(db, code)
            if kind is None:
                raise CaseworkError("casework_no_unit", code=code)
            if kind != "unit":
                raise CaseworkError("casework_triage_queue_oversight_unit")
            if not active and case_rows.open_case_in_unit(db, code, tuple(CLOSED)):
                raise CaseworkError("casework_unit_open_cases_refer")
            case_rows.set_unit_active(db, code, active)
            audit.record_in(db, actor, "unit_activate" if active else "unit_deactivate", f"unit:{code}",
                            at=format_time(datetime.now(timezone.utc)))
        unit = self.unit(code)
        assert unit is not None
        return unit

    # -- routing rules -------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        with self.db.connect() as db:
            return _rules(db)

    def add_rule(self, *, case_type: str | None = None, service: str | None = None,
                 office: str | None = None, unit: str, actor: str) -> Rule:
        case_type, service, office = (v.strip() if v and v.strip() else None
                                      for v in (case_type, service, office))
        if case_type == "misconduct":
            raise CaseworkError("casework_misconduct_reports_always_go")
        if case_type is not None and case_type not in CASE_TYPES:
            raise CaseworkError("casework_unknown_case_type", case_type=case_type)
        now = format_time(datetime.now(timezone.utc))
        with self.db.write() as db:
            if unit not in case_rows.active_unit_codes(db):
                raise CaseworkError("casework_rule_must_name_active")
            if case_rows.rule_exists(db, case_type, service, office):
                raise CaseworkError("casework_rule_same_conditions_exists")
            rule_id = case_rows.add_rule(db, case_type, service, office, unit, actor, now)
            audit.record_in(db, actor, "rule_add", f"rule:{rule_id}", f"type={case_type or '*'} service="
                            f"{service or '*'} office={office or '*'} unit={unit}", at=now)
        return Rule(rule_id, case_type, service, office, unit)

    def delete_rule(self, rule_id: int, *, actor: str) -> None:
        with self.db.write() as db:
            if not case_rows.delete_rule(db, rule_id):
                raise CaseworkError("casework_no_rule", rule_id=rule_id)
            audit.record_in(db, actor, "rule_delete", f"rule:{rule_id}",
                            at=format_time(datetime.now(timezone.utc)))

    # -- holidays and deadlines --------------------------------------------------------------

    def holidays(self, jalali_year: int | None = None) -> list[tuple[date, str]]:
        """The holiday list: the fixed official holidays of the year (unless removed) and the
        ones the administrator added, in date order."""
        year = jalali_year or jdatetime.date.today().year
        start, end = (jdatetime.date(year, 1, 1).togregorian(),
                      jdatetime.date(year + 1, 1, 1).togregorian())
        with self.db.connect() as db:
            removed = set(_setting(db, "holidays_removed", []))
            added = [(date.fromisoformat(d), n) for d, n in
                     case_rows.holidays_between(db, start.isoformat(), end.isoformat())]
        fixed = [(d, n) for d, n in fixed_holidays(year) if d.isoformat() not in removed]
        return sorted({d: n for d, n in [*fixed, *added]}.items())

    def add_holiday(self, day: date, name: str, *, actor: str) -> None:
        name = (name or "").strip()
        if not name:
            raise CaseworkError("casework_name_holiday")
        with self.transaction() as (db, now):
            removed = [d for d in _setting(db, "holidays_removed", []) if d != day.isoformat()]
            _put_setting(db, "holidays_removed", removed)
            if day not in {d for d, _ in fixed_holidays(jdatetime.date.fromgregorian(date=day).year)}:
                case_rows.add_holiday(db, day.isoformat(), name, actor, now)
            audit.record_in(db, actor, "holiday_add", f"holiday:{day.isoformat()}", name, at=now)

    def remove_holiday(self, day: date, *, actor: str) -> None:
        with self.transaction() as (db, now):
            case_rows.delete_holiday(db, day.isoformat())
            audit.record_in(db, actor, "holiday_remove", f"holiday:{day.isoformat()}", at=now)
            if day in {d for d, _ in fixed_holidays(jdatetime.date.fromgregorian(date=day).year)}:
                removed = set(_setting(db, "holidays_removed", [])) | {day.isoformat()}
                _put_setting(db, "holidays_removed", sorted(removed))

    def deadline_days(self) -> dict[str, int]:
        with self.db.connect() as db:
            return deadline_days_in(db)

    def set_deadline_days(self, case_type: str, days: int, *, actor: str) -> None:
        """Applies to cases that arrive from now on (a citizen's deadline never moves back)."""
        self.set_deadlines({case_type: days}, actor=actor)

    def set_deadlines(self, days: Mapping[str, int], *, actor: str) -> None:
        """Set the deadline of each case type in ``days`` (all or none), one audit entry."""
        for case_type, value in days.items():
            if case_type not in CASE_TYPES:
                raise CaseworkError("casework_unknown_case_type", case_type=case_type)
            if not 1 <= int(value) <= 90:
                raise CaseworkError("casework_deadline_working_days")
        if not days:
            return
        with self.transaction() as (db, now):
            current = _setting(db, "deadline_days", {})
            current.update({case_type: int(value) for case_type, value in days.items()})
            _put_setting(db, "deadline_days", current)
            audit.record_in(db, actor, "deadline_set", "deadlines",
                            " ".join(f"{t}={int(v)}" for t, v in days.items()), at=now)

    def calendar(self, around: date | None = None) -> WorkCalendar:
        with self.db.connect() as db:
            return work_calendar(db, around or datetime.now(TEHRAN).date())

    # -- reading cases -------------------------------------------------------------------

    @staticmethod
    def _filter(*, units: Sequence[str] | None, status: str | None, assignee: str | None,
                office: str | None, case_type: str | None, service: str | None,
                tracking_code: str | None, now: datetime | None) -> case_rows.CaseFilter:
        """The inbox's filters as the query takes them: "open" means not in :data:`CLOSED`,
        "overdue" open past its deadline now."""
        return case_rows.CaseFilter(
            closed=sorted(CLOSED), units=units, status=status,
            now=format_time(now or datetime.now(timezone.utc)) if status == "overdue" else None,
            assignee=assignee, office=office, case_type=case_type, service=service,
            tracking_code=normalize_tracking_code(tracking_code) if tracking_code else None)

    def inbox(self, *, units: Sequence[str] | None = None, status: str | None = None,
              assignee: str | None = None, office: str | None = None, case_type: str | None = None,
              service: str | None = None, tracking_code: str | None = None, limit: int = 50,
              offset: int = 0, now: datetime | None = None) -> list[Case]:
        """Cases matching the filters, the most urgent (earliest deadline) first."""
        found = self._filter(units=units, status=status, assignee=assignee, office=office,
                             case_type=case_type, service=service, tracking_code=tracking_code, now=now)
        with self.db.connect() as db:
            return [_case(r) for r in case_rows.cases(db, found, max(1, min(int(limit), 500)),
                                                      max(0, int(offset)))]

    def count(self, *, units: Sequence[str] | None = None, status: str | None = None,
              assignee: str | None = None, office: str | None = None, case_type: str | None = None,
              service: str | None = None, tracking_code: str | None = None,
              now: datetime | None = None) -> int:
        found = self._filter(units=units, status=status, assignee=assignee, office=office,
                             case_type=case_type, service=service, tracking_code=tracking_code, now=now)
        with self.db.connect() as db:
            return case_rows.case_count(db, found)

    def case(self, uuid: str) -> Case | None:
        with self.db.connect() as db:
            row = case_rows.case(db, uuid)
        return _case(row) if row else None

    def case_body(self, uuid: str) -> dict[str, Any]:
        with self.db.connect() as db:
            text = case_rows.case_body_text(db, uuid)
        return json.loads(text) if text else {}

    def read(self, case: Case, *, actor: str, opener: Opener | None = None) -> CaseReading:
        """The case's body for ``actor`` (who the caller checked may see the case), audited
        as ``case_view`` with the personal fields shown.  A sealed body is opened with
        ``opener`` (pass it for oversight only); identity is shown unless the citizen asked
        to stay anonymous."""
        body = self.case_body(case.uuid)
        sealed = "sealed" in body
        if sealed and opener is not None:
            opened = opener(body)
            if opened is not None:
                body, sealed = opened, False
        anonymous = body.get("anonymous") in (True, 1, "1", "true")
        identity = {} if anonymous or sealed else {k: body[k] for k in ("name", "national_id", "mobile")
                                                  if body.get(k)}
        shown = ["text"] if body.get("text") and not sealed else []
        shown += sorted(identity)
        with self.transaction() as (db, now):
            audit.record_case_in(db, actor, "case_view", case.uuid, case.is_misconduct,
                                 ",".join(shown) or "meta", at=now)
        return CaseReading(body, sealed, anonymous, identity)

    def previews(self, cases: Sequence[Case], *, actor: str) -> dict[str, str]:
        """The first words of each case's text (none of a misconduct report), for an inbox
        page shown to ``actor``; one ``case_preview`` entry lists the cases whose text was
        shown."""
        found = {c.uuid: preview(self.case_body(c.uuid), c.is_misconduct) for c in cases}
        shown = [uuid for uuid, text in found.items() if text]
        if shown:
            with self.transaction() as (db, now):
                audit.record_in(db, actor, "case_preview", "inbox", " ".join(shown), at=now)
        return found

    def triage_texts(self, cases: Sequence[Case], *, actor: str) -> list[tuple[Case, str]]:
        """``(case, text)`` of the triage queue's cases for the administrator who routes them
        (never a misconduct report; no identity), each an audited ``case_view``."""
        rows = []
        for case in cases:
            if case.is_misconduct:  # never here (intake routes them), but the wall is checked twice
                continue
            body = self.case_body(case.uuid)
            rows.append((case, "" if "sealed" in body else str(body.get("text") or "")))
        if rows:
            with self.transaction() as (db, now):
                for case, _text in rows:
                    audit.record_in(db, actor, "case_view", f"case:{case.uuid}", "triage", at=now)
        return rows

    def attachment(self, case: Case, sha256: str, data: bytes | None, *, actor: str) -> bytes | None:
        """Hand on ``data``, attachment ``sha256`` of ``case`` as ``actor`` is about to be
        shown it (opened, if it was sealed), audited as ``attachment_view``; None (nothing
        audited) when there is nothing to show."""
        if data is None:
            return None
        with self.transaction() as (db, now):
            audit.record_case_in(db, actor, "attachment_view", case.uuid, case.is_misconduct,
                                 sha256, at=now)
        return data

    def events(self, uuid: str) -> list[Event]:
        with self.db.connect() as db:
            rows = case_rows.case_events(db, uuid)
        return [Event(*row[:9], bool(row[9])) for row in rows]

    def allowed_statuses(self, case: Case) -> list[str]:
        return [s for s in CASE_STATUSES if s in _TRANSITIONS.get(case.status, frozenset())]

    # -- changing cases ------------------------------------------------------------------

    def locked_case(self, db: Connection, uuid: str) -> Case:
        row = case_rows.case(db, uuid, lock=True)
        if row is None:
            raise CaseworkError("casework_no_case", uuid=uuid)
        return _case(row)

    @staticmethod
    def _check_transition(case: Case, status: str) -> None:
        if status not in _TRANSITIONS.get(case.status, frozenset()):
            raise CaseworkError("casework_case_cannot_become", status_from=partial(status_text, case.status),
                                status_to=partial(status_text, status))

    def _check_member(self, db: Connection, user: str, unit: str, *, allow_new_unit: bool = False) -> None:
        row = case_rows.user_unit(db, user)
        if row is None or row[1]:
            raise CaseworkError("casework_no_active_user", user=user)
        if row[0] != unit and not (allow_new_unit and row[0] is None):
            fa, en = _unit_names(db, unit)
            raise CaseworkError("casework_not_member_unit", user=user,
                                unit=lambda locale: en if locale == "en" else fa)

    def set_case(self, db: Connection, case: Case, now: str, **changes: Any) -> Case:
        changes["updated_at"] = now
        case_rows.set_case_columns(db, case.uuid, changes)
        return _case([changes.get(c, getattr(case, c)) for c in _CASE_COLUMNS.replace(" ", "").split(",")])

    @contextmanager
    def transaction(self) -> Iterator[tuple[Connection, str]]:
        """The store's write lock, a transaction, and one timestamp for all the action writes."""
        with self.db.write() as db:
            yield db, format_time(datetime.now(timezone.utc))

    def assign(self, uuid: str, assignee: str | None, *, actor: str) -> Case:
        """Give the case to a member of its unit (``None``: take it back to the unit)."""
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            if not case.is_open:
                raise CaseworkError("casework_closed_answered_case_cannot")
            if assignee:
                self._check_member(db, assignee, case.unit)
            status = "assigned" if assignee and case.status in ("routed", "referred") else case.status
            updated = self.set_case(db, case, now, assignee=assignee or None, status=status)
            record_event(db, uuid, now, actor, "assigned", status=status, unit=case.unit, assignee=assignee)
            audit.record_case_in(db, actor, "case_assign", uuid, case.is_misconduct,
                                 f"assignee={assignee or ''}", at=now)
            if status != case.status:
                publish_update(db, updated, status, now)
        return updated

    def change_status(self, uuid: str, status: str, *, actor: str, note: str | None = None) -> Case:
        """Move the case to ``in_progress`` or ``closed`` (the other statuses have their own
        methods, since each needs something more: a person, an answer, a unit, an original)."""
        if status not in _SIMPLE_STATUSES:
            raise CaseworkError("casework_set_own_action", status=status)
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self._check_transition(case, status)
            changes: dict[str, Any] = {"status": status}
            if status == "closed":
                changes["closed_at"] = now
            elif case.status in CLOSED:  # reopened: the answer stands but work goes on
                changes["answered_at"] = None
            updated = self.set_case(db, case, now, **changes)
            record_event(db, uuid, now, actor, "status", status=status, text=_clean(note), public=True)
            audit.record_case_in(db, actor, "case_status", uuid, case.is_misconduct,
                                 f"{case.status}->{status}", at=now)
            publish_update(db, updated, status, now, answer=_clean(note),
                            opener=self.opener)
        return updated

    def add_note(self, uuid: str, text: str, *, actor: str) -> Event:
        """An internal note: for the unit and the audit trail, never sent to the citizen."""
        text = _clean(text)
        if not text:
            raise CaseworkError("casework_note_empty")
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self.set_case(db, case, now)
            record_event(db, uuid, now, actor, "note", text=text)
            audit.record_case_in(db, actor, "case_note", uuid, case.is_misconduct, at=now)
            event_id = case_rows.last_event_id(db, uuid)
        return Event(event_id, uuid, now, actor, "note", None, None, None, text, False)

    def answer(self, uuid: str, text: str, *, actor: str) -> Case:
        """Answer the citizen: the text goes to the case's office and is shown at the kiosk to
        whoever types the tracking code, so it must not name other people."""
        text = _clean(text)
        if not text:
            raise CaseworkError("casework_answer_empty")
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self._check_transition(case, "answered")
            updated = self.set_case(db, case, now, status="answered", answered_at=now, closed_at=None)
            record_event(db, uuid, now, actor, "answer", status="answered", text=text, public=True)
            audit.record_case_in(db, actor, "case_answer", uuid, case.is_misconduct, at=now)
            publish_update(db, updated, "answered", now, answer=text, opener=self.opener)
        return updated

    def refer(self, uuid: str, unit: str, *, actor: str, note: str | None = None) -> Case:
        """Send the case to another unit (from the triage queue, its first routing).  The
        deadline stays: the citizen has been waiting since the case arrived."""
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            target = case_rows.unit_state(db, unit)
            if target is None or not target[1] or target[0] == TRIAGE:
                raise CaseworkError("casework_refer_active_unit")
            if unit == case.unit:
                raise CaseworkError("casework_case_already_unit")
            if case.case_type == "misconduct":
                raise CaseworkError("casework_misconduct_report_stays_oversight")
            status = "routed" if case.status == "received" else "referred"
            self._check_transition(case, status)
            updated = self.set_case(db, case, now, unit=unit, status=status, assignee=None,
                                escalated_at=None)
            record_event(db, uuid, now, actor, "referred" if status == "referred" else "routed",
                   status=status, unit=unit, text=_clean(note))
            # out of the triage queue it is the administrator's routing; else a unit's referral
            if case.unit == TRIAGE:
                audit.record_case_in(db, actor, "case_route", uuid, case.is_misconduct,
                                     f"unit={unit}", at=now)
            else:
                audit.record_case_in(db, actor, "case_refer", uuid, case.is_misconduct,
                                     f"{case.unit}->{unit}", at=now)
            publish_update(db, updated, status, now)
        return updated

    def reject(self, uuid: str, reason: str, *, actor: str, duplicate_of: str | None = None,
               note: str | None = None) -> Case:
        """Close the case without an answer of its own: a duplicate (``duplicate_of`` names the
        original, which goes on) or not this organisation's business.  ``note`` is sent to
        the citizen as the explanation."""
        if reason not in ("duplicate", "not_ours"):
            raise CaseworkError("casework_unknown_rejection", reason=reason)
        status = f"rejected_{reason}"
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self._check_transition(case, status)
            if reason == "duplicate":
                original = self.locked_case(db, duplicate_of or "") if duplicate_of else None
                if original is None or original.uuid == case.uuid:
                    raise CaseworkError("casework_choose_original_case")
                if original.status.startswith("rejected"):  # someone must still answer the citizen
                    raise CaseworkError("casework_original_itself_rejected_choose")
                if original.is_misconduct != case.is_misconduct:
                    raise CaseworkError("casework_original_not_found")
            updated = self.set_case(db, case, now, status=status, duplicate_of=duplicate_of if
                                reason == "duplicate" else None, answered_at=now)
            record_event(db, uuid, now, actor, "rejected", status=status, text=_clean(note), public=True)
            audit.record_case_in(db, actor, "case_reject", uuid, case.is_misconduct,
                                 f"reason={reason} original={duplicate_of or ''}", at=now)
            publish_update(db, updated, status, now, answer=_clean(note),
                            opener=self.opener)
        return updated

    def escalate_overdue(self, now: datetime | None = None) -> list[Case]:
        """Escalate every open case past its deadline to its unit's head, once."""
        moment = now or datetime.now(timezone.utc)
        escalated = []
        with self.transaction() as (db, stamp):
            stamp = format_time(moment) if now else stamp
            # Another server process may be escalating at the same moment: PostgreSQL skips
            # the rows it holds, and the guarded UPDATE makes each escalation happen once.
            rows = case_rows.overdue_cases(db, format_time(moment), sorted(CLOSED), 1000)
            heads = case_rows.unit_heads(db)
            for row in rows:
                case = _case(row)
                if not case_rows.escalate(db, case.uuid, stamp):
                    continue
                record_event(db, case.uuid, stamp, "system", "escalated", unit=case.unit,
                       assignee=heads.get(case.unit))
                escalated.append(replace(case, escalated_at=stamp, updated_at=stamp))
        return escalated

    def duplicate_suggestions(self, uuid: str, *, units: Sequence[str] | None = None,
                              limit: int = 5) -> list[Suggestion]:
        """Cases that are probably the same as ``uuid``: same person first, then near-identical
        text in the same service within 180 days.  Never crosses the misconduct wall."""
        with self.db.connect() as db:
            row = case_rows.case_duplicate_keys(db, uuid)
            if row is None:
                return []
            key, text, service, received_at, case_type, unit = row
            misconduct = case_type == "misconduct" or unit == OVERSIGHT
            if units is not None and not units:
                return []
            found: dict[str, Suggestion] = {}
            if key:
                for r in case_rows.cases_by_person(db, key, uuid, misconduct=misconduct,
                                                   units=units, limit=limit):
                    found[r[0]] = Suggestion(_case(r), "same_person", 1.0)
            if text and len(found) < limit:
                received = _parse_time(received_at)
                window = (format_time(received - timedelta(days=_DUPLICATE_WINDOW_DAYS)),
                          format_time(received + timedelta(days=_DUPLICATE_WINDOW_DAYS)))
                rows = case_rows.cases_with_similar_text(
                    db, uuid, service, case_type, window, misconduct=misconduct, units=units,
                    limit=_MAX_TEXT_CANDIDATES)
                scored = sorted(((text_similarity(text, r[-1]), r) for r in rows if r[0] not in found),
                                key=lambda pair: -pair[0])
                for score, r in scored:
                    if score < SIMILAR_TEXT or len(found) >= limit:
                        break
                    found[r[0]] = Suggestion(_case(r[:-1]), "similar_text", round(score, 3))
        return list(found.values())[:limit]


def _clean(text: str | None) -> str | None:
    """A note or answer as typed, in the one spelling (ي/ك, digits), trimmed; None if empty."""
    if text is None:
        return None
    text = normalize_letters(str(text)).replace("\r\n", "\n").strip()
    if len(text) > _MAX_TEXT:
        raise CaseworkError("casework_text_too_long", n=_MAX_TEXT)
    return text or None
