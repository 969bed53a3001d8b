"""`seda central`: every refusal is one line, Persian first, then English (the words from
central/translations), exit 1; a bad option is click's usage error, exit 2."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from central.cli import central_group
from central.store_location import init_store

PERSIAN = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    url = str(tmp_path_factory.mktemp("central") / "central.sqlite3")
    init_store(url).close()
    return url


def run(*args: str):
    return CliRunner().invoke(central_group, list(args))


def persian_then_english(result, english: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    persian, _, rest = line.partition(" / ")
    assert PERSIAN.search(persian), line
    assert english in rest, line
    return line


REFUSALS = {
    "unknown user's password": (("user", "passwd", "nobody", "--password-file", "-"), "No user named nobody"),
    "unit code with spaces": (("unit", "add", "bad code", "--name-fa", "واحد"), "A unit code is Latin letters"),
    "office code in lower case": (("office", "add", "thr-1", "--public-key", "ab" * 32), "invalid office code 'thr-1'"),
    "public key that is neither hex nor a file": (("office", "add", "THR-1", "--public-key", "nokey.pub"),
                                                  "--public-key is neither 64 hex digits"),
    "api key for an unregistered office": (("api-key", "add", "app", "--office", "NOPE-1"), "No office NOPE-1 is registered"),
    "revoking an office never registered": (("office", "revoke", "NOPE-1"), "No office NOPE-1"),
    "revoking an API key never added": (("api-key", "revoke", "nope"), "No API key named nope"),
    "export into a missing folder": (("export", "responses", "--month", "1405-01", "--out", "/no/such/x.csv"),
                                     "folder /no/such does not exist"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refusal_is_one_line_persian_then_english(store_url: str, case: str) -> None:
    args, english = REFUSALS[case]
    line = persian_then_english(run(*args, "--store", store_url), english)
    assert "Failed:" not in line, "said in the catalogue's words, not behind the fallback"


def test_a_missing_store_names_the_command_that_makes_it(tmp_path: Path) -> None:
    line = persian_then_english(run("office", "list", "--store", str(tmp_path / "none.sqlite3")),
                                "No central store at")
    assert "انبار مرکزی در" in line and "seda central init" in line


def test_a_user_name_taken_is_refused_before_the_password_is_asked(store_url: str) -> None:
    first = run("user", "add", "amir", "--role", "admin", "--password-file", "-", "--store", store_url)
    assert first.exit_code == 1  # empty standard input: too short a password, nothing made
    persian_then_english(first, "The password must be at least 10 characters")


def test_a_port_outside_0_to_65535_is_a_usage_error(store_url: str) -> None:
    result = run("serve", "--port", "99999", "--store", store_url)
    assert result.exit_code == 2 and "0<=x<=65535" in result.output


def test_a_busy_port_is_one_line_and_the_server_never_says_it_is_serving(store_url: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), "--store", store_url)
    line = persian_then_english(result, f"cannot listen on 127.0.0.1:{port}")
    assert "Seda central server on" not in result.output and f"درگاه {port}" in line
