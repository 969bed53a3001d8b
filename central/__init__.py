"""central: the central server that receives office batches and sends answers back.

Public API: :func:`open_store` (SQLite path or ``postgresql://`` URL) and :func:`create_app`
(the WSGI app ``seda central serve`` runs under waitress), :func:`start_central` (the same
server in a background thread, e.g. for ``seda demo``).
"""
from .app import create_app
from .importer import ImportResult, import_export
from .server import RunningCentral, start_central
from .store import FEEDS, Store, StoreError, open_store

__all__ = ["FEEDS", "ImportResult", "RunningCentral", "Store", "StoreError", "create_app", "import_export",
           "open_store", "start_central"]
