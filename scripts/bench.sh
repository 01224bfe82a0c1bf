#!/usr/bin/env bash
# Benchmarks against the peers, side by side in one run: install the bench extra, start
# Redis, PostgreSQL and MariaDB on loopback as make test does, run python -m bench (report
# in bench/results/), and stop the servers (also on failure). With no arguments (make
# bench: the full run, about 6 minutes on 2 cores) it also regenerates the README's
# performance table. Arguments go to the harness instead, e.g. scripts/bench.sh --quick
# (about 2 minutes) or scripts/bench.sh --reps 5 --no-e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh bench
./scripts/install_servers.sh
if ! command -v wrk >/dev/null 2>&1; then  # the e2e load generator; optional
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
        --no-install-recommends wrk; } >/dev/null 2>&1 \
        || echo "bench: wrk unavailable, the e2e runs use the asyncio client" >&2
fi
servers="$(pwd)/.servers/bench-$$"
trap '.venv/bin/python scripts/servers.py stop "$servers"' EXIT
.venv/bin/python scripts/servers.py start "$servers" >/dev/null
# shellcheck disable=SC1091
source "$servers/env"
[ $# -gt 0 ] || set -- --readme README.md
.venv/bin/python -m bench "$@"
