"""What an SMS says: the event, the tracking code and the portal link, nothing of the case.

Pure functions, so the wording and its length are tested without a store or a gateway.  A
Persian SMS is sent in UCS-2: one part holds 70 characters, a longer message is cut into
parts of 67 that the citizen pays for and the phone may show out of order.  So each message
is tried in a few shapes (the case's own page, then without ``https://``, then the portal's
front page, where the code is typed), and the first that fits in one part is used;
only when none fits (a very long portal address) does it take two parts.
"""
from __future__ import annotations

from forms.persian import to_persian_digits

from ..messages import MESSAGES

__all__ = ["EVENTS", "GSM_SINGLE", "UCS2_SINGLE", "message_for", "sms_parts"]

#: What a citizen is told of, and nothing else (issue #14): the case was registered at the
#: centre, it was answered (a rejection with its reason is the answer too), or its deadline
#: passed without an answer.
EVENTS = ("registered", "answered", "overdue")

UCS2_SINGLE, UCS2_PART = 70, 67
GSM_SINGLE, GSM_PART = 160, 153

#: Event -> its sentence in central/translations (``sms_*``); an SMS is sent in Persian.
_KEYS = {"registered": "sms_registered", "answered": "sms_answered", "overdue": "sms_overdue"}


def sms_parts(text: str) -> int:
    """How many SMS parts ``text`` takes (UCS-2 for anything beyond ASCII)."""
    units = len(text.encode("utf-16-le")) // 2
    single, part = (GSM_SINGLE, GSM_PART) if text.isascii() else (UCS2_SINGLE, UCS2_PART)
    return 1 if units <= single else -(-units // part)


def message_for(event: str, tracking_code: str, public_url: str) -> str:
    """The SMS for ``event`` on the case with ``tracking_code``; ``public_url`` is the
    portal's address (its ``/f/CODE`` page asks for the mobile's last four digits)."""
    if event not in _KEYS:
        raise ValueError(f"unknown notification event {event!r}")
    if not tracking_code.isdigit():
        raise ValueError("a tracking code is digits only")
    text = MESSAGES.text(_KEYS[event], "fa", code=to_persian_digits(tracking_code))
    base = public_url.rstrip("/")
    bare = base.split("://", 1)[-1]  # phones link "portal.example.ir/..." without the scheme
    shapes = [f"{text}\n{base}/f/{tracking_code}", f"{text}\n{bare}/f/{tracking_code}",
              f"{text}\n{base}", f"{text}\n{bare}"]
    for shape in shapes:
        if sms_parts(shape) == 1:
            return shape
    return shapes[-1]
