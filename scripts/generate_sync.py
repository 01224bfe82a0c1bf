"""Generate the sync twins of the async sources, as httpcore does.

Every ``src/**/_async/*.py`` is the one source; its ``_sync/`` sibling is generated from
it token by token with the ``unasync`` package (``async``/``await`` dropped, names
mapped below), then import-sorted and formatted with ruff. Never edit a ``_sync`` file.

    python scripts/generate_sync.py           regenerate every _sync file
    python scripts/generate_sync.py --check   exit 1 if any _sync file is stale (make check)

Name mapping, in order: the exact ``REPLACEMENTS`` below; then ``AsyncName`` becomes
``Name`` (``AsyncStore`` -> ``Store``); then ``_async`` is dropped from snake_case names
(``open_async_store`` -> ``open_store``, ``save_async`` -> ``save``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import tokenize_rt
import unasync

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = ("src", "tests")

REPLACEMENTS: dict[str, str] = {
    # -- general ---------------------------------------------------------------------
    "_async": "_sync",
    "aclose": "close",
    "asynccontextmanager": "contextmanager",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "AsyncExitStack": "ExitStack",
    "anext": "next",
    "aiter": "iter",
    #
    #
    # -- backends (cookie) -----------------------------------------------------------
    "CookieBackend": "SyncCookieBackend",
    "require_async": "require_sync",
    #
    #
    # -- stores ----------------------------------------------------------------------
    #
    #
    # -- auth ------------------------------------------------------------------------
    #
    #
    # -- testing ---------------------------------------------------------------------
    #
    #
    # -- integrations (django) -------------------------------------------------------
    "_aget_session": "_get_session",
    #
    #
}

_SNAKE_ASYNC = re.compile(r"_async(?=_|$)|(?<=_)async_|^async_")


def sync_name(name: str) -> str:
    """The sync name of an async source's identifier."""
    if name in REPLACEMENTS:
        return REPLACEMENTS[name]
    if len(name) > 5 and name.startswith("Async") and name[5].isupper():
        return name[5:]
    if "async" in name and name not in ("asyncio",):
        return _SNAKE_ASYNC.sub("", name) or name
    return name


class _Rule(unasync.Rule):
    def _unasync_name(self, name: str) -> str:
        return sync_name(name)


def _header(source: Path) -> str:
    return f"# Generated from ../_async/{source.name} by scripts/generate_sync.py: do not edit.\n"


def _ruff(args: list[str], text: str, filename: Path) -> str:
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), *args, "--stdin-filename", str(filename), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise SystemExit(f"ruff failed on {filename}:\n{done.stderr}")
    return done.stdout


def generate(source: Path) -> tuple[Path, str]:
    """Return the sync file's path and its text for one async source."""
    rule = _Rule("/_async/", "/_sync/")
    tokens = tokenize_rt.src_to_tokens(source.read_text(encoding="utf-8"))
    text = tokenize_rt.tokens_to_src(list(rule._unasync_tokens(tokens)))
    target = Path(str(source).replace("/_async/", "/_sync/"))
    text = _header(source) + text
    text = _ruff(["check", "--select", "I,F401", "--fix", "--quiet", "--exit-zero"], text, target)
    text = _ruff(["format", "--quiet"], text, target)
    return target, text


def sources() -> list[Path]:
    """Every async source file under the source roots."""
    found: list[Path] = []
    for root in SOURCE_ROOTS:
        found.extend(sorted((ROOT / root).glob("**/_async/*.py")))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a _sync file is stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    expected: set[Path] = set()
    for source in sources():
        target, text = generate(source)
        expected.add(target)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(target.relative_to(ROOT).as_posix())
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"generated {target.relative_to(ROOT).as_posix()}")
    for root in SOURCE_ROOTS:
        for orphan in sorted((ROOT / root).glob("**/_sync/*.py")):
            if orphan not in expected:
                stale.append(f"{orphan.relative_to(ROOT).as_posix()} (no async source)")
    if stale:
        print("stale generated files (run `make format`):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
