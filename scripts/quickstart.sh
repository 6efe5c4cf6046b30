#!/usr/bin/env bash
# One command: set everything up, then run the agent on the example config (SQLite, loopback targets).
# Stop it with Ctrl-C; the data stays in ~/.local/state/slaproof (or /var/lib/slaproof as root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/slaproof run --config config.example.toml "$@"
