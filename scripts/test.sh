#!/usr/bin/env bash
# Run every test against real servers: install what is missing (servers, and chromium for
# the demo's browser tests), start Redis, a Redis Cluster, a Redis Sentinel group,
# PostgreSQL and MariaDB on loopback, run pytest, and stop the servers (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh dev
./scripts/install_servers.sh
./scripts/install_browser.sh
servers="$(pwd)/.servers/test-$$"
trap '.venv/bin/python scripts/servers.py stop "$servers"' EXIT
.venv/bin/python scripts/servers.py start "$servers" >/dev/null
# shellcheck disable=SC1091
source "$servers/env"
.venv/bin/python -m pytest --cov --cov-report=term "$@"
