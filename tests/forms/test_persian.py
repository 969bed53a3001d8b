"""Tests for forms.persian: digits, letters, national IDs, mobiles, Jalali dates."""

from __future__ import annotations

import datetime

import jdatetime
import pytest

from forms.persian import (
    InvalidInput,
    format_jalali_date,
    format_jalali_datetime,
    is_valid_mobile,
    is_valid_national_id,
    jalali_month_name,
    normalize_input,
    normalize_letters,
    normalize_mobile,
    normalize_national_id,
    parse_jalali_date,
    parse_jalali_month,
    to_ascii_digits,
    to_jalali,
    to_persian_digits,
)

ZWNJ = "\u200c"
UTC = datetime.timezone.utc


def _check_digit_ok(ten: str) -> bool:
    """Independent restatement of the national-ID rule, to cross-check fixtures."""
    d = [int(c) for c in ten]
    r = sum(d[i] * (10 - i) for i in range(9)) % 11
    return d[9] == (r if r < 2 else 11 - r)


# --- digits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("0123456789", "0123456789"),
        ("کد ۱۲۳ و ٤٥٦ و 789", "کد 123 و 456 و 789"),
        ("", ""),
        ("بدون عدد", "بدون عدد"),
    ],
)
def test_to_ascii_digits_converts_persian_and_arabic_indic(text, expected):
    assert to_ascii_digits(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123456789", "۰۱۲۳۴۵۶۷۸۹"),
        ("٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"),
        ("ساعت 14:30 روز ۹", "ساعت ۱۴:۳۰ روز ۹"),
        (1405, "۱۴۰۵"),
        (0, "۰"),
        ("abc", "abc"),
    ],
)
def test_to_persian_digits_converts_ascii_arabic_indic_and_int(value, expected):
    assert to_persian_digits(value) == expected


@pytest.mark.parametrize("text", ["0123456789", "کد 42 شعبه 7", "1405/09/09"])
def test_digit_conversion_round_trips(text):
    assert to_ascii_digits(to_persian_digits(text)) == text


# --- letters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh U+064A
        ("موسى", "موسی"),  # alef maksura U+0649
        ("كتاب", "کتاب"),  # Arabic kaf U+0643
        ("يك", "یک"),
        ("کتاب یک", "کتاب یک"),  # already Persian: unchanged
    ],
)
def test_normalize_letters_maps_arabic_ye_and_kaf_to_persian(text, expected):
    assert normalize_letters(text) == expected


@pytest.mark.parametrize("text", ["می" + ZWNJ + "خواهم", "مي" + ZWNJ + "خواهم", "كتاب" + ZWNJ + "ها"])
def test_normalize_letters_keeps_zwnj(text):
    result = normalize_letters(text)
    assert ZWNJ in result
    assert result.count(ZWNJ) == text.count(ZWNJ)


def test_normalize_letters_output_for_arabic_mi_khaham():
    assert normalize_letters("مي" + ZWNJ + "خواهم") == "می" + ZWNJ + "خواهم"


# --- normalize_input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  سلام  ", "سلام"),
        ("علي   رضايي", "علی رضایی"),
        ("کد\t\t۱۲۳", "کد 123"),
        ("\u00a0شماره ٤٥\u00a0", "شماره 45"),
        ("می" + ZWNJ + "خواهم  ثبت كنم", "می" + ZWNJ + "خواهم ثبت کنم"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_input_canonicalises_digits_letters_and_spaces(text, expected):
    assert normalize_input(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("خط اول  \n   خط دوم", "خط اول\nخط دوم"),
        ("الف\r\nب", "الف\nب"),
    ],
)
def test_normalize_input_keeps_line_breaks(text, expected):
    assert normalize_input(text) == expected


# --- national ID ----------------------------------------------------------------

VALID_NATIONAL_IDS = [
    "0499370899",
    "0084575948",
    "1234567891",  # r == 1 -> check digit 1
    "9876543210",  # r == 0 -> check digit 0
    "0001234560",
    "0012345679",
    "4553219875",
    "1111111121",  # not all-same, valid checksum
]


@pytest.mark.parametrize("nid", VALID_NATIONAL_IDS)
def test_valid_national_id_fixtures_satisfy_checksum(nid):
    # Guards the fixtures themselves against typos.
    assert _check_digit_ok(nid)


