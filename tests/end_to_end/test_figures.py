"""From pen marks to the central office's figures, on real files and a real server (SQLite and
PostgreSQL): sheets printed with `seda forms print`, marked (clear marks, two marks on one
question, sheets left blank), read with `seda scan --store`, review items settled with
`seda review resolve`, kiosk surveys complete and incomplete, synced to a central server on
127.0.0.1; `seda central figures --json` then counts exactly what was marked, answers still
waiting for a person as pending until they are settled, and the office dashboard shows the
same numbers for the same records.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from forms import builtin_catalog
from seda.cli import main
from forms.responses import kiosk_response
from kiosk.dashboard import counted_responses, month_figures
from central.rollups import tehran_day
from forms.responses import jalali_month_of

OFFICE = "LOR-01"
FORM = builtin_catalog().get("satisfaction")
# What each printed sheet gets: clear marks, or two marks on one question (goes to a person),
# or nothing at all (a blank sheet: not a response).
CLEAR_1 = {"service": "smart_id_card", "workflow": 4, "matched_announcement": "partly", "staff_behaviour": 5,
           "waiting_time": "10_30", "overall": 4, "desk": "07", "mobile": "09123456789", "follow_up_consent": "yes"}
CLEAR_2 = {"service": "death_registration", "workflow": 1, "matched_announcement": "no", "staff_behaviour": 2,
           "waiting_time": "over_60", "overall": 1, "desk": "03"}
TWO_MARKS_WORKFLOW = {"service": "smart_id_card", "workflow": [2, 5], "matched_announcement": "yes",
                      "waiting_time": "under_10", "overall": 5}
TWO_MARKS_STAFF = {"service": "other", "staff_behaviour": [1, 3], "overall": 3, "waiting_time": "30_60"}
SHEETS = [CLEAR_1, TWO_MARKS_WORKFLOW, None, CLEAR_2, TWO_MARKS_STAFF, None]
KIOSK = [({"service": "other", "workflow": 5, "staff_behaviour": 5, "overall": 5, "matched_announcement": "yes",
           "waiting_time": "under_10", "comment": "خیلی خوب بود"}, True),
         ({"service": "smart_id_card", "workflow": 3, "matched_announcement": "partly", "staff_behaviour": 4,
           "waiting_time": "10_30"}, False),  # walked away after five answers
         ({"overall": 2}, True)]


def seda(home: Path, *args: str, ok: bool = True, exit_code: int = 0):
    result = CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home), "SEDA_CENTRAL_STORE": ""})
    if ok:
        assert result.exit_code == exit_code, result.output
    return result


def expected(pending: set[tuple[int, str]], settled: dict[tuple[int, str], object]) -> dict:
    """The figures worked out by hand from what was marked (not by the code under test)."""
    responses = []
    for index, marks in enumerate(SHEETS):
        if marks is None:
            continue
        answers = {}
        for question, value in marks.items():
            if (index, question) in settled:
                answers[question] = settled[(index, question)]
            elif (index, question) in pending:
                answers[question] = "PENDING"
            else:
                answers[question] = value
        responses.append(("paper", True, answers))
    responses += [("kiosk", complete, answers) for answers, complete in KIOSK]
    out = {"responses": {"total": len(responses), "paper": sum(s == "paper" for s, _, _ in responses),
                         "kiosk": sum(s == "kiosk" for s, _, _ in responses),
                         "portal": sum(s == "portal" for s, _, _ in responses),
                         "sheet_link": sum(s == "sheet_link" for s, _, _ in responses),
                         "answered_twice": 0,  # no sheet answered both online and on paper here
                         "complete": sum(c for _, c, _ in responses),
                         "incomplete": sum(not c for _, c, _ in responses)}, "questions": {}}
    for question in FORM.questions:
        given = [a[question.id] for _, _, a in responses if question.id in a]
        answered = [v for v in given if v != "PENDING"]
        counts = {str(o): sum(str(v) == str(o) for v in answered) for o in question.option_values()}
        ratings = [v for v in answered if isinstance(v, int)]
        out["questions"][question.id] = {
            "answered": len(answered), "pending_review": len(given) - len(answered), "counts": counts,
            "mean": round(sum(ratings) / len(ratings), 4) if question.scale and ratings else None}
    return out


def central_figures(store_url: str, month: str) -> dict:
    result = CliRunner().invoke(main, ["central", "figures", "--month", month, "--office", OFFICE,
                                       "--store", store_url, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def office_figures(office, month: str) -> dict:
    with office.ledger() as ledger:
        counted = list(counted_responses(ledger.records("survey_response"), ledger.records("review_decision")))
    return month_figures(counted, month, FORM, OFFICE)


def at_office(want: dict, month: str) -> dict:
    """The centre's figures as the office counts them: the office never sees an online answer,
    so "answered twice" (one sheet answered online and on paper) is the centre's alone."""
    responses = {k: v for k, v in want["responses"].items() if k != "answered_twice"}
    return {"month": month, **want, "responses": responses}


