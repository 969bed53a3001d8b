"""The kiosk's /healthz (the appliance watchdog asks it) and its heartbeat file."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from forms.heartbeat import last_beat


def test_healthz_answers_and_notes_the_heartbeat(client, kiosk_home: Path) -> None:
    assert last_beat(kiosk_home, "kiosk") is None
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"ok": True}
    beat = last_beat(kiosk_home, "kiosk")
    assert beat is not None and datetime.now(timezone.utc) - beat < timedelta(seconds=5)
    assert (kiosk_home / "heartbeats" / "kiosk").stat().st_mode & 0o777 == 0o600


def test_an_ordinary_page_also_notes_the_heartbeat(client, kiosk_home: Path) -> None:
    client.get("/")
    assert last_beat(kiosk_home, "kiosk") is not None
