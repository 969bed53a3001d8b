"""Every test runs with its own ``$SEDA_HOME``, so nothing (keys the central server makes on
start, settings, ledgers) is ever written to the real user's data folder.  A test that needs a
particular home sets ``SEDA_HOME`` itself (``monkeypatch.setenv``), which wins over this one."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_seda_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SEDA_HOME", str(tmp_path_factory.mktemp("seda-home")))
