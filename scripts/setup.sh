#!/usr/bin/env bash
# Install what slaproof needs on Debian/Ubuntu: system packages, a venv in .venv, the package.
#   SLAPROOF_WITH_TESTS=1  also installs the test tools (iperf3, fping, postgresql, poppler-utils …)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: not root and no sudo: install the packages listed in scripts/setup.sh by hand" >&2; fi
fi

pkgs=(python3 python3-venv python3-pip iputils-ping traceroute fonts-wqy-microhei)
if [ "${SLAPROOF_WITH_TESTS:-0}" = 1 ]; then
  # prometheus: a real server scrapes /metrics in a test; chromium + chromium-driver: the dashboard
  # and report.html in a real headless browser (tests/test_dashboard_browser.py, tests/test_report_pages.py)
  pkgs+=(iperf3 fping postgresql poppler-utils iproute2 systemd e2fsprogs mount prometheus chromium chromium-driver)
fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [ "${SLAPROOF_WITH_TESTS:-0}" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q -e .
fi
