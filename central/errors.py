"""The one error shape the central office's actions raise: a sentence for the screen (Persian)
and one for logs and the English locale; ``str(error)`` is the English one."""
from __future__ import annotations

__all__ = ["CentralError", "StoreError"]


class CentralError(Exception):
    """An action that cannot be done, and why, in Persian and English."""

    def __init__(self, message_fa: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fa = message_fa
        self.message_en = message_en


class StoreError(Exception):
    """An operator-level failure (unknown case, bad URL, ...); one plain sentence."""
