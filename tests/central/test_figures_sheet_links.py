"""A paper sheet answered twice, scanned and online from its survey link (SQLite and
PostgreSQL): the answer that reached the centre first counts, the other is kept as a record,
counted as ``answered_twice`` and in no other figure, whatever order the fold meets them in."""
from __future__ import annotations

import json

import pytest

from central import Store, analysis
from central import figures as F

OFFICE = "LOR-01"
SHEET = f"{OFFICE}/satisfaction/42"
IN_AZAR = "2026-12-01T08:00:00.000000Z"  # 1405-09 in Tehran


def scanned(uid: str, workflow: int, *, received: str, replaces: str | None = None) -> tuple:
    body = {"source": "paper", "form": "satisfaction", "form_version": 1, "sheet": SHEET, "serial": 42,
            "status": "accepted", "answers": {"workflow": workflow, "service": "other"}, "flags": {}}
    if replaces:
        body["replaces"] = replaces
    return (uid, body, received)


def online(uid: str, workflow: int, *, received: str) -> tuple:
    body = {"source": "sheet_link", "form": "satisfaction", "form_version": 1, "sheet": SHEET, "serial": 42,
            "answers": {"workflow": workflow, "service": "other"}, "complete": True}
    return (uid, body, received)


def add(store: Store, *rows: tuple) -> None:
    """Store records as ingest leaves them, each with the time it reached the centre."""
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint, tracking_code,"
                       " receipt, received_at) VALUES (?, ?, 'survey_response', ?, ?, 'fp', NULL, 'r', ?)",
                       [(uid, OFFICE, IN_AZAR, json.dumps(body), received) for uid, body, received in rows])


def figures(store: Store) -> dict:
    found = F.response_figures(store, "1405-09")
    return {"responses": found["responses"], "workflow": found["questions"]["workflow"]["counts"]}


PAPER_FIRST = (scanned("paper", 2, received="2026-12-01T09:00:00Z"), online("web", 5, received="2026-12-01T10:00:00Z"))
ONLINE_FIRST = (scanned("paper", 2, received="2026-12-01T11:00:00Z"), online("web", 5, received="2026-12-01T10:00:00Z"))


def _expect(counted_source: str, workflow: int) -> dict:
    return {"total": 1, "paper": int(counted_source == "paper"), "kiosk": 0, "portal": 0,
            "sheet_link": int(counted_source == "sheet_link"), "complete": 1, "incomplete": 0,
            "answered_twice": 1}, workflow


@pytest.mark.parametrize("rows, counted", [(PAPER_FIRST, ("paper", 2)), (ONLINE_FIRST, ("sheet_link", 5))],
                         ids=["scanned-first", "online-first"])
@pytest.mark.parametrize("fold", ["in-arrival-order", "in-reverse-order", "at-once"])
def test_a_sheet_answered_twice_counts_the_answer_that_arrived_first(store: Store, rows, counted, fold) -> None:
    ordered = sorted(rows, key=lambda r: r[2])
    if fold == "at-once":
        add(store, *ordered)
    else:
        for row in (ordered if fold == "in-arrival-order" else ordered[::-1]):
            add(store, row)
            F.response_figures(store, "1405-09")  # fold what has arrived so far
    responses, workflow = _expect(*counted)
    got = figures(store)
    assert got["responses"] == responses
    assert got["workflow"] == {**dict.fromkeys("12345", 0), str(workflow): 1}
    assert len([r for r in store.records() if r["kind"] == "survey_response"]) == 2  # both kept
    analysis.drop_analysis_indexes(store)  # rebuilt from the records in one go: the same
    assert figures(store) == got


def test_a_rescan_of_a_sheet_answered_online_first_is_still_its_second_answer(store: Store) -> None:
    add(store, online("web", 5, received="2026-12-01T10:00:00Z"),
        scanned("paper", 2, received="2026-12-01T11:00:00Z"))
    F.response_figures(store, "1405-09")
    add(store, scanned("rescan", 3, received="2026-12-01T12:00:00Z", replaces="paper"))
    got = figures(store)
    assert (got["responses"]["total"], got["responses"]["sheet_link"], got["responses"]["answered_twice"]) == (1, 1, 1)
    assert got["workflow"]["5"] == 1 and got["workflow"]["3"] == 0


def test_a_rescan_of_a_sheet_scanned_first_takes_its_place_and_the_online_answer_stays_out(store: Store) -> None:
    add(store, scanned("paper", 2, received="2026-12-01T09:00:00Z"), online("web", 5, received="2026-12-01T10:00:00Z"))
    F.response_figures(store, "1405-09")
    add(store, scanned("rescan", 3, received="2026-12-01T12:00:00Z", replaces="paper"))
    got = figures(store)
    assert (got["responses"]["total"], got["responses"]["paper"], got["responses"]["answered_twice"]) == (1, 1, 1)
    assert got["workflow"]["3"] == 1 and got["workflow"]["2"] == 0 and got["workflow"]["5"] == 0


def test_sheets_answered_once_each_way_are_each_counted(store: Store) -> None:
    other = online("web-43", 4, received="2026-12-01T10:00:00Z")
    other[1]["sheet"], other[1]["serial"] = f"{OFFICE}/satisfaction/43", 43
    add(store, scanned("paper", 2, received="2026-12-01T09:00:00Z"), other)
    got = figures(store)["responses"]
    assert (got["total"], got["paper"], got["sheet_link"], got["answered_twice"]) == (2, 1, 1, 0)
