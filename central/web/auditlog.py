"""The auditor's page: the audit log with filters (who, what, which thing, which days).

Dates are typed and shown in the Jalali calendar; a day means the Tehran calendar day, so
"1405/09/09" finds what happened on that day at the office, not on that UTC day.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request

from forms.persian import InvalidInput, parse_jalali_date

from forms.workdays import TEHRAN
from .. import audit
from . import auth
from .common import error_text, field, flash_error, page_number

__all__ = ["bp"]

PAGE_SIZE = 100


bp = Blueprint("auditlog", __name__, url_prefix="/audit")


def _day_start(text: str) -> datetime | None:
    """The first moment (Tehran) of a typed Jalali day; None if nothing was typed."""
    if not text:
        return None
    return datetime.combine(parse_jalali_date(text), time(0), tzinfo=TEHRAN)


@bp.route("/")
@auth.require("auditor")
def log() -> tuple[str, int]:
    args = request.args
    actor, action, target = field("actor", source=args).lower(), field("action", source=args), \
        field("target", source=args)
    status = 200
    since = until = None
    try:
        since = _day_start(field("from", source=args))
        last = _day_start(field("to", source=args))
        until = last + timedelta(days=1) if last else None
    except InvalidInput as exc:
        flash_error(error_text(exc))
        status = 400
    page = page_number()
    entries, total = audit.entries(auth.store(), actor=actor or None, action=action or None,
                                   target=target or None, since=since, until=until,
                                   limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    entries = audit.hide_misconduct(auth.store(), entries)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render_template("central/audit_log.html", entries=entries, total=total, page=page,
                           pages=pages, actions=audit.actions(auth.store()),
                           filters={"actor": actor, "action": action, "target": target,
                                    "from": args.get("from", ""), "to": args.get("to", "")}), status
