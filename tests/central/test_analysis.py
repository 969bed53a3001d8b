"""Satisfaction analysis over the central store (SQLite and PostgreSQL): intervals, the
minimum-n fairness rule, Jalali month boundaries, paper vs kiosk, question (2) per service."""
from __future__ import annotations

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from forms.persian import InvalidInput
from sync.batch import BatchRecord, encode_batch, open_batch
from central import Store, analysis, service_catalogue
from central.keys import CentralKeys
from forms.signatures import public_key_hex

OFFICE = "THR-012"
IN_AZAR = "2026-12-01T08:00:00.000000Z"  # 1405-09-10 in Tehran


@pytest.fixture(params=["backfill", "incremental"])
def astore(store: Store, request) -> Store:
    """A store whose roll-ups are rebuilt from the records by the first query (dropped
    first), or kept current as records arrive (made on migrate, before the records)."""
    if request.param == "backfill":
        analysis.drop_analysis_indexes(store)
    else:
        analysis.ensure_analysis_indexes(store)
    return store


def response(*, office: str = OFFICE, created_at: str = IN_AZAR, source: str = "kiosk",
             status: str | None = None, flags: dict | None = None, **answers) -> tuple:
    body = {"source": source, "form": "satisfaction", "form_version": 1,
            "answers": {"service": "smart_id_card", "desk": "07", **answers}}
    if status is not None:
        body["status"] = status
    if flags is not None:
        body["flags"] = flags
    return (str(uuid.uuid4()), office, "survey_response", created_at, json.dumps(body, ensure_ascii=False))


def add(store: Store, rows: list[tuple]) -> None:
    """Insert records straight into the store's records table (what ingest leaves there)."""
    with store.connect() as db, db.transaction():
        db.executemany("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                       " tracking_code, receipt, received_at) VALUES (?, ?, ?, ?, ?, 'fp', NULL, 'r', 'now')",
                       rows)


def test_mean_interval_is_the_student_t_interval_on_known_data(astore: Store) -> None:
    add(astore, [response(overall=v) for v in (1, 2, 3, 4, 5)])
    [group] = analysis.satisfaction(astore, "1405-09", ())
    mean = group.means["overall"]
    # mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776: 3 -/+ 2.776 * sqrt(2.5 / 5)
    assert (mean.n, mean.mean) == (5, 3.0)
    assert mean.low == pytest.approx(1.037, abs=1e-3) and mean.high == pytest.approx(4.963, abs=1e-3)


def test_wilson_interval_for_question_two_on_known_data() -> None:
    share = analysis.wilson_interval(8, 10)
    assert share.share == 0.8
    assert share.low == pytest.approx(0.4902, abs=1e-4) and share.high == pytest.approx(0.9433, abs=1e-4)


def test_t_quantile_approaches_the_normal_quantile_for_many_answers() -> None:
    assert analysis.t_quantile(100) == pytest.approx(1.984, abs=1e-3)
    assert analysis.t_quantile(10_000) == pytest.approx(1.960, abs=1e-3)


def test_matched_share_counts_yes_among_yes_partly_no(astore: Store) -> None:
    add(astore, [response(matched_announcement=v) for v in ("yes", "yes", "partly", "no", None)])
    [group] = analysis.satisfaction(astore, "1405-09", ())
    assert (group.matched.n, group.matched.yes, group.matched.partly) == (4, 2, 1)
    assert group.matched.share == 0.5


def test_desks_below_the_minimum_are_insufficient_data_and_never_ranked(astore: Store) -> None:
    add(astore, [response(desk="01", staff_behaviour=2) for _ in range(30)]
        + [response(desk="02", staff_behaviour=5) for _ in range(29)])
    desks = analysis.satisfaction(astore, "1405-09", ("desk",))
    ranking = analysis.rank(desks, "staff_behaviour", min_responses=30)
    assert [(r, g.key["desk"]) for r, g in ranking.ranked] == [(1, "01")]
    assert [g.key["desk"] for g in ranking.insufficient] == ["02"]
    assert {g.key["desk"]: g.sufficient for g in desks} == {"01": True, "02": False}


def test_the_minimum_is_configurable(astore: Store) -> None:
    add(astore, [response(desk="02", staff_behaviour=5) for _ in range(5)])
    desks = analysis.satisfaction(astore, "1405-09", ("desk",), min_responses=5)
    assert len(analysis.rank(desks, min_responses=5).ranked) == 1
    assert analysis.rank(desks, min_responses=6).ranked == []


def test_jalali_month_runs_from_tehran_midnight_to_tehran_midnight() -> None:
    # 1405-09 (Azar) = 2026-11-22 .. 2026-12-21 in Tehran (UTC+3:30)
    assert analysis.month_bounds("1405-09") == ("2026-11-21T20:30:00.000000Z", "2026-12-21T20:30:00.000000Z")
    assert analysis.month_bounds("۱۴۰۵/۰۹") == analysis.month_bounds((1405, 9))


