"""Claiming an office for this installation: the identity file and the ledger agree.

``$SEDA_HOME/office.toml`` (forms/office_identity.py) says which office every part writes for;
the ledger is bound to the same code so SQLite itself refuses a record that sync would never
send.  Both are written here, together, by ``seda office setup`` and ``seda sync setup``.
"""
from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from forms.office_identity import check_same_office, read_office, write_office

from .ledger import Ledger, default_ledger_path

__all__ = ["OfficeClaim", "adopt_stranded", "claim_office", "stranded_counts"]

#: Namespace of an adopted record's new UUID: adopting twice writes the same records once.
ADOPTED_NAMESPACE = uuidlib.UUID("5eda0000-0000-4000-8000-00000000ad09")

#: Kinds that describe paper printed under the old code: the sheets keep their old code, so
#: their issuance stays where it is (the scanner still knows those serials).
NOT_ADOPTED = frozenset({"sheet_issuance"})


@dataclass(frozen=True)
class OfficeClaim:
    office: str
    previous: str | None
    #: Records under other office codes than ``office``: never sent unless adopted.
    stranded: dict[str, int]


def claim_office(home: Path, office: str, *, change: bool = False) -> OfficeClaim:
    """Make ``office`` this installation's office, in office.toml and in the ledger.

    A different office already set is refused (OfficeIdentityError) unless ``change``; a change
    leaves the old code's records stranded, and :attr:`OfficeClaim.stranded` says how many."""
    previous = read_office(home)
    if not change:
        check_same_office(home, office, "--office")
    if previous != office:
        write_office(home, office)
    with Ledger.open(default_ledger_path(home)) as ledger:
        if ledger.bound_office != office:
            ledger.bind_office(office)
        stranded = stranded_counts(ledger)
    return OfficeClaim(office, previous, stranded)


def stranded_counts(ledger: Ledger) -> dict[str, int]:
    """Records under codes other than the ledger's own office, not yet adopted (all of them if
    the ledger is unbound); issued-sheet records are paper's, not a citizen's, and not counted."""
    own = ledger.bound_office
    adopted = ledger.adopted_counts()
    counts = {code: n - adopted.get(code, 0)
              for code, n in ledger.office_counts(except_kinds=NOT_ADOPTED).items() if code != own}
    return {code: n for code, n in counts.items() if n > 0}


def adopt_stranded(ledger: Ledger, old_office: str, *, by: str) -> int:
    """Write every record of ``old_office`` again under this ledger's office, so sync sends it.

    The ledger is append-only, so the old records stay; each copy names its original
    (``adopted_from``) and has a UUID derived from it, so running this twice adds nothing and
    the centre can tell a copy from a new record.  Sealed reports still held (not yet records)
    simply move to this office.  Returns the records written or moved."""
    own = ledger.bound_office
    if own is None:
        raise ValueError("this ledger is not bound to an office; run `seda office setup` first")
    if old_office == own:
        raise ValueError(f"{old_office} is this office's own code: its records are sent already")
    written = 0
    with ledger.transaction():
        written += ledger.move_held(old_office, own)
        for record in list(ledger.records()):
            if record.office != old_office or record.kind in NOT_ADOPTED:
                continue
            body = dict(record.body)
            body["adopted_from"] = {"office": old_office, "uuid": record.uuid}
            new_uuid = uuidlib.uuid5(ADOPTED_NAMESPACE, f"{own}/{record.uuid}")
            before = ledger.get(new_uuid)
            ledger.append(record.kind, body, office=own, uuid=new_uuid, created_at=record.created_at)
            written += before is None
        if written:
            ledger.append("audit", {"event": "stranded_adopted", "from_office": old_office,
                                    "records": written, "by": by}, office=own)
    return written
