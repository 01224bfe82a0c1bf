"""Every ```python block of README.md and docs/*.md runs, so the samples cannot rot.

The blocks of one page run in order in one namespace, as a reader pastes them into one
file: a page shows an app, then exercises it (httpx's ``ASGITransport``, Flask's test
client); a Starlette or FastAPI ``app`` left by a block also has its middleware built,
so a middleware given wrong arguments fails. Each page runs in a fresh temporary
directory (``sqlite:///sessions.db`` lands there) with ``WEBSESSION_SECRET`` set, as
the pages tell the reader to do. A block is
left out only when the line above it is ``<!-- not run: <reason> -->``; the reasons are
listed in the test's output. Django blocks run against the Django configured for the
Django tests (``tests/django/conftest.py``); a ``# settings.py`` block is then used:
the engine reads those settings and saves and loads a session with them.
"""

from __future__ import annotations

import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP = re.compile(r"<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->")


@dataclass(frozen=True)
class Block:
    """One fenced python block: where it starts, its code, and why it is not run."""

    path: Path
    line: int
    code: str
    skip: str | None


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of a markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = lines[index].strip()
        if fence.startswith("```") and fence[3:].strip().split(" ")[0] in ("python", "py"):
            start = index + 1
            end = start
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise AssertionError(f"{path.name}:{index + 1}: unclosed ```python block")
            above = next((s for s in reversed(lines[:index]) if s.strip()), "")
            reason = SKIP.search(above)
            blocks.append(
                Block(
                    path,
                    start + 1,
                    "\n".join(lines[start:end]) + "\n",
                    reason.group("reason") if reason else None,
                )
            )
            index = end
        index += 1
    return blocks


def run_page(path: Path) -> list[Block]:
    """Run a page's blocks in order in one namespace; return the blocks not run."""
    namespace: dict[str, object] = {"__name__": f"docs_sample_{path.stem}"}
    skipped = []
    for block in python_blocks(path):
        if block.skip is not None:
            skipped.append(block)
            continue
        if "django" in block.code:
            _configure_django()
        where = f"{path.name}:{block.line}"
        before = dict(namespace)
        try:
            exec(compile(block.code, where, "exec"), namespace)  # noqa: S102 - our samples
        except Exception as exc:
            raise AssertionError(
                f"the sample at {path.name} line {block.line} failed: {exc!r}"
            ) from exc
        _build(namespace.get("app"), where)
        if block.code.startswith("# settings.py"):
            defined = {k: v for k, v in namespace.items() if k.isupper() and before.get(k) is not v}
            _use_django_settings(defined, where)
    return skipped


def _build(app: object, where: str) -> None:
    """Build a Starlette app's middleware now (Starlette builds it on the first
    request), so a middleware given wrong arguments fails its sample."""
    if isinstance(app, Starlette):
        try:
            app.build_middleware_stack()
        except Exception as exc:
            raise AssertionError(f"the app of the sample at {where} failed: {exc!r}") from exc


def _use_django_settings(defined: dict[str, object], where: str) -> None:
    """Run a Django settings sample: the engine reads it, then saves and loads a session
    with it (on ``memory://``: a sample's Redis or PostgreSQL URL needs a server)."""
    from django.test import override_settings

    from websession.integrations.django import SessionStore, close_stores
    from websession.integrations.django.settings import current

    _configure_django()
    try:
        with override_settings(**{**defined, "WEBSESSION_STORE": "memory://"}):
            assert current().config is not None
            session = SessionStore()
            session["sample"] = where
            session.save()
            assert SessionStore(session.session_key)["sample"] == where
    except Exception as exc:
        raise AssertionError(f"the Django settings at {where} failed: {exc!r}") from exc
    finally:
        close_stores()


def _configure_django() -> None:
    import tests.django.conftest  # noqa: F401 - configures Django once, as the Django tests


@pytest.fixture
def sample_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reader's shell: an empty directory and a secret in WEBSESSION_SECRET."""
    monkeypatch.chdir(tmp_path)
    for name in ("WEBSESSION_PRESET", "WEBSESSION_PREVIOUS_SECRETS", "WEBSESSION_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBSESSION_SECRET", secrets.token_urlsafe(32))
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(32))  # Flask's and Starlette's
    return tmp_path


@pytest.mark.parametrize("path", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_samples_run(path: Path, sample_env: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skipped = run_page(path)
    for block in skipped:
        print(f"{path.name}:{block.line} not run: {block.skip}")


def test_every_page_has_samples_or_none_to_run() -> None:
    assert any(python_blocks(page) for page in PAGES)
    for page in PAGES:
        for block in python_blocks(page):
            assert block.skip is None or len(block.skip) > 10, f"{page.name}:{block.line}"


def test_a_broken_sample_fails(sample_env: Path) -> None:
    page = sample_env / "broken.md"
    page.write_text(
        "# page\n\n```python\nvalue = 1\n```\n\ntext\n\n```python\nassert value == 2\n```\n"
    )
    with pytest.raises(AssertionError, match=r"broken\.md line 10"):
        run_page(page)


def test_a_sample_is_left_out_only_with_a_reason(sample_env: Path) -> None:
    page = sample_env / "skips.md"
    page.write_text(
        "<!-- not run: needs a DBA's server -->\n```python\nraise SystemExit\n```\n\n"
        "```py\nran = True\n```\n"
    )
    assert [b.skip for b in run_page(page)] == ["needs a DBA's server"]
    (block,) = [b for b in python_blocks(page) if b.skip is None]
    assert block.line == 7
