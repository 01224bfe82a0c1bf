#!/usr/bin/env bash
# Apply ruff's formatter and autofixes.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh dev
.venv/bin/python scripts/generate_sync.py
.venv/bin/ruff format src tests scripts $( [ -d bench ] && echo bench )
.venv/bin/ruff check --fix src tests scripts $( [ -d bench ] && echo bench )
