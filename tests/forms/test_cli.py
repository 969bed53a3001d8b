"""The `seda` command and `seda forms ...`: help, listing, printing, and refusing bad input
with one plain line and no stray files."""

from __future__ import annotations

import json
import os
import stat
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from forms.office_identity import write_office
from click.testing import CliRunner

import forms.cli
import forms.paper
from forms import builtin_catalog
from seda.cli import main
from ledger import Ledger

VERSION = builtin_catalog().get("satisfaction").version  # what `seda forms print` prints


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SEDA_HOME", str(home))
    write_office(home, "LOR-01")  # what `seda office setup --office LOR-01` writes
    return home


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def seda(*args: str):
    return CliRunner().invoke(main, list(args))


def print_args(out: Path, *, form: str = "satisfaction", office: str = "LOR-01",
               count: str = "2") -> list[str]:
    return ["forms", "print", form, "--office", office, "--count", count, "--out", str(out)]


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- help and listing ----------------------------------------------------------------


def test_seda_help_lists_forms_and_demo() -> None:
    result = seda("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1]
    assert "forms" in commands and "demo" in commands


def test_seda_forms_help_lists_list_print_and_layout() -> None:
    result = seda("forms", "--help")
    assert result.exit_code == 0
    commands = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines()
                if line.strip()}
    assert {"list", "print", "layout"} <= commands


def with_broken_plugin(monkeypatch) -> None:
    """Add a `seda` subcommand whose module cannot be imported, as a half-installed package has."""
    real = forms.cli.entry_points
    broken = EntryPoint(name="broken", value="seda_no_such_module.cli:group",
                        group=forms.cli.ENTRY_POINT_GROUP)

    def entry_points(group: str):
        return [*real(group=group), broken]

    monkeypatch.setattr(forms.cli, "entry_points", entry_points)


def test_other_subcommands_still_run_when_one_plugin_is_broken(monkeypatch) -> None:
    with_broken_plugin(monkeypatch)
    assert seda("forms", "list").exit_code == 0


def test_help_still_lists_commands_when_one_plugin_is_broken(monkeypatch) -> None:
    with_broken_plugin(monkeypatch)
    result = seda("--help")
    assert result.exit_code == 0
    assert "forms" in result.stdout


def test_forms_list_shows_satisfaction_v1() -> None:
    result = seda("forms", "list")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("satisfaction "))
    assert "v1" in line.split()


def test_forms_list_json_names_every_form_version() -> None:
    result = seda("forms", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {"form": "satisfaction", "version": 1} in [
        {"form": row["form"], "version": row["version"]} for row in rows]


# -- bad input -------------------------------------------------------------------------


BAD_PRINTS = {
    "unknown form": (dict(form="complaint"), ["unknown form 'complaint'", "satisfaction"]),
    "lower-case office": (dict(office="lor-01"), ["invalid office code 'lor-01'"]),
    "office too long": (dict(office="ABCDEFGHIJ-123456"), ["invalid office code"]),
    "count 0": (dict(count="0"), ["count must be from 1 to 10,000, got 0"]),
    "count 10001": (dict(count="10001"), ["count must be from 1 to 10,000, got 10001"]),
}


@pytest.mark.parametrize("case", BAD_PRINTS)
def test_bad_print_input_is_a_one_line_error(home: Path, out_dir: Path, case: str) -> None:
    overrides, fragments = BAD_PRINTS[case]
    result = seda(*print_args(out_dir / "x.pdf", **overrides))
    assert_one_line_error(result, *fragments)


@pytest.mark.parametrize("case", BAD_PRINTS)
def test_bad_print_input_writes_no_file(home: Path, out_dir: Path, case: str) -> None:
    overrides, _ = BAD_PRINTS[case]
    seda(*print_args(out_dir / "x.pdf", **overrides))
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("case", BAD_PRINTS)
def test_bad_print_input_creates_no_key_and_issues_no_serial(home: Path, out_dir: Path,
                                                           case: str) -> None:
    overrides, _ = BAD_PRINTS[case]
    seda(*print_args(out_dir / "x.pdf", **overrides))
    assert not (home / "keys").exists()
    assert not (home / "ledger.sqlite3").exists()


def test_output_in_a_missing_folder_is_a_one_line_error(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = seda(*print_args(missing / "x.pdf"))
    assert_one_line_error(result, "does not exist")
    assert not missing.exists()


def test_output_path_that_is_a_folder_is_refused(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir))
    assert_one_line_error(result, "is a folder")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("count", ["abc", "-1"])
def test_count_that_is_not_a_positive_number_is_refused(home: Path, out_dir: Path,
                                                         count: str) -> None:
    result = seda(*print_args(out_dir / "x.pdf", count=count))
    assert result.exit_code != 0 and "Error: " in result.stderr
    assert list(out_dir.iterdir()) == []


# -- printing ----------------------------------------------------------------------------


def test_print_writes_the_pdf_and_says_which_serials(home: Path, out_dir: Path) -> None:
    out = out_dir / "x.pdf"
    result = seda(*print_args(out, count="3"))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert f"Wrote 3 sheets of satisfaction v{VERSION} for LOR-01 (serials 1-3)" in result.stdout


def test_print_on_letter_paper_makes_letter_pages(home: Path, out_dir: Path) -> None:
    import pypdfium2

    out = out_dir / "letter.pdf"
    result = seda(*print_args(out, count="2"), "--paper", "letter")
    assert result.exit_code == 0, result.output
    assert "on US Letter" in result.stdout
    document = pypdfium2.PdfDocument(str(out))
    try:
        assert [tuple(round(v) for v in page.get_size()) for page in document] == [(612, 792)] * 2
    finally:
        document.close()


def test_print_on_a4_is_the_default(home: Path, out_dir: Path) -> None:
    import pypdfium2

    out = out_dir / "a4.pdf"
    assert seda(*print_args(out, count="1")).exit_code == 0
    document = pypdfium2.PdfDocument(str(out))
    try:
        assert tuple(round(v) for v in document[0].get_size()) == (595, 842)
    finally:
        document.close()


def test_print_on_unknown_paper_is_a_usage_error(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "x.pdf"), "--paper", "legal")
    assert result.exit_code == 2
    assert not (out_dir / "x.pdf").exists()


