"""Why the central server refused something, in words office staff can act on.

Every refusal has a short stable ``code`` (machines compare it, logs and docs name it) and a
sentence in Persian and English.  The same table serves the central server's answers, its
log, and ``seda sync status`` at the office, so staff and the central operator read the same
reason.
"""
from __future__ import annotations

__all__ = ["BlobsMissing", "HTTP_STATUS", "MESSAGES", "Refusal", "message_for"]

#: code -> (Persian, English).  Persian first: that is what office staff read.
MESSAGES: dict[str, tuple[str, str]] = {
    "not_a_batch": (
        "فایل دریافتی بستهٔ همگام‌سازی صدا نیست.",
        "What was received is not a Seda sync batch.",
    ),
    "malformed_manifest": (
        "شناسنامهٔ بسته خراب یا ناقص است.",
        "The batch manifest is damaged or incomplete.",
    ),
    "unknown_office": (
        "این دفتر در سرور مرکزی ثبت نشده است؛ کلید عمومی دفتر را برای ادارهٔ مرکزی بفرستید.",
        "This office is not registered at the central server; send the office's public key to the central office.",
    ),
    "revoked_office": (
        "کلید این دفتر در سرور مرکزی باطل شده است؛ با ادارهٔ مرکزی تماس بگیرید.",
        "This office's key has been revoked at the central server; contact the central office.",
    ),
    "bad_signature": (
        "امضای بسته معتبر نیست (کلید دفتر با کلید ثبت‌شده نمی‌خواند).",
        "The batch signature is not valid (the office key does not match the registered key).",
    ),
    "corrupt_gzip": (
        "محتوای فشردهٔ بسته خراب است.",
        "The compressed content of the batch is corrupt.",
    ),
    "wrong_hash": (
        "چکیدهٔ SHA-256 محتوا با شناسنامهٔ بسته نمی‌خواند؛ بسته در راه خراب شده است.",
        "The content's SHA-256 does not match the manifest; the batch was damaged on the way.",
    ),
    "wrong_count": (
        "شمار رکوردهای بسته با شناسنامه نمی‌خواند.",
        "The number of records does not match the manifest.",
    ),
    "malformed_record": (
        "یکی از رکوردهای بسته نادرست است.",
        "A record in the batch is malformed.",
    ),
    "office_mismatch": (
        "بسته رکوردی از دفتر دیگری دارد؛ هر دفتر فقط رکوردهای خودش را می‌فرستد.",
        "The batch holds a record of another office; each office sends only its own records.",
    ),
    "oversized": (
        "بسته از اندازهٔ مجاز بزرگ‌تر است.",
        "The batch is larger than allowed.",
    ),
    "blobs_missing": (
        "پیوست‌های این بسته هنوز به سرور نرسیده‌اند؛ دوباره فرستاده می‌شوند.",
        "Some attachments of this batch have not reached the server yet; they will be sent again.",
    ),
    "bad_request_signature": (
        "امضای درخواست معتبر نیست.",
        "The request signature is not valid.",
    ),
    "clock_skew": (
        "ساعت این رایانه با ساعت سرور مرکزی بیش از حد اختلاف دارد؛ تاریخ و ساعت را درست کنید.",
        "This computer's clock is too far from the central server's; correct the date and time.",
    ),
    "bad_blob": (
        "پیوست دریافتی با چکیدهٔ SHA-256 خود نمی‌خواند.",
        "The attachment received does not match its SHA-256.",
    ),
    "future_dated": (
        "تاریخ رکوردهای این بسته بیش از یک روز جلوتر از ساعت سرور مرکزی است؛ ساعت رایانهٔ دفتر "
        "هنگام ثبت آن‌ها درست نبوده است. ساعت را درست کنید و به ادارهٔ مرکزی خبر دهید؛ این بسته "
        "در دفتر می‌ماند و دوباره فرستاده می‌شود.",
        "Records in this batch are dated more than a day ahead of the central server's clock: the "
        "office computer's clock was wrong when they were written. Correct the clock and tell the "
        "central office; the batch stays at the office and is sent again.",
    ),
    "blob_too_large": (
        "یک پیوست از بزرگ‌ترین اندازه‌ای که سرور مرکزی می‌پذیرد بزرگ‌تر است؛ دیگر فرستاده نمی‌شود و "
        "بسته‌ای که به آن نیاز دارد در دفتر می‌ماند. به ادارهٔ مرکزی خبر دهید.",
        "An attachment is larger than the central server accepts; it is not sent again and the "
        "batch that needs it stays at the office. Tell the central office.",
    ),
    "conflict": (
        "رکوردی با همین شناسه ولی محتوای دیگر پیش‌تر رسیده است؛ برای بررسی نگه داشته شد.",
        "A record with the same UUID but different content arrived earlier; it was kept for an operator.",
    ),
    "bad_request": (
        "درخواست نادرست است (یکی از پارامترها معتبر نیست).",
        "The request is malformed (a parameter is not valid).",
    ),
    "store_unavailable": (
        "پایگاه دادهٔ مرکزی در دسترس نیست؛ بعداً دوباره تلاش می‌شود.",
        "The central database is unavailable; the office will try again later.",
    ),
}

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
    return MESSAGES.get(code, ("سرور مرکزی درخواست را نپذیرفت.", f"The central server refused ({code})."))


class Refusal(Exception):
    """Something was refused: ``code`` from :data:`MESSAGES`, ``detail`` says exactly what."""

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
