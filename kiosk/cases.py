"""Cases: requests, complaints, suggestions, criticism, misconduct reports and voice messages.

Pure checking of what a visitor typed (:func:`check_case_form`) is kept apart from writing
to the ledger (:func:`file_case`) and from reading a case's history (:func:`case_timeline`),
so each can be tested and reused by the sync layer without a web request.

Ledger contract (docs/kiosk.md repeats it for the sync layer):

* a case is a record of kind ``"case"`` whose body is ``{tracking_code, type, service, text,
  name?, national_id?, mobile?, anonymous, channel: "kiosk", route, attachments: [sha256]}``;
* a misconduct report is sealed before anything is written (forms/sealing.py): its body is
  ``{type: "misconduct", route: "oversight", channel: "kiosk", follow_up, sealed}`` with every
  other field, the tracking code included, inside ``sealed``; ``follow_up`` is the locator of
  forms/follow_up.py.  Its attachments are sealed bytes.  It is held back (``Ledger.hold``)
  until the hour it was filed in has ended, with ``created_at`` rounded down to that hour;
* what the central office answered arrives by sync into the ledger's ``central_items``
  (ledger/centre_sent.py): ``{tracking_code, status, at, answer?, unit?}`` per update (``at``
  ISO-8601 with time zone); the kiosk only reads it.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from forms.case_form import (CASE_TYPES, MAX_NAME, MAX_TEXT, STATUSES, WRITTEN_TYPES, CaseDraft,
                             FieldError, check_case_form)
from forms.follow_up import follow_up_locator, open_answer
from ledger.centre_sent import CentreSent
from ledger.ledger import Ledger, LedgerError, Record
from forms.sealing import MISCONDUCT_CLEAR_FIELDS, SEALED_MEDIA_TYPE, seal, seal_bytes
from ledger.report_key import ReportKey

from forms.tracking_codes import new_tracking_code, normalize_tracking_code

__all__ = [
    "WRITTEN_TYPES", "CASE_TYPES", "STATUSES", "MAX_TEXT", "MAX_NAME",
    "CaseDraft", "CodeTaken", "FieldError", "FiledCase", "NoReportKey", "SealedReport",
    "TimelineEvent", "check_case_form", "file_case", "find_case", "case_uuid", "case_timeline",
    "follow_up_matches", "seal_report",
]

#: Namespace of case record UUIDs (see :func:`case_uuid`); never change it.
CASE_NAMESPACE = uuid.UUID("5eda0000-0000-4000-8000-00000000ca5e")

@dataclass(frozen=True)
class TimelineEvent:
    """One step in a case's history, as the follow-up screen shows it."""

    at: datetime
    status: str
    answer: str = ""
    unit: str = ""
    source: str = "kiosk"


class NoReportKey(LedgerError):
    """This office holds no key to seal a misconduct report to, so it cannot take one."""


class CodeTaken(LedgerError):
    """The tracking code drawn for a sealed report is in use; seal it again with a new code."""


@dataclass(frozen=True)
class FiledCase:
    """A filed case: the record as stored (for a sealed report: held back until its hour has
    ended, ``seq`` 0) and its tracking code, which a sealed report's stored body hides."""

    tracking_code: str
    record: Record
    held: bool = False

    @property
    def uuid(self) -> str:
        return self.record.uuid

    @property
    def kind(self) -> str:
        return self.record.kind

    @property
    def office(self) -> str:
        return self.record.office

    @property
    def created_at(self) -> datetime:
        return self.record.created_at

    @property
    def body(self) -> dict[str, Any]:
        return self.record.body


@dataclass(frozen=True)
class SealedReport:
    """A misconduct report sealed and ready to store: the slow part (Argon2id, encryption) is
    done before the ledger's write lock is taken."""

    tracking_code: str
    locator: str
    body: dict[str, Any]
    blob: bytes | None
    created_at: datetime
    release_after: datetime


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def seal_report(draft: CaseDraft, *, office: str, report_key: ReportKey,
                attachment: tuple[bytes, str] | None = None,
                now: datetime | None = None) -> SealedReport:
    """Seal a misconduct report (and its attachment) to ``report_key``: in memory, nothing
    written.  Only the hour of ``now`` is kept."""
    hour = _hour(now or datetime.now(timezone.utc))
    code = new_tracking_code()
    locator = follow_up_locator(code, office)
    blob = None
    attachments = list(draft.attachments)
    if attachment is not None:
        data, media_type = attachment
        blob = seal_bytes(data, media_type, report_key.key)
        attachments.append(hashlib.sha256(blob).hexdigest())
    body = {**replace(draft, attachments=tuple(attachments)).body(code), "follow_up": locator}
    return SealedReport(code, locator, seal(body, report_key.key, keep=MISCONDUCT_CLEAR_FIELDS),
                        blob, hour, hour + timedelta(hours=1))


def _store_sealed(ledger: Ledger, report: SealedReport, office: str) -> FiledCase:
    with ledger.transaction():
        if (ledger.get(case_uuid(report.tracking_code)) is not None
                or ledger.find("case", "follow_up", report.locator)
                or ledger.held("follow_up", report.locator)):
            raise CodeTaken("the tracking code drawn is in use; seal the report again")
        if report.blob is not None:
            ledger.hold_attachment(report.blob, SEALED_MEDIA_TYPE, office=office,
                                   created_at=report.created_at, release_after=report.release_after)
        record = ledger.hold("case", report.body, office=office, created_at=report.created_at,
                             release_after=report.release_after)
    return FiledCase(report.tracking_code, record, held=True)


