"""The portal's app factory: a Flask app of its own, sharing only the central store and keys.

Nothing of the staff pages, the sync API or Open311 is registered here, so mounting the portal
on its own host name and port exposes none of them (``seda central portal serve``).  The app
keeps no session and sets no cookie but the language choice; each form carries what it needs.
The factory only wires: the state (central/portal/state.py) and the page blueprints.

Routes (docs/portal.md):

- ``GET  /``, ``/lang``, ``/health``     the frame (:mod:`.root`)
- ``GET|POST /file``, ``/report``        filing (:mod:`.file_pages`)
- ``GET|POST /follow``, ``GET /f/<code>``, ``POST /verdict``  following a case (:mod:`.follow_pages`)
- ``GET  /services``, ``/contacts``      what the centre published (:mod:`.published_pages`)
- ``GET|POST /s/<token>``                the survey from a one-time link (:mod:`.survey_pages`)
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Flask

from forms import seda_home
from forms.flask_messages import install_messages

from ..keys import CentralKeys
from ..messages import MESSAGES
from ..store import Store
from ..web.i18n import locale_selector
from . import file_pages, follow_pages, published_pages, root, survey_pages
from .abuse import AbuseLimits
from .settings import PortalSettings
from .state import EXTENSION, PortalState

__all__ = ["create_portal_app"]

_PAGES = (root, file_pages, follow_pages, published_pages, survey_pages)


def create_portal_app(store: Store, *, home: Path | None = None,
                      settings: PortalSettings | None = None,
                      keys: CentralKeys | None = None) -> Flask:
    """The portal over ``store``; ``home`` holds the central keys (default ``$SEDA_HOME``)."""
    settings = settings or PortalSettings.from_environment()
    home = Path(home) if home is not None else seda_home()
    app = Flask("central.portal", root_path=str(Path(__file__).resolve().parent),
                static_folder="static", static_url_path="/static",
                template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_attachment_bytes + 64 * 1024
    app.extensions[EXTENSION] = PortalState(store, settings, keys or CentralKeys(home, store),
                                            AbuseLimits(store, home, settings))
    install_messages(app, MESSAGES, locale_selector)
    for pages in _PAGES:
        app.register_blueprint(pages.bp)
    app.jinja_env.globals["quote"] = quote
    return app
