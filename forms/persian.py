"""Persian text, identifier and Jalali-date helpers shared by every Seda form.

Citizens type on Persian, Arabic and Latin keyboards, paste numbers from SMS
and PDFs, and read dates in the Jalali calendar.  Everything that touches form
input goes through here so that storage, validation and comparison see one
canonical spelling, while display can still use Persian digits.
"""

from __future__ import annotations

import datetime
import functools
import re
from zoneinfo import ZoneInfo

import jdatetime

from .digits import to_ascii_digits, to_persian_digits
from .messages import MessageError, messages_for

__all__ = [
    "InvalidInput",
    "SENTENCE_ENDS",
    "to_ascii_digits",
    "to_persian_digits",
    "normalize_letters",
    "normalize_input",
    "is_valid_national_id",
    "normalize_national_id",
    "is_valid_mobile",
    "normalize_mobile",
    "to_jalali",
    "format_jalali_date",
    "format_jalali_datetime",
    "jalali_month_name",
    "parse_jalali_date",
    "parse_jalali_month",
]

# --- constants (immutable) -------------------------------------------------

#: Marks that end a sentence, in Persian (the Arabic question mark ؟) or in English.
SENTENCE_ENDS = (".", "؟", "?", "!", ":")

_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # Arabic alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
    }
)

# Horizontal whitespace only: newlines in free-text answers are meaningful.
# ZWNJ (U+200C) is not whitespace to `re`, so it is never touched here.
_HSPACE_RUN = re.compile(r"[^\S\n]+")
_NEWLINE_PADDING = re.compile(r" *\n *")

# Separators people type or paste inside numbers: whitespace, ASCII and
# Unicode dashes, the minus sign, and invisible bidi marks that come along
# when copying from right-to-left text.
_NUMBER_NOISE = re.compile(
    r"[\s\-\u2010-\u2015\u2212\u200e\u200f\u202a-\u202e\u2066-\u2069]+"
)
_PHONE_NOISE = re.compile(
    r"[\s\-\u2010-\u2015\u2212\u200e\u200f\u202a-\u202e\u2066-\u2069()]+"
)

_ASCII_DIGITS_ONLY = re.compile(r"[0-9]+")
_MOBILE_FORMS = (
    re.compile(r"09([0-9]{9})"),
    re.compile(r"9([0-9]{9})"),
    re.compile(r"\+989([0-9]{9})"),
    re.compile(r"00989([0-9]{9})"),
    re.compile(r"989([0-9]{9})"),
)
_JALALI_DATE = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")
_JALALI_MONTH = re.compile(r"([0-9]{4})[/-]([0-9]{1,2})")

_TEHRAN = ZoneInfo("Asia/Tehran")

_MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)
_MONTHS_EN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)


class InvalidInput(MessageError, ValueError):
    """Input a citizen can fix: a catalogue key (forms/translations unless ``catalogue=`` says
    otherwise) rendered in the reader's language; ``code`` is the key, stable, so callers
    never match on message text."""

    @property
    def code(self) -> str:
        return self.key

    def __str__(self) -> str:
        return self.message_fa


# --- digits and letters ----------------------------------------------------


def normalize_letters(text: str) -> str:
    """Arabic keyboards produce look-alike ye/kaf code points that break search
    and duplicate detection; ZWNJ is part of correct Persian spelling, so it stays."""
    return text.translate(_LETTERS)


