"""What a printed receipt says: one small model, drawn by the thermal printer or the browser.

The kiosk's receipt screen and the 80 mm paper receipt show the same facts.  They are gathered
here, once, from the visit's receipt, so the printer driver (kiosk/receipt_printer.py) draws a
:class:`ReceiptModel` and never reads the visit or the settings itself; a new line on the
receipt (a deadline, the portal link) is one more field here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from forms.tracking_codes import format_tracking_code

from .i18n import jalali, number, translate

__all__ = ["ReceiptModel", "receipt_model"]


@dataclass(frozen=True)
class ReceiptModel:
    """The receipt's lines in reading order, already in the visitor's language and digits."""

    title: str
    #: (label, value) pairs: office, kind of case, date, and whatever later issues add.
    lines: tuple[tuple[str, str], ...]
    code_label: str
    #: The tracking code as the visitor reads it (Persian digits in Persian).
    tracking_code: str
    #: What the QR code holds (today the tracking code; the follow-up link once there is one).
    qr_payload: str
    note: str
    #: A line set apart (a misconduct report sent to the oversight unit).
    notice: str | None = None
    rtl: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def receipt_model(receipt: dict[str, Any], *, office: str, lang: str = "fa",
                  office_name: str | None = None, deadline_days: int | None = None,
                  portal_url: str | None = None) -> ReceiptModel:
    """The model of the receipt the visit's ``receipt`` dict describes (kiosk/visitor.py):
    the office by name where it has one, the answer deadline, and where to read the answer."""
    created: datetime = receipt["created_at"]
    lines = (
        (translate("receipt_office", lang), office_name or office),
        (translate("receipt_type", lang), translate(f"type_{receipt['type']}", lang)),
        (translate("receipt_date", lang), jalali(created, lang)),
    )
    notes = [translate("receipt_keep", lang)]
    if deadline_days and receipt.get("route") != "oversight":
        notes.append(translate("receipt_deadline", lang, days=deadline_days))
    if portal_url:
        notes.append(translate("receipt_portal", lang, url=portal_url))
    if receipt.get("has_mobile"):
        notes.append(translate("receipt_last4", lang))
    code = receipt["tracking_code"]
    return ReceiptModel(
        title=f"{translate('app_name', lang)} · {translate('receipt_title', lang)}",
        lines=lines,
        code_label=translate("receipt_code", lang),
        tracking_code=number(format_tracking_code(code), lang),
        qr_payload=receipt.get("follow_up_url") or code,
        note=" ".join(notes),
        notice=translate("receipt_routed_oversight", lang) if receipt.get("route") == "oversight" else None,
        rtl=lang != "en",
    )
