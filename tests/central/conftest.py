"""The central office tests' fixtures: web clients signed in through the real form, a clock
that moves only when told, and offices that file cases in real signed batches.

    def test_something(store, make_user, login, web_client):
        make_user(store, "sara", "responder", unit="licences")
        client = login(web_client(store), "sara")
        page = client.get("/cases/")

``make_user`` creates the unit of a responder if it does not exist yet.  ``login`` signs in
through the real form (CSRF and all) and leaves the session's CSRF token on the client as
``client.csrf``; ``post(client, url, data)`` adds it to a form.  A ``make_clock()`` clock passed to
``web_client`` drives session expiry and audit times without sleeping.  ``case_office(store,
client)`` files cases through ``POST /v1/batches``; ``case_sender(store)`` applies signed batches to
the store directly (intake and routing included).
"""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central import Store, create_app
from central.portal import PortalSettings, create_portal_app
from central import accounts
from forms.tracking_codes import new_tracking_code
from kiosk.cases import CaseDraft
from sync.batch import BatchRecord, encode_batch, format_time, parse_batch, verify_batch
from forms.signatures import public_key_hex
from forms.sealing import seal

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """A clock that only moves when told: ``clock.advance(minutes=31)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def make_user(store: Store, name: str, role: str, *, unit: str | None = None,
              password: str = PASSWORD, display_name: str | None = None) -> accounts.User:
    """A user of ``role`` (responders: in ``unit``, created as an ordinary unit if missing)."""
    if role == "responder" and unit:
        _ensure_unit(store, unit)
    return accounts.add_user(store, name, role, password, unit=unit,
                             display_name=display_name or f"کاربر {name}")


def _ensure_unit(store: Store, code: str) -> None:
    with store.write() as db:
        db.execute("INSERT INTO units (code, name_fa, name_en, kind, created_at)"
                   " VALUES (?, ?, ?, 'unit', ?) ON CONFLICT (code) DO NOTHING",
                   (code, f"واحد {code}", f"Unit {code}", "2026-11-30T00:00:00Z"))


def web_client(store: Store, *, clock: FakeClock | None = None):
    """A Flask test client on the real central app; ``clock`` fakes the time."""
    app = create_app(store)
    app.config["TESTING"] = True
    if clock is not None:
        app.config["SEDA_WEB_CLOCK"] = clock
    client = app.test_client()
    client.csrf = None
    return client


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def login(client, name: str, password: str = PASSWORD):
    """Sign ``client`` in through the login form; returns the client (``client.csrf`` set)."""
    page = client.get("/login")
    answer = client.post("/login", data={"name": name, "password": password,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    store = client.application.extensions["seda.web"].store
    with store.connect() as db:  # the newest session of this user is the one just started
        client.csrf = db.one("SELECT csrf_token FROM sessions WHERE user_name = ?"
                             " ORDER BY created_at DESC LIMIT 1", (name,))[0]
    return client


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token added."""
    return client.post(url, data={**(data or {}), "csrf_token": client.csrf}, **kwargs)


NAME, NATIONAL_ID, MOBILE = "مریم احمدی", "0499370899", "09121234567"


class CaseOffice:
    """An office that files cases with real signed batches (``POST /v1/batches``)."""

    def __init__(self, store: Store, client, code: str = "THR-012") -> None:
        self.code = code
        self.store = store
        self.client = client
        self.key = Ed25519PrivateKey.generate()
        self.seq = 0
        store.add_office(code, public_key_hex(self.key))

    def file(self, *, case_type: str = "complaint", service: str = "smart_id_card",
             text: str = "کارت هوشمند من پس از سه ماه هنوز صادر نشده است.", anonymous: bool = False,
             identity: bool = False, attachments: list[tuple[bytes, str]] = (), sealed_to=None,
             created_at: datetime | None = None) -> tuple[str, str]:
        """File one case; returns ``(case uuid, tracking code)``."""
        at = format_time(created_at or datetime.now(timezone.utc))
        records = []
        shas = []
        for data, media_type in attachments:
            sha = hashlib.sha256(data).hexdigest()
            shas.append(sha)
            self.store.put_blob(sha, data)  # what PUT /v1/blobs/<sha> does after its signature check
            records.append(BatchRecord(uuid=str(uuid.uuid4()), kind="attachment", office=self.code,
                                       created_at=at, body={"sha256": sha, "media_type": media_type,
                                                            "size": len(data)}))
        code = new_tracking_code()
        draft = CaseDraft(type=case_type, service=service, text=text, anonymous=anonymous,
                          attachments=tuple(shas),
                          **({"name": NAME, "national_id": NATIONAL_ID, "mobile": MOBILE}
                             if identity else {}))
        body = draft.body(code)
        if sealed_to is not None:
            body = seal(body, sealed_to)
        case = BatchRecord(uuid=str(uuid.uuid4()), kind="case", office=self.code, created_at=at, body=body)
        records.append(case)
        self.seq += 1
        data = encode_batch(office=self.code, seq=self.seq, records=records, key=self.key, created_at=at)
        answer = self.client.post("/v1/batches", data=data)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return case.uuid, code


