"""The office's cases list for staff, without the citizen's identity unless a manager asks.

Complaints are often about the people who read this list (staff behaviour), so local staff
see what they need to act on -- type, service, status, tracking code -- and never who wrote.
The office manager sees the text and recordings too; a visitor's name, national ID and
mobile appear only after an explicit "show" on one case, and every such showing is an audit
record in the ledger (who, which case, when).  Misconduct reports never appear here at all.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import abort, g, render_template

from ledger.centre_sent import CentreSent
from ledger.ledger import Ledger, Record

from . import published
from .staff_session import bp, login_required
from .state import ledger, state

__all__ = ["IDENTITY_FIELDS", "has_identity", "latest_status", "office_cases", "reveal_identity"]

#: What a visitor may give about themselves on the case form.
IDENTITY_FIELDS = ("name", "national_id", "mobile")

#: The role that may ask to see who filed a case.
IDENTITY_ROLE = "office_manager"


def office_cases(records: Iterable[Record]) -> tuple[list[Record], int]:
    """Cases this office may list (newest first) and how many went to oversight."""
    visible, oversight = [], 0
    for record in records:
        if record.body.get("route") == "oversight" or record.body.get("type") == "misconduct":
            oversight += 1
        else:
            visible.append(record)
    visible.reverse()
    return visible, oversight


def has_identity(body: dict[str, Any]) -> bool:
    """Whether the visitor gave anything that says who they are."""
    return not body.get("anonymous") and any(body.get(field) for field in IDENTITY_FIELDS)


def latest_status(updates: list[dict[str, Any]]) -> str:
    """The last status the centre sent for a case; ``received`` until anything came back."""
    for update in reversed(updates):
        if update.get("status"):
            return str(update["status"])
    return "received"


def reveal_identity(book: Ledger, record: Record, *, by: str, office: str) -> dict[str, str]:
    """The visitor's identity on one case, written to the audit trail before it is returned."""
    shown = [field for field in IDENTITY_FIELDS if record.body.get(field)]
    book.append("audit", {"event": "case_identity_view", "case": record.uuid,
                          "tracking_code": record.body.get("tracking_code"), "fields": shown,
                          "by": by}, office=office)
    return {field: str(record.body[field]) for field in shown}


def render_cases(revealed: dict[str, Any] | None = None, revealed_uuid: str | None = None):
    """The cases page; ``revealed`` is the identity of the one case a manager asked to see."""
    visible, oversight = office_cases(ledger().records("case"))
    visible = visible[:500]
    sent = CentreSent(ledger())
    statuses = {record.uuid: latest_status(sent.pulled_case_updates(record.body["tracking_code"]))
                for record in visible if record.body.get("tracking_code")}
    services = {s.id: s.name for s in published.services()}
    return render_template("staff/cases.html", cases=visible, oversight=oversight, services=services,
                           statuses=statuses, has_identity=has_identity,
                           may_reveal=g.staff.can(IDENTITY_ROLE), revealed=revealed or {},
                           revealed_uuid=revealed_uuid)


@bp.route("/cases")
@login_required("scanner_operator")
def cases():
    return render_cases()


@bp.route("/cases/<case_uuid>/identity", methods=["POST"])
@login_required(IDENTITY_ROLE)
def case_identity(case_uuid: str):
    """Show one case's identity to the office manager (a POST: it is audited, never cached)."""
    visible, _oversight = office_cases(ledger().records("case"))
    record = next((r for r in visible if r.uuid == case_uuid), None)
    if record is None or not has_identity(record.body):
        abort(404)
    identity = reveal_identity(ledger(), record, by=g.staff.name, office=state().config.office)
    return render_cases(identity, case_uuid)  # the app sends every page with no-store
