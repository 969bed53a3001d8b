"""`seda central report` and `seda central export`: the Persian PDF, CSV/XLSX, privacy."""
from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner

import numpy
from central import Store
from central.cli import central_group
from central.exports import MISCONDUCT_COUNT, SEALED, export
from central.report import fairness_note, write_report

IN_AZAR = "2026-12-01T08:00:00.000000Z"
COMMENT = "کارمند باجه ۷ بسیار مؤدب بود؛ ممنونم"


def add(store: Store, kind: str, bodies: list[dict], office: str = "THR-012") -> None:
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')",
                       [(str(uuid.uuid4()), office, kind, IN_AZAR, json.dumps(b, ensure_ascii=False))
                        for b in bodies])


def survey(desk: str = "07", **answers) -> dict:
    return {"source": "paper" if desk == "02" else "kiosk", "form": "satisfaction", "form_version": 1,
            "answers": {"service": "smart_id_card", "desk": desk, "workflow": 4, "staff_behaviour": 5,
                        "overall": 4, "matched_announcement": "yes", "mobile": "09121234567",
                        "comment": COMMENT, **answers}}


@pytest.fixture
def filled(store: Store) -> Store:
    add(store, "survey_response", [survey("07") for _ in range(30)] + [survey("02", overall=2) for _ in range(3)])
    add(store, "case", [
        {"tracking_code": "11112222", "type": "complaint", "service": "other", "text": "صف طولانی",
         "anonymous": False, "name": "مریم", "national_id": "0012345679", "mobile": "09121111111",
         "channel": "kiosk", "route": "office", "attachments": []},
        {"tracking_code": "33334444", "type": "request", "service": "other", "text": "درخواست",
         "anonymous": True, "name": "نباید بیاید", "channel": "kiosk", "route": "office", "attachments": []},
        {"tracking_code": "55556666", "type": "misconduct", "service": "other", "text": "رشوه خواست",
         "anonymous": False, "name": "علی", "mobile": "09122222222", "channel": "kiosk",
         "route": "oversight", "attachments": ["ab" * 32]},
        {"tracking_code": "77778888", "type": "misconduct", "service": "other", "anonymous": True,
         "channel": "kiosk", "route": "oversight", "attachments": [], "sealed": {"alg": "x", "box": "..."}},
    ])
    return store