def test_records_at_the_month_edges_fall_in_the_right_month(astore: Store) -> None:
    add(astore, [response(created_at="2026-11-21T20:29:59.999999Z", overall=1),  # 1405-08-30 23:59
                response(created_at="2026-11-21T20:30:00.000000Z", overall=5),  # 1405-09-01 00:00
                response(created_at="2026-12-21T20:29:59.999999Z", overall=5),  # 1405-09-30 23:59
                response(created_at="2026-12-21T20:30:00.000000Z", overall=1)])  # 1405-10-01 00:00
    [azar] = analysis.satisfaction(astore, "1405-09", ())
    assert (azar.responses, azar.means["overall"].mean) == (2, 5.0)
    months = {g.key["month"]: g.responses for g in analysis.trend(astore, "1405-10", 3)}
    assert months == {"1405-08": 1, "1405-09": 2, "1405-10": 1}


def test_trend_lists_every_month_even_without_answers(astore: Store) -> None:
    add(astore, [response(overall=4)])
    points = analysis.trend(astore, "1405-09", 12)
    assert [g.key["month"] for g in points][-3:] == ["1405-07", "1405-08", "1405-09"]
    assert len(points) == 12 and [g.responses for g in points][-2:] == [0, 1]


def test_paper_and_kiosk_answers_are_reported_apart(astore: Store) -> None:
    add(astore, [response(source="paper", overall=2) for _ in range(3)]
        + [response(source="kiosk", overall=4) for _ in range(2)])
    split = {g.key["source"]: (g.responses, g.means["overall"].mean)
             for g in analysis.satisfaction(astore, "1405-09", ("source",))}
    assert split == {"kiosk": (2, 4.0), "paper": (3, 2.0)}


def test_a_page_in_review_counts_at_once_with_its_flagged_answer_pending(astore: Store) -> None:
    add(astore, [response(source="paper", status="accepted", overall=4),
                response(source="paper", status="review", flags={"overall": "faint"}, overall=None,
                         workflow=2)])
    [group] = analysis.satisfaction(astore, "1405-09", ())
    assert group.responses == 2
    assert (group.means["overall"].n, group.means["workflow"].n) == (1, 1)


def test_rejected_pages_are_not_counted(astore: Store) -> None:
    add(astore, [response(source="paper", status="accepted", overall=4),
                response(source="paper", status="rejected", overall=1)])
    [group] = analysis.satisfaction(astore, "1405-09", ())
    assert (group.responses, group.means["overall"].mean) == (1, 4.0)


def test_answers_that_are_not_the_integers_1_to_5_are_ignored(astore: Store) -> None:
    # "5" as text is not an answer a kiosk or scanner writes; the office dashboard ignores it
    # too, so both sides count the same.
    add(astore, [response(overall=v) for v in (4, "5", 7, 0, "abc", None, True)])
    [group] = analysis.satisfaction(astore, "1405-09", ())
    assert (group.responses, group.means["overall"].n, group.means["overall"].mean) == (7, 1, 4.0)


def test_groups_by_office_service_and_desk(astore: Store) -> None:
    add(astore, [response(office="THR-012", service="smart_id_card", desk="01"),
                response(office="THR-012", service="death_registration", desk="01"),
                response(office="ISF-001", service="smart_id_card", desk="03")])
    keys = [tuple(g.key.values()) for g in analysis.satisfaction(astore, "1405-09", ("office", "service", "desk"))]
    assert keys == [("ISF-001", "smart_id_card", "03"), ("THR-012", "death_registration", "01"),
                    ("THR-012", "smart_id_card", "01")]
    assert len(analysis.satisfaction(astore, "1405-09", ("desk",), office="ISF-001")) == 1


def test_question_two_per_service_comes_with_its_catalogue_entry_worst_first(astore: Store) -> None:
    add(astore, [response(service="smart_id_card", matched_announcement="no") for _ in range(30)]
        + [response(service="death_registration", matched_announcement="yes") for _ in range(30)]
        + [response(service="other", matched_announcement="no")])
    matches = analysis.matched_by_service(astore, "1405-09")
    assert [m.service for m in matches] == ["smart_id_card", "death_registration", "other"]
    assert matches[0].catalogue["fee_rials"] == 3000000  # the kiosk's built-in catalogue
    assert matches[0].no_share == 1.0


def test_catalogue_published_centrally_wins_over_the_built_in_one(astore: Store) -> None:
    astore.publish("catalogue", "smart_id_card", {"name": {"fa": "کارت ملی", "en": "ID"}, "fee_rials": 5})
    add(astore, [response(service="smart_id_card", matched_announcement="no")])
    [match] = analysis.matched_by_service(astore, "1405-09")
    assert match.catalogue == {"name": {"fa": "کارت ملی", "en": "ID"}, "fee_rials": 5}


