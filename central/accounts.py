"""Central office users and their sessions, in the central store.

Users live in the store's ``users`` table so every server process behind a load balancer sees
the same people; passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106), and a
hash made with older parameters is upgraded at the next good sign-in.  An unknown name is
verified against a dummy hash, so a wrong name takes as long as a wrong password.

A session is a random token in an HttpOnly, SameSite=Strict cookie; the store keeps only its
SHA-256 (a stolen database copy signs nobody in), a per-session CSRF token, and the times that
end it: 30 minutes without a request (a desk left unattended) or 12 hours after sign-in,
whichever comes first.  Both are checked here, on the server, on every request.

Failed sign-ins are audit entries (naming the account only if it exists: a "name" typed
into the wrong box is often a password).  Guessing is slowed by :func:`begin_login`, per
account *and* client: the first three wrong passwords of one name from one client go straight
through, then each further try waits twice as long (2 s, 4 s, ... up to 15 minutes).  An
attacker slows down only their own tries; the account's owner, from another address or a
browser that signed in before (its device cookie), is not held up.  One address trying many
names has an allowance of its own.  Every try is counted in the store before the password is
checked, in one transaction (``central.throttle``), so parallel requests get no extra
guesses, whichever server process they reach.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


from sync.batch import format_time
from .errors import CentralError
from . import audit, throttle
from .db import accounts as account_rows, cases as case_rows
from .store import Store

__all__ = ["ADDRESS_FREE_TRIES", "FREE_TRIES", "MAX_DELAY", "MIN_PASSWORD", "ROLES",
           "SESSION_ABSOLUTE", "SESSION_IDLE", "UNIT_ROLES", "AccountError", "Session", "User",
           "add_user", "authenticate", "begin_login", "end_session", "end_user_sessions",
           "get_user", "list_users", "login_succeeded", "purge_sessions", "session_for",
           "set_disabled", "set_password", "SignIn", "sign_in", "sign_out", "start_session", "update_user"]

ROLES = ("admin", "responder", "analyst", "auditor", "oversight")
#: Roles whose users belong to a unit (oversight users always to the unit 'oversight').
UNIT_ROLES = ("responder", "oversight")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=12)
#: Wrong passwords of one name from one client that go straight through ...
FREE_TRIES = 3
#: ... then each try waits FIRST_DELAY, twice that, ... up to MAX_DELAY seconds.
FIRST_DELAY = 2.0
MAX_DELAY = 15 * 60
#: Tries from one address (clients without a device cookie), whatever names they type.
ADDRESS_FREE_TRIES = 20
#: last_seen is written at most this often, so reading pages is not one write per request.
_TOUCH_EVERY = timedelta(seconds=30)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("seda-central-no-such-user")


class AccountError(CentralError, ValueError):
    """A user could not be created or changed; says why in Persian and English."""


@dataclass(frozen=True)
class User:
    name: str
    display_name: str
    role: str
    unit: str | None
    disabled: bool = False
    created_at: str = ""


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    created_at: datetime
    last_seen: datetime
    expires_at: datetime


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()




def _user(row: tuple) -> User:
    name, display_name, role, unit, disabled, created_at = row
    return User(name, display_name, role, unit, bool(disabled), created_at)


# -- users -----------------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError("account_password_too_short", n=MIN_PASSWORD)


def _check_unit(store: Store, role: str, unit: str | None) -> str | None:
    """The unit a user of ``role`` belongs to: oversight users to 'oversight', responders to
    an ordinary active unit, everyone else to none."""
    if role not in ROLES:
        raise AccountError("account_role_unknown", roles=', '.join(ROLES))
    if role == "oversight":
        return "oversight"
    if role != "responder":
        return None
    if not unit:
        raise AccountError("account_responder_needs_unit")
    with store.connect() as db:
        row = case_rows.unit_state(db, unit)
    if row is None:
        raise AccountError("account_no_unit", unit=unit)
    if row[0] != "unit":
        raise AccountError("account_responder_specialist_unit")
    return unit


def add_user(store: Store, name: str, role: str, password: str, *, unit: str | None = None,
             display_name: str | None = None, now: datetime | None = None, actor: str | None = None) -> User:
    """Create a user; names are lower-case logins, passwords at least 10 characters.

    ``actor`` (the administrator's name, ``cli`` on the command line) is written to the audit
    log with the account, in one transaction; only code with no person behind it (a grant's
    own step, which audits the grant, seeding, fixtures) leaves it out."""
    name = (name or "").strip().lower()
    if not NAME_PATTERN.match(name):
        raise AccountError("account_name_invalid")
    unit = _check_unit(store, role, unit)
    _check_password(password)
    password_hash = _hasher.hash(password)
    with store.write() as db:
        if account_rows.user_exists(db, name):
            raise AccountError("account_name_taken", name=name)
        account_rows.add_user(db, name, (display_name or "").strip() or name, role, unit,
                              password_hash, format_time(_utc(now)))
        if actor is not None:
            audit.record_in(db, actor, "user_add", f"user:{name}", f"role={role} unit={unit or ''}",
                            at=format_time(_utc(now)))
    return get_user(store, name, include_disabled=True)


def update_user(store: Store, name: str, *, display_name: str | None = None,
                role: str | None = None, unit: str | None = None, actor: str | None = None,
                via: str | None = None, now: datetime | None = None) -> User:
    """Change a user's display name, role or unit (the unit is re-checked against the role);
    audited as ``actor`` (see :func:`add_user`), ``via`` saying where when it is unusual."""
    user = get_user(store, name, include_disabled=True)
    if user is None:
        raise AccountError("account_no_user", name=name)
    role = role or user.role
    unit = _check_unit(store, role, unit if unit is not None else user.unit)
    with store.write() as db:
        account_rows.update_user(db, name, (display_name or "").strip() or user.display_name, role,
                                 unit)
        if role != user.role or unit != user.unit:  # new powers start with a new sign-in
            account_rows.delete_user_sessions(db, name)
        if actor is not None:
            audit.record_in(db, actor, "user_update", f"user:{user.name}",
                            f"role={role} unit={unit or ''}" + (f" ({via})" if via else ""), at=format_time(_utc(now)))
    return get_user(store, name, include_disabled=True)


def get_user(store: Store, name: str, *, include_disabled: bool = False) -> User | None:
    with store.connect() as db:
        row = account_rows.user(db, (name or "").lower())
    if row is None:
        return None
    user = _user(row)
    return user if include_disabled or not user.disabled else None


def list_users(store: Store, *, unit: str | None = None, include_disabled: bool = True) -> list[User]:
    with store.connect() as db:
        rows = account_rows.users(db, unit=unit, include_disabled=include_disabled)
    return [_user(row) for row in rows]


def set_password(store: Store, name: str, password: str, *, actor: str | None = None,
                 now: datetime | None = None) -> None:
    """Set a new password and end the user's sessions (a reset signs every device out);
    audited as ``actor`` (see :func:`add_user`)."""
    _check_password(password)
    password_hash = _hasher.hash(password)
    with store.write() as db:
        if not account_rows.set_password_hash(db, name, password_hash):
            raise AccountError("account_no_user", name=name)
        account_rows.delete_user_sessions(db, name)
        if actor is not None:
            audit.record_in(db, actor, "user_password", f"user:{name}", at=format_time(_utc(now)))


def set_disabled(store: Store, name: str, disabled: bool = True, *, actor: str | None = None,
                 now: datetime | None = None) -> User:
    """Disable (or re-enable) a user; disabling ends their sessions at once.  Audited as
    ``actor`` (see :func:`add_user`)."""
    with store.write() as db:
        if not account_rows.set_user_disabled(db, name, disabled):
            raise AccountError("account_no_user", name=name)
        if disabled:
            account_rows.delete_user_sessions(db, name)
        if actor is not None:
            audit.record_in(db, actor, "user_disable" if disabled else "user_enable", f"user:{name}",
                            at=format_time(_utc(now)))
    return get_user(store, name, include_disabled=True)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user if the password is right and the user is enabled, else None (same time)."""
    name = (name or "").strip().lower()
    with store.connect() as db:
        row = account_rows.user_with_hash(db, name)
    stored = row[-1] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    user = _user(row[:-1])
    if user.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        new_hash = _hasher.hash(password)
        with store.write() as db:
            account_rows.update_password_hash(db, name, stored, new_hash)
    return user


# -- sign-in throttling -------------------------------------------------------------------


def _login_keys(name: str, client: str, address: str | None) -> list[str]:
    name = (name or "").strip().lower()
    keys = [f"login:{name}|{client}"]
    if address is not None:
        keys.insert(0, f"login-from:{address}")
    return keys


def begin_login(store: Store, name: str, client: str, *, address: str | None = None,
                now: datetime | None = None) -> int:
    """Count a sign-in try of ``name`` from ``client`` now; 0 if it may go ahead, else the
    seconds still to wait (and nothing is counted).

    ``client`` says who is asking: a device id from a signed cookie this browser got at an
    earlier good sign-in as ``name``, else the client's address.  ``address`` (clients without
    a device cookie) also counts against the address, with a larger allowance, so one address
    cannot try a few passwords on every account.
    """
    keys = _login_keys(name, client, address)
    for key in keys:
        free = ADDRESS_FREE_TRIES if key.startswith("login-from:") else FREE_TRIES
        verdict = throttle.begin_attempt(store, key, free=free, base=FIRST_DELAY, cap=MAX_DELAY,
                                         now=now)
        if not verdict.allowed:
            return verdict.retry_after
    return 0


def login_succeeded(store: Store, name: str, client: str, *, address: str | None = None,
                    now: datetime | None = None) -> None:
    """A good password: forget the account's count from this client, and take this try back
    from the address's count (staff behind one office address sign in every morning)."""
    keys = _login_keys(name, client, address)
    throttle.clear(store, keys[-1])
    if address is not None:
        throttle.forgive(store, keys[0], free=ADDRESS_FREE_TRIES, base=FIRST_DELAY, cap=MAX_DELAY,
                         now=now)


@dataclass(frozen=True)
class SignIn:
    """One sign-in try's outcome: the user and their new session's cookie token, or the
    seconds to wait (throttled), or neither (a wrong name or password)."""
    user: User | None = None
    token: str | None = None
    wait: int = 0


def _audit_target(store: Store, name: str) -> str:
    """``user:<name>`` for an existing account; a typed name that is no account is not
    written down (it is often a password typed into the wrong box)."""
    return f"user:{name}" if name and get_user(store, name, include_disabled=True) else "user:?"


def sign_in(store: Store, name: str, password: str, *, client: str, address: str,
            throttle_address: bool, replacing: str | None = None, now: datetime | None = None) -> SignIn:
    """One try to sign in as ``name``: throttled (:func:`begin_login`; ``throttle_address``
    counts it against ``address`` too), checked, and audited whatever the outcome
    (``login_throttled``, ``login_failed``, ``login``, with ``address``).  A good try ends
    the session the browser had (``replacing``, its cookie token) and starts a new one."""
    now = _utc(now)
    from_address = address if throttle_address else None
    wait = begin_login(store, name, client, address=from_address, now=now)
    if wait:
        audit.record(store, "-", "login_throttled", _audit_target(store, name), address, now=now)
        return SignIn(wait=wait)
    user = authenticate(store, name, password)
    if user is None:
        audit.record(store, "-", "login_failed", _audit_target(store, name), address, now=now)
        return SignIn()
    login_succeeded(store, name, client, address=from_address, now=now)
    end_session(store, replacing)
    token, _ = start_session(store, user, now=now)
    audit.record(store, user.name, "login", f"user:{user.name}", address, now=now)
    return SignIn(user, token)


def sign_out(store: Store, token: str | None, user: User | None, *, now: datetime | None = None) -> None:
    """End the session of ``token``; audited (``logout``) when it was ``user``'s."""
    if user is not None:
        audit.record(store, user.name, "logout", f"user:{user.name}", now=_utc(now))
    end_session(store, token)


# -- sessions -------------------------------------------------------------------------------


def start_session(store: Store, user: User, *, now: datetime | None = None) -> tuple[str, Session]:
    """A new session for ``user``: returns the cookie token (never stored) and the session."""
    now = _utc(now)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_ABSOLUTE
    purge_sessions(store, now=now)
    with store.write() as db:
        account_rows.add_session(db, _token_hash(token), user.name, csrf, format_time(now),
                                 format_time(expires))
    return token, Session(user, csrf, now, now, expires)


def session_for(store: Store, token: str | None, *, now: datetime | None = None) -> Session | None:
    """The live session behind a cookie token, or None.

    A session idle for 30 minutes, past its 12 hours, or whose user was disabled is deleted
    and None returned; a live one has its ``last_seen`` moved to ``now``.
    """
    if not token:
        return None
    now = _utc(now)
    digest = _token_hash(token)
    with store.connect() as db:
        row = account_rows.session(db, digest)
    if row is None:
        return None
    csrf, created_at, last_seen, expires_at = row[0], _parse(row[1]), _parse(row[2]), _parse(row[3])
    user = _user(row[4:])
    if user.disabled or now >= expires_at or now - last_seen >= SESSION_IDLE:
        end_session(store, token)
        return None
    if now - last_seen >= _TOUCH_EVERY:
        with store.write() as db:
            account_rows.touch_session(db, digest, format_time(now))
        last_seen = now
    return Session(user, csrf, created_at, last_seen, expires_at)


def end_session(store: Store, token: str | None) -> None:
    """Sign out: the session row is deleted, so the cookie is worthless from now on."""
    if not token:
        return
    with store.write() as db:
        account_rows.delete_session(db, _token_hash(token))


def end_user_sessions(store: Store, name: str) -> int:
    with store.write() as db:
        return account_rows.delete_user_sessions(db, name)


def purge_sessions(store: Store, *, now: datetime | None = None) -> int:
    """Delete every expired session row (idle or past its absolute end); returns how many."""
    now = _utc(now)
    with store.write() as db:
        return account_rows.delete_expired_sessions(db, format_time(now),
                                                    format_time(now - SESSION_IDLE))
