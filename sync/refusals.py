"""Why the central server refused something, in words office staff can act on.

Every refusal has a short stable ``code`` (machines compare it, logs and docs name it) and a
sentence in Persian and English (sync/translations).  The same sentences serve the central
server's answers, its log, and ``seda sync status`` at the office, so staff and the central
operator read the same reason.
"""
from __future__ import annotations

from forms.messages import messages_for

__all__ = ["BlobsMissing", "HTTP_STATUS", "MESSAGES", "Refusal", "message_for"]

#: The refusals' sentences, Persian first (that is what office staff read): sync/translations,
#: ``refusal_<code>``.
MESSAGES = messages_for("sync")

#: The HTTP status the central server answers each refusal with.
HTTP_STATUS: dict[str, int] = {
    "not_a_batch": 400,
    "malformed_manifest": 400,
    "corrupt_gzip": 400,
    "wrong_hash": 400,
    "wrong_count": 400,
    "malformed_record": 400,
    "office_mismatch": 400,
    "bad_blob": 400,
    "bad_request": 400,
    "future_dated": 422,
    "unknown_office": 403,
    "revoked_office": 403,
    "bad_signature": 401,
    "bad_request_signature": 401,
    "clock_skew": 401,
    "blobs_missing": 409,
    "conflict": 409,
    "oversized": 413,
    "blob_too_large": 413,
    "store_unavailable": 503,
}


def message_for(code: str) -> tuple[str, str]:
    """The (Persian, English) sentence for ``code``; unknown codes still read sensibly."""
    if code not in HTTP_STATUS:
        return MESSAGES.both("refusal_unknown", code=code)
    return MESSAGES.both("refusal_" + code)


class Refusal(Exception):
    """Something was refused: ``code`` from :data:`HTTP_STATUS`, ``detail`` says exactly what."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)

    def to_json(self) -> dict[str, str]:
        fa, en = message_for(self.code)
        return {"error": self.code, "detail": self.detail, "message_fa": fa, "message_en": en}


class BlobsMissing(Refusal):
    """A batch names attachments the server lacks: nothing applied, the client sends them."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("blobs_missing", f"{len(missing)} attachment(s) not received yet")
        self.missing = list(missing)

    def to_json(self) -> dict:
        return {**super().to_json(), "missing": self.missing}
