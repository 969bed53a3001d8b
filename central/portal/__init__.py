"""The citizens' portal («میز خدمت الکترونیک»): the central office's public web app.

Served by the central server as an app of its own (``seda central portal serve``: its own host
name and port), with nothing of the staff pages, the sync API or Open311 reachable from it.
Citizens file requests, complaints, suggestions and criticism, report misconduct (sealed, as
at the kiosk), follow a case with its tracking code, say whether an answer solved the problem,
read the service catalogue and the contact directory, and answer the satisfaction survey from a
one-time link.  docs/portal.md has the routes and settings.

One module per thing it holds: ``settings`` (what an operator sets), ``catalogue`` /
``directory`` / ``offices`` (what the centre publishes, one read function each), ``intake``
(filing), ``follow_up`` (reading a case), ``verdicts`` ("was it solved?"), ``survey`` (one-time
links), ``abuse`` (limits without third parties), ``texts`` (the words) and ``app`` (routes).
"""
from __future__ import annotations

from .app import create_portal_app
from .settings import PortalSettings

__all__ = ["PortalSettings", "create_portal_app"]