def test_first_print_for_a_new_office_says_a_key_was_created(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "x.pdf"))
    assert result.exit_code == 0, result.output
    assert "New office LOR-01: created its sheet-signing key" in result.stderr
    assert (home / "keys" / "sheet-LOR-01.key").is_file()


def test_second_print_for_the_office_says_nothing_about_keys(home: Path, out_dir: Path) -> None:
    seda(*print_args(out_dir / "first.pdf"))
    result = seda(*print_args(out_dir / "second.pdf"))
    assert result.exit_code == 0, result.output
    assert "key" not in result.stderr


def test_an_office_code_this_installation_is_not_set_up_for_is_refused_and_makes_no_key(
        home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "b.pdf", office="LOR-99"))  # a typo of LOR-01
    assert_one_line_error(result, "set up for office LOR-01, not LOR-99")
    assert not (home / "keys" / "sheet-LOR-99.key").exists()
    assert not (out_dir / "b.pdf").exists()


def test_print_without_an_office_set_up_says_which_command_to_run(tmp_path: Path, monkeypatch,
                                                                   out_dir: Path) -> None:
    monkeypatch.setenv("SEDA_HOME", str(tmp_path / "fresh"))
    result = seda(*print_args(out_dir / "x.pdf"))
    assert_one_line_error(result, "seda office setup --office CODE")
    assert not (tmp_path / "fresh" / "keys").exists()


def test_print_takes_the_office_from_the_setup_when_no_office_is_given(home: Path, out_dir: Path) -> None:
    result = seda("forms", "print", "satisfaction", "--count", "1", "--out", str(out_dir / "x.pdf"))
    assert result.exit_code == 0, result.output
    assert "for LOR-01" in result.stdout


def test_print_leaves_only_the_pdf_in_the_output_folder(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "x.pdf"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out_dir.iterdir()) == ["x.pdf"]


def test_print_over_an_existing_pdf_replaces_it(home: Path, out_dir: Path) -> None:
    out = out_dir / "x.pdf"
    out.write_bytes(b"old sheets")
    result = seda(*print_args(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in out_dir.iterdir()) == ["x.pdf"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_printed_pdf_has_the_usual_file_permissions(home: Path, out_dir: Path) -> None:
    out = out_dir / "x.pdf"
    seda(*print_args(out))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


# -- when rendering fails ------------------------------------------------------------------


def fail_on_second_sheet(monkeypatch, error: Exception) -> None:
    """Let the first page draw (so the .part file holds a partial PDF), then fail."""
    draw_qr = forms.paper._draw_qr
    calls = []

    def failing(canvas, layout, text):
        calls.append(text)
        if len(calls) == 2:
            raise error
        draw_qr(canvas, layout, text)

    monkeypatch.setattr(forms.paper, "_draw_qr", failing)


def test_disk_error_while_rendering_is_a_one_line_error(home: Path, out_dir: Path,
                                                       monkeypatch) -> None:
    fail_on_second_sheet(monkeypatch, OSError(28, "No space left on device"))
    result = seda(*print_args(out_dir / "x.pdf", count="3"))
    assert_one_line_error(result, "No space left on device")


def test_disk_error_while_rendering_leaves_no_pdf_and_no_part_file(home: Path, out_dir: Path,
                                                                  monkeypatch) -> None:
    fail_on_second_sheet(monkeypatch, OSError(28, "No space left on device"))
    seda(*print_args(out_dir / "x.pdf", count="3"))
    assert list(out_dir.iterdir()) == []


def test_unexpected_render_failure_leaves_no_pdf_and_no_part_file(home: Path, out_dir: Path,
                                                                  monkeypatch) -> None:
    fail_on_second_sheet(monkeypatch, RuntimeError("renderer bug"))
    result = seda(*print_args(out_dir / "x.pdf", count="3"))
    assert isinstance(result.exception, RuntimeError)
    assert list(out_dir.iterdir()) == []


def test_render_failure_keeps_the_previous_pdf_intact(home: Path, out_dir: Path,
                                                      monkeypatch) -> None:
    out = out_dir / "x.pdf"
    out.write_bytes(b"yesterday's sheets")
    fail_on_second_sheet(monkeypatch, OSError(28, "No space left on device"))
    seda(*print_args(out, count="3"))
    assert out.read_bytes() == b"yesterday's sheets"
    assert sorted(p.name for p in out_dir.iterdir()) == ["x.pdf"]


def test_render_failure_burns_its_serials(home: Path, out_dir: Path, monkeypatch) -> None:
    """Serials that might have reached paper are never given to a second sheet."""
    with monkeypatch.context() as patch:
        fail_on_second_sheet(patch, OSError(28, "No space left on device"))
        seda(*print_args(out_dir / "failed.pdf", count="3"))
    result = seda(*print_args(out_dir / "x.pdf", count="2"))
    assert "(serials 4-5)" in result.stdout
    with Ledger.open(home / "ledger.sqlite3") as ledger:
        assert ledger.sheet_issued("LOR-01", "satisfaction", VERSION, 1)


def test_a_print_refusal_says_it_in_persian_first(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "x.pdf", count="0"))
    assert_one_line_error(result, "شمار برگه‌ها باید از ۱ تا ۱۰٬۰۰۰ باشد، نه ۰ / count must be from 1")


def test_another_office_is_refused_in_persian_and_english(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "x.pdf", office="THR-02"))
    assert_one_line_error(result, "این نصب برای ادارهٔ LOR-01 تنظیم شده است", "set up for office LOR-01, not THR-02")


