"""Case statuses the central office sets and the kiosk's follow-up screen shows.

Shared by the central store (which refuses unknown statuses) and the office (which labels
them), so both ends agree on the words.  Persian first: visitors read it.
"""
from __future__ import annotations

from forms.messages import messages_for
from forms.persian import to_ascii_digits

__all__ = ["ANSWER_DEADLINE_DAYS", "CASE_STATUSES", "format_tracking_code", "normalize_tracking_code", "status_label"]

_SEPARATORS = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\u2212\u200c\u200e\u200f\u00a0\t")

#: Every status a case can have, in the order pages list them.  Their words are in
#: forms/translations (``status_<name>``); "rejected" is kept for records made before the
#: central office's own rejection statuses.
CASE_STATUSES: tuple[str, ...] = (
    "received", "routed", "assigned", "in_progress", "answered", "closed", "referred",
    "rejected_duplicate", "rejected_not_ours", "rejected",
)


#: Working days the central office has to answer, per case type, until its administrator changes
#: them (central casework); the kiosk's receipt promises the citizen the same numbers.
ANSWER_DEADLINE_DAYS: dict[str, int] = {"request": 10, "complaint": 10, "suggestion": 15,
                                        "criticism": 15, "misconduct": 10, "voice": 10}


def status_label(status: str) -> tuple[str, str]:
    """(Persian, English) label for ``status``; an unknown status is shown as itself."""
    if status not in CASE_STATUSES:
        return status, status
    return messages_for("forms").both("status_" + status)


def status_text(status: str, locale: str) -> str:
    """The label of ``status`` in ``locale`` (an unknown status is shown as itself)."""
    if status not in CASE_STATUSES:
        return status
    return messages_for("forms").text("status_" + status, locale)


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
