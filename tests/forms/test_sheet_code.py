"""The sheet code the QR carries: signed, parsed, verified, and small enough for a small QR."""

from __future__ import annotations

import dataclasses

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from forms import SheetCode, SheetCodeError, parse_sheet_code, sign, validate_office_code
from forms import verify_sheet_code

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
LONGEST_OFFICE = "ABCDEFGHIJ-12345"  # 16 characters, the most an office code may have
LARGEST_SERIAL = 999_999_999_999


@pytest.fixture
def code() -> SheetCode:
    return sign("satisfaction", 1, "LOR-01", 42, KEY)


def test_signed_code_round_trips_through_its_text(code: SheetCode) -> None:
    assert parse_sheet_code(code.text()) == code


def test_parsed_code_verifies_with_the_signing_key(code: SheetCode) -> None:
    assert verify_sheet_code(parse_sheet_code(code.text()), KEY)


def test_code_text_has_the_documented_shape(code: SheetCode) -> None:
    tag, fmt, form, version, office, serial, mac = code.text().split(":")
    assert (tag, fmt, form, version, office, serial) == (
        "SEDA", "1", "SATISFACTION", "1", "LOR-01", "42")
    assert len(mac) == 16


def test_sheet_id_names_office_form_and_serial(code: SheetCode) -> None:
    assert code.sheet_id == "LOR-01/satisfaction/42"


def test_unsigned_code_has_no_text() -> None:
    with pytest.raises(ValueError, match="not signed"):
        SheetCode("satisfaction", 1, "LOR-01", 42).text()


@pytest.mark.parametrize("office, serial", [("LOR-01", 1), (LONGEST_OFFICE, LARGEST_SERIAL)])
def test_code_text_uses_only_the_qr_alphanumeric_set(office: str, serial: int) -> None:
    text = sign("satisfaction", 1, office, serial, KEY).text()
    assert set(text) <= QR_ALPHANUMERIC


@pytest.mark.parametrize("office, serial", [("LOR-01", 1), (LONGEST_OFFICE, LARGEST_SERIAL)])
def test_code_fits_a_qr_version_5_at_level_m(office: str, serial: int) -> None:
    text = sign("satisfaction", 1, office, serial, KEY).text()
    symbol = segno.make(text, error="m", mode="alphanumeric", boost_error=False)
    assert symbol.version <= 5


@pytest.mark.parametrize("field, value", [
    ("serial", 43),
    ("office", "LOR-02"),
    ("form", "complaint"),
    ("form_version", 2),
])
def test_changed_field_with_the_old_mac_fails_verify(code: SheetCode, field: str, value) -> None:
    forged = dataclasses.replace(code, **{field: value})
    assert not verify_sheet_code(forged, KEY)


@pytest.mark.parametrize("old, new", [(":42:", ":43:"), (":LOR-01:", ":LOR-02:"),
                                      (":SATISFACTION:1:", ":SATISFACTION:2:")])
def test_edited_qr_text_fails_verify(code: SheetCode, old: str, new: str) -> None:
    forged = parse_sheet_code(code.text().replace(old, new))
    assert not verify_sheet_code(forged, KEY)


def test_changed_mac_fails_verify(code: SheetCode) -> None:
    flipped = "B" if code.mac[0] == "A" else "A"
    assert not verify_sheet_code(dataclasses.replace(code, mac=flipped + code.mac[1:]), KEY)


def test_code_signed_with_another_key_fails_verify(code: SheetCode) -> None:
    assert not verify_sheet_code(parse_sheet_code(code.text()), OTHER_KEY)


def test_different_keys_give_different_macs() -> None:
    assert sign("satisfaction", 1, "LOR-01", 42, KEY).mac != sign(
        "satisfaction", 1, "LOR-01", 42, OTHER_KEY).mac


def test_surrounding_whitespace_from_a_scanner_is_ignored(code: SheetCode) -> None:
    assert parse_sheet_code(f"  {code.text()}\r\n") == code


