"""`seda kiosk`: one-line Persian + English errors, validated options, one password convention."""
from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from forms.office_identity import write_office
from kiosk.accounts import AccountStore
from seda.cli import main


PASSWORD = "a long enough secret"


@pytest.fixture
def seda(kiosk_home, monkeypatch):
    monkeypatch.setenv("SEDA_HOME", str(kiosk_home))

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), input=input)
    return run


def test_a_busy_port_is_one_bilingual_line_and_nothing_says_serving(seda, kiosk_home):
    write_office(kiosk_home, "LOR-01")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = seda("kiosk", "serve", "--port", str(port))
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "Seda kiosk for office" not in result.output
    assert f"درگاه {port}" in result.output and f"cannot listen on 127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_outside_1_to_65535_is_refused(seda, kiosk_home, port):
    write_office(kiosk_home, "LOR-01")
    result = seda("kiosk", "serve", "--port", port)
    assert result.exit_code == 2 and "1<=x<=65535" in result.output


def test_a_taken_name_is_refused_before_the_password_is_asked(seda, kiosk_home):
    assert seda("kiosk", "user", "add", "maryam", "--role", "office_manager", "--password-file", "-",
                input=PASSWORD + "\n").exit_code == 0
    again = seda("kiosk", "user", "add", "maryam", "--role", "scanner_operator")  # no input at all
    assert again.exit_code == 1
    assert "Password" not in again.output and "حسابی با نام «maryam» هست" in again.output
    assert "already exists" in again.output


def test_the_password_is_read_from_a_file_as_seda_central_does(seda, kiosk_home, tmp_path):
    secret = tmp_path / "pw.txt"
    secret.write_text(PASSWORD + "\nignored\n", encoding="utf-8")
    result = seda("kiosk", "user", "add", "reza", "--role", "scanner_operator", "--password-file", str(secret))
    assert result.exit_code == 0, result.output
    with AccountStore(kiosk_home / "kiosk" / "accounts.sqlite3") as store:
        assert store.authenticate("reza", PASSWORD) is not None


def test_a_missing_password_file_is_one_line(seda, tmp_path):
    result = seda("kiosk", "user", "add", "reza", "--role", "scanner_operator",
                  "--password-file", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "پروندهٔ گذرواژه خوانده نشد" in result.output


def test_account_errors_are_persian_and_english(seda):
    short = seda("kiosk", "user", "add", "ali", "--role", "office_manager", "--password-file", "-",
                 input="short\n")
    assert short.exit_code == 1
    assert "گذرواژه دست‌کم ۱۰ نویسه است" in short.output and "at least 10" in short.output


def test_a_new_password_for_an_unknown_account_is_refused_before_asking(seda):
    result = seda("kiosk", "user", "password", "nobody")
    assert result.exit_code == 1 and "Password" not in result.output
    assert "no account named 'nobody'" in result.output
