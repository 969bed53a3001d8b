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
from typing import Any

import jdatetime

from forms.persian import normalize_letters

from sync.batch import BatchRecord, format_time
from forms.cases import ANSWER_DEADLINE_DAYS, CASE_STATUSES, normalize_tracking_code, status_label
from forms.follow_up import seal_answer
from .duplicates import SIMILAR_TEXT, person_key, text_key, text_similarity
from .errors import CentralError
from forms.workdays import TEHRAN, WorkCalendar, fixed_holidays

from .db import feed, records as record_rows
from .db.connection import Connection, Database
from .errors import StoreError

__all__ = [
    "CASE_TYPES", "CLOSED", "DEFAULT_DEADLINE_DAYS", "OPEN_STATUSES", "OVERSIGHT", "TRIAGE",
    "Case", "Casework", "CaseworkError", "Event", "Rule", "Suggestion", "Unit", "hour_of", "intake",
    "misconduct_update", "route", "status_label",
]

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
_CASE_COLUMNS = ("uuid, office, tracking_code, case_type, service, unit, status, assignee, received_at,"
                 " due_at, answered_at, closed_at, escalated_at, updated_at, duplicate_of")


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
    row = db.one("SELECT value FROM settings WHERE key = ?", (key,))
    return json.loads(row[0]) if row else default


def _put_setting(db: Connection, key: str, value: Any) -> None:
    db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
               " SET value = excluded.value", (key, json.dumps(value, ensure_ascii=False)))


def deadline_days_in(db: Connection) -> dict[str, int]:
    return {**DEFAULT_DEADLINE_DAYS, **_setting(db, "deadline_days", {})}


def work_calendar(db: Connection, around: date) -> WorkCalendar:
    """The working calendar for deadlines near ``around``: the fixed holidays of the Jalali
    years around it (less those the administrator removed) and the holidays added."""
    removed = set(_setting(db, "holidays_removed", []))
    year = jdatetime.date.fromgregorian(date=around).year
    days = {d for y in (year - 1, year, year + 1) for d, _ in fixed_holidays(y)
            if d.isoformat() not in removed}
    days |= {date.fromisoformat(row[0]) for row in db.all("SELECT day FROM holidays")}
    return WorkCalendar.of(days)


def _rules(db: Connection) -> list[Rule]:
    return [Rule(*row) for row in db.all(
        "SELECT id, case_type, service, office, unit FROM routing_rules ORDER BY id")]


def _active_units(db: Connection) -> set[str]:
    return {row[0] for row in db.all("SELECT code FROM units WHERE active = 1 AND kind = 'unit'")}


