#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite (slow suites included):
# installs everything, starts a PostgreSQL for the central store's tests, runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
eval "$($sudo bash scripts/postgres-for-tests.sh)"
export SEDA_TEST_POSTGRES_URL
exec .venv/bin/python -m pytest "$@"
