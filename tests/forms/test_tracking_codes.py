"""Tracking codes: digits, a Verhoeff check digit, random, unique within the office ledger."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from forms.tracking_codes import (CODE_DIGITS, format_tracking_code, is_valid_tracking_code,
                            new_tracking_code, normalize_tracking_code, verhoeff_check_digit)

payloads = st.text(alphabet="0123456789", min_size=CODE_DIGITS - 1, max_size=CODE_DIGITS - 1)


def test_new_code_is_twelve_ascii_digits_with_a_valid_check_digit():
    code = new_tracking_code()
    assert len(code) == CODE_DIGITS == 12
    assert code.isascii() and code.isdigit()
    assert is_valid_tracking_code(code)


def test_known_verhoeff_check_digit():
    # The textbook example: 236 -> check digit 3.
    assert verhoeff_check_digit("236") == "3"


@given(payloads, st.integers(0, CODE_DIGITS - 1), st.integers(1, 9))
def test_every_single_digit_error_is_caught(payload, position, delta):
    code = payload + verhoeff_check_digit(payload)
    wrong = str((int(code[position]) + delta) % 10)
    typo = code[:position] + wrong + code[position + 1:]
    assert not is_valid_tracking_code(typo)


@given(payloads, st.integers(0, CODE_DIGITS - 2))
def test_every_adjacent_transposition_is_caught(payload, position):
    code = payload + verhoeff_check_digit(payload)
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2:]
    assert not is_valid_tracking_code(swapped)


def test_persian_and_arabic_digits_and_spaces_are_accepted():
    code = new_tracking_code()
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert is_valid_tracking_code(persian)
    assert is_valid_tracking_code(arabic)
    assert is_valid_tracking_code(format_tracking_code(code))
    assert normalize_tracking_code(f" {code[:4]}-{code[4:8]} {code[8:]}") == code


def test_wrong_length_or_letters_are_not_codes():
    code = new_tracking_code()
    assert not is_valid_tracking_code(code[:-1])
    assert not is_valid_tracking_code(code + "0")
    assert not is_valid_tracking_code("abcdefghijkl")
    assert not is_valid_tracking_code("")


def test_a_code_the_store_already_holds_is_drawn_again():
    draws = iter(["11111111111", "11111111111", "22222222222"])
    taken = {"11111111111" + verhoeff_check_digit("11111111111")}
    code = new_tracking_code(lambda c: c in taken, random_payload=lambda: next(draws))
    assert code.startswith("22222222222")


def test_a_broken_random_source_stops_instead_of_looping():
    with pytest.raises(RuntimeError):
        new_tracking_code(lambda c: True, random_payload=lambda: "00000000000")


def test_codes_are_not_sequential_or_repeated():
    codes = [new_tracking_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    # The first digit is spread over 0-9, as a random draw's is.
    assert len({c[0] for c in codes}) == 10


def test_codes_are_shown_in_groups_of_four():
    assert format_tracking_code("123456789012") == "1234 5678 9012"
