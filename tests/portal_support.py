"""Helpers for the portal tests: a portal client on a store, filing forms as a phone would."""
from __future__ import annotations

import re
from pathlib import Path

from central.portal import PortalSettings, create_portal_app

CODE = re.compile(r'data-code="(\d+)"')
SUBMISSION = re.compile(r'name="submission" value="([0-9a-f]{32})"')


def portal_client(store, home: Path, **settings):
    app = create_portal_app(store, home=home, settings=PortalSettings(**settings))
    app.config["TESTING"] = True
    return app.test_client()


def submission_of(client, path: str = "/file") -> str:
    return SUBMISSION.search(client.get(path).get_data(as_text=True)).group(1)


def file_complaint(client, **fields):
    data = {"submission": submission_of(client), "type": "complaint", "service": "smart_id_card",
            "text": "صف خیلی طولانی بود", "mobile": "09121234567", **fields}
    return client.post("/file", data=data)


def code_in(response) -> str:
    match = CODE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)
