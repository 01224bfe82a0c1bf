#!/usr/bin/env bash
# Install into .venv and serve the demo on http://127.0.0.1:$PORT (default 8000).
#   PORT=8080 make demo                                  another port
#   WEBSESSION_STORE=redis://localhost:6379/0 make demo   another session store
#   WEBSESSION_DEMO_ADMIN=alice make demo                 who may use the admin view
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-8000}"
store="${WEBSESSION_STORE:-sqlite:///demo-sessions.db}"
if [ ! -f .venv/.installed-demo ] || [ pyproject.toml -nt .venv/.installed-demo ]; then
    echo "make demo: installing websession[demo] into .venv (the first run takes a minute)..." >&2
    ./scripts/venv.sh demo
    echo "make demo: installed." >&2
fi
echo "make demo: starting the demo on http://127.0.0.1:$port" >&2
echo "make demo: (PORT=<n> make demo for another port; Ctrl+C stops it)" >&2
exec .venv/bin/websession demo --store "$store" --port "$port" "$@"
