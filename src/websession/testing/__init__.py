"""Public test helpers: a fake clock and the store conformance suite.

Importing this module needs pytest only when the suite's tests run.
"""

from __future__ import annotations

from websession.testing.clock import FakeClock
from websession.testing.conformance import StoreConformance, make_record, new_key
from websession.testing.harness import AsyncHarness, StoreHarness, SyncHarness

__all__ = [
    "AsyncHarness",
    "FakeClock",
    "StoreConformance",
    "StoreHarness",
    "SyncHarness",
    "make_record",
    "new_key",
]
