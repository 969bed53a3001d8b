"""``seda central portal ...``: serve the citizens' portal on its own address."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable

import click

from forms.cli import refusal

from ..messages import MESSAGES
from .settings import PUBLIC_URL_ENV

__all__ = ["DEFAULT_PORT", "make_portal_group"]

DEFAULT_PORT = 8444


def make_portal_group(store_option: Callable, open_store: Callable) -> click.Group:
    """The ``portal`` command group, with the central CLI's ``--store`` option and opener."""

    @click.group("portal")
    def portal_group() -> None:
        """The citizens' portal («میز خدمت الکترونیک»): docs/portal.md."""

    @portal_group.command("serve")
    @store_option
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
    @click.option("--workers", default=os.cpu_count() or 1, show_default="the number of CPUs",
                  type=click.IntRange(1, 64),
                  help="Server processes sharing the address (one Python process uses one core).")
    @click.option("--threads", default=4, show_default=True, type=int,
                  help="Threads per process (more only queue on the one core a process uses).")
    @click.option("--public-url", default=None, envvar=PUBLIC_URL_ENV,
                  help="The address citizens use, e.g. https://portal.example.ir (pages and "
                       f"notifications link to it; default: ${PUBLIC_URL_ENV}).")
    @click.option("--max-attachment-mb", default=5.0, show_default=True, type=float,
                  help="The largest photo or document a citizen may attach.")
    @click.option("--trusted-proxy", default=None, metavar="ADDRESS",
                  help="The TLS proxy in front: its X-Forwarded-For is believed, so per-address "
                       "limits see each citizen's own address (never stored: docs/portal.md).")
    def serve_command(store_url: str | None, host: str, port: int, workers: int, threads: int,
                      public_url: str | None, max_attachment_mb: float,
                      trusted_proxy: str | None) -> None:
        """Serve the portal alone: no staff page, sync API or Open311 is reachable from it."""
        from ..prefork import listening_sockets, serve_workers
        from ..server import waitress_options
        from .app import create_portal_app
        from .settings import PortalSettings

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        if not 0.1 <= max_attachment_mb <= 32:
            raise click.BadParameter("between 0.1 and 32", param_hint="--max-attachment-mb")
        try:
            settings = PortalSettings.from_environment(
                public_url=public_url, max_attachment_bytes=int(max_attachment_mb * 1024 * 1024))
        except ValueError as exc:
            raise refusal(exc) from None
        store = open_store(store_url)
        try:  # listen first: "portal on" is said only once it is true
            sockets = listening_sockets(host, port, workers)
        except OSError as exc:
            raise click.ClickException(MESSAGES.line("cli_port_busy", host=host, port=str(port),
                                                     error=exc.strerror or str(exc))) from None
        click.echo(MESSAGES.line("portal_serving", url=f"http://{host}:{port}/", dialect=store.dialect))
        # Each worker opens its own connections after the fork: none is shared.
        url = store.url
        store.close()
        raise SystemExit(serve_workers(
            sockets, lambda: create_portal_app(open_store(url), settings=settings),
            threads=threads, ident="seda-portal",
            options=lambda app: waitress_options(app, trusted_proxy=trusted_proxy)))

    return portal_group
