"""The conformance suite against every store, in sync and in async form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import store_url
from websession.stores import open_async_store, open_store
from websession.testing import AsyncHarness, StoreConformance, StoreHarness, SyncHarness


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


class TestStoreConformance(StoreConformance):
    @pytest.fixture
    def harness(self, store_kind: str, mode: str, tmp_path: Path) -> Iterator[StoreHarness]:
        url = store_url(store_kind, tmp_path)
        harness: StoreHarness
        if mode == "sync":
            harness = SyncHarness(open_store(url), name=f"{store_kind}-sync")
        else:
            harness = AsyncHarness(lambda: open_async_store(url), name=f"{store_kind}-async")
        yield harness
        harness.close()
