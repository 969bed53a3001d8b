"""Cases: requests, complaints, suggestions, criticism, misconduct reports and voice messages.

Pure checking of what a visitor typed (:func:`check_case_form`) is kept apart from writing
to the ledger (:func:`file_case`) and from reading a case's history (:func:`case_timeline`),
so each can be tested and reused by the sync layer without a web request.

Ledger contract (docs/kiosk.md repeats it for the sync layer):

* a case is a record of kind ``"case"`` whose body is ``{tracking_code, type, service, text,
  name?, national_id?, mobile?, anonymous, channel: "kiosk", route, attachments: [sha256]}``;
* a status update is a record of kind ``"audit"`` whose body is ``{event: "case_status",
  tracking_code, status, at, answer?, unit?}`` (``at`` ISO-8601 with time zone).  The sync
  client writes these when it pulls answers from the central server; the kiosk only reads them.
"""
from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from forms.persian import InvalidInput, normalize_input, normalize_mobile, normalize_national_id
from sync.ledger import Ledger, LedgerError, Record

from sync.sealing import seal
from .tracking import new_tracking_code, normalize_tracking_code

__all__ = [
    "WRITTEN_TYPES", "CASE_TYPES", "STATUSES", "MAX_TEXT", "MAX_NAME",
    "CaseDraft", "FieldError", "TimelineEvent",
    "check_case_form", "file_case", "find_case", "case_uuid", "case_timeline",
    "follow_up_matches",
]

#: What a visitor can choose on the written-case screen (Article 9, clauses 2 and 6).
WRITTEN_TYPES = ("request", "complaint", "suggestion", "criticism")
#: Every case type the kiosk files; misconduct reports (clause 1) go to the oversight unit.
CASE_TYPES = WRITTEN_TYPES + ("misconduct", "voice")
#: Statuses a case can have (the central server's words, sync.case_updates.CASE_STATUSES);
#: "received" is implied by the case record itself.
STATUSES = ("received", "routed", "assigned", "in_progress", "answered", "closed", "referred",
            "rejected_duplicate", "rejected_not_ours", "rejected")
MAX_TEXT = 4000
#: Namespace of case record UUIDs (see :func:`case_uuid`); never change it.
CASE_NAMESPACE = uuid.UUID("5eda0000-0000-4000-8000-00000000ca5e")
MAX_NAME = 100


