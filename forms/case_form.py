"""What a citizen files as a case, checked the same way wherever it is filed.

The kiosk's written-case screens and the central office's public portal take the same fields
(type, service, text, optional identity) and must refuse the same mistakes with the same
words, so the check lives here, once: :func:`check_case_form` turns what was typed into a
:class:`CaseDraft` or a list of :class:`FieldError` (every problem at once), and
:meth:`CaseDraft.body` is the case record's body (docs/kiosk.md: the ledger contract).
Anonymous cases drop the identity fields in the check, before anything could store them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .messages import messages_for
from .persian import InvalidInput, normalize_input, normalize_mobile, normalize_national_id

__all__ = ["CASE_TYPES", "MAX_NAME", "MAX_TEXT", "STATUSES", "WRITTEN_TYPES", "CaseDraft",
           "FieldError", "check_case_form"]

#: What a visitor can choose on the written-case screen (Article 9, clauses 2 and 6).
WRITTEN_TYPES = ("request", "complaint", "suggestion", "criticism")
#: Every case type the kiosk files; misconduct reports (clause 1) go to the oversight unit.
CASE_TYPES = WRITTEN_TYPES + ("misconduct", "voice")
#: Statuses a case can have (the central server's words, forms.cases.CASE_STATUSES);
#: "received" is implied by the case record itself.
STATUSES = ("received", "routed", "assigned", "in_progress", "answered", "closed", "referred",
            "rejected_duplicate", "rejected_not_ours", "rejected")
MAX_TEXT = 4000
MAX_NAME = 100
#: The form errors' words (forms/translations).
_MESSAGES = messages_for("forms")


class FieldError(ValueError):
    """One form field is wrong; ``field`` names it, messages say how to fix it."""

    def __init__(self, field: str, message_fa: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_fa = message_fa
        self.message_en = message_en


@dataclass(frozen=True)
class CaseDraft:
    """A checked case, ready to be filed; identity fields are empty when anonymous."""

    type: str
    service: str
    text: str
    anonymous: bool
    name: str = ""
    national_id: str = ""
    mobile: str = ""
    attachments: tuple[str, ...] = ()
    #: Where it was filed: ``kiosk`` or ``portal`` (the record's ``channel``).
    channel: str = "kiosk"

    @property
    def route(self) -> str:
        """Who reads it: misconduct reports bypass the office and go to oversight."""
        return "oversight" if self.type == "misconduct" else "office"

    def body(self, tracking_code: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "tracking_code": tracking_code,
            "type": self.type,
            "service": self.service,
            "text": self.text,
            "anonymous": self.anonymous,
            "channel": self.channel,
            "route": self.route,
            "attachments": list(self.attachments),
        }
        if not self.anonymous:
            for key in ("name", "national_id", "mobile"):
                value = getattr(self, key)
                if value:
                    body[key] = value
        return body


def _checkbox(value: Any) -> bool:
    return str(value or "").strip().lower() in ("1", "on", "yes", "true")


def check_case_form(form: Mapping[str, str], case_type: str, services: set[str],
                    *, text_required: bool = True, channel: str = "kiosk") -> tuple[CaseDraft | None, list[FieldError]]:
    """Check what a visitor entered; return a draft or every problem at once.

    All input goes through :func:`forms.persian.normalize_input` (Persian, Arabic-Indic and
    Latin digits; Arabic ye/kaf) so equal cases compare equal.  Anonymous cases drop the
    identity fields here, before anything could store them.
    """
    errors: list[FieldError] = []
    if case_type not in CASE_TYPES:
        errors.append(FieldError("type", *_MESSAGES.both("case_type_missing")))
    service = normalize_input(form.get("service", "")) or "other"
    if service not in services:
        errors.append(FieldError("service", *_MESSAGES.both("case_service_unknown")))
    text = normalize_input(form.get("text", ""))
    if text_required and not text:
        errors.append(FieldError("text", *_MESSAGES.both("case_text_missing")))
    elif len(text) > MAX_TEXT:
        errors.append(FieldError("text", *_MESSAGES.both("case_text_too_long", n=MAX_TEXT)))
    default_anonymous = "1" if case_type == "misconduct" else ""
    anonymous = _checkbox(form.get("anonymous", default_anonymous))
    name = national_id = mobile = ""
    if not anonymous:
        name = normalize_input(form.get("name", ""))
        if len(name) > MAX_NAME:
            errors.append(FieldError("name", *_MESSAGES.both("case_name_too_long", n=MAX_NAME)))
        for key, check in (("national_id", normalize_national_id), ("mobile", normalize_mobile)):
            raw = normalize_input(form.get(key, ""))
            if not raw:
                continue
            try:
                value = check(raw)
            except InvalidInput as exc:
                errors.append(FieldError(key, exc.message_fa, exc.message_en))
                continue
            if key == "national_id":
                national_id = value
            else:
                mobile = value
    if errors:
        return None, errors
    return CaseDraft(type=case_type, service=service, text=text, anonymous=anonymous,
                     name=name, national_id=national_id, mobile=mobile, channel=channel), []
