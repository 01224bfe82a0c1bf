"""Readable device names from user-agent strings: "Firefox on Linux", "Safari on iPhone".

A small table of the common browsers and systems, in the order that tells them apart
(Edge and Opera also say "Chrome"; Chrome also says "Safari"). Anything else is shown
by its first product token, so a script's "curl/8.5" reads "curl".
"""

from __future__ import annotations

import re

__all__ = ["device_name"]

_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
    ("X11", "Unix"),
)
_PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,30}")


def device_name(user_agent: str | None) -> str:
    """A short, readable name for the device behind ``user_agent``."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser is not None and system is not None:
        return f"{browser} on {system}"
    if browser is not None:
        return browser
    if system is not None and user_agent.startswith("Mozilla/"):
        return f"Browser on {system}"
    product = _PRODUCT.match(user_agent)
    return product.group(0) if product else "Unknown device"
