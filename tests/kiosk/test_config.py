"""Kiosk settings, shipped data, locales, limits and visits."""
from __future__ import annotations

import pytest

from forms import builtin_catalog
from forms.catalogue import CatalogueError, load_directory, load_services
from forms.catalogue import builtin_data_folder
from kiosk.config import ConfigError, KioskConfig
from kiosk.i18n import MESSAGES, number, translate
from kiosk.limits import Backoff, TokenBucket, WindowLimit
from kiosk.visits import VisitStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_defaults_work_without_a_config_file(tmp_path):
    config = KioskConfig.load(tmp_path)
    assert (config.office, config.idle_seconds, config.home) == ("DEMO-01", 60, tmp_path)


def test_settings_come_from_kiosk_yaml_under_seda_home(tmp_path):
    (tmp_path / "kiosk.yaml").write_text("office: LOR-01\nkiosk_id: entrance\nidle_seconds: 90\n",
                                         encoding="utf-8")
    config = KioskConfig.load(tmp_path)
    assert (config.office, config.kiosk_id, config.idle_seconds) == ("LOR-01", "entrance", 90)


@pytest.mark.parametrize("text, problem", [
    ("idle_secs: 5\n", "unknown setting"),
    ("idle_seconds: soon\n", "whole number"),
    ("office: lor 1\n", "office"),
    ("idle_seconds: 5\ncountdown_seconds: 10\n", "longer than"),
    ("- a list\n", "mapping"),
])
def test_a_wrong_setting_is_named(tmp_path, text, problem):
    (tmp_path / "kiosk.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        KioskConfig.load(tmp_path)


def test_a_wrong_setting_is_said_in_persian_then_english(tmp_path):
    (tmp_path / "kiosk.yaml").write_text("idle_seconds: soon\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        KioskConfig.load(tmp_path)
    assert refused.value.message_fa.endswith("مقدار idle_seconds باید عددی درست، صفر یا بیشتر باشد.")
    assert refused.value.message_en.endswith("idle_seconds must be a whole number, 0 or more")


def test_the_cookie_key_is_made_once_and_kept(tmp_path):
    first = KioskConfig.load(tmp_path).resolved_secret_key()
    assert len(first) == 64
    assert KioskConfig.load(tmp_path).resolved_secret_key() == first


def test_an_office_directory_file_replaces_the_demo(tmp_path):
    (tmp_path / "kiosk").mkdir()
    own = tmp_path / "kiosk" / "directory.yaml"
    own.write_text((builtin_data_folder() / "directory.yaml").read_text(encoding="utf-8"),
                   encoding="utf-8")
    assert KioskConfig.load(tmp_path).data_file("directory") == own
    assert KioskConfig.load(tmp_path).data_file("services").parent == builtin_data_folder()


def test_shipped_services_match_the_survey_service_options():
    services = load_services(builtin_data_folder() / "services.yaml")
    options = {o.value for o in builtin_catalog().get("satisfaction").question("service").options}
    assert {s.id for s in services} == options
    for service in services:
        assert service.documents and service.name.fa and service.name.en
        assert service.legal_basis.fa and service.time.en


def test_shipped_directory_has_names_titles_phones_and_emails():
    directory = load_directory(builtin_data_folder() / "directory.yaml")
    assert len(directory.people) >= 3
    assert all(p.phone and "@" in p.email for p in directory.people)


def test_a_broken_services_file_names_the_field(tmp_path):
    path = tmp_path / "services.yaml"
    path.write_text("services:\n  - id: x\n    name: {fa: ا}\n    documents: []\n    fee_rials: -1\n",
                    encoding="utf-8")
    with pytest.raises(CatalogueError, match="fee_rials"):
        load_services(path)


def test_both_locales_have_the_same_strings():
    assert MESSAGES.keys("fa") == MESSAGES.keys("en")
    assert all(translate(key, locale).strip() for locale in ("fa", "en") for key in MESSAGES.keys())


def test_numbers_use_persian_digits_in_persian_only():
    assert number(1405, "fa") == "۱۴۰۵"
    assert number(3000000, "fa", grouping=True) == "۳٬۰۰۰٬۰۰۰"
    assert number(1405, "en") == "1405"
    assert translate("survey_progress", "fa", n=2, total=10) == "پرسش ۲ از ۱۰"


def test_backoff_lets_free_tries_through_then_doubles_the_wait():
    clock = FakeClock()
    backoff = Backoff(free_tries=2, max_delay=10, clock=clock)
    for _ in range(2):
        assert backoff.check("v") is None
        backoff.fail("v")
    assert backoff.check("v").retry_after == 2
    clock.now += 2
    assert backoff.check("v") is None
    backoff.fail("v")
    assert backoff.check("v").retry_after == 4
    for _ in range(10):
        backoff.fail("v")
    assert backoff.check("v").retry_after == 10  # capped
    backoff.succeed("v")
    assert backoff.check("v") is None


def test_window_limit_refuses_beyond_the_limit_and_recovers():
    clock = FakeClock()
    limit = WindowLimit(2, 60, clock=clock)
    assert limit.take() is None and limit.take() is None
    assert limit.take().retry_after == 60
    clock.now += 60
    assert limit.take() is None


def test_token_bucket_allows_a_burst_then_spaces_events_never_locks():
    clock = FakeClock()
    bucket = TokenBucket(4, 3600, clock=clock)
    for _ in range(4):
        assert bucket.check() is None
        bucket.spend()
    assert bucket.check().retry_after == 900  # one token's refill, not an hour
    for _ in range(50):
        bucket.spend()  # a flood cannot push the wait past two refills
    assert bucket.check().retry_after <= 1800
    clock.now += 1800
    assert bucket.check() is None


def test_token_bucket_of_zero_is_no_limit():
    bucket = TokenBucket(0, 3600)
    bucket.spend()
    assert bucket.check() is None


def test_expired_visits_are_handed_to_their_owner():
    clock = FakeClock()
    expired = []
    store = VisitStore(expire_after=100, clock=clock, on_expire=expired.append)
    kept, dropped = store.start(), store.start()
    clock.now += 60
    store.get(kept.id)
    clock.now += 60
    assert store.sweep() == 1
    assert expired == [dropped] and store.get(kept.id) is kept


def test_a_new_visit_takes_only_the_display_choices_of_the_last():
    store = VisitStore(expire_after=100)
    old = store.start()
    old.lang, old.large_text, old.survey_answers["workflow"] = "en", True, 4
    old.drafts["case"] = {"text": "x"}
    new = store.start(display_from=old)
    assert (new.lang, new.large_text) == ("en", True)
    assert new.survey_answers == {} and new.drafts == {}
    assert new.survey_record_uuid != old.survey_record_uuid and new.public_id != old.public_id


def test_visits_expire_on_the_server_and_end_for_good():
    clock = FakeClock()
    store = VisitStore(expire_after=100, clock=clock)
    visit = store.start()
    assert store.get(visit.id) is visit
    clock.now += 101
    assert store.get(visit.id) is None
    other = store.start()
    store.end(other.id)
    assert store.get(other.id) is None
