"""`seda scan` and `seda review`: the scanner and its review queue from the command line."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from forms import seda_home
from forms.cli import refusal
from forms.progress import progress
from ledger import Ledger, default_ledger_path

from .images import PDF_DPI
from .reasons import MESSAGES

#: `seda scan` exit status for scripts: 0 every page read, 1 some refused or sent to review,
#: 2 bad arguments (a missing path, a file type that is not read).
EXIT_NOT_ALL_READ = 1
EXIT_BAD_ARGUMENTS = 2


class _DefaultToFiles(click.Group):
    """`seda scan FILE...` reads files; `seda scan watch DIR` is the hot folder."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


@click.group("scan", cls=_DefaultToFiles)
def scan_group() -> None:
    """Read filled paper sheets: seda scan FILE_OR_FOLDER... [--json] [--store].

    PDFs (every page), multi-page TIFFs, JPEG/PNG scans and phone photos.  One line (or JSON
    object) per sheet: a photo of two sheets gets two, a sheet that cannot be read its own;
    a bad page gets its own result and the next page is read.
    `seda scan` with files runs `seda scan files` (see its --help for --json, --store,
    --rescan, --dpi, --workers).
    """


def _print_human(result) -> None:
    data = result.to_json()
    where = f"{Path(data['source']).name}#{data['page']}"
    if data.get("sheets_found", 1) > 1:
        where += f".{data['sheet_index']}"          # one of several sheets on the page
    status = data["status"]
    line = f"{where:<28} {status:<9} {MESSAGES.text('status_' + status, 'fa')}"
    if data["sheet"]:
        line += f"  {data['sheet']}"
    if status in ("rejected", "blank"):
        line += f"  {data['reason']}: {data.get('message_fa', '')}"
    elif data["flags"]:
        line += "  " + ", ".join(f"{q}={r}" for q, r in data["flags"].items())
    click.echo(line)
    for warning in data.get("warnings", []):
        click.echo(f"{'':<28} ! {warning['reason']}: {warning['message_fa']}")


def _lines_elsewhere() -> bool:
    """Standard output is not the operator's terminal (redirected to a file or a pipe)."""
    return not sys.stdout.isatty()


@scan_group.command("files")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sheet (JSON lines).")
@click.option("--store", is_flag=True, help="Write readable sheets into the office ledger.")
@click.option("--rescan", is_flag=True, help="Replace an already stored sheet (audited).")
@click.option("--dpi", default=PDF_DPI, show_default=True, help="Resolution for PDF pages.")
@click.option("--workers", default=1, show_default=True, help="Worker processes (use 2+ on big stacks).")
def scan_files(inputs: tuple[Path, ...], as_json: bool, store: bool, rescan: bool, dpi: int,
               workers: int) -> None:
    """Read sheets from files and folders (the default: seda scan FILE...).

    Exit status: 0 every page was read (accepted, or a blank page), 1 some page was refused
    or sent to review (or a file in a folder was of a type not read), 2 a path is missing or
    cannot be scanned at all (nothing is read then).
    """
    from .input_check import input_problems, unsupported_files
    from .images import expand_inputs
    from .pipeline import scan_paths

    problems = input_problems(inputs)
    if problems:
        for problem in problems:
            click.echo(f"seda scan: {problem.line()}", err=True)
        click.echo(MESSAGES.line("scan_nothing_read"), err=True)
        raise SystemExit(EXIT_BAD_ARGUMENTS)
    skipped = [f for path in inputs if path.is_dir() for f in unsupported_files(path)]
    for skipped_file in skipped:
        click.echo(f"seda scan: {skipped_file}: "
                   + MESSAGES.line("scan_type_not_read", suffix=skipped_file.suffix.lower() or "-"), err=True)

    counts = {"accepted": 0, "review": 0, "rejected": 0, "blank": 0}
    # a bar only while the page lines go elsewhere (a file, a pipe): on the terminal they are
    # the progress already, and a bar drawn between them would garble both
    files = len(expand_inputs(list(inputs))) if _lines_elsewhere() else 0
    with progress(files, MESSAGES.line("scan_progress")) as advance:
        sources: set[str] = set()
        for result in scan_paths(inputs, home=seda_home(), store=store, rescan=rescan, dpi=dpi,
                                 workers=max(1, workers)):
            if result.source not in sources:  # the previous file is done
                if sources:
                    advance()
                sources.add(result.source)
            counts[result.status] += 1
            if as_json:
                click.echo(json.dumps(result.to_json(), ensure_ascii=False))
            else:
                _print_human(result)
        advance()
    if not as_json:
        total = sum(counts.values())
        click.echo(f"{total} pages: {counts['accepted']} accepted, {counts['review']} to review, "
                   f"{counts['rejected']} rejected, {counts['blank']} blank (not stored)"
                   + ("" if store or not total else " (not stored: add --store)"), err=True)
    if counts["rejected"] or counts["review"] or skipped:
        raise SystemExit(EXIT_NOT_ALL_READ)