OFFICES = ("THR-012", "ISF-001")
TEXT = "کارت هوشمند من پس از سه ماه هنوز صادر نشده است."


class CaseSender:
    """Registered offices that send cases to ``store``."""

    def __init__(self, store: Store, offices: tuple[str, ...] = OFFICES) -> None:
        self.store = store
        self.keys = {code: Ed25519PrivateKey.generate() for code in offices}
        self.seq = dict.fromkeys(offices, 0)
        for code, key in self.keys.items():
            store.add_office(code, public_key_hex(key))

    def record(self, *, office: str = OFFICES[0], case_type: str = "complaint",
               service: str | None = "smart_id_card", text: str = TEXT, identity: bool = False,
               anonymous: bool = False, created_at: datetime | None = None,
               national_id: str = NATIONAL_ID) -> BatchRecord:
        draft = CaseDraft(type=case_type, service=service, text=text, anonymous=anonymous,
                          **({"name": NAME, "national_id": national_id, "mobile": MOBILE}
                             if identity else {}))
        at = format_time(created_at or datetime.now(timezone.utc))
        return BatchRecord(uuid=str(uuid.uuid4()), kind="case", office=office, created_at=at,
                           body=draft.body(new_tracking_code()))

    def send(self, *records: BatchRecord, office: str = OFFICES[0]) -> dict:
        self.seq[office] += 1
        data = encode_batch(office=office, seq=self.seq[office], records=list(records),
                            key=self.keys[office], created_at=format_time(datetime.now(timezone.utc)))
        return self.store.apply_batch(verify_batch(parse_batch(data),
                                                   self.store.office_public_key(office)))

    def file(self, **fields) -> BatchRecord:
        """One case, sent in its own batch; returns its record (``.uuid`` is the case's)."""
        record = self.record(**fields)
        self.send(record, office=record.office)
        return record


@pytest.fixture(scope="session")
def staff_password() -> str:
    """The password make_user gives every user unless told otherwise."""
    return PASSWORD


@pytest.fixture(scope="session")
def case_text() -> str:
    """A complaint's text, as a citizen types it."""
    return TEXT


@pytest.fixture(scope="session")
def citizen_name() -> str:
    return NAME


@pytest.fixture(scope="session")
def citizen_national_id() -> str:
    return NATIONAL_ID


@pytest.fixture(scope="session")
def citizen_mobile() -> str:
    return MOBILE


# -- the citizens' portal ------------------------------------------------------------------------

PORTAL_CODE = re.compile(r'data-code="(\d+)"')
SUBMISSION = re.compile(r'name="submission" value="([0-9a-f]{32})"')


def portal_client(store, home: Path, **settings):
    """A Flask test client on the real portal app over ``store``."""
    app = create_portal_app(store, home=home, settings=PortalSettings(**settings))
    app.config["TESTING"] = True
    return app.test_client()


def submission_of(client, path: str = "/file") -> str:
    """The one-time submission token of a portal form."""
    return SUBMISSION.search(client.get(path).get_data(as_text=True)).group(1)


def file_complaint(client, **fields):
    """File a complaint on the portal as a phone would."""
    data = {"submission": submission_of(client), "type": "complaint", "service": "smart_id_card",
            "text": "صف خیلی طولانی بود", "mobile": "09121234567", **fields}
    return client.post("/file", data=data)


def code_in(response) -> str:
    """The tracking code a portal page shows."""
    match = PORTAL_CODE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


# Plain helpers, handed to tests by name (session fixtures that return the function or class).
for _name, _helper in {"make_clock": FakeClock, "case_office": CaseOffice, "case_sender": CaseSender,
                       "make_user": make_user, "web_client": web_client, "csrf_from": csrf_from,
                       "login": login, "post": post, "portal_client": portal_client,
                       "submission_of": submission_of, "file_complaint": file_complaint,
                       "code_in": code_in}.items():
    globals()[f"{_name}_fixture"] = pytest.fixture(scope="session", name=_name)(lambda _helper=_helper: _helper)
