"""The office's settings that belong to the central office, as in force at this office.

The centre's offices register sets, per office, how many sheets one print run may make and
how long an untouched kiosk waits before going back to its start screen
(:data:`forms.catalogue.CENTRAL_SETTINGS`).  Once the office's profile has been pulled, its
values win over this installation's own (kiosk.yaml) and the built-in defaults; every reader
asks :func:`settings_in_force`, and the staff page and ``seda office status`` say which value
is in force and where it comes from.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from forms.catalogue import CENTRAL_SETTINGS, central_setting_ok

from .ledger import Ledger
from .published_content import published_office_profile

__all__ = ["DEFAULTS", "SettingInForce", "settings_in_force"]

#: What holds when neither the centre nor this installation says otherwise.
DEFAULTS: dict[str, int] = {"sheets_per_print": 10_000, "kiosk_idle_seconds": 60}


@dataclass(frozen=True)
class SettingInForce:
    name: str
    value: int
    source: str          # "centre" (its offices register), "local" (this installation) or "default"
    since: str | None    # when the centre's profile arrived here (source "centre")


def _received_at(ledger: Ledger, office: str) -> str | None:
    row = ledger._conn.execute(  # noqa: SLF001 - same package
        "SELECT received_at FROM central_items WHERE feed = 'office_profile' AND key = ? AND deleted = 0",
        (office,)).fetchone()
    return None if row is None else str(row[0])


def settings_in_force(ledger: Ledger, office: str, local: Mapping[str, int] | None = None
                      ) -> dict[str, SettingInForce]:
    """Each central setting's value here and its source.  A centre value outside the allowed
    range (an old or hand-edited profile) is not applied: the local or default one holds."""
    profile = published_office_profile(ledger, office)
    central = profile.settings if profile is not None else {}
    since = _received_at(ledger, office) if central else None
    out = {}
    for name in CENTRAL_SETTINGS:
        if central_setting_ok(name, central.get(name)):
            out[name] = SettingInForce(name, int(central[name]), "centre", since)
        elif local is not None and local.get(name) is not None:
            out[name] = SettingInForce(name, int(local[name]), "local", None)
        else:
            out[name] = SettingInForce(name, DEFAULTS[name], "default", None)
    return out
