"""The portal running inside another program (``seda demo``, tests, the benchmark)."""
from __future__ import annotations

from pathlib import Path

from ..server import RunningApp
from .app import create_portal_app
from .settings import PortalSettings

__all__ = ["RunningPortal"]


class RunningPortal(RunningApp):
    """The portal over ``store`` on ``url`` until :meth:`stop` (waitress, its own port)."""

    def __init__(self, store, host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 home: Path | None = None, settings: PortalSettings | None = None) -> None:
        self.store = store
        self.app = create_portal_app(store, home=home, settings=settings)
        super().__init__(self.app, host, port, threads, "seda-portal")
