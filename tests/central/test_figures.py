"""The centre counts effective answers (SQLite and PostgreSQL): review decisions applied as they
arrive, in any order; pending answers pending until settled; a rescan counted once; and the
other figures of ``seda central figures`` (cases, desks, waiting time, responses per working day)."""
from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timezone

import pytest

from forms import builtin_catalog
from forms.figures import Tally
from forms.responses import Decision, response_facts
from central import Store, analysis
from central import figures as F

OFFICE = "THR-012"
IN_AZAR = "2026-12-01T08:00:00.000000Z"  # 1405-09-10 in Tehran
FORM = builtin_catalog().get("satisfaction")


def _row(kind: str, body: dict, *, office: str = OFFICE, created_at: str = IN_AZAR,
         uid: str | None = None) -> tuple:
    return (uid or str(uuid.uuid4()), office, kind, created_at, json.dumps(body, ensure_ascii=False))


def add(store: Store, rows: list[tuple]) -> None:
    """Insert records straight into the store's records table (what ingest leaves there)."""
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')",
                       rows)


def sheet(uid: str, *, flags: dict | None = None, replaces: str | None = None, **answers) -> tuple:
    body = {"source": "paper", "form": "satisfaction", "form_version": 1, "sheet": f"{OFFICE}/satisfaction/1/1",
            "serial": 1, "status": "review" if flags else "accepted",
            "answers": {"service": "smart_id_card", **answers}, "flags": flags or {}}
    if replaces:
        body["replaces"] = replaces
    return _row("survey_response", body, uid=uid)


def decided(response: str, question: str, value, *, uid: str | None = None, replaces: str | None = None,
            at: str = "2026-12-02T08:00:00.000000Z", item: str | None = None) -> tuple:
    body = {"item": item or f"item-{response}-{question}", "response": response, "sheet_id": "s",
            "question": question, "value": value, "machine_value": None, "reason": "faint", "by": "maryam",
            "replaces": replaces}
    return _row("review_decision", body, created_at=at, uid=uid)


def question(store: Store, qid: str, month: str = "1405-09") -> dict:
    return F.response_figures(store, month)["questions"][qid]


def test_a_flagged_answer_is_pending_until_its_decision_arrives(store: Store) -> None:
    add(store, [sheet("r1", flags={"workflow": "multiple"}, workflow=None, overall=4)])
    assert question(store, "workflow") == {"answered": 0, "pending_review": 1,
                                           "counts": dict.fromkeys("12345", 0), "mean": None}
    assert question(store, "overall")["answered"] == 1  # the rest of the sheet counts at once
    add(store, [decided("r1", "workflow", 3)])
    workflow = question(store, "workflow")
    assert (workflow["answered"], workflow["pending_review"], workflow["counts"]["3"]) == (1, 0, 1)
    [group] = analysis.satisfaction(store, "1405-09", ())
    assert group.means["workflow"].mean == 3.0


def test_a_decision_that_arrives_before_its_sheet_is_applied_when_the_sheet_comes(store: Store) -> None:
    add(store, [decided("r1", "workflow", 2)])
    assert F.response_figures(store, "1405-09")["responses"]["total"] == 0
    add(store, [sheet("r1", flags={"workflow": "faint"}, workflow=None)])
    workflow = question(store, "workflow")
    assert (workflow["answered"], workflow["pending_review"], workflow["counts"]["2"]) == (1, 0, 1)


def test_a_decision_delivered_twice_counts_once(store: Store) -> None:
    add(store, [sheet("r1", flags={"workflow": "faint"}, workflow=None)])
    first = decided("r1", "workflow", 5, uid=str(uuid.uuid4()))
    add(store, [first])
    with store.connect() as db, db.transaction():  # a replayed record is refused by its uuid
        db.execute("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint, tracking_code,"
                   " receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')"
                   " ON CONFLICT (uuid) DO NOTHING", first)
    assert question(store, "workflow")["counts"]["5"] == 1


def test_a_decision_changed_later_moves_the_answer(store: Store) -> None:
    add(store, [sheet("r1", flags={"staff_behaviour": "faint"}, staff_behaviour=None),
                decided("r1", "staff_behaviour", 1, uid="00000000-0000-4000-8000-000000000001")])
    assert question(store, "staff_behaviour")["counts"]["1"] == 1
    add(store, [decided("r1", "staff_behaviour", 4, replaces="00000000-0000-4000-8000-000000000001",
                        at="2026-12-03T08:00:00.000000Z")])
    counts = question(store, "staff_behaviour")["counts"]
    assert (counts["1"], counts["4"]) == (0, 1)
    [group] = analysis.satisfaction(store, "1405-09", ())
    assert (group.means["staff_behaviour"].n, group.means["staff_behaviour"].mean) == (1, 4.0)