@pytest.mark.parametrize("nid", VALID_NATIONAL_IDS)
def test_valid_national_id_is_accepted_and_unchanged(nid):
    assert is_valid_national_id(nid)
    assert normalize_national_id(nid) == nid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("84575948", "0084575948"),  # 8 digits
        ("12345679", "0012345679"),  # 8 digits
        ("499370899", "0499370899"),  # 9 digits
        ("001234560", "0001234560"),  # 9 digits
    ],
)
def test_short_national_id_is_left_padded(raw, expected):
    assert normalize_national_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("۰۴۹۹۳۷۰۸۹۹", "0499370899"),
        ("٠٠٨٤٥٧٥٩٤٨", "0084575948"),
        ("۰۴۹-۹۳۷۰۸۹-۹", "0499370899"),
        (" 049 937 0899 ", "0499370899"),
        ("۸۴۵۷۵۹۴۸", "0084575948"),
    ],
)
def test_national_id_accepts_any_digit_script_spaces_and_dashes(raw, expected):
    assert normalize_national_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "message_fa"),
    [
        ("0499370898", "national_id_checksum", "رقم کنترل کد ملی درست نیست"),
        ("1234567890", "national_id_checksum", "رقم کنترل کد ملی درست نیست"),
        ("1111111111", "national_id_repeated", None),
        ("0000000000", "national_id_repeated", None),
        ("۲۲۲۲۲۲۲۲۲۲", "national_id_repeated", None),
        ("04993708991", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),  # 11 digits
        ("1234567", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),  # 7 digits
        ("04993708a9", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),  # letter
        ("abcdefghij", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),
        ("049937089²", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),  # isdigit() trap
        ("", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),
        ("   ", "national_id_length", "کد ملی باید ۱۰ رقم باشد"),
    ],
)
def test_invalid_national_id_raises_specific_error(raw, code, message_fa):
    with pytest.raises(InvalidInput) as excinfo:
        normalize_national_id(raw)
    exc = excinfo.value
    assert exc.code == code
    assert exc.message_en
    assert str(exc) == exc.message_fa
    if message_fa is not None:
        assert exc.message_fa == message_fa
    assert not is_valid_national_id(raw)


def test_invalid_input_is_a_value_error():
    with pytest.raises(ValueError):
        normalize_national_id("1111111111")


def test_wrong_check_digit_is_checked_after_padding():
    # 8-digit input whose padded form has a wrong check digit.
    assert not is_valid_national_id("84575949")


# --- mobile ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "09123456789",
        "9123456789",
        "+989123456789",
        "00989123456789",
        "989123456789",
        "۰۹۱۲۳۴۵۶۷۸۹",
        "٠٩١٢٣٤٥٦٧٨٩",
        "+۹۸۹۱۲۳۴۵۶۷۸۹",
        "0912 345 6789",
        "0912-345-6789",
        "(0912) 345-6789",
        "+98 (912) 345 67 89",
        " 0098 912 345 6789 ",
    ],
)
def test_mobile_accepted_forms_normalise_to_09(raw):
    assert normalize_mobile(raw) == "09123456789"
    assert is_valid_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",  # 0912 prefix but only 10 digits
        "08123456789",  # not a mobile prefix
        "02112345678",  # Tehran landline
        "091234567890",  # too long
        "0912345678901",
        "+9809123456789",  # trunk zero after country code
        "+9712345678901",  # wrong country code
        "+99123456789",
        "8123456789",  # 10 digits not starting with 9
        "0912345678a",
        "09123+456789",
        "",
        "   ",
    ],
)
def test_mobile_rejected_forms_raise_invalid_input(raw):
    with pytest.raises(InvalidInput) as excinfo:
        normalize_mobile(raw)
    exc = excinfo.value
    assert str(exc) == exc.message_fa
    assert "موبایل" in exc.message_fa
    assert "mobile" in exc.message_en.lower()
    assert not is_valid_mobile(raw)


# --- Jalali -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gregorian", "jalali"),
    [
        (datetime.date(2026, 11, 30), (1405, 9, 9)),
        (datetime.date(2026, 3, 21), (1405, 1, 1)),  # Nowruz
        (datetime.date(2026, 3, 20), (1404, 12, 29)),  # last day of 1404
        (datetime.date(2025, 3, 20), (1403, 12, 30)),  # leap-year Esfand 30
    ],
)
def test_to_jalali_converts_known_dates(gregorian, jalali):
    j = to_jalali(gregorian)
    assert isinstance(j, jdatetime.date)
    assert (j.year, j.month, j.day) == jalali


def test_to_jalali_datetime_returns_jdatetime_datetime():
    j = to_jalali(datetime.datetime(2026, 11, 30, 14, 30))
    assert isinstance(j, jdatetime.datetime)
    assert (j.year, j.month, j.day, j.hour, j.minute) == (1405, 9, 9, 14, 30)


@pytest.mark.parametrize(
    ("d", "persian_digits", "expected"),
    [
        (datetime.date(2026, 11, 30), True, "۱۴۰۵/۰۹/۰۹"),
        (datetime.date(2026, 11, 30), False, "1405/09/09"),
        (datetime.date(2026, 3, 21), False, "1405/01/01"),
        (datetime.date(2026, 3, 20), False, "1404/12/29"),
        (datetime.datetime(2026, 11, 30, 23, 59), False, "1405/09/09"),
        # 21:00 UTC on 20 March is 00:30 on 21 March in Tehran: Nowruz.
        (datetime.datetime(2026, 3, 20, 21, 0, tzinfo=UTC), False, "1405/01/01"),
    ],
)
def test_format_jalali_date(d, persian_digits, expected):
    assert format_jalali_date(d, persian_digits=persian_digits) == expected


