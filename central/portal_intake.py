"""Filing on the portal: a case (stored once, routed at once) or a sealed misconduct report.

The service behind the portal's filing pages (central/portal/file_pages.py); its queries are
in central/db (records, portal_submissions, public_cases).

A case is a record of kind ``case`` under the office code ``PORTAL`` with the kiosk's body
(forms/case_form.py) and ``channel: "portal"``; it gets its ``cases`` row (unit, deadline) in
the same transaction (casework.intake), exactly like an Open311 case.

A misconduct report gets the kiosk's guarantees: it is sealed to the oversight key in memory
before anything is written (sync/sealing.py: only type, route, channel and the follow-up
locator stay readable; the tracking code is inside the seal), its attachment is sealed bytes,
and it carries no time finer than the hour (record, ``received_at``, casework rows).  It is
held, sealed, until that hour has ended and then released with the hour's other reports in
shuffled order (central/held_reports.py), so neither the moment it reaches the oversight
inbox nor its place among the records can be matched with a visitor.  The portal keeps no address or user agent of anyone, for any filing.

Each filing form carries a one-time id (``submission``); a form sent twice (a double tap, a
retry on a bad connection) files one case and shows the same tracking code again.  The code is
kept with the id only sealed to the id itself, which only the citizen's browser holds.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid as uuidlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from forms.case_form import CaseDraft
from forms.messages import localize_number
from forms.tracking_codes import new_tracking_code

from sync.batch import BatchRecord, format_time
from forms.follow_up import follow_up_locator
from forms.sealing import (MISCONDUCT_CLEAR_FIELDS, SEALED_MEDIA_TYPE, seal, seal_bytes,
                          verify_key_statement)
from . import casework, held_reports, ingest
from .db import portal_submissions, public_cases, records
from .errors import CentralError

__all__ = ["ACCEPTED_MEDIA", "PORTAL_OFFICE", "AttachmentRefused", "Filed", "check_attachment",
           "file_case", "file_report", "new_submission_id"]

#: The office code of cases filed on the portal (the record's ``office``; not a real office).
PORTAL_OFFICE = "PORTAL"

#: What a citizen may attach: a photo or a document, recognised by its first bytes (never by
#: the name or the type the browser claims).
ACCEPTED_MEDIA = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png",
                  b"%PDF-": "application/pdf"}
_SUBMISSION = re.compile(r"^[0-9a-f]{32}$")


class AttachmentRefused(CentralError):
    """An upload the portal does not take (too big, or not a photo or a PDF): a
    ``portal_attachment_*`` key of the central catalogue."""


class _Repeated(Exception):
    """Another request stored this submission first: roll back, read what it stored."""


@dataclass(frozen=True)
class Filed:
    tracking_code: str
    case_uuid: str
    case_type: str
    sealed: bool
    deadline_days: int
    has_mobile: bool
    #: The same form was sent before: nothing new was stored.
    repeated: bool = False


def new_submission_id() -> str:
    return os.urandom(16).hex()


def check_attachment(data: bytes, max_bytes: int) -> tuple[bytes, str] | None:
    """``(data, media type)`` of an upload, None for no upload, or :class:`AttachmentRefused`."""
    if not data:
        return None
    if len(data) > max_bytes:
        megabytes = f"{max_bytes / (1024 * 1024):g}"
        raise AttachmentRefused("portal_attachment_too_large",
                                megabytes=partial(localize_number, megabytes))
    for magic, media_type in ACCEPTED_MEDIA.items():
        if data.startswith(magic):
            return data, media_type
    raise AttachmentRefused("portal_attachment_not_accepted")


def _submission_key(submission: str) -> bytes:
    return hashlib.sha256(b"seda-portal-submission/1\n" + submission.encode("ascii")).digest()


def _seal_code(code: str, submission: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + ChaCha20Poly1305(_submission_key(submission)).encrypt(
        nonce, code.encode("ascii"), None)).decode("ascii")


def _open_code(sealed: str, submission: str) -> str | None:
    raw = base64.b64decode(sealed)
    try:
        return ChaCha20Poly1305(_submission_key(submission)).decrypt(raw[:12], raw[12:], None).decode()
    except InvalidTag:
        return None


def _check_submission(submission: str) -> str:
    if not _SUBMISSION.fullmatch(submission or ""):
        raise ValueError("a filing form's submission id is 32 lowercase hex digits")
    return submission


def _earlier(store, submission: str, draft: CaseDraft) -> Filed | None:
    with store.connect() as db:
        row = portal_submissions.submission(db, submission)
        if row is None:
            return None
        days = casework.deadline_days_in(db)
    code = _open_code(row[1], submission)
    if code is None:
        return None
    return Filed(code, row[0], draft.type, draft.route == "oversight",
                 int(days.get(draft.type, 10)), bool(draft.mobile), repeated=True)


def _remember(db, submission: str, case_uuid: str, code: str, at: str) -> None:
    if not portal_submissions.remember(db, submission, case_uuid, _seal_code(code, submission), at):
        raise _Repeated


def _attachment_record(db, data: bytes, media_type: str, created_at: str, purpose: str) -> str:
    sha256 = hashlib.sha256(data).hexdigest()
    records.insert_blob(db, sha256, data, created_at)
    record = BatchRecord(uuid=str(uuidlib.uuid4()), kind="attachment", office=PORTAL_OFFICE,
                         created_at=created_at, body={"sha256": sha256, "media_type": media_type,
                                                      "size": len(data), "purpose": purpose})
    ingest.insert_central_record(db, record, received_at=created_at)
    return sha256


def file_case(store, draft: CaseDraft, *, submission: str,
              attachment: tuple[bytes, str] | None = None,
              extra: dict | None = None) -> Filed:
    """Store a request, complaint, suggestion or criticism filed on the portal; ``extra``
    adds ``office_about`` (the office it concerns) to the body (``sms_consent`` comes with the
    draft, as from the kiosk)."""
    if draft.route == "oversight":
        raise ValueError("a misconduct report is filed with file_report (sealed)")
    submission = _check_submission(submission)
    earlier = _earlier(store, submission, draft)
    if earlier is not None:
        return earlier
    draft = replace(draft, channel="portal")
    now = format_time(datetime.now(timezone.utc))
    try:
        with store.write() as db:
            db.lock("draw_tracking_code")  # one code drawer at a time, as add_central_case
            attachments = list(draft.attachments)
            if attachment is not None:
                attachments.append(_attachment_record(db, *attachment, now, "case"))
            code = new_tracking_code(lambda c: records.tracking_code_taken(db, c))
            body = {**replace(draft, attachments=tuple(attachments)).body(code), **(extra or {})}
            record = BatchRecord(uuid=str(uuidlib.uuid4()), kind="case", office=PORTAL_OFFICE,
                                 created_at=now, body=body)
            ingest.insert_central_record(db, record, received_at=now)
            casework.intake(db, [record], now)
            _remember(db, submission, record.uuid, code, now)
            days = casework.deadline_days_in(db)
    except _Repeated:
        return _earlier(store, submission, draft) or _fail_repeated()
    return Filed(code, record.uuid, draft.type, False, int(days.get(draft.type, 10)),
                 bool(draft.mobile))


def _fail_repeated() -> Filed:
    raise RuntimeError("a repeated submission could not be read back")


def oversight_public_key(keys):
    """The X25519 key misconduct reports are sealed to (the one every office pins)."""
    return verify_key_statement(keys.oversight_statement(), keys.signing.public_key())


def file_report(store, keys, draft: CaseDraft, *, submission: str,
                attachment: tuple[bytes, str] | None = None, now: datetime | None = None) -> Filed:
    """Seal a misconduct report to the oversight key and hold it until its hour has ended
    (central/held_reports.py): only the hour is kept, and the moment it reaches the oversight
    inbox, or its place among the records, cannot point at the visitor who filed it."""
    if draft.route != "oversight":
        raise ValueError("only a misconduct report is filed sealed")
    submission = _check_submission(submission)
    earlier = _earlier(store, submission, draft)
    if earlier is not None:
        return earlier
    draft = replace(draft, channel="portal")
    public_key = oversight_public_key(keys)
    hour = casework.hour_of(format_time(now or datetime.now(timezone.utc)))
    blob = seal_bytes(attachment[0], attachment[1], public_key) if attachment else None
    for _ in range(20):
        code = new_tracking_code()
        locator = follow_up_locator(code, PORTAL_OFFICE)  # Argon2id: outside the write lock
        attachments = [*draft.attachments, *([hashlib.sha256(blob).hexdigest()] if blob else [])]
        body = {**replace(draft, attachments=tuple(attachments)).body(code), "follow_up": locator}
        sealed = seal(body, public_key, keep=MISCONDUCT_CLEAR_FIELDS)
        try:
            with store.write() as db:
                db.lock("draw_tracking_code")
                if public_cases.locator_taken(db, locator) or held_reports.follow_up_taken(db, locator):
                    continue  # the code drawn is in use: draw again
                record = BatchRecord(uuid=str(uuidlib.uuid4()), kind="case", office=PORTAL_OFFICE,
                                     created_at=hour, body=sealed)
                held_reports.hold(db, record, follow_up=locator,
                                  attachment=(blob, SEALED_MEDIA_TYPE) if blob is not None else None)
                _remember(db, submission, record.uuid, code, hour)
                days = casework.deadline_days_in(db)
        except _Repeated:
            return _earlier(store, submission, draft) or _fail_repeated()
        return Filed(code, record.uuid, "misconduct", True, int(days.get("misconduct", 10)), False)
    raise RuntimeError("could not draw an unused tracking code; is the random source broken?")