class FieldError(ValueError):
    """One form field is wrong; ``field`` names it, messages say how to fix it."""

    def __init__(self, field: str, message_fa: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_fa = message_fa
        self.message_en = message_en


@dataclass(frozen=True)
class CaseDraft:
    """A checked case, ready to be filed; identity fields are empty when anonymous."""

    type: str
    service: str
    text: str
    anonymous: bool
    name: str = ""
    national_id: str = ""
    mobile: str = ""
    attachments: tuple[str, ...] = ()

    @property
    def route(self) -> str:
        """Who reads it: misconduct reports bypass the office and go to oversight."""
        return "oversight" if self.type == "misconduct" else "office"

    def body(self, tracking_code: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "tracking_code": tracking_code,
            "type": self.type,
            "service": self.service,
            "text": self.text,
            "anonymous": self.anonymous,
            "channel": "kiosk",
            "route": self.route,
            "attachments": list(self.attachments),
        }
        if not self.anonymous:
            for key in ("name", "national_id", "mobile"):
                value = getattr(self, key)
                if value:
                    body[key] = value
        return body


@dataclass(frozen=True)
class TimelineEvent:
    """One step in a case's history, as the follow-up screen shows it."""

    at: datetime
    status: str
    answer: str = ""
    unit: str = ""
    source: str = "kiosk"


def _checkbox(value: Any) -> bool:
    return str(value or "").strip().lower() in ("1", "on", "yes", "true")


def check_case_form(form: Mapping[str, str], case_type: str, services: set[str],
                    *, text_required: bool = True) -> tuple[CaseDraft | None, list[FieldError]]:
    """Check what a visitor entered; return a draft or every problem at once.

    All input goes through :func:`forms.persian.normalize_input` (Persian, Arabic-Indic and
    Latin digits; Arabic ye/kaf) so equal cases compare equal.  Anonymous cases drop the
    identity fields here, before anything could store them.
    """
    errors: list[FieldError] = []
    if case_type not in CASE_TYPES:
        errors.append(FieldError("type", "نوع درخواست را انتخاب کنید.", "Choose the kind of case."))
    service = normalize_input(form.get("service", "")) or "other"
    if service not in services:
        errors.append(FieldError("service", "خدمت انتخاب‌شده در فهرست نیست.",
                                 "The chosen service is not in the list."))
    text = normalize_input(form.get("text", ""))
    if text_required and not text:
        errors.append(FieldError("text", "لطفاً متن خود را بنویسید.", "Please write your message."))
    elif len(text) > MAX_TEXT:
        errors.append(FieldError("text", f"متن حداکثر {MAX_TEXT} نویسه است.",
                                 f"The text can be at most {MAX_TEXT} characters."))
    default_anonymous = "1" if case_type == "misconduct" else ""
    anonymous = _checkbox(form.get("anonymous", default_anonymous))
    name = national_id = mobile = ""
    if not anonymous:
        name = normalize_input(form.get("name", ""))
        if len(name) > MAX_NAME:
            errors.append(FieldError("name", f"نام حداکثر {MAX_NAME} نویسه است.",
                                     f"The name can be at most {MAX_NAME} characters."))
        for key, check in (("national_id", normalize_national_id), ("mobile", normalize_mobile)):
            raw = normalize_input(form.get(key, ""))
            if not raw:
                continue
            try:
                value = check(raw)
            except InvalidInput as exc:
                errors.append(FieldError(key, exc.message_fa, exc.message_en))
                continue
            if key == "national_id":
                national_id = value
            else:
                mobile = value
    if errors:
        return None, errors
    return CaseDraft(type=case_type, service=service, text=text, anonymous=anonymous,
                     name=name, national_id=national_id, mobile=mobile), []


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def file_case(ledger: Ledger, draft: CaseDraft, *, office: str,
              attachment: tuple[bytes, str] | None = None,
              now: datetime | None = None, oversight_key=None) -> Record:
    """Store the case (and its recording, if any) in one transaction; return the record.

    The tracking code is drawn inside the write transaction, so the uniqueness check and
    the insert cannot be separated by another writer.  The record is committed before this
    returns, which is what lets the screen say "received".

    Anonymous misconduct reports are stored with their time rounded down to the hour: the
    exact second could be matched with the entrance camera or the queue-ticket log.  With the
    oversight unit's public key (``oversight_key``) a misconduct report's text and identity
    are sealed to it (see :mod:`kiosk.sealing`).
    """
    now = now or datetime.now(timezone.utc)
    with ledger.transaction():
        attachments = list(draft.attachments)
        if attachment is not None:
            data, media_type = attachment
            stored = ledger.add_attachment(
                data, media_type, office=office,
                created_at=_hour(now) if draft.anonymous else now,
                meta={"purpose": "voice_message" if draft.type == "voice" else "case"})
            attachments.append(stored.body["sha256"])
        code = new_tracking_code(lambda c: ledger.get(case_uuid(c)) is not None)
        body = replace(draft, attachments=tuple(attachments)).body(code)
        if draft.route == "oversight" and oversight_key is not None:
            body = seal(body, oversight_key)
        created_at = _hour(now) if (draft.anonymous and draft.type == "misconduct") else now
        return ledger.append("case", body, office=office, uuid=case_uuid(code),
                             created_at=created_at)


def case_uuid(tracking_code: str) -> str:
    """The case record's UUID, derived from its tracking code (UUIDv5).

    The ledger's UNIQUE uuid column then makes a tracking code unique per office by
    construction, and finding a case by its code is one index probe instead of a scan of
    every case (the ledger has no index on body fields other than sheet and item).  The
    code is random, so the UUID is as unguessable as the code; anyone who holds the UUID
    (sync, the central server) holds the body with the code anyway.
    """
    return str(uuid.uuid5(CASE_NAMESPACE, "seda-case:" + normalize_tracking_code(tracking_code)))


def find_case(ledger: Ledger, tracking_code: str) -> Record | None:
    """The case with this code at this office, or None.

    Kiosk cases are found by their derived UUID (one index probe); a case some other
    program wrote with its own UUID is still found by ``ledger.find``.
    """
    code = normalize_tracking_code(tracking_code)
    if not code.isdigit():
        return None
    record = ledger.get(case_uuid(code))
    if record is not None and record.kind == "case":
        return record
    found = ledger.find("case", "tracking_code", code)
    return found[0] if found else None


def _parse_time(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return fallback


def _event(body: Mapping[str, Any], fallback: datetime, source: str) -> TimelineEvent:
    status = str(body.get("status") or "")
    return TimelineEvent(
        at=_parse_time(body.get("at"), fallback),
        status=status if status in STATUSES else "updated",
        answer=str(body.get("answer") or ""),
        unit=str(body.get("unit") or ""),
        source=source,
    )


def _pulled_updates(ledger: Ledger, code: str) -> list[dict[str, Any]]:
    """What the sync client pulled from the central server for this code (its public API)."""
    try:
        from sync.office_state import OfficeSyncState
    except ImportError:
        return []
    try:
        return OfficeSyncState(ledger).pulled_case_updates(code)
    except (sqlite3.Error, LedgerError, AttributeError):  # an older ledger or sync layer
        return []


def case_timeline(ledger: Ledger, tracking_code: str) -> list[TimelineEvent]:
    """The case's history, oldest first: "received", then every status the central sent.

    Two sources, both documented in docs/kiosk.md: records of kind ``"audit"`` with
    ``{event: "case_status", tracking_code, status, at, answer?}`` (found with
    ``ledger.find("audit", "tracking_code", code)``), and the case updates the sync client
    stores from the central server (``OfficeSyncState.pulled_case_updates``).  The same
    update arriving both ways is shown once.  An unknown code gives an empty list; an
    unknown status is kept (shown as "updated") so a newer central server never hides an
    answer.
    """
    case = find_case(ledger, tracking_code)
    if case is None:
        return []
    code = case.body["tracking_code"]
    updates = [_event(record.body, record.created_at, "ledger")
               for record in ledger.find("audit", "tracking_code", code)
               if record.body.get("event") == "case_status"]
    updates += [_event(body, case.created_at, "central") for body in _pulled_updates(ledger, code)]
    unique: dict[tuple, TimelineEvent] = {}
    for event in sorted(updates, key=lambda e: e.at):
        unique.setdefault((event.at, event.status, event.answer), event)
    return [TimelineEvent(at=case.created_at, status="received", source="kiosk"),
            *unique.values()]


def follow_up_matches(case: Record, mobile_last4: str) -> bool:
    """A case filed with a mobile number also needs its last four digits to be shown."""
    mobile = case.body.get("mobile")
    if not mobile:
        return True
    given = normalize_tracking_code(mobile_last4)
    return len(given) == 4 and mobile.endswith(given)
