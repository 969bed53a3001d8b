"""Cases that reach a central store the way real ones do: in signed office batches.

``CaseSender(store).file(...)`` makes a kiosk-shaped case record, signs it into a batch as
the office would, and applies it with :meth:`Store.apply_batch` (intake and routing included).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases import CaseDraft
from forms.tracking_codes import new_tracking_code
from sync.batch import BatchRecord, encode_batch, format_time, parse_batch, verify_batch
from central import Store
from forms.signatures import public_key_hex

OFFICES = ("THR-012", "ISF-001")
NAME, NATIONAL_ID, MOBILE = "مریم احمدی", "0499370899", "09121234567"
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
