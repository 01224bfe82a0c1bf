"""Check an installed websession wheel from inside a fresh virtualenv (stdlib only).

Run by scripts/package.sh with the new venv's python, outside the source tree, so the
import below can only find the installed wheel. Installs the wheel's required (not
optional) dependencies, then checks the version, the licence and typing markers, a
session round trip on the memory store, and that a missing extra names itself.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path


def check(condition: object, detail: object) -> None:
    """Fail the packaging check with ``detail`` unless ``condition`` holds."""
    if not condition:
        raise SystemExit(f"package check failed: {detail}")


def main(dist_dir: str) -> int:
    """Check the installed distribution; return the exit status."""
    requires = [r for r in metadata.requires("websession") or [] if "extra ==" not in r]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *requires], check=True)
    import websession
    from websession import SessionConfig, open_store

    installed = metadata.version("websession")
    check(websession.__version__ == installed, (websession.__version__, installed))
    location = Path(websession.__file__).resolve()
    check(location.is_relative_to(Path(sys.prefix).resolve()), location)
    names = {Path(str(f)).name for f in metadata.files("websession") or []}
    check({"py.typed", "LICENSE"} <= names, sorted(names))
    wheels = list(Path(dist_dir).glob(f"websession-{installed}-*.whl"))
    sdists = list(Path(dist_dir).glob(f"websession-{installed}.tar.gz"))
    check(wheels and sdists, sorted(Path(dist_dir).iterdir()))

    store = open_store("memory://")
    check(SessionConfig.development().secure is False, "development() is not Secure")
    store.close()

    # No extras installed: optional features say which extra they need.
    for module, extra in (("websession.integrations.flask", "flask"),):
        probe = subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
        )
        check(f"pip install 'websession[{extra}]'" in probe.stderr, probe.stderr)
    demo = subprocess.run(
        [sys.executable, "-m", "websession.cli.main", "demo"], capture_output=True, text=True
    )
    check(demo.returncode == 2, (demo.returncode, demo.stderr))
    check("pip install 'websession[demo]'" in demo.stderr, demo.stderr)
    check("Traceback" not in demo.stderr, demo.stderr)
    print(f"websession {installed}: wheel installs and imports in a fresh venv")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
