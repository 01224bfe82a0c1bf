"""The error an optional feature raises when its extra is not installed."""

from __future__ import annotations

from websession.errors import ConfigError

__all__ = ["missing_extra"]


def missing_extra(feature: str, extra: str) -> ConfigError:
    """``ConfigError`` saying that ``feature`` needs ``pip install 'websession[extra]'``."""
    return ConfigError(f"{feature} needs the {extra!r} extra: pip install 'websession[{extra}]'")
