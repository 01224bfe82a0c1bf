"""The store conformance suite: every store, sync and async, passes these tests.

Use it for your own store too::

    from websession.testing import StoreConformance, SyncHarness

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def harness(self):
            h = SyncHarness(MyStore(...))  # or AsyncHarness(lambda: MyAsyncStore(...))
            yield h
            h.close()

The fixture yields a ``StoreHarness`` over a fresh, empty store. The suite runs the
core rules (``core_rules``), the rules of ``replace`` (``replace_rules``) and the rules
of every ability the store claims (``ability_rules``; the others are skipped). Test
names state the rule each test checks.
"""

from __future__ import annotations

from websession.testing.ability_rules import AbilityRules
from websession.testing.core_rules import CoreRules
from websession.testing.records import make_record, new_key
from websession.testing.replace_rules import ReplaceRules

__all__ = ["StoreConformance", "make_record", "new_key"]


class StoreConformance(CoreRules, ReplaceRules, AbilityRules):
    """Contract tests; subclass with a ``harness`` fixture (see the module docstring)."""
