#!/usr/bin/env bash
# Lint and type-check (ruff format + lint, mypy --strict), check the generated sync code,
# build the docs strictly, and build, check and install the package.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh dev
paths=(src tests scripts)
[ -d bench ] && paths+=(bench)
.venv/bin/ruff format --check "${paths[@]}"
.venv/bin/ruff check "${paths[@]}"
.venv/bin/mypy
.venv/bin/python scripts/generate_sync.py --check
./scripts/docs.sh
./scripts/package.sh
