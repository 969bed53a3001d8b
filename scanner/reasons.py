"""Why a page was rejected or sent to review, in words for office staff (Persian first).

The sentences are in scanner/translations (``reason_<code>``); see docs/translating.md.
"""
from __future__ import annotations

from forms.messages import messages_for

__all__ = ["MESSAGES", "both", "message"]

#: The scanner's catalogues (scanner/translations).
MESSAGES = messages_for("scanner")


def both(reason: str) -> tuple[str, str]:
    """(Persian, English) for ``reason``; an unknown reason is shown as itself."""
    key = "reason_" + reason
    if not MESSAGES.has(key, "fa"):
        return reason, reason
    return MESSAGES.both(key)


def message(reason: str, lang: str = "fa", detail: str = "") -> str:
    fa, en = both(reason)
    text = en if lang == "en" else fa
    return f"{text} ({detail})" if detail else text
