"""The notification outbox: which case events become an SMS, and each SMS's way to "sent".

**Who is told.**  Only a citizen who gave a mobile number *and* agreed to be texted: the case
record's body carries ``mobile`` and ``sms_consent: true`` (the portal's filing form asks;
an office whose case form asks too sets the same field).  A misconduct report is never
texted, sealed or not: a message on a phone could reveal who reported.

**What about.**  Registered, answered (or rejected with its reason), past the deadline
(messages.EVENTS), read from ``case_events`` (``received``, ``answer``/``rejected``,
``escalated``), so casework needs no change to be heard.  One row per (case, event,
event key): the key is the answer's or the escalation's time, so a case reopened by its
citizen and answered again is told again, while nothing is ever queued twice.  An event older
than ``max_age`` (an outbox switched on over an old store) is not texted, nor is a message
that waited that long to be sent.

**How far it has read.**  ``settings.notify_cursor`` is the last ``case_events`` id read.  On
PostgreSQL ids are drawn before commit, so an event may commit after a higher id; the cursor
therefore stops before any event younger than ``_SETTLE`` and those are read again next time
(the unique key makes that harmless).

**Sending.**  :func:`claim` marks due rows ``sending`` in a transaction (PostgreSQL skips rows
another sender holds) before the gateway is called; :func:`settle` records the outcome:
``sent`` with the gateway's message id, ``pending`` again after a back-off that doubles from
30 s to an hour (at most ``MAX_TRIES`` tries), or ``failed`` with the reason.  A row left in
``sending`` by a sender that died mid-call may have reached the panel, so it is marked
``failed`` ("outcome unknown"), never sent again.  Nothing is sent twice.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sync.batch import format_time

from ..db import notifications, records
from .messages import message_for

__all__ = ["MAX_TRIES", "Notification", "backoff", "claim", "collect", "counts", "recent", "settle"]

MAX_TRIES = 6
_FIRST_DELAY = timedelta(seconds=30)
_LONGEST_DELAY = timedelta(hours=1)
#: Longer than any write transaction of the store runs (see "How far it has read").
_SETTLE = timedelta(minutes=2)
#: A ``sending`` row older than this belongs to a sender that died.
_STALE_SENDING = timedelta(minutes=10)
_CURSOR = "notify_cursor"
_SCAN = 2000
#: case_events.event -> what the citizen is told.
_EVENTS = {"received": "registered", "answer": "answered", "rejected": "answered",
           "escalated": "overdue"}


@dataclass(frozen=True)
class Notification:
    id: int
    case_uuid: str
    event: str
    event_key: str
    mobile: str
    message: str
    status: str
    tries: int
    next_try_at: str
    created_at: str
    sent_at: str | None
    gateway_id: str | None
    last_error: str | None


def backoff(tries: int) -> timedelta:
    """The wait after the ``tries``-th failed try: 30 s, 1 min, 2 min, ... at most an hour."""
    return min(_FIRST_DELAY * (2 ** max(tries - 1, 0)), _LONGEST_DELAY)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _setting(db, key: str, default: Any) -> Any:
    value = records.setting(db, key)
    return json.loads(value) if value else default


def _put_setting(db, key: str, value: Any) -> None:
    records.put_setting(db, key, json.dumps(value))


def _recipient(body: dict[str, Any], case_type: str, unit: str) -> str | None:
    """The mobile to text about this case, or None: no consent, no mobile, or misconduct."""
    if case_type == "misconduct" or unit == "oversight" or "sealed" in body:
        return None
    if body.get("anonymous") or body.get("sms_consent") is not True:
        return None
    mobile = str(body.get("mobile") or "")
    return mobile if len(mobile) == 11 and mobile.startswith("09") and mobile.isdigit() else None


def collect(store, *, public_url: str, now: datetime | None = None,
            max_age: timedelta = timedelta(days=2), daily_limit: int = 5) -> int:
    """Queue the SMS for case events since the last call; returns how many were queued.

    ``daily_limit``: texts one mobile may be sent in 24 hours; one over it is kept as
    ``failed`` ("daily limit") so it shows in ``seda central notify status``, not sent."""
    if not public_url:
        raise ValueError("notifications link to the portal: its public address is needed")
    moment = now or datetime.now(timezone.utc)
    stamp = format_time(moment)
    queued = 0
    with store.write() as db:
        db.lock("notify_outbox")  # one collector at a time, across processes
        cursor = int(_setting(db, _CURSOR, 0))
        rows = notifications.events_after(db, cursor, tuple(_EVENTS), _SCAN)
        settled_before = moment - _SETTLE
        advance_to, holding = cursor, False
        for event_id, case_uuid, at, event, case_type, unit, code, body_text in rows:
            young = _parse(at) > settled_before
            holding = holding or young
            if not holding:
                advance_to = event_id
            mobile = _recipient(json.loads(body_text), case_type, unit)
            if mobile is None or not code or _parse(at) < moment - max_age:
                continue
            kind = _EVENTS[event]
            key = "" if kind == "registered" else at
            sent_today = notifications.sent_since(db, mobile, format_time(moment - timedelta(days=1)))
            over = sent_today >= daily_limit
            added = notifications.insert(
                db, case_uuid, kind, key, mobile, message_for(kind, code, public_url),
                "failed" if over else "pending", stamp,
                f"daily limit of {daily_limit} texts to one mobile reached" if over else None)
            queued += 0 if over else added
        if advance_to != cursor:
            _put_setting(db, _CURSOR, advance_to)
    return queued


def claim(store, *, now: datetime | None = None, limit: int = 50,
          max_age: timedelta = timedelta(days=2)) -> list[Notification]:
    """Take the due messages for sending (status ``sending``); fail the stale and the too old."""
    moment = now or datetime.now(timezone.utc)
    stamp = format_time(moment)
    with store.write() as db:
        notifications.fail_older(db, "sending", "next_try_at", format_time(moment - _STALE_SENDING),
                                 "the sender stopped while sending: outcome unknown, not sent again")
        notifications.fail_older(db, "pending", "created_at", format_time(moment - max_age),
                                 "not sent in time: too late to be useful")
        rows = notifications.take_due(db, stamp, limit)
        claimed = []
        for row in rows:
            if notifications.claim(db, row[0], stamp):
                claimed.append(Notification(*row[:6], "sending", row[7] + 1, stamp, *row[9:]))
    return claimed


def settle(store, notification: Notification, outcome: str, *, gateway_id: str | None = None,
           error: str | None = None, now: datetime | None = None) -> str:
    """Record how a try went: ``sent``, ``retry`` (again after :func:`backoff`, unless it was
    the last try) or ``failed``.  Returns the row's new status."""
    moment = now or datetime.now(timezone.utc)
    stamp = format_time(moment)
    if outcome == "sent":
        status, next_try = "sent", stamp
    elif outcome == "retry" and notification.tries < MAX_TRIES:
        status, next_try = "pending", format_time(moment + backoff(notification.tries))
    elif outcome in ("retry", "failed"):
        status, next_try = "failed", stamp
        if outcome == "retry":
            error = f"gave up after {notification.tries} tries: {error}"
    else:
        raise ValueError(f"unknown outcome {outcome!r}")
    with store.write() as db:
        notifications.set_outcome(db, notification.id, status, next_try,
                                  stamp if status == "sent" else None, gateway_id,
                                  (error or "")[:500] or None)
    return status


def counts(store) -> dict[str, int]:
    """How many messages are in each status (every status named, zeros included)."""
    with store.connect() as db:
        found = notifications.count_by_status(db)
    return {status: int(found.get(status, 0))
            for status in ("pending", "sending", "sent", "delivered", "failed")}


def recent(store, *, statuses: Sequence[str] = ("failed",), since: datetime | None = None,
           limit: int = 20) -> list[Notification]:
    """The latest messages in ``statuses`` (last changed at or after ``since``), newest first."""
    after = format_time(since) if since else ""
    with store.connect() as db:
        rows = notifications.recent(db, statuses, after, limit)
    return [Notification(*row) for row in rows]
