"""Role grants that need a second person: the oversight role (issue 11 item 6).

Whoever holds the oversight role reads every misconduct report, so no single person may hand
it out.  On the web app an administrator can only *request* it -- for a new account, for an
existing user, or for themselves -- and the request waits in ``role_grants`` (schema step 4)
until a user who already holds oversight, who is neither the requester nor the person named,
confirms or refuses it.  Confirming sets a new random password that only the confirming user
sees (and hands over in person), so an administrator who once set or reset that account's
password cannot sign in with it.  Requests expire after :data:`GRANT_DAYS` days.  The central
host's command line (``seda central user add --role oversight``, ``seda central user role``)
grants it directly: whoever runs it controls the store anyway.  Every step is audited by
the callers.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sync.batch import format_time
from .db import accounts as account_rows
from .store import Store
from . import accounts, audit
from .accounts import AccountError, User

__all__ = ["GRANT_DAYS", "GUARDED_ROLES", "Grant", "cancel_grant", "decide_grant", "needs_grant",
           "pending_grants", "request_grant"]

#: Roles a web administrator cannot give alone.
GUARDED_ROLES = ("oversight",)
GRANT_DAYS = 7



@dataclass(frozen=True)
class Grant:
    id: int
    user_name: str
    role: str
    display_name: str | None
    new_account: bool
    requested_by: str
    requested_at: str
    status: str
    decided_by: str | None
    decided_at: str | None


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _grant(row: tuple) -> Grant:
    values = list(row)
    values[4] = bool(values[4])
    return Grant(*values)


def needs_grant(role: str | None, user: User | None = None) -> bool:
    """Whether giving ``role`` (to ``user``, if the account exists) needs a second person."""
    return role in GUARDED_ROLES and (user is None or user.role != role)


def request_grant(store: Store, name: str, role: str, *, requested_by: str,
                  display_name: str | None = None, now: datetime | None = None) -> Grant:
    """Record a request to give ``role`` to ``name`` (a new account if there is none yet)."""
    name = (name or "").strip().lower()
    if role not in GUARDED_ROLES:
        raise AccountError("grant_role_needs_no_confirmation", role=role)
    user = accounts.get_user(store, name, include_disabled=True)
    if user is None and not accounts.NAME_PATTERN.match(name):
        raise AccountError("account_name_invalid")
    if user is not None and user.role == role:
        raise AccountError("grant_user_has_role", name=name)
    now = _utc(now)
    with store.write() as db:
        if account_rows.pending_grant_for(db, name, format_time(now - timedelta(days=GRANT_DAYS))):
            raise AccountError("grant_already_waiting", name=name)
        row = account_rows.add_grant(db, name, role, (display_name or "").strip() or None,
                                     user is None, requested_by, format_time(now))
        grant = _grant(row)
        audit.record_in(db, requested_by, "role_grant_requested", f"user:{grant.user_name}",
                        f"role={grant.role} grant={grant.id} new_account={int(grant.new_account)}", at=format_time(now))
    return grant


def pending_grants(store: Store, *, now: datetime | None = None) -> list[Grant]:
    """Requests still waiting (expired ones are not shown and cannot be confirmed)."""
    since = format_time(_utc(now) - timedelta(days=GRANT_DAYS))
    with store.connect() as db:
        rows = account_rows.pending_grants(db, since)
    return [_grant(row) for row in rows]


def _pending(db, grant_id: int, now: datetime) -> Grant:
    row = account_rows.grant(db, grant_id)
    grant = _grant(row) if row else None
    if grant is None or grant.status != "pending" or \
            grant.requested_at <= format_time(now - timedelta(days=GRANT_DAYS)):
        raise AccountError("grant_not_waiting")
    return grant


def decide_grant(store: Store, grant_id: int, *, by: User, confirm: bool,
                 now: datetime | None = None) -> tuple[Grant, str | None]:
    """Confirm or refuse a request as ``by``, who must hold the role and be a second person.

    Returns the decided grant and, when confirmed, the account's new one-time password (shown
    to ``by`` only; the account's sessions are ended).
    """
    now = _utc(now)
    if by.disabled or by.role not in GUARDED_ROLES:
        raise AccountError("grant_oversight_decides")
    with store.connect() as db:
        grant = _pending(db, grant_id, now)
    if by.role != grant.role:
        raise AccountError("grant_holder_decides")
    if by.name in (grant.requested_by, grant.user_name):
        raise AccountError("grant_second_person")
    status = "confirmed" if confirm else "refused"
    with store.write() as db:
        claimed = account_rows.claim_grant(db, grant_id, status, by.name, format_time(now))
    if not claimed:  # someone else decided it a moment ago
        raise AccountError("grant_not_waiting")
    password = secrets.token_urlsafe(12) if confirm else None
    if confirm:
        try:
            user = accounts.get_user(store, grant.user_name, include_disabled=True)
            if user is None:
                accounts.add_user(store, grant.user_name, grant.role, password,
                                  display_name=grant.display_name, now=now)
            else:
                accounts.update_user(store, grant.user_name, role=grant.role)
                accounts.set_password(store, grant.user_name, password)  # also ends every session
        except AccountError:
            with store.write() as db:
                account_rows.reopen_grant(db, grant_id)
            raise
    with store.write() as db:
        decided = _grant(account_rows.grant(db, grant_id))
        audit.record_in(db, by.name, "role_grant_confirmed" if confirm else "role_grant_refused",
                        f"user:{decided.user_name}",
                        f"role={decided.role} grant={decided.id} requested_by={decided.requested_by}",
                        at=format_time(now))
    return decided, password


def cancel_grant(store: Store, grant_id: int, *, by: str, now: datetime | None = None) -> Grant:
    """Withdraw a waiting request (an administrator changed their mind)."""
    now = _utc(now)
    with store.write() as db:
        _pending(db, grant_id, now)
        account_rows.set_grant_cancelled(db, grant_id, by, format_time(now))
        grant = _grant(account_rows.grant(db, grant_id))
        audit.record_in(db, by, "role_grant_cancelled", f"user:{grant.user_name}",
                        f"role={grant.role} grant={grant.id}", at=format_time(now))
        return grant
