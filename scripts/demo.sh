#!/usr/bin/env bash
# Install into .venv and serve the demo on http://127.0.0.1:8000 with the SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh demo
exec .venv/bin/websession demo --store "${WEBSESSION_STORE:-sqlite:///demo-sessions.db}" \
    --port "${PORT:-8000}" "$@"
