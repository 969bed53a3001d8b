"""ledger: the office's own store -- the append-only SQLite ledger the kiosk and the scanner
write, the sheets issued for printing, the paper review queue, and what the centre sent back.

Public API: :class:`Ledger` and its errors, :class:`Record`, :data:`RECORD_KINDS`,
:func:`default_ledger_path`.
"""

from ledger.ledger import (
    RECORD_KINDS,
    Ledger,
    LedgerConflict,
    LedgerError,
    Record,
    StrandedRecord,
    default_ledger_path,
)

__all__ = ["RECORD_KINDS", "Ledger", "LedgerConflict", "LedgerError", "Record",
           "StrandedRecord", "default_ledger_path"]
