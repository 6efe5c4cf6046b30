#!/usr/bin/env bash
# One command: install what the tests need (system packages, the package) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
SLAPROOF_WITH_TESTS=1 bash scripts/setup.sh
# The gates, cheapest first: style, types, layer rules. Each stops the run on a finding.
.venv/bin/ruff check agent probes reports tests bench
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit $rc
