"""sync: moves records from the office to the central server.

Public API so far: the office ledger, the append-only SQLite file that kiosk
and scanner write and the sync client reads.
"""

from sync.ledger import (
    RECORD_KINDS,
    Ledger,
    LedgerConflict,
    LedgerError,
    Record,
    default_ledger_path,
)

__all__ = [
    "RECORD_KINDS",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "Record",
    "default_ledger_path",
]