def test_a_decision_that_settles_the_service_moves_the_response_to_that_service(store: Store) -> None:
    add(store, [sheet("r1", flags={"service": "multiple"}, service=None, overall=5)])
    assert [g.key["service"] for g in analysis.satisfaction(store, "1405-09", ("service",))] == [None]
    add(store, [decided("r1", "service", "death_registration")])
    groups = analysis.satisfaction(store, "1405-09", ("service",))
    assert [(g.key["service"], g.responses) for g in groups] == [("death_registration", 1)]


def test_a_rescanned_sheet_is_counted_once_whichever_copy_arrives_first(store: Store) -> None:
    add(store, [sheet("new", replaces="old", overall=5)])
    add(store, [sheet("old", overall=1)])
    [group] = analysis.satisfaction(store, "1405-09", ())
    assert (group.responses, group.means["overall"].mean) == (1, 5.0)


def test_a_blank_sheet_stored_by_an_older_version_is_not_a_response(store: Store) -> None:
    add(store, [sheet("blank", service=None), sheet("filled", overall=3)])
    assert F.response_figures(store, "1405-09")["responses"]["total"] == 1


def _expected(rows: list[tuple]) -> dict:
    """The figures as the office computes them: forms.responses + forms.figures over records."""
    bodies = {r[0]: json.loads(r[4]) for r in rows if r[2] == "survey_response"}
    decisions: dict[str, list[Decision]] = {}
    for r in rows:
        if r[2] == "review_decision":
            d = Decision.from_record(r[0], r[3], json.loads(r[4]))
            decisions.setdefault(d.response, []).append(d)
    replaced = {b.get("replaces") for b in bodies.values()}
    tally = Tally.of(response_facts(b, decisions.get(u, ()), FORM) for u, b in bodies.items() if u not in replaced)
    out = tally.to_json(FORM.questions)
    out["responses"]["answered_twice"] = 0  # the centre's own count: no sheet answered online here
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_records_arriving_in_any_order_give_the_figures_of_all_of_them(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for n in range(40):
        uid = str(uuid.uuid4())
        flagged = rng.sample(["workflow", "service", "overall", "waiting_time", "desk"], rng.randint(0, 2))
        answers = {"workflow": rng.randint(1, 5), "overall": rng.randint(1, 5),
                   "waiting_time": rng.choice(["under_10", "10_30", None]), "desk": rng.choice(["01", "02", None]),
                   "service": rng.choice(["smart_id_card", "other"])}
        answers.update(dict.fromkeys(flagged))
        rows.append(sheet(uid, flags={q: "faint" for q in flagged}, **answers))
        previous = None
        for q in flagged:
            for step in range(rng.randint(0, 2)):  # none, one, or a decision changed with --again
                did = str(uuid.uuid4())
                value = {"service": "certificates", "desk": "03", "waiting_time": "over_60"}.get(q, rng.randint(1, 5))
                rows.append(decided(uid, q, value, uid=did, replaces=previous,
                                    at=f"2026-12-{3 + step:02d}T0{rng.randint(0, 9)}:00:00.000000Z"))
                previous = did
            previous = None
    rng.shuffle(rows)
    for start in range(0, len(rows), 7):
        add(store, rows[start:start + 7])
        F.response_figures(store, "1405-09")  # fold what has arrived so far
    got = F.response_figures(store, "1405-09")
    assert {k: got[k] for k in ("responses", "questions")} == _expected(rows)
    analysis.drop_analysis_indexes(store)  # rebuilt from the records in one go: the same
    again = F.response_figures(store, "1405-09")
    assert again == got


def test_complete_and_incomplete_kiosk_visits_are_counted_apart(store: Store) -> None:
    kiosk = {"source": "kiosk", "form": "satisfaction", "form_version": 1, "answers": {"overall": 4}}
    add(store, [_row("survey_response", {**kiosk, "complete": False}),
                _row("survey_response", {**kiosk, "complete": True}),
                _row("survey_response", kiosk)])
    assert F.response_figures(store, "1405-09")["responses"] == {
        "total": 3, "paper": 0, "kiosk": 3, "portal": 0, "sheet_link": 0, "complete": 2, "incomplete": 1,
        "answered_twice": 0}


# -- the other figures ----------------------------------------------------------------------


def test_no_desk_is_a_data_quality_figure_and_never_ranked(store: Store) -> None:
    add(store, [sheet(str(uuid.uuid4()), staff_behaviour=5) for _ in range(40)]
        + [sheet(str(uuid.uuid4()), desk="03", staff_behaviour=2) for _ in range(30)])
    desks = F.desk_figures(store, "1405-09")
    assert (desks["with_desk"], desks["without_desk"], desks["share_with_desk"]) == (30, 40, round(30 / 70, 4))
    ranking = analysis.rank(analysis.satisfaction(store, "1405-09", ("office", "desk")))
    assert [g.key["desk"] for _, g in ranking.ranked] == ["03"]
    assert [g.key["desk"] for g in ranking.no_desk] == [None] and ranking.insufficient == []


def test_waiting_time_is_counted_per_office_and_service(store: Store) -> None:
    add(store, [sheet(str(uuid.uuid4()), waiting_time="over_60"), sheet(str(uuid.uuid4()), waiting_time="under_10"),
                _row("survey_response", {"source": "kiosk", "form": "satisfaction", "form_version": 1,
                                         "answers": {"service": "other", "waiting_time": "over_60"}},
                     office="ISF-001")])
    waiting = F.waiting_figures(store, "1405-09")
    assert waiting["total"] == {"under_10": 1, "10_30": 0, "30_60": 0, "over_60": 2}
    assert waiting["by_office"]["ISF-001"]["over_60"] == 1
    assert waiting["by_office_service"][OFFICE]["smart_id_card"] == {"under_10": 1, "10_30": 0, "30_60": 0,
                                                                      "over_60": 1}


def test_an_office_that_stops_handing_out_sheets_shows_up(store: Store) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from forms.signatures import public_key_hex

    for code in (OFFICE, "ISF-001"):
        store.add_office(code, public_key_hex(Ed25519PrivateKey.generate().public_key()))
    # THR-012: a sheet on each of Azar's first six working days (Sun 1405-09-01 .. Sat 09-07,
    # Friday 09-06 off) and none after
    add(store, [sheet(str(uuid.uuid4()), overall=4)[:3] + (f"2026-11-{d}T06:00:00.000000Z",)
                + sheet(str(uuid.uuid4()), overall=4)[4:] for d in (22, 23, 24, 25, 26, 28)])
    days = F.office_days(store, "1405-09", now=datetime(2026, 12, 25, tzinfo=timezone.utc))
    thr, isf = days[OFFICE], days["ISF-001"]
    assert thr["responses"] == 6 and thr["paper"] == 6
    assert thr["working_days"] == isf["working_days"] > 20
    assert thr["working_days_without_paper"] == thr["working_days"] - 6
    assert thr["last_paper_day"] == "2026-11-28"
    assert thr["working_days_since_last_paper"] == thr["working_days"] - 6 and thr["stopped"]
    assert isf["stopped"]
    assert isf["responses"] == 0 and isf["working_days_without_responses"] == isf["working_days"]


def test_case_figures_count_on_time_late_open_and_overdue(store: Store) -> None:
    rows = [  # uuid, unit, received, due, answered, status
        ("c1", "licences", "2026-11-29T06:00:00.000000Z", "2026-12-10T20:29:59.000000Z", "2026-12-01T06:00:00.000000Z", "answered"),
        ("c2", "licences", "2026-11-29T06:00:00.000000Z", "2026-12-10T20:29:59.000000Z", "2026-12-15T06:00:00.000000Z", "closed"),
        ("c3", "cards", "2026-12-01T06:00:00.000000Z", "2026-12-12T20:29:59.000000Z", None, "in_progress"),
        ("c4", "cards", "2026-12-20T06:00:00.000000Z", "2027-01-05T20:29:59.000000Z", None, "routed"),
        ("c5", "cards", "2026-12-20T06:00:00.000000Z", "2027-01-05T20:29:59.000000Z", None, "rejected"),
        ("c6", "cards", "2026-10-01T06:00:00.000000Z", "2026-10-12T20:29:59.000000Z", None, "routed"),  # Mehr
    ]
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO cases (uuid, office, tracking_code, case_type, service, unit, status,"
                       " received_at, due_at, answered_at, updated_at) VALUES (?, ?, NULL, 'complaint', NULL,"
                       " ?, ?, ?, ?, ?, ?)",
                       [(u, OFFICE, unit, status, rec, due, ans, rec) for u, unit, rec, due, ans, status in rows])
    cases = F.case_figures(store, "1405-09", now=datetime(2026, 12, 21, tzinfo=timezone.utc))
    assert {k: cases[k] for k in ("received", "answered_on_time", "answered_late", "closed_unanswered",
                                  "open", "open_overdue")} == {
        "received": 5, "answered_on_time": 1, "answered_late": 1, "closed_unanswered": 1, "open": 2,
        "open_overdue": 1}
    # c1: Sun 1405-09-08 -> Tue 09-10: 2 working days; c2: -> Tue 09-24: 16 days, two Fridays
    # off, 14: median 8
    assert cases["median_working_days"] == 8.0
    assert cases["by_unit"]["licences"]["on_time_share"] == 0.5
    assert cases["by_unit"]["cards"]["open_overdue"] == 1 and cases["by_office"][OFFICE]["received"] == 5


def test_the_responses_export_carries_settled_answers_and_each_sheet_once(store: Store) -> None:
    from central.exports import RESPONSE_COLUMNS, response_rows

    add(store, [sheet("old", overall=1), sheet("r1", flags={"workflow": "faint"}, workflow=None, replaces="old"),
                decided("r1", "workflow", 4)])
    rows = [dict(zip(RESPONSE_COLUMNS, row)) for row in response_rows(store, "1405-09")]
    assert [(r["uuid"], r["workflow"]) for r in rows] == [("r1", 4)]
