"""sync: moves records from the office to the central server and answers back.

Public API:

- the office ledger (:class:`Ledger`), the append-only SQLite file kiosk and scanner write;
- :class:`OfficeSyncState` on an open ledger: what is waiting, and what came back from the
  central server (:meth:`OfficeSyncState.pulled_case_updates` for the kiosk's follow-up page,
  :meth:`OfficeSyncState.is_sheet_revoked` for the scanner);
- :func:`sync_once` / :func:`run_forever`, the office's sync client;
- the central server lives in :mod:`central`.
"""

from ledger.ledger import (
    RECORD_KINDS,
    Ledger,
    LedgerConflict,
    LedgerError,
    Record,
    default_ledger_path,
)
from forms.cases import CASE_STATUSES, status_label
from sync.client import SyncError, SyncReport, run_forever, sync_once
from sync.office_state import OfficeSyncState, OutboxBatch
from sync.refusals import Refusal
from sync.settings import SettingsError, SyncSettings, load_settings, write_settings
from sync.transport import TransportError

__all__ = [
    "CASE_STATUSES",
    "RECORD_KINDS",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "OfficeSyncState",
    "OutboxBatch",
    "Record",
    "Refusal",
    "SettingsError",
    "SyncError",
    "SyncReport",
    "SyncSettings",
    "TransportError",
    "default_ledger_path",
    "load_settings",
    "run_forever",
    "status_label",
    "sync_once",
    "write_settings",
]
