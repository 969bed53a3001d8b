"""The offices page: every office's health at a glance, for the administrator.

Last contact, last batch, records received here, what the office says is waiting, refused
and stranded there, its clock offset, its key, its software version and when its kiosk was
last alive, and its last refusal.  Offices silent for more than a working day come first and
stand out (central/office_health.py decides "quiet").  Counts and times only: nothing a
citizen wrote is on this page, so viewing it is not audited as a view of personal data.
"""
from __future__ import annotations

from flask import Blueprint, render_template

from forms.workdays import TEHRAN
from ..casework import Casework
from ..office_health import office_health
from . import auth

__all__ = ["bp"]

#: A clock further off than this is shown as a problem (batches are refused at 24 hours).
CLOCK_WARN_SECONDS = 300


bp = Blueprint("offices", __name__, url_prefix="/offices")


@bp.route("/")
@auth.require("admin")
def page() -> str:
    store = auth.store()
    now = auth.now()
    rows = office_health(store, Casework(store).calendar(now.astimezone(TEHRAN).date()), now)
    return render_template("central/offices.html", rows=rows, quiet=sum(r.quiet for r in rows),
                           clock_warn=CLOCK_WARN_SECONDS)
