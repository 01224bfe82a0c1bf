"""``websession demo``: serve the demo app, or say which extra is missing."""

from __future__ import annotations

from websession.errors import ConfigError
from websession.extras import missing_extra

__all__ = ["serve_demo"]


def serve_demo(store: str, host: str, port: int) -> None:
    """Serve the demo until interrupted; ConfigError naming the ``demo`` extra when
    one of its packages is not installed (not a traceback)."""
    try:
        from websession.demo.app import serve
    except ImportError as exc:
        if not _third_party(exc):
            raise
        raise _missing(exc) from exc
    try:
        serve(store=store, host=host, port=port)
    except ModuleNotFoundError as exc:  # the server is imported when serving starts
        if not _third_party(exc):
            raise
        raise _missing(exc) from exc


def _third_party(exc: ImportError) -> bool:
    """True if ``exc`` is a package outside websession that is not installed."""
    module = (exc.name or "").partition(".")[0]
    return bool(module) and module != "websession"


def _missing(exc: ImportError) -> ConfigError:
    module = (exc.name or "").partition(".")[0]
    return missing_extra(f"websession demo (no module named {module!r})", "demo")