def items_by_sheet(home: Path) -> dict[tuple[int, str], str]:
    listed = json.loads(seda(home, "review", "list", "--json").output or "[]")
    return {(int(i["sheet"].rsplit("/", 1)[1]) - 1, i["question"]): i["id"] for i in listed}


def test_marked_scanned_reviewed_and_synced_sheets_are_counted_as_marked(tmp_path: Path, central,
                                                                         store_url: str, fill, make_office, rasterise, save_pdf, sync_until_done) -> None:
    office = make_office(tmp_path, OFFICE, central.url, central.store)
    pdf = tmp_path / "sheets.pdf"
    seda(office.home, "forms", "print", "satisfaction", "--office", OFFICE, "--count", str(len(SHEETS)),
         "--out", str(pdf))
    pages = rasterise(pdf)
    marked = [page if marks is None else fill(page, marks) for page, marks in zip(pages, SHEETS)]
    scans = save_pdf(marked, tmp_path / "scans.pdf")
    lines = [json.loads(line) for line in seda(office.home, "scan", str(scans), "--store", "--json", exit_code=1).stdout.splitlines()]
    assert [line["status"] for line in lines] == ["accepted", "review", "blank", "accepted", "review", "blank"]
    with office.ledger() as ledger:
        for answers, complete in KIOSK:
            ledger.append("survey_response", kiosk_response(
                form="satisfaction", form_version=1, answers={q.id: answers.get(q.id) for q in FORM.questions},
                kiosk_id="kiosk-1", visit=f"v{len(answers)}", complete=complete), office=OFFICE)
        month = jalali_month_of(tehran_day(next(ledger.records("survey_response")).created_at.strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")))
    items = items_by_sheet(office.home)
    assert set(items) == {(1, "workflow"), (4, "staff_behaviour")}
    seda(office.home, "review", "resolve", items[(1, "workflow")], "5", "--by", "maryam")
    sync_until_done(office.home)

    figures = central_figures(store_url, month)
    want = expected(pending={(4, "staff_behaviour")}, settled={(1, "workflow"): 5})
    assert {k: figures[k] for k in ("responses", "questions")} == want
    assert figures["questions"]["staff_behaviour"]["pending_review"] == 1
    assert office_figures(office, month) == at_office(want, month)  # the office agrees

    # the last item settled, and the first decision changed with --again: both reach the centre
    seda(office.home, "review", "resolve", items[(4, "staff_behaviour")], "3", "--by", "maryam")
    seda(office.home, "review", "resolve", items[(1, "workflow")], "2", "--by", "ali", "--again")
    sync_until_done(office.home)
    figures = central_figures(store_url, month)
    want = expected(pending=set(), settled={(1, "workflow"): 2, (4, "staff_behaviour"): 3})
    assert {k: figures[k] for k in ("responses", "questions")} == want
    # sheet 2's workflow moved from 5 to 2 (the 5 left is the kiosk visitor's)
    assert figures["questions"]["workflow"]["counts"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}
    assert office_figures(office, month) == at_office(want, month)
    assert figures["desks"]["with_desk"] == 2 and figures["desks"]["without_desk"] == 5