@scan_group.command("watch")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks.")
@click.option("--settle", default=2.0, show_default=True,
              help="A file must stay unchanged this long before it is read.")
@click.option("--once", is_flag=True, help="Process what is ready now, then exit.")
@click.option("--store/--no-store", default=True, show_default=True)
def watch_command(folder: Path, interval: float, settle: float, once: bool, store: bool) -> None:
    """A hot folder: read each whole file dropped in FOLDER, then move it to done/ or failed/."""
    from .watch import HotFolder

    if not folder.is_dir():  # a mistyped folder is never made and watched forever
        raise click.ClickException(MESSAGES.line("scan_watch_no_folder", folder=str(folder)))
    hot = HotFolder(folder, home=seda_home(), store=store, settle_seconds=settle)
    click.echo(f"Watching {folder} (done/ and failed/ beside the files); Ctrl+C stops.", err=True)
    try:
        for outcome in hot.run(interval=interval, once=once):
            click.echo(f"{outcome.name}: {outcome.state} ({outcome.summary})")
    except KeyboardInterrupt:
        pass


@click.group("review")
def review_group() -> None:
    """The paper review queue: answers the scanner flagged for a person to decide."""


def _ledger() -> Ledger:
    path = default_ledger_path(seda_home())
    if not path.exists():
        raise click.ClickException(MESSAGES.line("review_no_ledger", path=str(path)))
    return Ledger.open(path)


@review_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def review_list(as_json: bool) -> None:
    """Show the open review items, oldest first."""
    from ledger.review_queue import open_items

    with _ledger() as ledger:
        items = open_items(ledger)
    if as_json:
        click.echo(json.dumps([{"id": i.id, "sheet": i.sheet, "question": i.question,
                                "reason": i.reason, "machine_value": i.machine_value,
                                "crop": i.crop_sha256, "response": i.response_uuid,
                                **({"crossed_out": i.crossed_out} if i.reason == "changed" else {})}
                               for i in items], ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo(MESSAGES.line("review_empty"))
        return
    for item in items:
        crossed = f"  struck out: {item.crossed_out!r}" if item.reason == "changed" else ""
        click.echo(f"{item.short_id}  {item.sheet:<28} {item.question:<22} {item.reason:<12} "
                   f"machine: {item.machine_value!r}{crossed}")
    click.echo(f"{len(items)} open items; decide one with: seda review resolve ITEM VALUE", err=True)


@review_group.command("resolve")
@click.argument("item_id", metavar="ITEM")
@click.argument("value")
@click.option("--by", default=lambda: os.environ.get("USER") or os.environ.get("USERNAME") or "staff",
              help="Who decides (kept in the audit record).")
@click.option("--again", is_flag=True, help="Change an earlier decision (both stay audited).")
def review_resolve(item_id: str, value: str, by: str, again: bool) -> None:
    """Decide ITEM: VALUE is an option value, digits for a grid, or '-' for blank."""
    from ledger.review_queue import ReviewError, resolve

    with _ledger() as ledger:
        try:
            decision = resolve(ledger, item_id, value, by, again=again)
        except ReviewError as exc:
            raise refusal(exc) from None
    click.echo(f"Decided {decision.body['sheet_id']} {decision.body['question']} = "
               f"{decision.body['value']!r} (machine read {decision.body['machine_value']!r})")


@review_group.command("crop")
@click.argument("item_id", metavar="ITEM")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", "whole", is_flag=True, help="The whole sheet image instead of the crop.")
def review_crop(item_id: str, out: Path, whole: bool) -> None:
    """Save an item's evidence crop (or the whole sheet) to look at."""
    from ledger.review_queue import ReviewError, find_item

    with _ledger() as ledger:
        try:
            item = find_item(ledger, item_id)
        except ReviewError as exc:
            raise refusal(exc) from None
        sha = item.sheet_image_sha256 if whole else item.crop_sha256
        if not sha:
            raise click.ClickException(MESSAGES.line("review_no_such_image"))
        if not out.parent.is_dir():  # checked before reading the blob: one line, no traceback
            raise click.ClickException(MESSAGES.line("review_folder_missing", folder=str(out.parent)))
        try:
            out.write_bytes(ledger.blob(sha))
        except OSError as exc:
            raise click.ClickException(MESSAGES.line("review_not_written", out=str(out),
                                                             error=exc.strerror or str(exc))) from None
    click.echo(str(out))