def file_case(ledger: Ledger, draft: CaseDraft, *, office: str,
              attachment: tuple[bytes, str] | None = None,
              now: datetime | None = None, report_key: ReportKey | None = None,
              sealed: SealedReport | None = None) -> FiledCase:
    """Store the case (and its recording, if any) in one transaction; return it.

    The tracking code is drawn inside the write transaction, so the uniqueness check and
    the insert cannot be separated by another writer.  The record is committed before this
    returns, which is what lets the screen say "received".

    A misconduct report is never stored readable: it is sealed to ``report_key`` (or passed
    in already ``sealed`` by :func:`seal_report`, which the kiosk does outside the write lock)
    and held back until its hour has ended, with only the hour as its time: the exact second,
    or its place among other records, could be matched with the entrance camera or the
    queue-ticket log.  Without a key it raises :class:`NoReportKey` and stores nothing.
    """
    now = now or datetime.now(timezone.utc)
    if draft.route == "oversight":
        if sealed is not None:
            return _store_sealed(ledger, sealed, office)
        if report_key is None:
            raise NoReportKey("no key to seal a misconduct report to; nothing was stored")
        for _ in range(20):
            try:
                return _store_sealed(ledger, seal_report(draft, office=office, report_key=report_key,
                                                         attachment=attachment, now=now), office)
            except CodeTaken:
                continue
        raise RuntimeError("could not draw an unused tracking code; is the random source broken?")
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
        record = ledger.append("case", body, office=office, uuid=case_uuid(code), created_at=now)
    return FiledCase(code, record)


def case_uuid(tracking_code: str) -> str:
    """The case record's UUID, derived from its tracking code (UUIDv5).

    The ledger's UNIQUE uuid column then makes a tracking code unique per office by
    construction, and finding a case by its code is one index probe instead of a scan of
    every case (the ledger has no index on body fields other than sheet and item).  The
    code is random, so the UUID is as unguessable as the code; anyone who holds the UUID
    (sync, the central server) holds the body with the code anyway.
    """
    return str(uuid.uuid5(CASE_NAMESPACE, "seda-case:" + normalize_tracking_code(tracking_code)))


def find_case(ledger: Ledger, tracking_code: str, office: str | None = None, *,
              locator: str | None = None) -> Record | None:
    """The case with this code at this office, or None.

    Kiosk cases are found by their derived UUID (one index probe); a case some other
    program wrote with its own UUID is still found by ``ledger.find``.  With ``office``, a
    sealed misconduct report is found by its follow-up locator (one Argon2id hash of the
    code, held-back reports included): only this path costs time, and a wrong code costs
    the same.  A ``locator`` already derived from this code (the screen keeps it for the
    visit) saves deriving it again.
    """
    code = normalize_tracking_code(tracking_code)
    if not code.isdigit():
        return None
    record = ledger.get(case_uuid(code))
    if record is not None and record.kind == "case":
        return record
    found = ledger.find("case", "tracking_code", code)
    if found or (office is None and locator is None):
        return found[0] if found else None
    locator = locator or follow_up_locator(code, office)
    sealed = [r for r in ledger.find("case", "follow_up", locator) + ledger.held("follow_up", locator)
              if r.kind == "case"]
    return sealed[0] if sealed else None


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


def _sealed_report_timeline(ledger: Ledger, case: Record, code: str) -> list[TimelineEvent]:
    """A sealed report's history: statuses sent under its locator, answers opened with the
    tracking code the visitor typed (nothing else at the office can open them)."""
    locator = case.body["follow_up"]
    events = []
    for body in CentreSent(ledger).pulled_misconduct_updates(locator):
        answer = open_answer(body.get("answer_sealed"), code, locator) if body.get("answer_sealed") else None
        events.append(_event({**body, "answer": answer or ""}, case.created_at, "central"))
    return [TimelineEvent(at=case.created_at, status="received", source="kiosk"),
            *sorted(events, key=lambda e: e.at)]


def case_timeline(ledger: Ledger, tracking_code: str, office: str | None = None, *,
                  case: Record | None = None) -> list[TimelineEvent]:
    """The case's history, oldest first: "received", then every status the central sent.

    The updates are those the sync client stored from the central server
    (:meth:`ledger.centre_sent.CentreSent.pulled_case_updates`, docs/kiosk.md).  An unknown code
    gives an empty list; an unknown status is kept (shown as "updated") so a newer central
    server never hides an answer.  A sealed misconduct report (found with ``office``, or given as ``case``) shows
    what came back under its follow-up locator.
    """
    case = case or find_case(ledger, tracking_code, office)
    if case is None:
        return []
    if "follow_up" in case.body:
        return _sealed_report_timeline(ledger, case, normalize_tracking_code(tracking_code))
    updates = [_event(body, case.created_at, "central")
               for body in CentreSent(ledger).pulled_case_updates(case.body["tracking_code"])]
    return [TimelineEvent(at=case.created_at, status="received", source="kiosk"),
            *sorted(updates, key=lambda e: e.at)]


def follow_up_matches(case: Record, mobile_last4: str) -> bool:
    """A case filed with a mobile number also needs its last four digits to be shown."""
    mobile = case.body.get("mobile")
    if not mobile:
        return True
    given = normalize_tracking_code(mobile_last4)
    return len(given) == 4 and mobile.endswith(given)
