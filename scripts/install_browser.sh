#!/usr/bin/env bash
# Install what the browser tests need when it is missing: Debian's chromium (apt-get),
# and axe-core (npm, into ./node_modules, git-ignored) for the accessibility checks
# when npm is present. Playwright itself is a Python test dependency ([test] extra).
# Nothing here is fatal: the tests skip with the reason locally, and fail under CI.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    echo "install_browser: installing Debian's chromium for the browser tests" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    { $sudo apt-get update -q \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium; } \
        || echo "install_browser: could not install chromium; the browser tests will skip (fail under CI)" >&2
fi
if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
    echo "install_browser: installing axe-core into node_modules for the accessibility checks" >&2
    npm install --silent --no-save --no-package-lock --no-audit --no-fund axe-core >/dev/null 2>&1 \
        || echo "install_browser: could not install axe-core; only our own accessibility checks run" >&2
fi
exit 0