def test_report_pdf_renders_a_non_blank_first_page_with_vazirmatn(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    pages = write_report(filled, "1405-09", out)
    data = out.read_bytes()
    assert b"Vazirmatn" in data and b"FontFile2" in data  # embedded, not just named
    pdf = pypdfium2.PdfDocument(str(out))
    assert len(pdf) == pages
    image = pdf[0].render(scale=0.5).to_pil().convert("L")
    assert (numpy.asarray(image) < 128).mean() > 0.01


def test_report_states_the_fairness_rule_and_lists_small_desks_unranked(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    write_report(filled, "1405-09", out)
    pdf = pypdfium2.PdfDocument(str(out))
    # pdfium gives the text back in logical order, without the zero-width non-joiners
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert fairness_note(30) == "کمتر از ۳۰ پاسخ: رتبه\u200cبندی نمی\u200cشود"
    assert fairness_note(30).replace("\u200c", "") in text
    assert "داده ناکافی" in text  # desk 02 has 3 answers


def test_report_for_an_empty_month_still_renders(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "empty.pdf"
    write_report(store, "1405-01", out)
    assert out.read_bytes().startswith(b"%PDF")


def test_report_advances_its_progress_bar_to_the_end_once_the_file_is_written(store: Store,
                                                                             tmp_path: Path) -> None:
    from central.report import REPORT_STEPS

    out, seen = tmp_path / "steps.pdf", []
    write_report(store, "1405-01", out, advance=lambda: seen.append(out.exists()))
    assert len(seen) == REPORT_STEPS and seen[-1] and not seen[-2]  # the last step: the file is there


def test_report_cli_writes_the_file(filled: Store, store_url: str, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(central_group, ["report", "--month", "1405-09", "--out", str(out),
                                                "--office", "THR-012", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert result.output.startswith(f"{out} نوشته شد (") and f"/ Wrote {out} (" in result.output


@pytest.mark.parametrize("month", ["1405-13", "Azar", "14050"])
def test_report_cli_refuses_a_bad_month_in_one_line(month: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(central_group, ["report", "--month", month, "--out", str(tmp_path / "r.pdf"),
                                                "--store", str(tmp_path / "c.sqlite3")])
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"«{month}» ماه شمسی به شکل ۱۴۰۵-۰۹ نیست. / {month!r} is not a Jalali month like 1405-09."]
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "c.sqlite3").exists()


def test_report_cli_unwritable_path_is_one_line_and_leaves_nothing(filled: Store, store_url: str,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "missing" / "r.pdf"
    result = CliRunner().invoke(central_group, ["report", "--month", "1405-09", "--out", str(out),
                                                "--store", store_url])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "Cannot write" in result.output
    assert not out.parent.exists()


def test_a_failed_write_keeps_the_previous_file(filled: Store, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "r.pdf"
    out.write_bytes(b"old")
    import central.report as report

    monkeypatch.setattr(report, "_trend_chart", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_report(filled, "1405-09", out)
    assert out.read_bytes() == b"old" and [p.name for p in out.parent.iterdir()] == ["r.pdf"]


def test_csv_export_has_a_bom_and_persian_intact_and_no_mobile(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "responses.csv"
    assert export(filled, "responses", "1405-09", out) == 33
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["comment"] == COMMENT and rows[0]["jalali"].startswith("1405/09/10")
    assert "mobile" not in rows[0] and b"09121234567" not in raw


def test_xlsx_export_opens_with_openpyxl(filled: Store, tmp_path: Path) -> None:
    import openpyxl
    out = tmp_path / "cases.xlsx"
    assert export(filled, "cases", "1405-09", out, fmt="xlsx") == 3  # two cases, one count row
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("uuid", "office", "created_at", "jalali", "type")
    assert "صف طولانی" in rows[1]


def _cases(store: Store, tmp_path: Path, **kwargs) -> dict[str, dict]:
    """Rows by text (cases) or "misconduct" (the count row)."""
    out = tmp_path / "cases.csv"
    export(store, "cases", "1405-09", out, **kwargs)
    rows = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))
    return {("misconduct" if r["text"] == MISCONDUCT_COUNT else r["text"]): r for r in rows}


def test_cases_export_never_carries_personal_data_of_anonymous_cases(filled: Store, tmp_path: Path) -> None:
    for flag in (False, True):
        rows = _cases(filled, tmp_path, include_oversight=flag)
        assert rows["درخواست"]["name"] == ""
    assert rows["صف طولانی"]["national_id"] == "0012345679"  # a named case keeps its sender


def test_cases_export_has_only_a_count_of_misconduct_reports_unless_include_oversight(filled: Store,
                                                                                   tmp_path: Path) -> None:
    rows = _cases(filled, tmp_path)
    assert set(rows) == {"صف طولانی", "درخواست", "misconduct"}
    assert (rows["misconduct"]["count"], rows["misconduct"]["office"], rows["misconduct"]["uuid"]) == ("2", "THR-012", "")
    oversight = _cases(filled, tmp_path, include_oversight=True)
    assert oversight["رشوه خواست"]["name"] == "علی"
    assert oversight[SEALED]["type"] == "misconduct"  # only the oversight key opens a sealed report


def test_cases_export_never_carries_a_tracking_code(filled: Store, tmp_path: Path) -> None:
    for flag in (False, True):
        out = tmp_path / "cases.csv"
        export(filled, "cases", "1405-09", out, include_oversight=flag)
        text = out.read_text(encoding="utf-8-sig")
        assert "tracking_code" not in text.splitlines()[0]
        for code in ("11112222", "33334444", "55556666", "77778888"):
            assert code not in text


def test_export_cli_writes_csv_and_xlsx(filled: Store, store_url: str, tmp_path: Path) -> None:
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"r.{fmt}"
        result = CliRunner().invoke(central_group, ["export", "responses", "--month", "1405-09", "--format", fmt,
                                                    "--out", str(out), "--store", store_url])
        assert result.exit_code == 0, result.output
        assert "Wrote 33 responses" in result.output and out.stat().st_size > 0


IN_ABAN = "2026-11-01T08:00:00.000000Z"  # 1405-08-10 in Tehran


def _page_text(path: Path, index: int | None = None) -> str:
    pdf = pypdfium2.PdfDocument(str(path))
    pages = range(len(pdf)) if index is None else [index]
    return "".join(pdf[i].get_textpage().get_text_range() for i in pages).replace("\u200c", "")


def _add_at(store: Store, created_at: str, bodies: list[dict], office: str = "THR-012") -> None:
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, 'survey_response', ?, ?, 'fp', NULL, 'r', 'now')",
                       [(str(uuid.uuid4()), office, created_at, json.dumps(b, ensure_ascii=False)) for b in bodies])


def test_page_one_gives_the_article_9_figures_with_the_change_from_last_month(store: Store,
                                                                              tmp_path: Path) -> None:
    _add_at(store, IN_ABAN, [survey(workflow=3, staff_behaviour=4, matched_announcement="no") for _ in range(10)])
    _add_at(store, IN_AZAR, [survey(workflow=4, staff_behaviour=4) for _ in range(10)])
    out = tmp_path / "r.pdf"
    write_report(store, "1405-09", out)
    first = _page_text(out, 0)
    assert "گردش کار: ۴٫۰ از ۵" in first and "۱٫۰ بیشتر از آبان (۳٫۰)" in first
    assert "۱۰۰ واحد درصد بیشتر از آبان" in first
    assert "رفتار کارکنان: ۴٫۰ از ۵" in first and "همانند آبان (۴٫۰)" in first
    assert "۱۰ مراجع نظر، پیشنهاد یا انتقاد خود را نوشتند" in first


def test_page_one_names_offices_and_the_three_least_satisfying_services_with_enough_answers(
        store: Store, tmp_path: Path) -> None:
    from central.figures import set_office_name

    set_office_name(store, "THR-012", "ثبت احوال منطقه ۱۲")
    for service, overall in (("smart_id_card", 2), ("death_registration", 3), ("other", 4), ("certificates", 5)):
        _add_at(store, IN_AZAR, [survey(service=service, overall=overall) for _ in range(30)])
    _add_at(store, IN_AZAR, [survey(service="marriage_divorce", overall=1) for _ in range(29)])  # too few
    out = tmp_path / "r.pdf"
    write_report(store, "1405-09", out, office="THR-012")
    first = _page_text(out, 0)
    assert "ثبت احوال منطقه ۱۲" in first and "THR" not in first
    lowest = [line for line in first.splitlines() if "رضایت کلی" in line and "از ۵" in line]
    assert [("کارت هوشمند ملی" in lowest[0]), ("ثبت وفات" in lowest[1]), ("سایر خدمات" in lowest[2])] == [True] * 3
    assert len(lowest) == 3 and not any("ازدواج" in line for line in lowest)


def test_no_cell_of_the_report_is_cut_off(filled: Store, tmp_path: Path) -> None:
    from central.figures import set_office_name

    set_office_name(filled, "THR-012", "اداره کل ثبت احوال استان تهران، منطقه دوازده، واحد خدمات الکترونیکی")
    out = tmp_path / "r.pdf"
    write_report(filled, "1405-09", out)
    text = _page_text(out)
    assert "…" not in text and "واحد خدمات الکترونیکی" in text.replace("\n", " ")
