"""kiosk: the office's touch-screen entrance app and its staff pages (Flask).

Public API: the app factory, its configuration, tracking codes, and the case functions the
sync layer shares (see docs/kiosk.md for the ledger contract).
"""
from .app import create_app
from .cases import case_timeline, file_case, find_case
from .config import KioskConfig
from forms.tracking_codes import is_valid_tracking_code, new_tracking_code

__all__ = ["create_app", "KioskConfig", "case_timeline", "file_case", "find_case",
           "is_valid_tracking_code", "new_tracking_code"]
