"""``seda central notify run|status``: send the SMS outbox, and see how it is doing."""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta, timezone
from collections.abc import Callable
from pathlib import Path

import click

from forms import seda_home
from forms.messages import reason

from ..messages import MESSAGES

__all__ = ["make_notify_group"]

_PUBLIC_URL_ENV = "SEDA_PORTAL_PUBLIC_URL"


def make_notify_group(store_option: Callable, open_store: Callable) -> click.Group:
    """The ``notify`` command group, with the central CLI's ``--store`` option and opener."""

    config_option = click.option(
        "--config", "config", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="The SMS settings file (default: $SEDA_HOME/sms.toml; none: log-only gateway).")

    @click.group("notify")
    def notify_group() -> None:
        """SMS to citizens who gave a mobile and agreed: registered, answered, overdue
        (docs/notifications.md)."""

    @notify_group.command("run")
    @store_option
    @config_option
    @click.option("--public-url", default=None, envvar=_PUBLIC_URL_ENV,
                  help=f"The portal's address the messages link to (default: ${_PUBLIC_URL_ENV}).")
    @click.option("--loop", is_flag=True, help="Keep running, one pass every --interval seconds.")
    @click.option("--interval", default=30.0, show_default=True, type=float)
    def run_command(store_url: str | None, config: Path | None, public_url: str | None,
                    loop: bool, interval: float) -> None:
        """Queue the messages case events call for and send the due ones.  Exit 1 when a
        message failed in this pass (once), 2 when the settings cannot be used."""
        from ..portal.settings import check_public_url
        from .sender import run_once
        from .settings import SettingsError, load_settings

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        try:
            url = check_public_url(public_url or "")
            settings = load_settings(config or seda_home() / "sms.toml")
        except (ValueError, SettingsError) as exc:
            click.echo(MESSAGES.line("notify_settings_unusable", error=reason(exc)), err=True)
            raise SystemExit(2) from None
        if not url:
            click.echo(MESSAGES.line("notify_public_url_needed", variable=_PUBLIC_URL_ENV), err=True)
            raise SystemExit(2)
        store = open_store(store_url)
        while True:
            result = run_once(store, settings.gateway, public_url=url,
                              daily_limit=settings.daily_limit)
            click.echo(MESSAGES.line("notify_pass", queued=result.queued, sent=result.sent,
                                     retrying=result.retrying, failed=result.failed,
                                     gateway=settings.gateway.name))
            for line in result.errors:
                click.echo("  " + MESSAGES.line("notify_failed_line", detail=line), err=True)
            if not loop:
                raise SystemExit(1 if result.failed else 0)
            time.sleep(interval)

    @notify_group.command("status")
    @store_option
    @click.option("--json", "as_json", is_flag=True, help="Counts and recent failures as JSON.")
    def status_command(store_url: str | None, as_json: bool) -> None:
        """Messages by status and the failures of the last 24 hours (mobiles masked).  Exit 1
        while there is such a failure, so a monitor notices."""
        from . import outbox
        from .gateways import mask_mobile

        store = open_store(store_url)
        counts = outbox.counts(store)
        failures = outbox.recent(store, since=datetime.now(timezone.utc) - timedelta(days=1))
        if as_json:
            click.echo(json.dumps({"counts": counts, "failed": [
                {"id": n.id, "case": n.case_uuid, "event": n.event, "mobile": mask_mobile(n.mobile),
                 "tries": n.tries, "error": n.last_error, "at": n.next_try_at} for n in failures]},
                ensure_ascii=False, indent=2))
        else:
            click.echo("  ".join(f"{status} {count}" for status, count in counts.items()))
            for n in failures:
                click.echo("  " + MESSAGES.line("notify_failure", id=n.id, event=n.event,
                                                mobile=mask_mobile(n.mobile), tries=n.tries,
                                                error=n.last_error or ""))
        raise SystemExit(1 if failures else 0)

    return notify_group
