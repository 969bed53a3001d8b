"""One pass of the outbox: queue what case events call for, send what is due, record outcomes.

``seda central notify run`` calls :func:`run_once` once, or every ``--interval`` seconds with
``--loop``; several senders may run against one PostgreSQL store (rows are claimed).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from . import outbox
from .gateways import Gateway, Outcome, mask_mobile

__all__ = ["PassResult", "run_once"]

log = logging.getLogger("seda.central.notify")


@dataclass
class PassResult:
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def run_once(store, gateway: Gateway, *, public_url: str, daily_limit: int = 5,
             now: datetime | None = None, batch: int = 50) -> PassResult:
    """Queue new notifications, then send every due one (``batch`` claimed at a time)."""
    result = PassResult(queued=outbox.collect(store, public_url=public_url, now=now,
                                              daily_limit=daily_limit))
    while True:
        claimed = outbox.claim(store, now=now, limit=batch)
        for notification in claimed:
            try:
                outcome = gateway.send(notification)
            except Exception as exc:  # noqa: BLE001 - an adapter bug must not strand the row
                log.exception("the %s gateway failed on notification %d", gateway.name, notification.id)
                outcome = Outcome("failed", error=f"gateway error: {exc!r}")
            status = outbox.settle(store, notification, outcome.status, now=now,
                                   gateway_id=outcome.gateway_id, error=outcome.error)
            if status == "sent":
                result.sent += 1
            elif status == "pending":
                result.retrying += 1
            else:
                result.failed += 1
                result.errors.append(f"#{notification.id} to {mask_mobile(notification.mobile)}: "
                                     f"{outcome.error}")
        if len(claimed) < batch:
            return result
