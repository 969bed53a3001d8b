"""The offices a citizen may name on the portal, with the names the central office gave them.

One read function (:func:`office_choices`), so a richer source (issue #13: the centre manages
office names) replaces only this module.  Today's source is ``seda central office name``.
"""
from __future__ import annotations

from ..figures import office_names

__all__ = ["office_choices"]


def office_choices(store) -> dict[str, dict[str, str]]:
    """Office code -> {"fa", "en"} for every active office that has a name, by Persian name."""
    names = office_names(store)
    active = {office.code for office in store.offices() if office.status == "active"}
    return dict(sorted(((code, n) for code, n in names.items() if code in active),
                       key=lambda item: item[1]["fa"]))
