"""`seda demo`: show a fresh installation working, with demo data under $SEDA_HOME.

The kiosk screens and the central server are built in their own issues; until they exist the
demo prints a stack of demo sheets (with a PNG preview of the first) and says what it made.
"""
from __future__ import annotations

from pathlib import Path

import click
import pypdfium2

from forms import builtin_catalog, seda_home
from sync.issuance import print_sheets

DEMO_OFFICE = "DEMO-01"
DEMO_SHEETS = 10


def render_preview(pdf: Path, png: Path, dpi: int = 100) -> Path:
    """First page of `pdf` as a PNG, so a person can look at a sheet without printing it."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        document[0].render(scale=dpi / 72).to_pil().save(png)
    finally:
        document.close()
    return png


@click.command("demo")
@click.option("--sheets", default=DEMO_SHEETS, show_default=True, help="Demo sheets to print.")
def demo_command(sheets: int) -> None:
    """Set up demo data under $SEDA_HOME and say what was started."""
    home = seda_home()
    out_dir = home / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)
    form = builtin_catalog().get("satisfaction")
    try:
        run = print_sheets(home, form, DEMO_OFFICE, sheets, out_dir / "sheets.pdf")
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    preview = render_preview(run.out, out_dir / "sheet-preview.png")
    click.echo(f"Seda demo in {home}")
    click.echo(f"  printed {len(run.serials)} satisfaction sheets for office {DEMO_OFFICE} "
               f"(serials {run.serials.start}-{run.serials.stop - 1}): {run.out}")
    click.echo(f"  preview of the first sheet: {preview}")
    click.echo(f"  office ledger: {home / 'ledger.sqlite3'}")
    click.echo("  not started yet: the kiosk and the central server are not built in this "
               "version; nothing is left running.")
