"""What the portal app keeps between requests, and the accessors its views use.

One :class:`PortalState` per app (``app.extensions["seda.portal"]``), made by the factory in
central/portal/app.py; the views reach it only through :func:`store`, :func:`settings`,
:func:`keys` and :func:`limits`, so no view imports the factory.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from ..keys import CentralKeys
from ..store import Store
from .abuse import AbuseLimits
from .settings import PortalSettings

__all__ = ["EXTENSION", "PortalState", "keys", "limits", "rendered", "settings", "store"]

EXTENSION = "seda.portal"


@dataclass(frozen=True)
class PortalState:
    """The store, the operator's settings, the central keys and the abuse limits of one app."""

    store: Store
    settings: PortalSettings
    keys: CentralKeys
    limits: AbuseLimits
    #: pages everyone sees alike, rendered once per language and version (common.shared_page)
    rendered: dict = field(default_factory=dict)


def _state() -> PortalState:
    return current_app.extensions[EXTENSION]


def store() -> Store:
    """The central store the portal reads and files into."""
    return _state().store


def settings() -> PortalSettings:
    return _state().settings


def keys() -> CentralKeys:
    """The central installation's keys (misconduct reports are sealed to its oversight key)."""
    return _state().keys


def limits() -> AbuseLimits:
    return _state().limits


def rendered() -> dict:
    return _state().rendered
