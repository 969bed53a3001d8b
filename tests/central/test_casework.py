"""Casework on the central store, SQLite and PostgreSQL: routing at intake, the lifecycle,
deadlines and escalation, duplicates, and what the office pulls back (casework.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from central import Store
from central.casework import OVERSIGHT, TRIAGE, Casework, CaseworkError
from forms.workdays import TEHRAN

THR, ISF = "THR-012", "ISF-001"
ADMIN = "admin"


@pytest.fixture
def cw(store: Store) -> Casework:
    casework = Casework(store)
    casework.save_unit("civil", "ثبت احوال", "Civil registration", actor=ADMIN)
    casework.save_unit("cards", "کارت هوشمند", "Smart cards", actor=ADMIN)
    return casework


@pytest.fixture
def sender(store: Store, case_sender):
    return case_sender(store, (THR, ISF))


def add_user(store: Store, name: str, unit: str, role: str = "responder") -> None:
    with store.connect() as db, db.transaction():
        db.execute("INSERT INTO users (name, display_name, role, unit, password_hash, created_at)"
                   " VALUES (?, ?, ?, ?, 'x', '2026-01-01T00:00:00Z')", (name, name, role, unit))


def pulled(store: Store, office: str, tracking_code: str) -> list[dict]:
    items = store.pull(office, 0, 2000)["items"]
    return [i["body"] for i in items if i["feed"] == "case_update"
            and i["body"]["tracking_code"] == tracking_code]


# -- routing at intake ---------------------------------------------------------------------


def test_a_case_with_no_matching_rule_goes_to_triage(cw: Casework, sender) -> None:
    record = sender.file()
    case = cw.case(record.uuid)
    assert (case.unit, case.status) == (TRIAGE, "received")
    assert cw.inbox(units=[TRIAGE]) == [case]


def test_a_rule_routes_by_service_and_tells_the_office(store: Store, cw: Casework,
                                                       sender) -> None:
    cw.add_rule(service="smart_id_card", unit="cards", actor=ADMIN)
    record = sender.file()
    case = cw.case(record.uuid)
    assert (case.unit, case.status) == ("cards", "routed")
    [update] = pulled(store, THR, case.tracking_code)
    assert (update["status"], update["unit"], update["unit_fa"]) == ("routed", "cards", "کارت هوشمند")


def test_the_most_specific_rule_wins(cw: Casework, sender) -> None:
    cw.add_rule(case_type="complaint", unit="civil", actor=ADMIN)
    cw.add_rule(service="smart_id_card", unit="cards", actor=ADMIN)
    cw.add_rule(office=ISF, unit="civil", actor=ADMIN)
    assert cw.case(sender.file().uuid).unit == "cards"                 # service beats type
    assert cw.case(sender.file(service="birth_registration").uuid).unit == "civil"
    assert cw.case(sender.file(office=ISF).uuid).unit == "civil"       # office beats service


def test_misconduct_reports_always_go_to_oversight(cw: Casework, sender) -> None:
    cw.add_rule(service="smart_id_card", unit="cards", actor=ADMIN)
    case = cw.case(sender.file(case_type="misconduct").uuid)
    assert case.unit == OVERSIGHT and case.is_misconduct


def test_a_misconduct_rule_is_refused(cw: Casework) -> None:
    with pytest.raises(CaseworkError) as error:
        cw.add_rule(case_type="misconduct", unit="cards", actor=ADMIN)
    assert "حراست" in error.value.message_fa


def test_a_rule_to_an_inactive_unit_is_ignored(cw: Casework, sender) -> None:
    cw.add_rule(service="smart_id_card", unit="cards", actor=ADMIN)
    cw.set_unit_active("cards", False, actor=ADMIN)
    assert cw.case(sender.file().uuid).unit == TRIAGE


def test_a_resent_batch_does_not_make_a_second_case(store: Store, cw: Casework,
                                                    sender) -> None:
    record = sender.record()
    sender.send(record)
    sender.seq[THR] -= 1
    assert sender.send(record)["status"] == "duplicate_batch"
    assert cw.count(status="all") == 1


def test_cases_stored_before_casework_get_their_rows_on_upgrade(store_url: str, monkeypatch) -> None:
    import central.db.schema as schema
    from central import open_store

    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:2])  # as an older server
    old = open_store(store_url)
    with old.connect() as db, db.transaction():  # as an older server would have stored it
        db.execute("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                   " tracking_code, receipt, received_at) VALUES (?, ?, 'case', ?, ?, 'f', ?, 'r', ?)",
                   ("6f1d0c3e-0000-4000-8000-000000000001", THR, "2026-11-28T06:00:00.000000Z",
                    '{"type":"request","service":"other","text":"x","tracking_code":"1234"}', "1234",
                    "2026-11-28T06:00:00.000000Z"))
    old.close()
    monkeypatch.undo()
    upgraded = open_store(store_url)
    try:
        case = Casework(upgraded).case("6f1d0c3e-0000-4000-8000-000000000001")
        assert case is not None and case.unit == TRIAGE
    finally:
        upgraded.close()


# -- the lifecycle -----------------------------------------------------------------------


@pytest.fixture
def routed(cw: Casework, sender):
    cw.add_rule(service="smart_id_card", unit="cards", actor=ADMIN)
    return cw.case(sender.file().uuid)


def test_assigning_to_a_unit_member_marks_the_case_assigned(store: Store, cw: Casework, routed) -> None:
    add_user(store, "sara", "cards")
    case = cw.assign(routed.uuid, "sara", actor="head")
    assert (case.status, case.assignee) == ("assigned", "sara")
    assert pulled(store, THR, case.tracking_code)[-1]["status"] == "assigned"
    assert "sara" not in str(pulled(store, THR, case.tracking_code))  # names stay at the centre


def test_assigning_outside_the_unit_is_refused(store: Store, cw: Casework, routed) -> None:
    add_user(store, "reza", "civil")
    with pytest.raises(CaseworkError):
        cw.assign(routed.uuid, "reza", actor="head")


def test_an_answer_reaches_the_office_with_its_text(store: Store, cw: Casework, routed) -> None:
    case = cw.answer(routed.uuid, "کارت شما صادر شد و به دفتر پیشخوان ارسال شد.", actor="sara")
    assert case.status == "answered" and not case.is_open
    last = pulled(store, THR, case.tracking_code)[-1]
    assert (last["status"], last["answer"]) == ("answered", "کارت شما صادر شد و به دفتر پیشخوان ارسال شد.")


def test_an_answer_is_normalised_to_persian_letters(cw: Casework, routed) -> None:
    cw.answer(routed.uuid, "كارت شما آماده است", actor="sara")
    assert cw.events(routed.uuid)[-1].text == "کارت شما آماده است"


def test_an_empty_answer_is_refused_in_persian(cw: Casework, routed) -> None:
    with pytest.raises(CaseworkError) as error:
        cw.answer(routed.uuid, "   ", actor="sara")
    assert error.value.message_fa == "متن پاسخ خالی است."


def test_internal_notes_never_reach_the_office(store: Store, cw: Casework, routed) -> None:
    cw.add_note(routed.uuid, "با واحد صدور تماس گرفتم", actor="sara")
    assert "تماس" not in str(store.pull(THR, 0, 2000))
    assert cw.events(routed.uuid)[-1].event == "note"


def test_a_closed_case_cannot_be_answered_again(cw: Casework, routed) -> None:
    cw.answer(routed.uuid, "پاسخ", actor="sara")
    cw.change_status(routed.uuid, "closed", actor="sara")
    with pytest.raises(CaseworkError) as error:
        cw.answer(routed.uuid, "پاسخ دوم", actor="sara")
    assert "بسته شد" in error.value.message_fa


def test_an_answered_case_can_be_reopened(cw: Casework, routed) -> None:
    cw.answer(routed.uuid, "پاسخ", actor="sara")
    case = cw.change_status(routed.uuid, "in_progress", actor="sara")
    assert case.is_open and case.answered_at is None


def test_referral_keeps_the_deadline_and_clears_the_assignee(store: Store, cw: Casework, routed) -> None:
    add_user(store, "sara", "cards")
    cw.assign(routed.uuid, "sara", actor="head")
    case = cw.refer(routed.uuid, "civil", actor="sara", note="مربوط به ثبت احوال است")
    assert (case.unit, case.status, case.assignee, case.due_at) == ("civil", "referred", None, routed.due_at)


def test_triage_routes_by_hand_to_a_unit(cw: Casework, sender) -> None:
    case = cw.case(sender.file(service="other").uuid)
    routed_case = cw.refer(case.uuid, "civil", actor=ADMIN)
    assert (routed_case.unit, routed_case.status) == ("civil", "routed")


def test_a_misconduct_report_cannot_leave_oversight(cw: Casework, sender) -> None:
    case = cw.case(sender.file(case_type="misconduct").uuid)
    with pytest.raises(CaseworkError):
        cw.refer(case.uuid, "civil", actor="oversight-officer")


def test_reject_as_duplicate_names_the_original(store: Store, cw: Casework, sender, routed) -> None:
    second = cw.case(sender.file().uuid)
    case = cw.reject(second.uuid, "duplicate", duplicate_of=routed.uuid, actor="sara",
                     note="همین درخواست پیش‌تر ثبت شده است.")
    assert (case.status, case.duplicate_of) == ("rejected_duplicate", routed.uuid)
    assert pulled(store, THR, case.tracking_code)[-1]["status"] == "rejected_duplicate"


def test_reject_as_duplicate_without_an_original_is_refused(cw: Casework, routed) -> None:
    with pytest.raises(CaseworkError):
        cw.reject(routed.uuid, "duplicate", actor="sara")


def test_reject_as_not_ours(cw: Casework, routed) -> None:
    assert cw.reject(routed.uuid, "not_ours", actor="sara").status == "rejected_not_ours"


def test_allowed_statuses_follow_the_lifecycle(cw: Casework, routed) -> None:
    assert "answered" in cw.allowed_statuses(routed) and "closed" not in cw.allowed_statuses(routed)
    answered = cw.answer(routed.uuid, "پاسخ", actor="sara")
    assert set(cw.allowed_statuses(answered)) == {"answered", "closed", "in_progress"}


def test_every_step_is_in_the_history_with_who_took_it(store: Store, cw: Casework, routed) -> None:
    add_user(store, "sara", "cards")
    cw.assign(routed.uuid, "sara", actor="head")
    cw.change_status(routed.uuid, "in_progress", actor="sara")
    cw.answer(routed.uuid, "پاسخ", actor="sara")
    events = cw.events(routed.uuid)
    assert [(e.event, e.actor) for e in events] == [
        ("received", "system"), ("routed", "system"), ("assigned", "head"), ("status", "sara"),
        ("answer", "sara")]


def test_the_kiosk_follow_up_reads_central_statuses(store: Store, cw: Casework, routed) -> None:
    from kiosk.cases import STATUSES

    cw.answer(routed.uuid, "پاسخ", actor="sara")
    assert {u["status"] for u in pulled(store, THR, routed.tracking_code)} <= set(STATUSES)


# -- deadlines and escalation -----------------------------------------------------------------


def test_the_deadline_is_counted_in_working_days_from_the_office_day(cw: Casework, sender) -> None:
    saturday = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)
    case = cw.case(sender.file(created_at=saturday).uuid)  # complaint: 10 working days
    assert case.due.astimezone(TEHRAN).date() == date(2026, 12, 8)  # Saturday is day 1, Friday 4th off


def test_an_added_holiday_moves_later_deadlines(cw: Casework, sender) -> None:
    saturday = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)
    cw.add_holiday(date(2026, 12, 1), "تعطیل رسمی", actor=ADMIN)
    case = cw.case(sender.file(created_at=saturday).uuid)
    assert case.due.astimezone(TEHRAN).date() == date(2026, 12, 9)
    assert (date(2026, 12, 1), "تعطیل رسمی") in cw.holidays(1405)


def test_fixed_holidays_can_be_removed_and_added_back(cw: Casework) -> None:
    from forms.workdays import jalali_to_date

    nowruz = jalali_to_date(1405, 1, 1)
    cw.remove_holiday(nowruz, actor=ADMIN)
    assert nowruz not in dict(cw.holidays(1405))
    cw.add_holiday(nowruz, "عید نوروز", actor=ADMIN)
    assert nowruz in dict(cw.holidays(1405))


def test_deadline_days_per_type_are_editable(cw: Casework, sender) -> None:
    cw.set_deadline_days("complaint", 3, actor=ADMIN)
    saturday = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)
    case = cw.case(sender.file(created_at=saturday).uuid)
    assert case.due.astimezone(TEHRAN).date() == date(2026, 11, 30)
    with pytest.raises(CaseworkError):
        cw.set_deadline_days("complaint", 0, actor=ADMIN)


def test_overdue_cases_are_escalated_to_the_unit_head_once(store: Store, cw: Casework, routed) -> None:
    add_user(store, "boss", "cards")
    cw.save_unit("cards", "کارت هوشمند", "Smart cards", head="boss", actor=ADMIN)
    later = routed.due + timedelta(days=1)
    assert cw.count(units=["cards"], status="overdue", now=later) == 1
    [escalated] = cw.escalate_overdue(now=later)
    assert escalated.uuid == routed.uuid and escalated.escalated_at
    assert cw.events(routed.uuid)[-1].assignee == "boss"
    assert cw.escalate_overdue(now=later) == []
    assert cw.inbox(units=["cards"], status="escalated") == [cw.case(routed.uuid)]


def test_answered_cases_are_never_escalated(cw: Casework, routed) -> None:
    cw.answer(routed.uuid, "پاسخ", actor="sara")
    assert cw.escalate_overdue(now=routed.due + timedelta(days=5)) == []


# -- duplicates ---------------------------------------------------------------------------


def test_the_same_person_is_suggested_as_a_duplicate(cw: Casework, sender) -> None:
    first = sender.file(identity=True, text="موضوع اول درباره‌ی کارت")
    second = sender.file(identity=True, text="موضوعی کاملاً دیگر درباره‌ی شناسنامه", service="other")
    [suggestion] = cw.duplicate_suggestions(second.uuid)
    assert (suggestion.case.uuid, suggestion.reason) == (first.uuid, "same_person")


def test_near_identical_text_is_suggested_as_a_duplicate(cw: Casework, sender, case_text) -> None:
    first = sender.file(text=case_text)
    second = sender.file(text="كارت هوشمند من پس از ۳ ماه هنوز صادر نشده است!", office=ISF)
    [suggestion] = cw.duplicate_suggestions(second.uuid)
    assert (suggestion.case.uuid, suggestion.reason) == (first.uuid, "similar_text")


def test_different_text_is_not_suggested(cw: Casework, sender, case_text) -> None:
    sender.file(text=case_text)
    second = sender.file(text="صف انتظار باجه‌ی دو بسیار طولانی بود و نوبت‌دهی کار نمی‌کرد.")
    assert cw.duplicate_suggestions(second.uuid) == []


def test_duplicates_never_cross_the_misconduct_wall(cw: Casework, sender) -> None:
    sender.file(identity=True, case_type="misconduct")
    second = sender.file(identity=True)
    assert cw.duplicate_suggestions(second.uuid) == []


def test_suggestions_are_limited_to_the_units_a_viewer_sees(cw: Casework, sender, case_text) -> None:
    sender.file(text=case_text)
    second = sender.file(text=case_text + " لطفاً پیگیری کنید")
    assert cw.duplicate_suggestions(second.uuid, units=["cards"]) == []
    assert len(cw.duplicate_suggestions(second.uuid, units=[TRIAGE])) == 1


# -- the operator override -----------------------------------------------------------------------


def test_the_cli_case_update_moves_the_case_row_too(store: Store, cw: Casework, routed) -> None:
    store.record_case_update(routed.tracking_code, "answered", answer="پاسخ از خط فرمان")
    case = cw.case(routed.uuid)
    assert case.status == "answered" and case.answered_at
    assert cw.events(routed.uuid)[-1].actor == "operator"


def test_a_case_filed_through_open311_is_routed_like_any_other(store: Store, cw: Casework, case_text) -> None:
    from forms.tracking_codes import new_tracking_code

    cw.add_rule(service="smart_id_card", unit="cards", actor=ADMIN)
    record = store.add_central_case({"type": "request", "service": "smart_id_card", "text": case_text,
                                     "anonymous": False, "channel": "open311", "route": "office",
                                     "attachments": []}, office=THR, draw_code=new_tracking_code)
    case = cw.case(record["uuid"])
    assert (case.unit, case.status, case.tracking_code) == ("cards", "routed", record["body"]["tracking_code"])



# -- found in review ---------------------------------------------------------------------------


def test_a_status_note_reaches_the_citizen(store: Store, cw: Casework, routed) -> None:
    cw.change_status(routed.uuid, "in_progress", actor="sara", note="مدارک شما در حال بررسی است")
    last = pulled(store, THR, routed.tracking_code)[-1]
    assert (last["status"], last["answer"]) == ("in_progress", "مدارک شما در حال بررسی است")


def test_a_case_cannot_be_a_duplicate_of_a_rejected_one(cw: Casework, sender, routed) -> None:
    second = cw.case(sender.file().uuid)
    cw.reject(second.uuid, "duplicate", duplicate_of=routed.uuid, actor="sara")
    with pytest.raises(CaseworkError):
        cw.reject(routed.uuid, "duplicate", duplicate_of=second.uuid, actor="sara")


def test_two_servers_escalating_at_once_escalate_each_case_once(store_url: str, cw: Casework,
                                                                routed) -> None:
    import threading

    from central import open_store

    later = routed.due + timedelta(days=1)
    stores = [open_store(store_url) for _ in range(2)]
    results: list[list] = []
    start = threading.Barrier(2)

    def escalate(s) -> None:
        start.wait()
        results.append(Casework(s).escalate_overdue(now=later))

    threads = [threading.Thread(target=escalate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert sorted(len(r) for r in results) == [0, 1]
    assert [e.event for e in cw.events(routed.uuid)].count("escalated") == 1


def test_a_case_moved_to_oversight_leaves_open311(store: Store, cw: Casework, routed) -> None:
    assert [c["tracking_code"] for c in store.public_cases()] == [routed.tracking_code]
    cw.refer(routed.uuid, OVERSIGHT, actor="sara", note="گزارش رشوه است")
    assert store.public_cases() == []


def test_an_upgraded_store_keeps_the_status_its_office_was_told(store_url: str, monkeypatch) -> None:
    import central.db.schema as schema
    from central import open_store

    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:2])  # as an older server
    old = open_store(store_url)
    with old.connect() as db, db.transaction():
        db.execute("INSERT INTO records (uuid, office, kind, created_at, body, fingerprint,"
                   " tracking_code, receipt, received_at) VALUES (?, ?, 'case', ?, ?, 'f', ?, 'r', ?)",
                   ("6f1d0c3e-0000-4000-8000-000000000002", THR, "2025-01-05T06:00:00.000000Z",
                    '{"type":"request","service":"other","text":"x","tracking_code":"5678"}', "5678",
                    "2025-01-05T06:00:00.000000Z"))
    old.publish("case_update", "u-1", {"uuid": "u-1", "tracking_code": "5678", "status": "answered",
                                       "answer": "پاسخ پیشین", "unit": None,
                                       "at": "2025-01-06T08:00:00.000000Z"}, office=THR)  # as then
    old.close()
    monkeypatch.undo()
    upgraded = open_store(store_url)
    try:
        cw = Casework(upgraded)
        case = cw.case("6f1d0c3e-0000-4000-8000-000000000002")
        assert case.status == "answered" and not case.is_open and case.answered_at
        assert cw.escalate_overdue() == []
    finally:
        upgraded.close()


def test_the_cli_override_is_in_the_audit_log(store: Store, cw: Casework, routed) -> None:
    from click.testing import CliRunner

    from seda.cli import main
    from central import audit

    result = CliRunner().invoke(main, ["central", "case-update", routed.tracking_code, "--status",
                                       "closed", "--store", store.url])
    assert result.exit_code == 0, result.output
    [entry] = [e for e in audit.entries(store)[0] if e.action == "case_update"]
    assert entry.target == f"case:{routed.uuid}" and entry.actor.startswith("cli:")


def test_a_case_moved_to_oversight_loses_its_text_in_the_cases_export(store: Store, cw: Casework,
                                                                      routed, case_text) -> None:
    from forms.persian import to_jalali
    from central.exports import MISCONDUCT_COUNT, case_rows

    month = to_jalali(routed.received.astimezone(TEHRAN)).strftime("%Y-%m")
    cw.refer(routed.uuid, OVERSIGHT, actor="sara")
    rows = list(case_rows(store, month))
    assert len(rows) == 1 and MISCONDUCT_COUNT in rows[0] and case_text not in rows[0]
