#!/usr/bin/env bash
# Build the documentation site into site/ (MkDocs + Material + mkdocstrings), strictly:
# any warning (a broken link, a missing page, an unresolved API reference) fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh docs
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir site "$@"
