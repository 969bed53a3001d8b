"""Voice messages in the triage queue can be heard before routing, and each listening is
audited; nothing else (another case's file, a routed case, another role) is served."""
from __future__ import annotations

import re

import pytest

from central import Store
from central.casework import Casework
from central import audit

OGG = b"OggS" + b"1" * 40


@pytest.fixture
def admin(store: Store, login, make_user, web_client):
    make_user(store, "modir", "admin")
    make_user(store, "sara", "responder", unit="licences")
    return login(web_client(store), "modir")


def _player(html: str) -> str:
    return re.search(r'<audio controls preload="none" src="(/triage/[^"]+)"', html).group(1)


def test_a_voice_case_in_triage_has_a_player_and_listening_is_audited(store: Store, admin, case_office) -> None:
    uuid, _code = case_office(store, admin).file(case_type="voice", text="",
                                                attachments=[(OGG, "audio/ogg")])
    src = _player(admin.get("/admin/triage").get_data(as_text=True))
    heard = admin.get(src)
    assert heard.status_code == 200 and heard.data == OGG and heard.mimetype == "audio/ogg"
    actions = [e.action for e in audit.entries(store, target=f"case:{uuid}")[0]]
    assert "attachment_view" in actions


def test_a_routed_case_is_no_longer_played_from_triage(store: Store, admin, case_office, post) -> None:
    uuid, _code = case_office(store, admin).file(case_type="voice", text="",
                                                attachments=[(OGG, "audio/ogg")])
    src = _player(admin.get("/admin/triage").get_data(as_text=True))
    Casework(store).save_unit("licences", "صدور مجوز", "Licences", actor="t")
    assert post(admin, f"/admin/triage/{uuid}", {"unit": "licences"}).status_code == 302
    assert admin.get(src).status_code == 404


def test_only_the_admin_plays_triage_recordings(store: Store, admin, case_office, login, web_client) -> None:
    case_office(store, admin).file(case_type="voice", text="", attachments=[(OGG, "audio/ogg")])
    src = _player(admin.get("/admin/triage").get_data(as_text=True))
    responder = login(web_client(store), "sara")
    assert responder.get(src).status_code == 403
