"""Why a page was rejected or sent to review, in words for office staff (Persian first)."""
from __future__ import annotations

REASONS: dict[str, tuple[str, str]] = {
    "not_seda_form": ("این صفحه برگه نظرسنجی صدا نیست.", "not a Seda form"),
    "blank_page": ("صفحه خالی است (احتمالاً پشت برگه).", "blank page (the back of a sheet?)"),
    "blank_sheet": ("این برگه پر نشده است: هیچ گزینه‌ای علامت نخورده و چیزی نوشته نشده. پاسخ شمرده نشد"
                    " و ثبت نشد؛ همین برگه را می‌توان به مراجع داد و بعداً دوباره اسکن کرد.",
                    "blank sheet: nothing is marked or written; not counted and not stored, and the"
                    " same sheet can still be filled in and scanned later"),
    "unreadable_code": ("کد QR برگه خوانده نشد؛ برگه آسیب‌دیده یا ناخواناست.",
                        "the sheet's QR code could not be read"),
    "unknown_office": ("این برگه متعلق به اداره‌ای است که کلید آن در این سامانه نیست.",
                       "the sheet belongs to an office this installation has no key for"),
    "forged_code": ("امضای کد برگه نادرست است؛ برگه جعلی یا دستکاری‌شده است.",
                    "forged code: its signature does not match the office key"),
    "unknown_form_version": ("نسخه این فرم برای سامانه ناشناخته است.", "unknown form version"),
    "never_issued": ("این شماره برگه هرگز چاپ و صادر نشده است.", "sheet never issued"),
    "revoked_sheet": ("ستاد مرکزی این برگه را باطل کرده است.", "the central office revoked this sheet"),
    "duplicate_sheet": ("این برگه قبلاً خوانده و ثبت شده است (کپی یا اسکن تکراری).",
                        "duplicate sheet: already read"),
    "registration": ("نشانه‌های گوشه برگه به‌درستی پیدا نشد؛ پاسخ‌ها باید با چشم بررسی شوند.",
                     "the page could not be registered reliably; answers need a human"),
    "unreadable_image": ("فایل تصویر خراب یا ناقص است.", "the image file is corrupt or truncated"),
    "not_an_image": ("این فایل تصویر یا PDF نیست.", "not an image or PDF file"),
    "image_too_large": ("تصویر بیش از حد بزرگ است.", "image too large (pixel limit)"),
    "image_too_small": ("تصویر برای خواندن برگه بیش از حد کوچک است.", "image too small to read a sheet"),
    "read_failed": ("خواندن این صفحه با خطای پیش‌بینی‌نشده متوقف شد؛ صفحه‌های بعدی خوانده شد.",
                    "reading this page failed unexpectedly; the next pages were read"),
    "too_many_pages": ("تعداد صفحات فایل بیش از حد مجاز است.", "too many pages in one file"),
    "unreadable_sheet": ("برگه دیگری در این تصویر هست که خوانده نشد؛ از آن جداگانه عکس بگیرید یا "
                         "آن را جداگانه اسکن کنید.",
                         "another sheet in this image could not be read: photograph or scan it "
                         "alone"),
    # why a phone photo should be taken again
    "corners": ("هر چهار گوشه برگه باید در عکس باشد؛ کل برگه را در کادر بگیرید و دوباره عکس بگیرید.",
                "all four corners must be in the picture: frame the whole sheet and take it again"),
    "too_dark": ("عکس خیلی تاریک است؛ جای روشن‌تری بروید یا چراغ را روشن کنید و دوباره عکس بگیرید.",
                 "too dark: find more light and take it again"),
    "too_blurred": ("عکس تار است؛ گوشی را ثابت نگه دارید، روی برگه تمرکز کنید و دوباره عکس بگیرید.",
                    "too blurred: hold the phone still, let it focus and take it again"),
    "no_sheet": ("در عکس برگه نظرسنجی صدا پیدا نشد؛ کل برگه را از روبه‌رو عکس بگیرید.",
                 "no Seda sheet in the picture: photograph the whole sheet from above"),
    # about the scan itself: the page is read, the operator is told
    "bilevel_scan": ("این صفحه سیاه‌وسفید (۱ بیتی) اسکن شده است و علامت‌های کم‌رنگ مداد ممکن است "
                     "پیش از خواندن پاک شده باشند؛ برگه‌ها را خاکستری (Grayscale) اسکن کنید.",
                     "scanned in black and white (1 bit): light pencil marks may have been lost "
                     "before the scanner saw them; scan sheets in greyscale"),
    # why a question was flagged for a person to decide
    "multiple": ("بیش از یک گزینه علامت خورده است.", "more than one option is marked"),
    "faint": ("علامت کم‌رنگ یا نیمه‌کاره است.", "a faint or partial mark"),
    "erased?": ("کنار علامت اصلی، ردی شبیه پاک‌شدگی هست.", "beside the mark, what may be an erasure"),
    "partial": ("همه ستون‌های ارقام پر نشده است.", "not every digit column is filled"),
    "invalid": ("شماره همراه خوانده‌شده معتبر نیست.", "the mobile number read is not valid"),
    "changed": ("پاسخ تغییر کرده است؟ یک گزینه خط خورده و گزینه دیگری علامت خورده است؛ هر دو را "
                "ببینید.", "changed answer? one option is struck out and another is marked; "
                           "both are shown"),
    "covered": ("برگه دیگری در عکس روی این پرسش افتاده است.",
                "another sheet in the photo covers this question"),
}


def message(reason: str, lang: str = "fa", detail: str = "") -> str:
    fa, en = REASONS.get(reason, (reason, reason))
    text = en if lang == "en" else fa
    return f"{text} ({detail})" if detail else text
