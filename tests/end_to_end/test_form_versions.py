"""A form version published centrally reaches the office (issue #13): it prints there, its sheets
read back through the scanner, sheets of the version before still read, and the kiosk takes it
at the next visit without a restart while a visit already under way keeps its own version."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import forms
from central import form_versions
from kiosk import create_app as create_kiosk
from seda.cli import main
from sync.client import sync_once
from tests.conftest import visit_token

OFFICE = "LOR-01"

#: The queries are the catalogue's, tested on both databases in tests/central/test_content.py.
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def seda(home: Path, *args: str):
    result = CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home), "SEDA_CENTRAL_STORE": ""})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def office(tmp_path, central, make_office):
    return make_office(tmp_path, OFFICE, central.url, central.store)


def publish_v2(central, satisfaction_v2) -> None:
    form_versions.upload(central.store, yaml.safe_dump(satisfaction_v2(), allow_unicode=True), actor="t")
    form_versions.publish_draft(central.store, central.keys, "satisfaction", actor="t")


def test_a_published_version_prints_at_the_office_and_every_version_reads_back(
        tmp_path, central, office, satisfaction_v2, sync_until_done, rasterise, fill, draw_marks, save_pdf) -> None:
    seda(office.home, "forms", "print", "satisfaction", "--count", "1", "--out", str(tmp_path / "v1.pdf"))
    publish_v2(central, satisfaction_v2)
    sync_until_done(office.home)
    printed = seda(office.home, "forms", "print", "satisfaction", "--count", "1", "--out", str(tmp_path / "v2.pdf"))
    assert "Wrote 1 sheets of satisfaction v2" in printed.output

    v2 = form_versions.current(central.store, "satisfaction")
    layout = {q.id: q for q in forms.build_layout(v2).questions}
    [old] = rasterise(tmp_path / "v1.pdf")
    [new] = rasterise(tmp_path / "v2.pdf")
    fill(old, {"workflow": 2, "waiting_time": "30_60"})
    draw_marks(new, [box for value, box in layout["workflow"].options if value == 4]
               + [box for value, box in layout["cleanliness"].options if value == 5])
    scans = save_pdf([old, new], tmp_path / "scans.pdf")
    lines = [json.loads(line) for line in
             seda(office.home, "scan", str(scans), "--store", "--json").stdout.splitlines()]
    assert [(line["status"], line["form_version"]) for line in lines] == [("accepted", 1), ("accepted", 2)]
    assert (lines[0]["answers"]["workflow"], lines[0]["answers"]["waiting_time"]) == (2, "30_60")
    assert (lines[1]["answers"]["workflow"], lines[1]["answers"]["cleanliness"]) == (4, 5)
    assert "waiting_time" not in lines[1]["answers"]


def test_the_kiosk_takes_the_new_version_at_the_next_visit_and_a_visit_under_way_keeps_its_own(
        central, office, satisfaction_v2, make_config, add_staff, staff_login, open_ledger) -> None:
    kiosk = create_kiosk(make_config(office.home, office=office.code)).test_client()
    first = kiosk.get("/survey/1").get_data(as_text=True)
    assert kiosk.post("/survey/1", data={"visit": visit_token(first), "answer": "4"}).status_code == 302
    publish_v2(central, satisfaction_v2)
    sync_once(office.home)
    end = kiosk.get("/survey/end").get_data(as_text=True)
    kiosk.post("/survey/end", data={"visit": visit_token(end)})  # sends the survey; the visit ends
    with open_ledger(office.home) as ledger:
        [stored] = list(ledger.records("survey_response"))
    assert (stored.body["form_version"], stored.body["answers"]["workflow"]) == (1, 4)
    assert "waiting_time" in stored.body["answers"] and "cleanliness" not in stored.body["answers"]

    pages = [kiosk.get(f"/survey/{n}").get_data(as_text=True) for n in range(1, 11)]
    assert any("نظافت و آراستگی محل" in page for page in pages)  # the next visit: version 2
    add_staff(office.home)
    staff_login(kiosk)
    dashboard = kiosk.get("/staff/").get_data(as_text=True)
    assert 'id="form-in-use" data-form="satisfaction" data-version="2" data-source="centre"' in dashboard