@pytest.mark.parametrize("text", [
    "", "https://example.com/survey", "4006381333931", "seda:1:satisfaction:1:lor-01:42:abc",
    "SEDA", "XSEDA:1:SATISFACTION:1:LOR-01:42:AAAAAAAAAAAAAAAA",
])
def test_foreign_text_is_not_seda(text: str) -> None:
    with pytest.raises(SheetCodeError) as caught:
        parse_sheet_code(text)
    assert caught.value.reason == "not_seda"


@pytest.mark.parametrize("text", [
    "SEDA:",
    "SEDA:1:SATISFACTION:1:LOR-01:42",                        # MAC missing
    "SEDA:1:SATISFACTION:1:LOR-01:42:AAAAAAAAAAAAAAA",        # MAC one short
    "SEDA:1:SATISFACTION:1:LOR-01:42:AAAAAAAAAAAAAAA1",       # 1 is not base32
    "SEDA:1:SATISFACTION:1:LOR-01:4X:AAAAAAAAAAAAAAAA",       # serial not digits
    "SEDA:1:SATISFACTION:1:LOR-01:1234567890123:AAAAAAAAAAAAAAAA",  # 13-digit serial
    "SEDA:1:SATISFACTION:1:L:42:AAAAAAAAAAAAAAAA",            # office too short
    "SEDA:1:SATISFACTION:V1:LOR-01:42:AAAAAAAAAAAAAAAA",      # version not a number
    "SEDA:1:SATISFACTION:1:LOR-01:42:AAAAAAAAAAAAAAAA:EXTRA",
])
def test_damaged_seda_text_is_malformed(text: str) -> None:
    with pytest.raises(SheetCodeError) as caught:
        parse_sheet_code(text)
    assert caught.value.reason == "malformed"


def test_code_from_a_newer_format_is_unknown_format() -> None:
    with pytest.raises(SheetCodeError) as caught:
        parse_sheet_code("SEDA:2:SATISFACTION:1:LOR-01:42:AAAAAAAAAAAAAAAA")
    assert caught.value.reason == "unknown_format"


def test_sheet_code_error_is_a_value_error() -> None:
    assert issubclass(SheetCodeError, ValueError)


@pytest.mark.parametrize("office", ["LOR-01", "AB", "THR-012", "0123456789ABCDEF", "A-"])
def test_good_office_codes_are_accepted(office: str) -> None:
    assert validate_office_code(office) == office


@pytest.mark.parametrize("office", [
    "lor-01", "A", "", "ABCDEFGHIJ-123456", "LOR 01", " LOR-01", "LOR-01 ", "LOR_01", "LÖR-01",
])
def test_bad_office_codes_are_refused(office: str) -> None:
    with pytest.raises(ValueError, match="invalid office code"):
        validate_office_code(office)


def test_office_code_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid office code"):
        validate_office_code("LOR-01\n")


def test_sign_refuses_a_bad_office_code() -> None:
    with pytest.raises(ValueError, match="invalid office code"):
        sign("satisfaction", 1, "lor-01", 1, KEY)


def test_sign_refuses_serial_zero() -> None:
    with pytest.raises(ValueError, match="serials start at 1"):
        sign("satisfaction", 1, "LOR-01", 0, KEY)


@settings(max_examples=200, deadline=None)
@given(office=st.from_regex(r"[A-Z0-9-]{2,16}", fullmatch=True),
       serial=st.integers(min_value=1, max_value=LARGEST_SERIAL),
       version=st.integers(min_value=1, max_value=999_999))
def test_any_valid_code_round_trips_and_verifies(office: str, serial: int, version: int) -> None:
    code = sign("satisfaction", version, office, serial, KEY)
    parsed = parse_sheet_code(code.text())
    assert parsed == code and verify_sheet_code(parsed, KEY)


def test_code_with_leading_zeros_is_malformed(code: SheetCode) -> None:
    with pytest.raises(SheetCodeError) as caught:
        parse_sheet_code(code.text().replace(":42:", ":0042:"))
    assert caught.value.reason == "malformed"
