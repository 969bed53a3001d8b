#!/usr/bin/env bash
# Install everything Seda needs on a Debian machine: system packages, then a virtual
# environment in .venv with Seda and its Python packages.  Safe to run again.
#   scripts/install.sh          what the office machine needs to run Seda
#   scripts/install.sh --test   also what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

# espeak-ng speaks a case's answer aloud on the kiosk (offline Persian speech)
apt_packages=(python3 python3-venv python3-pip libzbar0 espeak-ng)
if [ "$with_tests" = 1 ]; then
  # a real browser for the kiosk tests, a real PostgreSQL for the central store's tests
  apt_packages+=(chromium postgresql)
fi

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=""
[ "$with_tests" = 1 ] && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
echo "Seda installed in $(pwd)/.venv"
