"""Tracking codes: what a citizen writes down to follow up a case.

A tracking code is 12 digits: 11 random digits and one Verhoeff check digit.

Why digits only
    Visitors type them on a numeric keypad, read them over the phone and copy them from a
    thermal receipt; digits survive all of that in Persian, Arabic-Indic or Latin form.

Why Verhoeff and not Luhn
    Verhoeff's dihedral-group check catches every single-digit error *and every swap of two
    adjacent digits* (Luhn misses 09 <-> 90), which are the two mistakes people make when
    copying numbers.  A mistyped code is rejected locally, before it counts as a wrong try.

Why random (unguessable)
    The code is the only key to a case that may be anonymous, so it must not be derivable
    from a counter, a time or an office number.  The 11 payload digits come from
    :mod:`secrets` (the OS CSPRNG).  An office with ``n`` open cases offers a guesser a
    ``n / 10**11`` chance per try; with 100,000 cases that is 1 in a million, and the kiosk
    slows wrong tries down (see :mod:`kiosk.limits`) to a handful a minute.

Why unique without asking the central server
    *Within an office* a code is unique by construction: a case record's UUID is derived
    from its code (:func:`kiosk.cases.case_uuid`) and the ledger's UUID column is unique;
    :func:`new_tracking_code` is called inside the ledger's ``BEGIN IMMEDIATE`` write
    transaction and redraws if that UUID is taken, so two kiosks (threads, processes) writing
    to one ledger can never hand out the same code.

    *Across offices* no coordination is needed because the draw is office-independent and
    the space is large.  For one new code, the chance that any other office in the country
    ever issued the same code is ``N / 10**11`` where ``N`` is the number of cases in the
    whole system: with N = 10 million (1,000 offices x 10,000 cases) that is 1 in 10,000 per
    case.  Summed over all pairs (the birthday bound) the expected number of codes held by
    two offices is ``N**2 / (2 * 10**11)`` -- about 500 pairs at N = 10 million, so a
    *typeable* random code cannot be nationally unique on its own (that would need ~17
    digits).  The contract is therefore: a case's global identity is its record UUID, and
    the pair (office, tracking code) is unique; the kiosk's follow-up reads the office's own
    ledger, where the code is unique, and a central lookup that finds the same code at two
    offices disambiguates with the office or the mobile's last four digits.  No office ever
    needs a prefix, a range or a round trip to issue a code, and a code says nothing about
    where or when it was issued (which matters for anonymous misconduct reports).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable

from forms.cases import format_tracking_code, normalize_tracking_code

__all__ = [
    "PAYLOAD_DIGITS",
    "CODE_DIGITS",
    "verhoeff_check_digit",
    "is_valid_tracking_code",
    "normalize_tracking_code",
    "new_tracking_code",
    "format_tracking_code",
]

PAYLOAD_DIGITS = 11
CODE_DIGITS = PAYLOAD_DIGITS + 1

# Verhoeff tables: multiplication in the dihedral group D5, the position permutation, and
# the group inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)



def _checksum(digits: str, offset: int) -> int:
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[(position + offset) % 8][int(digit)]]
    return check


def verhoeff_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass :func:`is_valid_tracking_code`'s check."""
    if not payload.isascii() or not payload.isdigit():
        raise ValueError(f"payload must be ASCII digits, got {payload!r}")
    return str(_INV[_checksum(payload, 1)])


def is_valid_tracking_code(text: str) -> bool:
    """Whether ``text`` is a well-formed code (right length, check digit right).

    Only says the code *could* exist; whether it does is a ledger question.
    """
    code = normalize_tracking_code(text)
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        return False
    return _checksum(code, 0) == 0


def _random_payload() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PAYLOAD_DIGITS))


def new_tracking_code(
    exists: Callable[[str], bool] | None = None,
    *,
    random_payload: Callable[[], str] = _random_payload,
    max_attempts: int = 20,
) -> str:
    """A fresh code; ``exists(code)`` is asked so the caller's store can refuse duplicates.

    Call it inside the same write transaction that stores the case, so the check and the
    insert cannot be separated by another writer.  Twenty draws that all exist would mean
    the space is exhausted or the random source is broken; both must stop the kiosk.
    """
    for _ in range(max_attempts):
        payload = random_payload()
        code = payload + verhoeff_check_digit(payload)
        if exists is None or not exists(code):
            return code
    raise RuntimeError("could not draw an unused tracking code; is the random source broken?")


