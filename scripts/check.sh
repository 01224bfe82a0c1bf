#!/usr/bin/env bash
# Lint and type-check: ruff (format + lint) and mypy --strict (paths in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh dev
paths=(src tests scripts)
[ -d bench ] && paths+=(bench)
.venv/bin/ruff format --check "${paths[@]}"
.venv/bin/ruff check "${paths[@]}"
.venv/bin/mypy
.venv/bin/python scripts/generate_sync.py --check
