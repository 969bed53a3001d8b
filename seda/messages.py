"""The shell's words (``seda doctor``, ``seda office``, ``seda backup``):
seda/translations/<locale>/LC_MESSAGES/messages.po; a translator edits the ``.po`` files
(docs/translating.md), not Python."""
from __future__ import annotations

from forms.messages import messages_for

__all__ = ["MESSAGES"]

MESSAGES = messages_for("seda")