def test_printing_into_a_pipe_prints_no_progress_text(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "x.pdf", count="3"))
    assert result.exit_code == 0, result.output
    assert "Printing sheets" not in result.output and "چاپ برگه" not in result.output
    assert "\r" not in result.output


def test_printing_advances_the_bar_once_per_sheet(home: Path, out_dir: Path) -> None:
    from ledger.issuance import print_sheets

    drawn = []
    run = print_sheets(home, builtin_catalog().get("satisfaction"), "LOR-01", 4, out_dir / "x.pdf",
                       advance=lambda: drawn.append(1))
    assert len(drawn) == len(run.serials) == 4

# -- survey links on paper --------------------------------------------------------------------


def _page_codes(pdf: Path, page: int = 0) -> list[str]:
    import pypdfium2 as pdfium
    from pyzbar import pyzbar

    image = pdfium.PdfDocument(str(pdf))[page].render(scale=200 / 72).to_pil()
    return [symbol.data.decode() for symbol in pyzbar.decode(image)]


def test_print_adds_each_sheets_survey_link_when_the_portal_is_set(home: Path, out_dir: Path) -> None:
    from datetime import date

    from forms.identity_keys import ensure_office_key
    from forms.survey_tokens import read_survey_token, verify_survey_token

    key, _ = ensure_office_key(home)
    (home / "kiosk.yaml").write_text("portal_url: https://portal.example.ir/\n", encoding="utf-8")
    result = seda(*print_args(out_dir / "s.pdf"))
    assert result.exit_code == 0, result.output
    assert "each with its survey link to https://portal.example.ir" in result.stdout
    codes = _page_codes(out_dir / "s.pdf", 1)
    (link,) = [c for c in codes if c.startswith("https://")]
    assert [c for c in codes if c.startswith("SEDA:1:SATISFACTION:")][0].split(":")[5] == "2"
    assert link.startswith("https://portal.example.ir/s/LOR-01.")
    token = verify_survey_token(read_survey_token(link.rsplit("/", 1)[1]), key.public_key(), today=date.today())
    assert (token.sheet.form, token.sheet.form_version, token.sheet.serial) == ("satisfaction", VERSION, 2)


def test_print_without_a_portal_address_has_no_survey_link(home: Path, out_dir: Path) -> None:
    assert seda(*print_args(out_dir / "s.pdf")).exit_code == 0
    assert [c for c in _page_codes(out_dir / "s.pdf") if not c.startswith("SEDA:")] == []


def test_asking_for_survey_links_without_a_portal_address_is_a_one_line_error(home: Path, out_dir: Path) -> None:
    result = seda(*print_args(out_dir / "s.pdf"), "--survey-link")
    assert_one_line_error(result, "portal_url", "kiosk.yaml")
    assert not (out_dir / "s.pdf").exists()


def test_print_says_why_it_leaves_the_survey_links_out_without_the_sync_key(home: Path, out_dir: Path) -> None:
    (home / "kiosk.yaml").write_text("portal_url: https://portal.example.ir\n", encoding="utf-8")
    result = seda(*print_args(out_dir / "s.pdf"))
    assert result.exit_code == 0
    assert "without survey links" in result.stderr and "seda sync setup" in result.stderr
    assert result.stderr.startswith("برگه‌ها بدون پیوند نظرسنجی چاپ می‌شوند: پیوند نظرسنجی با کلید")
    assert seda(*print_args(out_dir / "t.pdf"), "--survey-link").exit_code == 1
