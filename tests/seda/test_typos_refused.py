"""Nothing is created by a typo: each mistyped store, folder, key or office is one line of error."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from central import open_store
from seda.cli import main
from forms.identity_keys import ensure_office_key
from forms.signatures import public_key_hex


def seda(home: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"SEDA_HOME": str(home), "SEDA_CENTRAL_STORE": ""})


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def central(tmp_path: Path) -> Path:
    home = tmp_path / "central"
    home.mkdir()
    assert seda(home, "central", "init").exit_code == 0
    return home


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["office", "list"], ["api-key", "list"],
                                     ["refusals"], ["conflicts"]])
def test_a_store_in_a_missing_folder_is_refused_and_not_created(tmp_path: Path, command: list[str]) -> None:
    store = tmp_path / "nonexistent" / "dir" / "c.sqlite3"
    result = seda(tmp_path, "central", *command, "--store", str(store))
    assert_one_line_error(result, f"No central store at {store}", "seda central init --store")
    assert not (tmp_path / "nonexistent").exists()


def test_a_store_url_with_an_unknown_scheme_is_refused_and_makes_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = seda(tmp_path, "central", "office", "list", "--store", "mysql://x@127.0.0.1/db")
    assert_one_line_error(result, "Unknown store scheme mysql://")
    assert files_under(tmp_path) == []


def test_a_file_that_is_not_a_seda_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "notes.sqlite3"
    other.write_bytes(b"")
    result = seda(tmp_path, "central", "office", "list", "--store", str(other))
    assert_one_line_error(result, "is not a Seda central store")
    assert other.read_bytes() == b""


def test_init_makes_the_store_and_then_commands_use_it(tmp_path: Path) -> None:
    store = tmp_path / "c.sqlite3"
    made = seda(tmp_path, "central", "init", "--store", str(store))
    assert made.exit_code == 0 and "Ready" in made.stdout
    assert seda(tmp_path, "central", "office", "list", "--store", str(store)).exit_code == 0
    assert "Brought up to date" in seda(tmp_path, "central", "init", "--store", str(store)).stdout


def test_init_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    result = seda(tmp_path, "central", "init", "--store", str(tmp_path / "no" / "c.sqlite3"))
    assert_one_line_error(result, "does not exist")
    assert not (tmp_path / "no").exists()


def test_a_missing_public_key_file_says_which_command_makes_it(central: Path) -> None:
    result = seda(central, "central", "office", "add", "LOR-01", "--public-key", "lor01.pub")
    assert_one_line_error(result, "neither 64 hex digits nor an existing file", "seda sync key --out lor01.pub")
    assert "LOR-01" not in seda(central, "central", "office", "list").stdout


@pytest.mark.parametrize("key", ["0" * 64, "01" + "0" * 62])
def test_an_all_zero_public_key_is_refused(central: Path, key: str) -> None:
    result = seda(central, "central", "office", "add", "LOR-01", "--public-key", key)
    assert_one_line_error(result, "all zero")
    assert "LOR-01" not in seda(central, "central", "office", "list").stdout


def test_an_api_key_for_an_unregistered_office_is_refused(central: Path) -> None:
    result = seda(central, "central", "api-key", "add", "city-app", "--office", "LOR-99")
    assert_one_line_error(result, "No office LOR-99 is registered")
    assert "city-app" not in seda(central, "central", "api-key", "list").stdout


def test_an_api_key_for_a_registered_office_is_made(central: Path, tmp_path: Path) -> None:
    key, _ = ensure_office_key(tmp_path / "office")
    assert seda(central, "central", "office", "add", "LOR-01", "--public-key", public_key_hex(key)).exit_code == 0
    result = seda(central, "central", "api-key", "add", "city-app", "--office", "LOR-01")
    assert result.exit_code == 0, result.output


def test_scan_watch_on_a_missing_folder_is_refused_and_not_created(tmp_path: Path) -> None:
    folder = tmp_path / "scnas"  # a typo of scans
    result = seda(tmp_path / "home", "scan", "watch", str(folder), "--once")
    assert_one_line_error(result, "does not exist")
    assert not folder.exists()


@pytest.mark.skipif(not os.environ.get("SEDA_TEST_POSTGRES_URL"), reason="needs SEDA_TEST_POSTGRES_URL")
def test_an_empty_postgresql_database_is_refused_until_init(tmp_path: Path, fresh_store_url) -> None:
    with fresh_store_url("postgresql", tmp_path) as url:
        result = seda(tmp_path, "central", "office", "list", "--store", url)
        assert_one_line_error(result, "is not a Seda central store", "seda central init")
        assert "seda_test:***@" in result.stderr  # the password is not printed
        assert seda(tmp_path, "central", "init", "--store", url).exit_code == 0
        assert seda(tmp_path, "central", "office", "list", "--store", url).exit_code == 0
        open_store(url).close()


@pytest.mark.skipif(not os.environ.get("SEDA_TEST_POSTGRES_ADMIN_URL"),
                    reason="needs SEDA_TEST_POSTGRES_ADMIN_URL (scripts/postgres-for-tests.sh)")
def test_init_with_create_database_makes_the_role_the_database_and_the_schema(tmp_path: Path) -> None:
    import uuid

    import psycopg

    admin = os.environ["SEDA_TEST_POSTGRES_ADMIN_URL"]
    name = f"seda_t{uuid.uuid4().hex[:10]}"
    host = admin.split("@", 1)[1].split("/", 1)[0]
    url = f"postgresql://{name}:pw{name}@{host}/{name}"
    try:
        result = seda(tmp_path, "central", "init", "--store", url, "--create-database", admin)
        assert result.exit_code == 0, result.output
        assert "Created the role; created the database." in result.stdout
        assert seda(tmp_path, "central", "office", "list", "--store", url).exit_code == 0
        again = seda(tmp_path, "central", "init", "--store", url, "--create-database", admin)
        assert "Kept the role; kept the database." in again.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {name}")
