#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite (slow suites included):
# installs everything, starts a PostgreSQL for the central store's tests, checks the package
# rules (lint-imports: the contracts in pyproject.toml, docs/architecture.md), runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
eval "$($sudo bash scripts/postgres-for-tests.sh)"
export SEDA_TEST_POSTGRES_URL
.venv/bin/lint-imports --no-cache
# Two pytest workers per core (SEDA_TEST_WORKERS=0 runs in this process, e.g. to debug): the
# browser, server and PostgreSQL suites wait on sockets much of the time, so a worker per core
# leaves the cores half idle.  --durations lists the slowest tests, to see where the time goes.
exec .venv/bin/python -m pytest -n "${SEDA_TEST_WORKERS:-$((2 * $(nproc)))}" --durations=25 "$@"
