"""The service catalogue the portal shows: what the central office published.

One read function (:func:`published_services`).  Its source is the centre's versioned catalogue
(central/service_catalogue.py: the version in force today, for any office), plus entries
published on the ``catalogue`` feed before versions existed (a key without ``@``), each in the
format of the office's services file (forms/catalogue.py); an entry that does not read is left
out and logged, never shown half.
"""
from __future__ import annotations

import json
import logging

from forms.catalogue import CatalogueError, Service, service_from_mapping

from ..service_catalogue import catalogue_on, versions_by_service

__all__ = ["published_services"]

log = logging.getLogger("seda.central.portal")


def published_services(store) -> list[Service]:
    """Every published catalogue entry meant for all offices, by Persian name."""
    rows = store.published("catalogue", office="")
    versioned = versions_by_service(store)
    services = [s for key, s in catalogue_on(store).items() if key in versioned]
    for key, body in rows:
        if "@" in key:  # a version: already counted above, in force or not
            continue
        try:
            item = json.loads(body)
            if isinstance(item, dict):
                item = {"id": key, **item}
            services.append(service_from_mapping(item, f"catalogue/{key}"))
        except (ValueError, CatalogueError) as exc:
            log.warning("catalogue entry %s is not shown: %s", key, exc)
    return sorted(services, key=lambda s: s.name.fa)