def record_event(db: Connection, case_uuid: str, at: str, actor: str, event: str, *, status: str | None = None,
           unit: str | None = None, assignee: str | None = None, text: str | None = None,
           public: bool = False) -> None:
    db.execute("INSERT INTO case_events (case_uuid, at, actor, event, status, unit, assignee, text,"
               " public) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (case_uuid, at, actor, event, status, unit, assignee, text, 1 if public else 0))


def _unit_names(db: Connection, code: str) -> tuple[str, str]:
    row = db.one("SELECT name_fa, name_en FROM units WHERE code = ?", (code,))
    return (row[0], row[1]) if row else (code, code)


#: Opens a sealed case body (the central keys' ``open_body``); None when it cannot.
Opener = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


def publish_update(db: Connection, case: Case, status: str, at: str, *,
                    answer: str | None = None, opener: Opener | None = None) -> None:
    """Tell the case's office (and through it the citizen) the case's new public status."""
    if case.is_misconduct:
        row = db.one("SELECT body FROM records WHERE uuid = ? AND kind = 'case'", (case.uuid,))
        update = misconduct_update(json.loads(row[0]) if row else {}, status, at, answer=answer,
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
    known: set[str] = set()
    for start in range(0, len(cases), 500):
        chunk = [r.uuid for r in cases[start:start + 500]]
        known.update(row[0] for row in db.all(
            f"SELECT uuid FROM cases WHERE uuid IN ({','.join('?' * len(chunk))})", chunk))
    cases = [r for r in cases if r.uuid not in known]
    if not cases:
        return 0
    rules, active = _rules(db), _active_units(db)
    days = deadline_days_in(db)
    received_now = _parse_time(now)
    calendar = work_calendar(db, received_now.astimezone(TEHRAN).date())
    names = {code: (fa, en) for code, fa, en in db.all("SELECT code, name_fa, name_en FROM units")}
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
    added = db.executemany(
        f"INSERT INTO cases ({_CASE_COLUMNS}, person_key, text_key) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, NULL, ?, NULL, ?, ?)"
        " ON CONFLICT (uuid) DO NOTHING", rows)
    if added != len(rows):  # another transaction took these cases in between: write nothing twice
        raise RuntimeError("case intake raced with another writer; the transaction is rolled back")
    db.executemany("INSERT INTO case_events (case_uuid, at, actor, event, status, unit, public)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", events)
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
            rows = db.all("SELECT r.uuid, r.office, r.kind, r.created_at, r.body FROM records r"
                          " WHERE r.kind = 'case' AND NOT EXISTS"
                          " (SELECT 1 FROM cases c WHERE c.uuid = r.uuid) ORDER BY r.id LIMIT 1000")
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
        db.execute("UPDATE cases SET status = ?, updated_at = ?, answered_at = ?, closed_at = ?,"
                   " escalated_at = CASE WHEN due_at < ? THEN ? ELSE NULL END WHERE uuid = ?",
                   (status, at, done, at if status == "closed" else None, now, now, record.uuid))
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
        raise StoreError(f"Unknown case status {status!r}; expected one of "
                         f"{', '.join(CASE_STATUSES)}.")
    tracking_code = normalize_tracking_code(tracking_code)
    with database.write() as db:
        found = record_rows.cases_with_code(db, str(tracking_code), office)
        if not found:
            raise StoreError(f"No case with tracking code {tracking_code}"
                             + (f" of office {office}" if office else "")
                             + " has reached the central server.")
        if len(found) > 1:
            offices = ", ".join(sorted({o for o, _ in found}))
            raise StoreError(f"Tracking code {tracking_code} belongs to {len(found)} cases "
                             f"(offices {offices}); say which with --office, or answer the "
                             "case on the central web app.")
        case_office, case_uuid = found[0]
        if db.dialect == "postgresql":  # the case row before the feed counter, as Casework does
            db.execute("SELECT 1 FROM cases WHERE uuid = ? FOR UPDATE", (case_uuid,))
        now = format_time(datetime.now(timezone.utc))
        oversight = db.one("SELECT 1 FROM cases WHERE uuid = ? AND (case_type = 'misconduct'"
                           " OR unit = 'oversight')", (case_uuid,))
        if oversight:  # a misconduct report: its office learns the status only
            update = misconduct_update(record_rows.record_body(db, case_uuid) or {}, status, now)
        else:
            update = {"uuid": str(uuidlib.uuid4()), "tracking_code": str(tracking_code),
                      "status": status, "answer": answer, "unit": unit, "at": now}
        update["cursor"] = feed.publish(db, "case_update", update["uuid"], update, office=case_office)
        done = now if status in CLOSED else None
        db.execute("UPDATE cases SET status = ?, updated_at = ?, answered_at = ?,"
                   " closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END WHERE uuid = ?",
                   (status, now, done, status, now, case_uuid))
        db.execute("INSERT INTO case_events (case_uuid, at, actor, event, status, text, public)"
                   " SELECT uuid, ?, ?, 'status', ?, ?, 1 FROM cases WHERE uuid = ?",
                   (now, actor, status, answer, case_uuid))
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
        sql = "SELECT code, name_fa, name_en, kind, head, active FROM units"
        if not include_inactive:
            sql += " WHERE active = 1"
        with self.db.connect() as db:
            return [Unit(c, fa, en, k, h, bool(a)) for c, fa, en, k, h, a in
                    db.all(sql + " ORDER BY kind DESC, code")]

    def unit(self, code: str) -> Unit | None:
        return next((u for u in self.units(include_inactive=True) if u.code == code), None)

    def save_unit(self, code: str, name_fa: str, name_en: str, *, head: str | None = None,
                  actor: str) -> Unit:
        """Create an ordinary unit, or rename it and set its head (``head=None`` leaves it
        without one: pass the current head to keep it).  The triage queue and the oversight
        unit exist from the start; only their names and head can change."""
        code = (code or "").strip().lower()
        if not code or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
            raise CaseworkError("کد واحد فقط حروف لاتین، رقم، - و _ است.",
                                "A unit code is Latin letters, digits, - and _.")
        if not (name_fa or "").strip():
            raise CaseworkError("نام فارسی واحد را بنویسید.", "Give the unit a Persian name.")
        now = format_time(datetime.now(timezone.utc))
        with self.db.write() as db:
            if head:
                self._check_member(db, head, code, allow_new_unit=True)
            db.execute("INSERT INTO units (code, name_fa, name_en, kind, head, active, created_at)"
                       " VALUES (?, ?, ?, 'unit', ?, 1, ?) ON CONFLICT (code) DO UPDATE SET"
                       " name_fa = excluded.name_fa, name_en = excluded.name_en, head = excluded.head",
                       (code, name_fa.strip(), (name_en or name_fa).strip(), head or None, now))
        unit = self.unit(code)
        assert unit is not None
        return unit

    def set_unit_active(self, code: str, active: bool, *, actor: str) -> Unit:
        with self.db.write() as db:
            row = db.one("SELECT kind FROM units WHERE code = ?", (code,))
            if row is None:
                raise CaseworkError("چنین واحدی نیست.", f"No unit {code!r}.")
            if row[0] != "unit":
                raise CaseworkError("صف تعیین واحد و واحد حراست همیشه فعال‌اند.",
                                    "The triage queue and the oversight unit are always active.")
            if not active and db.one("SELECT 1 FROM cases WHERE unit = ? AND status NOT IN"
                                     f" ({','.join('?' * len(CLOSED))}) LIMIT 1", (code, *CLOSED)):
                raise CaseworkError("این واحد پرونده‌ی باز دارد؛ نخست آن‌ها را ارجاع دهید.",
                                    "The unit has open cases; refer them first.")
            db.execute("UPDATE units SET active = ? WHERE code = ?", (1 if active else 0, code))
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
            raise CaseworkError("گزارش تخلف همیشه به حراست می‌رود؛ قاعده لازم ندارد.",
                                "Misconduct reports always go to the oversight unit; no rule is needed.")
        if case_type is not None and case_type not in CASE_TYPES:
            raise CaseworkError("نوع پرونده شناخته نیست.", f"Unknown case type {case_type!r}.")
        now = format_time(datetime.now(timezone.utc))
        with self.db.write() as db:
            if db.one("SELECT 1 FROM units WHERE code = ? AND kind = 'unit' AND active = 1", (unit,)) is None:
                raise CaseworkError("واحد مقصد باید یک واحد فعال تخصصی باشد.",
                                    "The rule must name an active specialist unit.")
            if db.one("SELECT 1 FROM routing_rules WHERE case_type IS NOT DISTINCT FROM ? AND"
                      " service IS NOT DISTINCT FROM ? AND office IS NOT DISTINCT FROM ?",
                      (case_type, service, office)):
                raise CaseworkError("قاعده‌ای با همین شرط‌ها هست؛ نخست آن را حذف کنید.",
                                    "A rule with the same conditions exists; delete it first.")
            row = db.one("INSERT INTO routing_rules (case_type, service, office, unit, created_by,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                         (case_type, service, office, unit, actor, now))
        return Rule(row[0], case_type, service, office, unit)

    def delete_rule(self, rule_id: int, *, actor: str) -> None:
        with self.db.write() as db:
            if not db.execute("DELETE FROM routing_rules WHERE id = ?", (int(rule_id),)).rowcount:
                raise CaseworkError("چنین قاعده‌ای نیست.", f"No routing rule {rule_id}.")

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
                     db.all("SELECT day, name FROM holidays WHERE day >= ? AND day < ?",
                            (start.isoformat(), end.isoformat()))]
        fixed = [(d, n) for d, n in fixed_holidays(year) if d.isoformat() not in removed]
        return sorted({d: n for d, n in [*fixed, *added]}.items())

    def add_holiday(self, day: date, name: str, *, actor: str) -> None:
        name = (name or "").strip()
        if not name:
            raise CaseworkError("نام تعطیلی را بنویسید.", "Name the holiday.")
        with self.db.write() as db:
            removed = [d for d in _setting(db, "holidays_removed", []) if d != day.isoformat()]
            _put_setting(db, "holidays_removed", removed)
            if day not in {d for d, _ in fixed_holidays(jdatetime.date.fromgregorian(date=day).year)}:
                db.execute("INSERT INTO holidays (day, name, added_by, added_at) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (day) DO UPDATE SET name = excluded.name",
                           (day.isoformat(), name, actor, format_time(datetime.now(timezone.utc))))

    def remove_holiday(self, day: date, *, actor: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM holidays WHERE day = ?", (day.isoformat(),))
            if day in {d for d, _ in fixed_holidays(jdatetime.date.fromgregorian(date=day).year)}:
                removed = set(_setting(db, "holidays_removed", [])) | {day.isoformat()}
                _put_setting(db, "holidays_removed", sorted(removed))

    def deadline_days(self) -> dict[str, int]:
        with self.db.connect() as db:
            return deadline_days_in(db)

    def set_deadline_days(self, case_type: str, days: int, *, actor: str) -> None:
        """Applies to cases that arrive from now on (a citizen's deadline never moves back)."""
        if case_type not in CASE_TYPES:
            raise CaseworkError("نوع پرونده شناخته نیست.", f"Unknown case type {case_type!r}.")
        if not 1 <= int(days) <= 90:
            raise CaseworkError("مهلت باید میان ۱ و ۹۰ روز کاری باشد.",
                                "A deadline is 1 to 90 working days.")
        with self.db.write() as db:
            current = _setting(db, "deadline_days", {})
            current[case_type] = int(days)
            _put_setting(db, "deadline_days", current)

    def calendar(self, around: date | None = None) -> WorkCalendar:
        with self.db.connect() as db:
            return work_calendar(db, around or datetime.now(TEHRAN).date())

    # -- reading cases -------------------------------------------------------------------

    def _where(self, *, units: Sequence[str] | None, status: str | None, assignee: str | None,
               office: str | None, case_type: str | None, service: str | None,
               tracking_code: str | None, now: datetime | None) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if units is not None:
            if not units:
                return "1 = 0", []
            where.append(f"unit IN ({','.join('?' * len(units))})")
            params += list(units)
        closed = ",".join("?" * len(CLOSED))
        if status in (None, "open"):
            where.append(f"status NOT IN ({closed})")
            params += sorted(CLOSED)
        elif status == "overdue":
            where.append(f"status NOT IN ({closed}) AND due_at < ?")
            params += [*sorted(CLOSED), format_time(now or datetime.now(timezone.utc))]
        elif status == "escalated":
            where.append(f"status NOT IN ({closed}) AND escalated_at IS NOT NULL")
            params += sorted(CLOSED)
        elif status != "all":
            where.append("status = ?")
            params.append(status)
        for column, value in (("assignee", assignee), ("office", office), ("case_type", case_type),
                              ("service", service)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if tracking_code:
            where.append("tracking_code = ?")
            params.append(normalize_tracking_code(tracking_code))
        return " AND ".join(where) or "1 = 1", params

    def inbox(self, *, units: Sequence[str] | None = None, status: str | None = None,
              assignee: str | None = None, office: str | None = None, case_type: str | None = None,
              service: str | None = None, tracking_code: str | None = None, limit: int = 50,
              offset: int = 0, now: datetime | None = None) -> list[Case]:
        """Cases matching the filters, the most urgent (earliest deadline) first."""
        where, params = self._where(units=units, status=status, assignee=assignee, office=office,
                                    case_type=case_type, service=service,
                                    tracking_code=tracking_code, now=now)
        with self.db.connect() as db:
            return [_case(r) for r in db.all(
                f"SELECT {_CASE_COLUMNS} FROM cases WHERE {where} ORDER BY due_at, uuid LIMIT ? OFFSET ?",
                [*params, max(1, min(int(limit), 500)), max(0, int(offset))])]

    def count(self, *, units: Sequence[str] | None = None, status: str | None = None,
              assignee: str | None = None, office: str | None = None, case_type: str | None = None,
              service: str | None = None, tracking_code: str | None = None,
              now: datetime | None = None) -> int:
        where, params = self._where(units=units, status=status, assignee=assignee, office=office,
                                    case_type=case_type, service=service,
                                    tracking_code=tracking_code, now=now)
        with self.db.connect() as db:
            return db.one(f"SELECT count(*) FROM cases WHERE {where}", params)[0]

    def case(self, uuid: str) -> Case | None:
        with self.db.connect() as db:
            row = db.one(f"SELECT {_CASE_COLUMNS} FROM cases WHERE uuid = ?", (str(uuid),))
        return _case(row) if row else None

    def case_body(self, uuid: str) -> dict[str, Any]:
        with self.db.connect() as db:
            row = db.one("SELECT body FROM records WHERE uuid = ? AND kind = 'case'", (str(uuid),))
        return json.loads(row[0]) if row else {}

    def events(self, uuid: str) -> list[Event]:
        with self.db.connect() as db:
            rows = db.all("SELECT id, case_uuid, at, actor, event, status, unit, assignee, text, public"
                          " FROM case_events WHERE case_uuid = ? ORDER BY id", (str(uuid),))
        return [Event(*row[:9], bool(row[9])) for row in rows]

    def allowed_statuses(self, case: Case) -> list[str]:
        return [s for s in CASE_STATUSES if s in _TRANSITIONS.get(case.status, frozenset())]

    # -- changing cases ------------------------------------------------------------------

    def locked_case(self, db: Connection, uuid: str) -> Case:
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        row = db.one(f"SELECT {_CASE_COLUMNS} FROM cases WHERE uuid = ?{lock}", (str(uuid),))
        if row is None:
            raise CaseworkError("چنین پرونده‌ای نیست.", f"No case {uuid}.")
        return _case(row)

    @staticmethod
    def _check_transition(case: Case, status: str) -> None:
        if status not in _TRANSITIONS.get(case.status, frozenset()):
            fa_from, en_from = status_label(case.status)
            fa_to, en_to = status_label(status)
            raise CaseworkError(f"پرونده‌ی «{fa_from}» را نمی‌توان «{fa_to}» کرد.",
                                f"A case that is {en_from!r} cannot become {en_to!r}.")

    def _check_member(self, db: Connection, user: str, unit: str, *, allow_new_unit: bool = False) -> None:
        row = db.one("SELECT unit, disabled FROM users WHERE name = ?", (user,))
        if row is None or row[1]:
            raise CaseworkError("چنین کاربر فعالی نیست.", f"No active user {user!r}.")
        if row[0] != unit and not (allow_new_unit and row[0] is None):
            raise CaseworkError("این کاربر عضو این واحد نیست.", f"{user!r} is not a member of unit {unit!r}.")

    def set_case(self, db: Connection, case: Case, now: str, **changes: Any) -> Case:
        changes["updated_at"] = now
        assignments = ", ".join(f"{column} = ?" for column in changes)
        db.execute(f"UPDATE cases SET {assignments} WHERE uuid = ?", (*changes.values(), case.uuid))
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
                raise CaseworkError("پرونده‌ی بسته یا پاسخ‌داده را نمی‌توان سپرد.",
                                    "A closed or answered case cannot be assigned.")
            if assignee:
                self._check_member(db, assignee, case.unit)
            status = "assigned" if assignee and case.status in ("routed", "referred") else case.status
            updated = self.set_case(db, case, now, assignee=assignee or None, status=status)
            record_event(db, uuid, now, actor, "assigned", status=status, unit=case.unit, assignee=assignee)
            if status != case.status:
                publish_update(db, updated, status, now)
        return updated

    def change_status(self, uuid: str, status: str, *, actor: str, note: str | None = None) -> Case:
        """Move the case to ``in_progress`` or ``closed`` (the other statuses have their own
        methods, since each needs something more: a person, an answer, a unit, an original)."""
        if status not in _SIMPLE_STATUSES:
            raise CaseworkError("این وضعیت را از راه دکمه‌ی خودش تعیین کنید.",
                                f"Set {status!r} with its own action.")
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
            publish_update(db, updated, status, now, answer=_clean(note),
                            opener=self.opener)
        return updated

    def add_note(self, uuid: str, text: str, *, actor: str) -> Event:
        """An internal note: for the unit and the audit trail, never sent to the citizen."""
        text = _clean(text)
        if not text:
            raise CaseworkError("متن یادداشت خالی است.", "The note is empty.")
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self.set_case(db, case, now)
            record_event(db, uuid, now, actor, "note", text=text)
            row = db.one("SELECT max(id) FROM case_events WHERE case_uuid = ?", (uuid,))
        return Event(row[0], uuid, now, actor, "note", None, None, None, text, False)

    def answer(self, uuid: str, text: str, *, actor: str) -> Case:
        """Answer the citizen: the text goes to the case's office and is shown at the kiosk to
        whoever types the tracking code, so it must not name other people."""
        text = _clean(text)
        if not text:
            raise CaseworkError("متن پاسخ خالی است.", "The answer is empty.")
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self._check_transition(case, "answered")
            updated = self.set_case(db, case, now, status="answered", answered_at=now, closed_at=None)
            record_event(db, uuid, now, actor, "answer", status="answered", text=text, public=True)
            publish_update(db, updated, "answered", now, answer=text, opener=self.opener)
        return updated

    def refer(self, uuid: str, unit: str, *, actor: str, note: str | None = None) -> Case:
        """Send the case to another unit (from the triage queue, its first routing).  The
        deadline stays: the citizen has been waiting since the case arrived."""
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            target = db.one("SELECT kind, active FROM units WHERE code = ?", (unit,))
            if target is None or not target[1] or target[0] == TRIAGE:
                raise CaseworkError("واحد مقصد باید یک واحد فعال باشد.", "Refer to an active unit.")
            if unit == case.unit:
                raise CaseworkError("پرونده هم‌اکنون در همین واحد است.", "The case is already in that unit.")
            if case.case_type == "misconduct":
                raise CaseworkError("گزارش تخلف نزد حراست می‌ماند.",
                                    "A misconduct report stays with the oversight unit.")
            status = "routed" if case.status == "received" else "referred"
            self._check_transition(case, status)
            updated = self.set_case(db, case, now, unit=unit, status=status, assignee=None,
                                escalated_at=None)
            record_event(db, uuid, now, actor, "referred" if status == "referred" else "routed",
                   status=status, unit=unit, text=_clean(note))
            publish_update(db, updated, status, now)
        return updated

    def reject(self, uuid: str, reason: str, *, actor: str, duplicate_of: str | None = None,
               note: str | None = None) -> Case:
        """Close the case without an answer of its own: a duplicate (``duplicate_of`` names the
        original, which goes on) or not this organisation's business.  ``note`` is sent to
        the citizen as the explanation."""
        if reason not in ("duplicate", "not_ours"):
            raise CaseworkError("دلیل رد شناخته نیست.", f"Unknown rejection {reason!r}.")
        status = f"rejected_{reason}"
        with self.transaction() as (db, now):
            case = self.locked_case(db, uuid)
            self._check_transition(case, status)
            if reason == "duplicate":
                original = self.locked_case(db, duplicate_of or "") if duplicate_of else None
                if original is None or original.uuid == case.uuid:
                    raise CaseworkError("پرونده‌ی اصلی را برگزینید.", "Choose the original case.")
                if original.status.startswith("rejected"):  # someone must still answer the citizen
                    raise CaseworkError("پرونده‌ی اصلی خودش رد شده است؛ پرونده‌ای را برگزینید که پاسخ می‌گیرد.",
                                        "The original was itself rejected; choose a case that gets an answer.")
                if original.is_misconduct != case.is_misconduct:
                    raise CaseworkError("پرونده‌ی اصلی پیدا نشد.", "Choose the original case.")
            updated = self.set_case(db, case, now, status=status, duplicate_of=duplicate_of if
                                reason == "duplicate" else None, answered_at=now)
            record_event(db, uuid, now, actor, "rejected", status=status, text=_clean(note), public=True)
            publish_update(db, updated, status, now, answer=_clean(note),
                            opener=self.opener)
        return updated

    def escalate_overdue(self, now: datetime | None = None) -> list[Case]:
        """Escalate every open case past its deadline to its unit's head, once."""
        moment = now or datetime.now(timezone.utc)
        escalated = []
        with self.transaction() as (db, stamp):
            stamp = format_time(moment) if now else stamp
            closed = ",".join("?" * len(CLOSED))
            # Another server process may be escalating at the same moment: PostgreSQL skips
            # the rows it holds, and the guarded UPDATE makes each escalation happen once.
            skip = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
            rows = db.all(f"SELECT {_CASE_COLUMNS} FROM cases WHERE due_at < ? AND escalated_at IS NULL"
                          f" AND status NOT IN ({closed}) ORDER BY due_at LIMIT 1000{skip}",
                          (format_time(moment), *sorted(CLOSED)))
            heads = dict(db.all("SELECT code, head FROM units"))
            for row in rows:
                case = _case(row)
                if not db.execute("UPDATE cases SET escalated_at = ?, updated_at = ? WHERE uuid = ?"
                                  " AND escalated_at IS NULL", (stamp, stamp, case.uuid)).rowcount:
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
            row = db.one("SELECT person_key, text_key, service, received_at, case_type, unit"
                         " FROM cases WHERE uuid = ?", (str(uuid),))
            if row is None:
                return []
            key, text, service, received_at, case_type, unit = row
            misconduct = case_type == "misconduct" or unit == OVERSIGHT
            wall = ("(case_type = 'misconduct' OR unit = 'oversight')" if misconduct
                    else "(case_type <> 'misconduct' AND unit <> 'oversight')")
            scope, scope_params = "", []
            if units is not None:
                if not units:
                    return []
                scope = f" AND unit IN ({','.join('?' * len(units))})"
                scope_params = list(units)
            found: dict[str, Suggestion] = {}
            if key:
                for r in db.all(f"SELECT {_CASE_COLUMNS} FROM cases WHERE person_key = ? AND uuid <> ?"
                                f" AND {wall}{scope} ORDER BY received_at DESC LIMIT ?",
                                (key, uuid, *scope_params, limit)):
                    found[r[0]] = Suggestion(_case(r), "same_person", 1.0)
            if text and len(found) < limit:
                received = _parse_time(received_at)
                window = [format_time(received - timedelta(days=_DUPLICATE_WINDOW_DAYS)),
                          format_time(received + timedelta(days=_DUPLICATE_WINDOW_DAYS))]
                same_service = "service = ?" if service else "service IS NULL AND case_type = ?"
                rows = db.all(f"SELECT {_CASE_COLUMNS}, text_key FROM cases WHERE {same_service}"
                              f" AND uuid <> ? AND received_at BETWEEN ? AND ? AND text_key <> ''"
                              f" AND {wall}{scope} ORDER BY received_at DESC LIMIT ?",
                              (service or case_type, uuid, *window, *scope_params, _MAX_TEXT_CANDIDATES))
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
        raise CaseworkError(f"متن بیش از {_MAX_TEXT} نویسه است.", f"The text is over {_MAX_TEXT} characters.")
    return text or None
