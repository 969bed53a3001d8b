"""A central installation with its keys, and offices that trust it, for the sealing tests.

    from seal_fixtures import central_install, sealed_office  # noqa: F401 - fixtures

``central_install`` is a central home (keys) and an SQLite store, with the oversight key pair
made as a real server makes it on first start.  ``sealed_office`` is a kiosk home set up the
way ``seda sync setup --central-file`` does (central key pinned, oversight key kept);
``central_key_office`` has the central key only (the oversight key has not arrived yet).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from central import open_store
from central.keys import CentralKeys
from central.store import Store
from ledger.sync_settings import SyncSettings, write_settings
from sync.trust import pin_central

OFFICE = "LOR-01"


@dataclass
class CentralInstall:
    home: Path
    store: Store
    keys: CentralKeys

    def document(self, *, with_oversight: bool = True) -> dict:
        document = self.keys.setup_document()
        if not with_oversight:
            document = {k: v for k, v in document.items() if k != "oversight_key"}
        return document

    def set_up(self, office_home: Path, *, with_oversight: bool = True, office: str = OFFICE) -> None:
        """What `seda sync setup --office OFFICE --central-file FILE` does at the office."""
        settings = SyncSettings(office=office, central_url="")
        write_settings(office_home, settings)
        pin_central(office_home, settings, self.document(with_oversight=with_oversight))


def make_central_install(home: Path) -> CentralInstall:
    """A central installation in ``home`` (close ``.store`` when done)."""
    store = open_store(home / "central.sqlite3")
    install = CentralInstall(home, store, CentralKeys(home, store))
    install.keys.oversight_statement()  # made with the store, as the server does at start
    return install


@pytest.fixture
def central_install(tmp_path: Path):
    install = make_central_install(tmp_path / "central-home")
    yield install
    install.store.close()


@pytest.fixture
def sealed_office(kiosk_home: Path, central_install: CentralInstall) -> Path:
    central_install.set_up(kiosk_home)
    return kiosk_home


@pytest.fixture
def central_key_office(kiosk_home: Path, central_install: CentralInstall) -> Path:
    central_install.set_up(kiosk_home, with_oversight=False)
    return kiosk_home
