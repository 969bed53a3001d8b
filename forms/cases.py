"""Case statuses the central office sets and the kiosk's follow-up screen shows.

Shared by the central store (which refuses unknown statuses) and the office (which labels
them), so both ends agree on the words.  Persian first: visitors read it.
"""
from __future__ import annotations

from forms.persian import to_ascii_digits

__all__ = ["ANSWER_DEADLINE_DAYS", "CASE_STATUSES", "format_tracking_code", "normalize_tracking_code", "status_label"]

_SEPARATORS = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\u2212\u200c\u200e\u200f\u00a0\t")

#: status -> (Persian, English)
CASE_STATUSES: dict[str, tuple[str, str]] = {
    "received": ("دریافت شد", "Received"),
    "routed": ("به واحد مسئول ارجاع شد", "Routed to the responsible unit"),
    "assigned": ("به کارشناس سپرده شد", "Assigned to an officer"),
    "in_progress": ("در حال رسیدگی", "In progress"),
    "answered": ("پاسخ داده شد", "Answered"),
    "closed": ("بسته شد", "Closed"),
    "referred": ("به واحد دیگری ارجاع شد", "Referred to another unit"),
    "rejected_duplicate": ("تکراری؛ پیش‌تر ثبت شده است", "Duplicate of an earlier case"),
    "rejected_not_ours": ("خارج از وظایف این دستگاه", "Not within this organisation's remit"),
    "rejected": ("رد شد", "Rejected"),  # before the central office's own statuses (kept for old records)
}


#: Working days the central office has to answer, per case type, until its administrator changes
#: them (central casework); the kiosk's receipt promises the citizen the same numbers.
ANSWER_DEADLINE_DAYS: dict[str, int] = {"request": 10, "complaint": 10, "suggestion": 15,
                                        "criticism": 15, "misconduct": 10, "voice": 10}


def status_label(status: str) -> tuple[str, str]:
    """(Persian, English) label for ``status``; an unknown status is shown as itself."""
    return CASE_STATUSES.get(status, (status, status))


def normalize_tracking_code(text: str) -> str:
    """ASCII digits without grouping, the way the kiosk stores codes in case records, so an
    operator may type ``۱۲۳۴ ۵۶۷۸ ۹۰۱۲`` or ``1234-5678-9012``."""
    return to_ascii_digits(str(text)).translate(_SEPARATORS)


def format_tracking_code(code: str) -> str:
    """Groups of four (``1234 5678 9012``): short chunks are easier to read aloud and copy.

    The groups are separated by spaces and always read left to right, even inside Persian
    text (templates wrap them in a ``dir="ltr"`` element or an isolated LTR class).
    """
    code = normalize_tracking_code(code)
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