def test_rollups_backfill_the_same_figures_and_follow_new_batches(store: Store) -> None:
    add(store, [response(overall=v, desk=f"0{v}") for v in (1, 2, 3, 4, 5)])
    before = [g.to_json() for g in analysis.satisfaction(store, "1405-09", ("desk", "source"))]
    analysis.ensure_analysis_indexes(store)
    analysis.ensure_analysis_indexes(store)  # idempotent
    assert analysis.has_analysis_table(store)
    assert [g.to_json() for g in analysis.satisfaction(store, "1405-09", ("desk", "source"))] == before
    key = Ed25519PrivateKey.generate()
    store.add_office(OFFICE, public_key_hex(key))
    record = BatchRecord(str(uuid.uuid4()), "survey_response", OFFICE, IN_AZAR,
                         {"source": "paper", "answers": {"overall": 3, "desk": "09"}})
    data = encode_batch(office=OFFICE, seq=1, records=[record], key=key, created_at=IN_AZAR)
    store.apply_batch(open_batch(data, store.office_public_key))
    store.apply_batch(open_batch(data, store.office_public_key))  # a replayed batch adds nothing
    [total] = analysis.satisfaction(store, "1405-09", ())
    assert total.responses == 6


def test_pending_responses_are_folded_into_the_rollups_exactly_once(store: Store) -> None:
    analysis.ensure_analysis_indexes(store)
    add(store, [response(overall=5) for _ in range(3)])
    assert analysis.refresh_analysis(store) == 3
    assert analysis.refresh_analysis(store) == 0
    add(store, [response(overall=1)])
    [total] = analysis.satisfaction(store, "1405-09", ())
    assert (total.responses, total.means["overall"].mean) == (4, 4.0)


def test_a_month_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InvalidInput):
        analysis.month_bounds("1405-13")


def test_a_sqlite_store_made_with_the_old_trigger_is_rebuilt_and_keeps_counting(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("the trigger-era roll-ups existed on SQLite only")
    add(store, [response(overall=5)])
    with store.connect() as db, db.transaction():  # what an earlier version left behind
        db.execute("DELETE FROM counters WHERE name = 'analysis_folded'")
        db.execute("CREATE TABLE analysis_pending (record_id INTEGER PRIMARY KEY)")
        db.execute("CREATE TRIGGER analysis_pending_insert AFTER INSERT ON records"
                   " WHEN NEW.kind = 'survey_response' BEGIN"
                   " INSERT INTO analysis_pending (record_id) VALUES (NEW.id); END")
    analysis.ensure_analysis_indexes(store)
    add(store, [response(overall=3)])
    [group] = analysis.satisfaction(store, "1405-09", ())
    assert group.means["overall"].n == 2 and group.means["overall"].mean == 4.0
    with store.connect() as db:
        assert db.one("SELECT 1 FROM sqlite_master WHERE name = 'analysis_pending_insert'") is None


def test_question_two_is_compared_with_the_catalogue_version_in_force_on_the_visit_day(astore: Store, tmp_path,
                                                                                     service_entry) -> None:
    keys = CentralKeys(tmp_path / "central-home", astore)
    for fee, effective in ((4000000, "2026-01-01"), (5000000, "2026-12-05")):  # v2 from 1405-09-14
        entry = {**service_entry("smart_id_card", fee=fee, effective_from=effective), "version": 0}
        service_catalogue.save_draft(astore, entry, offices=[], actor="admin1")
        service_catalogue.publish_draft(astore, keys, "smart_id_card", actor="admin1")
    add(astore, [response(matched_announcement="no", created_at="2026-12-04T19:00:00.000000Z") for _ in range(3)]
        + [response(matched_announcement="yes", created_at="2026-12-04T21:00:00.000000Z"),  # 12-05 in Tehran
           response(matched_announcement="yes", created_at="2026-12-10T08:00:00.000000Z")])
    before, after = analysis.matched_by_version(astore, "1405-09")
    assert (before.version, before.effective_from, before.catalogue["fee_rials"]) == (1, "2026-01-01", 4000000)
    assert (before.stats.matched.n, before.stats.matched.yes) == (3, 0)
    assert (after.version, after.catalogue["fee_rials"], after.stats.matched.n, after.stats.matched.yes) == (2, 5000000, 2, 2)
    [match] = analysis.matched_by_service(astore, "1405-09")
    assert [v.version for v in match.versions] == [1, 2]


def test_answers_before_any_published_version_are_compared_with_the_built_in_entry(astore: Store) -> None:
    add(astore, [response(matched_announcement="partly")])
    [found] = analysis.matched_by_version(astore, "1405-09")
    assert (found.version, found.effective_from, found.catalogue["fee_rials"]) == (0, None, 3000000)
    assert (found.stats.matched.n, found.stats.matched.partly) == (1, 1)
