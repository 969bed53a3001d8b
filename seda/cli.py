"""The root `seda` command: the application shell every package's subcommands hang from.

Subcommands come from the `seda.commands` entry points in pyproject.toml and are loaded only
when asked for, so `seda --help` stays fast and a half-installed package never takes the whole
command line down (see :class:`forms.cli.PluginGroup`).
"""
from __future__ import annotations

import click

from forms.cli import PluginGroup
from forms.home import seda_home
from forms.private_files import tighten_home


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="seda")
def main() -> None:
    """Seda (صدا): citizens' voice at government offices.

    State lives under $SEDA_HOME (default: the user's data folder).
    """
    home = seda_home()
    if home.exists():  # private to its user (0700), also when an older Seda made it wider
        tighten_home(home)
