#!/usr/bin/env bash
# Refresh the pictures in docs/screenshots/ from the browser tests (the test suite itself writes
# its screenshots to a temporary folder, so running the tests never changes tracked files).
set -euo pipefail
cd "$(dirname "$0")/.."
SEDA_SCREENSHOTS="$(pwd)/docs/screenshots" exec .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/kiosk/test_browser.py tests/kiosk/test_phone_browser.py tests/central/test_web_browser.py \
  tests/end_to_end/test_case_round_trip_browser.py "$@"
