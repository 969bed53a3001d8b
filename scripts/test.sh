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
# One pytest worker per core (SEDA_TEST_WORKERS=0 runs in this process, e.g. to debug): the
# browser and server suites wait on sockets most of the time, so two cores halve the wall time.
exec .venv/bin/python -m pytest -n "${SEDA_TEST_WORKERS:-auto}" "$@"