def normalize_input(text: str) -> str:
    """One canonical form for every stored answer, so equal answers compare equal.

    Line breaks are kept (free-text complaints have paragraphs); runs of other
    whitespace become a single space, and spaces around line breaks are dropped.
    """
    text = normalize_letters(to_ascii_digits(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HSPACE_RUN.sub(" ", text)
    text = _NEWLINE_PADDING.sub("\n", text)
    return text.strip()


# --- national ID (کد ملی) ---------------------------------------------------


def normalize_national_id(value: str) -> str:
    """Catch typos at the kiosk, before a complaint is filed under a wrong ID;
    returns the canonical 10-digit ASCII string used for storage and lookup."""
    digits = _NUMBER_NOISE.sub("", to_ascii_digits(value))
    if not _ASCII_DIGITS_ONLY.fullmatch(digits) or not 8 <= len(digits) <= 10:
        raise InvalidInput("national_id_length")
    digits = digits.zfill(10)
    if len(set(digits)) == 1:
        raise InvalidInput("national_id_repeated")
    r = sum(int(digits[i]) * (10 - i) for i in range(9)) % 11
    expected = r if r < 2 else 11 - r
    if int(digits[9]) != expected:
        raise InvalidInput("national_id_checksum")
    return digits


def is_valid_national_id(value: str) -> bool:
    """For callers that only need a yes/no, e.g. form-level validation."""
    try:
        normalize_national_id(value)
    except InvalidInput:
        return False
    return True


# --- mobile numbers --------------------------------------------------------


def normalize_mobile(value: str) -> str:
    """People write the same mobile number in many shapes; SMS tracking codes
    and de-duplication need exactly one (09xxxxxxxxx)."""
    compact = _PHONE_NOISE.sub("", to_ascii_digits(value))
    for pattern in _MOBILE_FORMS:
        match = pattern.fullmatch(compact)
        if match:
            return "09" + match.group(1)
    raise InvalidInput("mobile_invalid")


def is_valid_mobile(value: str) -> bool:
    """For callers that only need a yes/no, e.g. form-level validation."""
    try:
        normalize_mobile(value)
    except InvalidInput:
        return False
    return True


# --- Jalali dates ----------------------------------------------------------


def _local(d: datetime.date) -> datetime.date:
    """The citizen's date is the Tehran wall-clock date, not the UTC one."""
    if isinstance(d, datetime.datetime) and d.tzinfo is not None:
        return d.astimezone(_TEHRAN)
    return d


def to_jalali(d: datetime.date | datetime.datetime) -> jdatetime.date | jdatetime.datetime:
    """Offices and citizens reason in the Jalali calendar; the time zone (if any)
    is preserved as given, not shifted."""
    if isinstance(d, datetime.datetime):
        return jdatetime.datetime.fromgregorian(datetime=d)
    if isinstance(d, datetime.date):
        return jdatetime.date.fromgregorian(date=d)
    raise TypeError(f"expected datetime.date or datetime.datetime, got {type(d).__name__}")


def format_jalali_date(d: datetime.date | datetime.datetime, *, persian_digits: bool = True) -> str:
    """Printed forms and kiosk screens show dates as YYYY/MM/DD Jalali; aware
    datetimes are first moved to Tehran time so the day is the local one."""
    year, month, day = _jalali_day(_day_of(_local(d)))
    text = f"{year:04d}/{month:02d}/{day:02d}"
    return to_persian_digits(text) if persian_digits else text


def format_jalali_datetime(dt: datetime.datetime, *, persian_digits: bool = True) -> str:
    """Receipts show when a complaint was filed in the office's local time;
    naive datetimes are assumed to already be Tehran local time."""
    local = _local(dt)
    year, month, day = _jalali_day(_day_of(local))
    text = f"{year:04d}/{month:02d}/{day:02d} {local.hour:02d}:{local.minute:02d}"
    return to_persian_digits(text) if persian_digits else text


def _day_of(d: datetime.date) -> datetime.date:
    return d.date() if isinstance(d, datetime.datetime) else d


@functools.lru_cache(maxsize=4096)
def _jalali_day(d: datetime.date) -> tuple[int, int, int]:
    """The Jalali (year, month, day) of a Gregorian day: pages list hundreds of timestamps
    over a few days, and jdatetime's conversion is the slow part of drawing them."""
    j = jdatetime.date.fromgregorian(date=d)
    return j.year, j.month, j.day


def jalali_month_name(month: int, lang: str = "fa") -> str:
    """Reports group by Jalali month and label months by name, not number."""
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"Jalali month must be 1..12, got {month!r}")
    if lang == "fa":
        return _MONTHS_FA[month - 1]
    if lang == "en":
        return _MONTHS_EN[month - 1]
    raise ValueError(f"unsupported language {lang!r}; use 'fa' or 'en'")


def parse_jalali_date(text: str) -> datetime.date:
    """Staff type Jalali dates in filters and forms; storage is Gregorian, and
    impossible dates (e.g. 1404/12/30) must be refused, not silently shifted."""
    compact = normalize_input(text)
    match = _JALALI_DATE.fullmatch(compact)
    if match:
        year, month, day = int(match.group(1)), int(match.group(3)), int(match.group(4))
        try:
            return jdatetime.date(year, month, day).togregorian()
        except ValueError:
            pass
    raise InvalidInput("jalali_date_invalid")


def parse_jalali_month(text: str) -> tuple[int, int]:
    """Monthly reports are selected by Jalali year and month (e.g. 1405-09)."""
    compact = normalize_input(text)
    match = _JALALI_MONTH.fullmatch(compact)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if year >= 1 and 1 <= month <= 12:
            return year, month
    raise InvalidInput("jalali_month_invalid")
