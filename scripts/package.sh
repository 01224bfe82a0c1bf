#!/usr/bin/env bash
# Build the sdist and wheel, check their metadata (twine check --strict), and install
# the wheel into a fresh virtualenv to use it (scripts/package_check.py): a broken
# release cannot be cut.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh dev
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! .venv/bin/python -m build --sdist --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    exit 1
fi
.venv/bin/python -m twine check --strict "$work"/dist/*
.venv/bin/python -m venv "$work/venv"
# The wheel without extras, as `pip install websession` installs it (its own
# dependencies are installed by the check from the wheel's metadata).
"$work/venv/bin/python" -m pip install --quiet --no-deps "$work"/dist/*.whl
(cd "$work" && "$work/venv/bin/python" "$OLDPWD/scripts/package_check.py" "$work/dist")
