"""The one error shape the central office's actions raise: a key of the central catalogue
(central/translations) and its values, shown in the reader's language on a page, in both on
the command line; ``str(error)`` is the English sentence (for logs)."""
from __future__ import annotations

from forms.messages import MessageError

from .messages import MESSAGES

__all__ = ["CentralError", "StoreError"]


class CentralError(MessageError):
    """An action that cannot be done, and why (``CentralError("unit_unknown", code=...)``)."""

    catalogue = "central"

    def text(self, locale: str) -> str:
        return MESSAGES.text(self.key, locale, **self.values)


class StoreError(CentralError):
    """An operator-level failure (unknown case, office, feed, API key, ...): a ``store_*`` key."""
