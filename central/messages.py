"""The central office's words: central/translations/<locale>/LC_MESSAGES/messages.po.

One catalogue for the web pages, the Open311 answers, the casework rules' refusals and
``seda central``; a translator edits the ``.po`` files (docs/translating.md), not Python.
Whole numbers are written grouped, in Persian digits in Persian (۱٬۲۳۴).
"""
from __future__ import annotations

from forms.messages import messages_for

__all__ = ["MESSAGES"]

MESSAGES = messages_for("central", group_thousands=True)
