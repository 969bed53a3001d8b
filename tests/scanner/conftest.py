"""The scanner tests' own fixtures."""
from __future__ import annotations

import pytest

from ledger.ledger import Ledger, default_ledger_path
from scanner.pipeline import make_lookups


@pytest.fixture(scope="module")
def lookups(printed_sheets):
    """The scanner's look-ups against the printed sheets' installation (read-only)."""
    ledger = Ledger.open(default_ledger_path(printed_sheets.home))
    yield make_lookups(printed_sheets.home, ledger)
    ledger.close()
