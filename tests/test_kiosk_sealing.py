"""Sealed misconduct reports: readable by the oversight unit's private key only."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from forms.cli import main
from kiosk import create_app
from sync.sealing import SealingError, generate_key_pair, load_public_key, seal, unseal

from kiosk_fixtures import (  # noqa: F401 - kiosk_home is a fixture
    VALID_MOBILE, kiosk_home, make_config, open_ledger, visit_token)


@pytest.fixture
def keys(tmp_path):
    private, public = tmp_path / "oversight.key", tmp_path / "oversight.pub"
    generate_key_pair(private, public)
    return serialization.load_pem_private_key(private.read_bytes(), None), public


def test_a_sealed_body_opens_with_the_private_key_only(keys, tmp_path):
    private, public = keys
    body = {"tracking_code": "123", "type": "misconduct", "text": "رشوه", "route": "oversight"}
    sealed = seal(body, load_public_key(public))
    assert "text" not in sealed and "رشوه" not in str(sealed)
    assert sealed["tracking_code"] == "123" and sealed["route"] == "oversight"
    assert unseal(sealed, private) == body
    other, _ = tmp_path / "o.key", tmp_path / "o.pub"
    generate_key_pair(other, _)
    with pytest.raises(SealingError):
        unseal(sealed, serialization.load_pem_private_key(other.read_bytes(), None))


def test_a_sealed_text_cannot_be_moved_to_another_report(keys):
    private, public = keys
    sealed = seal({"tracking_code": "111", "text": "a"}, load_public_key(public))
    with pytest.raises(SealingError):
        unseal({**sealed, "tracking_code": "222"}, private)


def test_with_the_oversight_key_the_office_stores_no_readable_report(kiosk_home, keys):
    private, public = keys
    (kiosk_home / "keys").mkdir()
    (kiosk_home / "keys" / "oversight.pub").write_bytes(public.read_bytes())
    client = create_app(make_config(kiosk_home)).test_client()
    html = client.get("/report").get_data(as_text=True)
    assert "فقط واحد نظارت و بازرسی می‌تواند آن را باز کند" in html
    client.post("/report", data={"visit": visit_token(html), "service": "other",
                                 "text": "مدیر رشوه می‌گیرد", "mobile": VALID_MOBILE})
    with open_ledger(kiosk_home) as ledger:
        (case,) = ledger.records("case")
    assert "text" not in case.body and case.body["route"] == "oversight"
    raw = b"".join(p.read_bytes() for p in kiosk_home.rglob("*") if p.is_file())
    assert "مدیر رشوه".encode() not in raw
    assert unseal(case.body, private)["text"] == "مدیر رشوه می‌گیرد"


def test_other_cases_are_not_sealed(kiosk_home, keys):
    _, public = keys
    client = create_app(make_config(kiosk_home, oversight_key_file=str(public))).test_client()
    html = client.get("/case").get_data(as_text=True)
    client.post("/case", data={"visit": visit_token(html), "type": "request", "text": "درخواست"})
    with open_ledger(kiosk_home) as ledger:
        (case,) = ledger.records("case")
    assert case.body["text"] == "درخواست" and "sealed" not in case.body


def test_oversight_keygen_cli_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    args = ["kiosk", "oversight-keygen", str(tmp_path / "k"), str(tmp_path / "k.pub")]
    assert runner.invoke(main, args).exit_code == 0
    load_public_key(tmp_path / "k.pub")
    again = runner.invoke(main, args)
    assert again.exit_code != 0 and "refusing to overwrite" in again.output
