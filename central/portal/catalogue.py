"""The service catalogue the portal shows: what the central office published.

One read function (:func:`published_services`), so a richer source (issue #13: the centre
manages the catalogue) replaces only this module.  Today's source is the ``catalogue`` feed
(``seda central publish catalogue ID --json entry.json``), each item in the format of the
office's services file (forms/catalogue.py); an entry that does not read is left out and
logged, never shown half.
"""
from __future__ import annotations

import json
import logging

from forms.catalogue import CatalogueError, Service, service_from_mapping

__all__ = ["published_services"]

log = logging.getLogger("seda.central.portal")


def published_services(store) -> list[Service]:
    """Every published catalogue entry meant for all offices, by Persian name."""
    rows = store.published("catalogue", office="")
    services = []
    for key, body in rows:
        try:
            item = json.loads(body)
            if isinstance(item, dict):
                item = {"id": key, **item}
            services.append(service_from_mapping(item, f"catalogue/{key}"))
        except (ValueError, CatalogueError) as exc:
            log.warning("catalogue entry %s is not shown: %s", key, exc)
    return sorted(services, key=lambda s: s.name.fa)
