"""The `seda forms` subcommands, and the command group every package's subcommands plug into.

Each package contributes its own subcommands through the `seda.commands` entry points in
pyproject.toml (a name like `forms.print` adds `print` under `seda forms`).  They are loaded
only when asked for, so forms/ never imports the packages built on it and `seda --help` stays
fast.
"""
from __future__ import annotations

import json
from importlib.metadata import entry_points

import click

from .definition import FormDefinitionError, UnknownForm, builtin_catalog
from .layout import build_layout
from .messages import MessageError, messages_for, reason

MESSAGES = messages_for("forms")

ENTRY_POINT_GROUP = "seda.commands"


class PluginGroup(click.Group):
    """A click group whose subcommands may also come from entry points named `<prefix><name>`."""

    def __init__(self, *args, plugin_prefix: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.plugin_prefix = plugin_prefix

    def _plugins(self) -> dict:
        found = {}
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name.startswith(self.plugin_prefix):
                rest = entry.name[len(self.plugin_prefix):]
                if rest and "." not in rest:
                    found[rest] = entry
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self._plugins():
            try:
                command = self._plugins()[name].load()
            except ImportError as exc:
                # one half-installed package must not take the whole command line down
                command = _unavailable(name, exc)
        return command


def refusal(error: BaseException) -> click.ClickException:
    """The one-line error a command ends with (exit 1): a catalogued error in Persian, then
    English (:meth:`MessageError.line`); any other error's own words behind the Persian
    "could not be done", so the operator always reads Persian first."""
    if isinstance(error, MessageError):
        return click.ClickException(error.line())
    return click.ClickException(MESSAGES.line("command_failed", detail=reason(error)))


def _unavailable(name: str, exc: ImportError) -> click.Command:
    reason = f"{exc.__class__.__name__}: {exc}"

    def fail() -> None:
        raise click.ClickException(MESSAGES.line("command_unavailable", name=name, reason=reason))

    return click.Command(name, callback=fail, help=f"(unavailable: {reason})",
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True})


@click.group("forms", cls=PluginGroup, plugin_prefix="forms.")
def forms_group() -> None:
    """Survey form definitions, paper sheets and their layout maps."""


def _catalog():
    try:
        return builtin_catalog()
    except FormDefinitionError as exc:
        raise click.ClickException(MESSAGES.line("form_definition_broken", detail=exc.text)) from None


def load_form(form_id: str, version: int | None):
    """The form the user named, or a one-line error that lists what exists."""
    try:
        return _catalog().get(form_id, version)
    except UnknownForm as exc:
        raise refusal(exc) from None


@forms_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_forms(as_json: bool) -> None:
    """List the forms and the versions this installation can print and read."""
    catalog = _catalog()
    rows = [{"form": form.id, "version": form.version, "questions": len(form.questions),
             "title_fa": form.title.fa, "title_en": form.title.en} for form in catalog]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    newest = {row["form"]: max(r["version"] for r in rows if r["form"] == row["form"]) for row in rows}
    for row in rows:
        mark = "  (printed)" if row["version"] == newest[row["form"]] else ""
        click.echo(f"{row['form']:<16} v{row['version']:<4} {row['questions']:>2} questions  "
                   f"{row['title_en']} / {row['title_fa']}{mark}")


@forms_group.command("layout")
@click.argument("form_id", metavar="FORM")
@click.option("--version", type=int, help="Form version (default: the newest).")
@click.option("--json", "as_json", is_flag=True, help="Print the layout map as JSON.")
def layout_command(form_id: str, version: int | None, as_json: bool) -> None:
    """Show where every box of FORM sits on the page (PDF points, origin top-left, y down)."""
    form = load_form(form_id, version)
    try:
        layout = build_layout(form).to_json()
    except FormDefinitionError as exc:
        raise click.ClickException(MESSAGES.line("form_definition_broken", detail=exc.text)) from None
    if as_json:
        click.echo(json.dumps(layout, ensure_ascii=False))
        return
    page = layout["page"]
    click.echo(f"{layout['form']} v{layout['version']}: {page['width']} x {page['height']} pt, "
               f"{len(layout['fiducials'])} fiducials, QR at {layout['qr']['box']}")
    for question in layout["questions"]:
        if question["kind"] == "digits":
            detail = f"{len(question['columns'])} digit columns"
        elif question["kind"] == "text":
            detail = f"box {question['box']}"
        else:
            detail = f"{len(question['options'])} options"
        click.echo(f"  {question['id']:<22} {question['kind']:<7} {detail}")
