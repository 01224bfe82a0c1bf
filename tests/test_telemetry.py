"""OpenTelemetry: spans and durations around store calls, with the same abilities, and
event counters; recorded through small providers built on the API's no-op classes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace

from websession.errors import StoreError
from websession.events import Event, EventName, Events
from websession.stores import open_async_store, open_store
from websession.stores.base import AsyncIterating, AsyncUserIndex, Purging, UserIndex
from websession.telemetry import count_events, traced_async_store, traced_store
from websession.testing import make_record, new_key


class Tracer(trace.NoOpTracer):
    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # a plain contextmanager suffices
        self, name: str, *args: Any, attributes: Mapping[str, Any] | None = None, **kw: Any
    ) -> Iterator[trace.Span]:
        self.spans.append((name, dict(attributes or {})))
        yield trace.INVALID_SPAN


class TracerProvider(trace.NoOpTracerProvider):
    def __init__(self) -> None:
        self.tracer = Tracer()

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return self.tracer


class Recorder(metrics.NoOpHistogram, metrics.NoOpCounter):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.points: list[tuple[float, dict[str, Any]]] = []

    def record(self, amount: float, attributes: Any = None, context: Any = None) -> None:
        self.points.append((amount, dict(attributes or {})))

    add = record


class Meter(metrics.NoOpMeter):
    def __init__(self) -> None:
        super().__init__("test")
        self.instruments: dict[str, Recorder] = {}

    def _made(self, name: str) -> Recorder:
        return self.instruments.setdefault(name, Recorder(name))

    def create_histogram(self, name: str, *args: Any, **kwargs: Any) -> metrics.Histogram:
        return self._made(name)

    def create_counter(self, name: str, *args: Any, **kwargs: Any) -> metrics.Counter:
        return self._made(name)


class MeterProvider(metrics.NoOpMeterProvider):
    def __init__(self) -> None:
        self.meter = Meter()

    def get_meter(self, *args: Any, **kwargs: Any) -> metrics.Meter:
        return self.meter


def operations(points: Sequence[tuple[float, dict[str, Any]]]) -> list[str]:
    return [attributes["websession.operation"] for _, attributes in points]


def test_sync_store_calls_are_traced_and_timed(tmp_path: Path) -> None:
    tracing, metering = TracerProvider(), MeterProvider()
    store = traced_store(
        open_store(f"sqlite:///{tmp_path / 's.db'}"),
        tracer_provider=tracing,
        meter_provider=metering,
    )
    assert isinstance(store, UserIndex)
    assert isinstance(store, Purging)
    key = new_key()
    store.create(key, make_record({"a": 1}, user_id="u"))
    assert store.load(key) is not None
    store.list_user("u", 0)
    store.close()
    names = [name for name, _ in tracing.tracer.spans]
    assert names == [
        "websession.store.create",
        "websession.store.load",
        "websession.store.list_user",
        "websession.store.close",
    ]
    durations = metering.meter.instruments["websession.store.duration"].points
    assert operations(durations) == ["create", "load", "list_user", "close"]
    assert all(seconds >= 0 for seconds, _ in durations)
    assert all(key not in repr(attributes) for _, attributes in tracing.tracer.spans)


async def test_async_store_calls_are_traced_and_failures_typed(tmp_path: Path) -> None:
    metering = MeterProvider()
    inner = open_async_store(f"sqlite:///{tmp_path / 's.db'}")
    store = traced_async_store(inner, tracer_provider=TracerProvider(), meter_provider=metering)
    assert isinstance(store, AsyncUserIndex)
    assert isinstance(store, AsyncIterating)
    key = new_key()
    await store.create(key, make_record({}))
    assert await store.load(key) is not None
    await store.close()
    with pytest.raises(StoreError):  # a closed store fails
        await store.load(key)
    durations = metering.meter.instruments["websession.store.duration"].points
    assert operations(durations) == ["create", "load", "close", "load"]
    assert durations[-1][1]["error.type"] != ""


def test_events_are_counted() -> None:
    events, metering = Events(), MeterProvider()
    stop = count_events(events, meter_provider=metering)
    events.emit(Event(EventName.LOGIN, 0.0))
    events.emit(Event(EventName.CREATED, 0.0))
    stop()
    events.emit(Event(EventName.CREATED, 0.0))
    points = metering.meter.instruments["websession.events"].points
    assert points == [
        (1, {"websession.event": "auth.login"}),
        (1, {"websession.event": "session.created"}),
    ]
