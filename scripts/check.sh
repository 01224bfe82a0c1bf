#!/usr/bin/env bash
# Lint and type-check: ruff (format + lint) and mypy --strict on src and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh dev
.venv/bin/ruff format --check src tests bench scripts
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy
