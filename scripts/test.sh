#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite (slow suites included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
exec .venv/bin/python -m pytest "$@"
