"""The citizens' portal («میز خدمت الکترونیک»): the central office's public web app.

Served by the central server as an app of its own (``seda central portal serve``: its own host
name and port), with nothing of the staff pages, the sync API or Open311 reachable from it.
Citizens file requests, complaints, suggestions and criticism, report misconduct (sealed, as
at the kiosk), follow a case with its tracking code, say whether an answer solved the problem,
read the service catalogue and the contact directory, and answer the satisfaction survey from a
one-time link.  docs/portal.md has the routes and settings.

Laid out like the staff pages (central/web/): ``app`` is the factory and only wires;
``state`` holds what the app keeps (store, settings, keys, limits) and the accessors the views
use; each page module holds a plain blueprint ``bp`` with module-level views: ``root`` (home,
health, language, headers and error pages), ``file_pages`` (filing), ``follow_pages``
(following a case, "was it solved?"), ``published_pages`` (catalogue, contacts),
``survey_pages`` (one-time links); ``common`` what they share.  ``settings`` is what an
operator sets, ``abuse`` the limits without third parties, ``catalogue`` / ``directory`` /
``offices`` one read function each over what the centre publishes.

The pages call services and never the database: filing is central/portal_intake.py, reading
a case central/portal_follow_up.py, the one-time survey central/portal_survey.py, "was it
solved?" central/verdicts.py; their queries are in central/db/.
"""
from __future__ import annotations

from .app import create_portal_app
from .settings import PortalSettings

__all__ = ["PortalSettings", "create_portal_app"]