@pytest.mark.parametrize(
    ("dt", "persian_digits", "expected"),
    [
        (datetime.datetime(2026, 11, 30, 14, 30), True, "۱۴۰۵/۰۹/۰۹ ۱۴:۳۰"),
        (datetime.datetime(2026, 11, 30, 14, 30), False, "1405/09/09 14:30"),
        # Naive datetimes are already Tehran local time: no shift.
        (datetime.datetime(2026, 11, 30, 11, 0), False, "1405/09/09 11:00"),
    ],
)
def test_format_jalali_datetime_naive_is_taken_as_local(dt, persian_digits, expected):
    assert format_jalali_datetime(dt, persian_digits=persian_digits) == expected


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime.datetime(2026, 11, 30, 11, 0, tzinfo=UTC), "1405/09/09 14:30"),  # UTC+3:30
        (datetime.datetime(2026, 3, 20, 21, 0, tzinfo=UTC), "1405/01/01 00:30"),
        (
            datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
            "1405/09/09 14:30",
        ),
    ],
)
def test_format_jalali_datetime_converts_aware_to_tehran(dt, expected):
    assert format_jalali_datetime(dt, persian_digits=False) == expected


def test_format_jalali_datetime_aware_utc_with_persian_digits():
    dt = datetime.datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert format_jalali_datetime(dt) == "۱۴۰۵/۰۹/۰۹ ۱۴:۳۰"


@pytest.mark.parametrize(
    ("month", "fa", "en"),
    [
        (1, "فروردین", "Farvardin"),
        (2, "اردیبهشت", "Ordibehesht"),
        (3, "خرداد", "Khordad"),
        (4, "تیر", "Tir"),
        (5, "مرداد", "Mordad"),
        (6, "شهریور", "Shahrivar"),
        (7, "مهر", "Mehr"),
        (8, "آبان", "Aban"),
        (9, "آذر", "Azar"),
        (10, "دی", "Dey"),
        (11, "بهمن", "Bahman"),
        (12, "اسفند", "Esfand"),
    ],
)
def test_jalali_month_name_in_both_languages(month, fa, en):
    assert jalali_month_name(month) == fa
    assert jalali_month_name(month, "fa") == fa
    assert jalali_month_name(month, lang="en") == en


@pytest.mark.parametrize(("month", "lang"), [(0, "fa"), (13, "fa"), (-1, "en"), (1, "de")])
def test_jalali_month_name_rejects_bad_month_or_language(month, lang):
    with pytest.raises(ValueError):
        jalali_month_name(month, lang)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1405/09/09", datetime.date(2026, 11, 30)),
        ("۱۴۰۵-۹-۹", datetime.date(2026, 11, 30)),
        ("١٤٠٥/٠٩/٠٩", datetime.date(2026, 11, 30)),
        (" 1405/9/09 ", datetime.date(2026, 11, 30)),
        ("1405/01/01", datetime.date(2026, 3, 21)),
        ("1404-12-29", datetime.date(2026, 3, 20)),
        ("1403/12/30", datetime.date(2025, 3, 20)),  # leap year
    ],
)
def test_parse_jalali_date_accepts_any_digit_script_and_separator(text, expected):
    assert parse_jalali_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1404/12/30",  # 1404 is not a leap year
        "1405/13/01",
        "1405/00/10",
        "1405/07/31",  # second-half months have 30 days
        "1405/01/32",
        "1405/09/00",
        "1405/09-09",  # mixed separators
        "1405.09.09",
        "05/09/09",
        "1405/09/09/01",
        "۱۴۰۵/۰۹",
        "فردا",
        "",
    ],
)
def test_parse_jalali_date_rejects_bad_input_with_persian_message(text):
    with pytest.raises(InvalidInput) as excinfo:
        parse_jalali_date(text)
    exc = excinfo.value
    assert "تاریخ" in exc.message_fa
    assert str(exc) == exc.message_fa
    assert exc.message_en


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1405-09", (1405, 9)),
        ("1405/9", (1405, 9)),
        ("۱۴۰۵-۰۹", (1405, 9)),
        ("١٤٠٥-١٢", (1405, 12)),
        (" 1404-01 ", (1404, 1)),
    ],
)
def test_parse_jalali_month_returns_year_and_month(text, expected):
    assert parse_jalali_month(text) == expected


@pytest.mark.parametrize("text", ["1405-13", "1405-00", "1405", "1405-09-09", "05-09", "آذر ۱۴۰۵", ""])
def test_parse_jalali_month_rejects_bad_input_with_persian_message(text):
    with pytest.raises(InvalidInput) as excinfo:
        parse_jalali_month(text)
    exc = excinfo.value
    assert "ماه" in exc.message_fa
    assert str(exc) == exc.message_fa
    assert exc.message_en
