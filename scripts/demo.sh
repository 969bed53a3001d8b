#!/usr/bin/env bash
# One command from a fresh Debian machine to a running Seda demo on embedded SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export SEDA_HOME="${SEDA_HOME:-$(pwd)/demo-home}"
exec .venv/bin/seda demo "$@"
