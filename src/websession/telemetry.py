"""OpenTelemetry for websession (the ``otel`` extra: ``pip install 'websession[otel]'``).

``traced_async_store(store)`` / ``traced_store(store)`` wrap a store so every contract
call (and ability) runs in a span and is timed; ``count_events(events)`` counts the
lifecycle events of ``websession.events``. Nothing here is imported by websession
itself: without these calls (or without the extra) there is no cost at all.

Stable names:

===============================  =========  ===========================================
name                             kind       attributes
===============================  =========  ===========================================
``websession.store.<operation>``  span       ``websession.store`` (class name),
                                             ``websession.operation``
``websession.store.duration``    histogram  seconds; ``websession.store``,
                                             ``websession.operation``, ``error.type``
                                             (on failure)
``websession.events``            counter    ``websession.event`` (e.g. ``auth.login``)
===============================  =========  ===========================================

Spans never carry a key or data. With the Prometheus exporter the histogram is
``websession_store_duration_seconds`` and the counter ``websession_events_total``
(docs/operations.md has the setup).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from websession.extras import missing_extra

try:
    from opentelemetry import metrics, trace
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("websession.telemetry", "otel") from exc

from websession.events import Event, Events
from websession.stores.async_face import face_class
from websession.stores.base import AsyncStore, Store

__all__ = ["SCOPE", "count_events", "traced_async_store", "traced_store"]

SCOPE = "websession"
"""The instrumentation scope of every span and instrument."""


class _Instruments:
    __slots__ = ("duration", "tracer")

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
    ) -> None:
        self.tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        self.duration = meter.create_histogram(
            "websession.store.duration", unit="s", description="Duration of store calls"
        )


class _Traced:
    """Base of the traced wrappers: the inner store and the instruments."""

    __slots__ = ("_instruments", "_name", "inner")

    def __init__(self, inner: Any, instruments: _Instruments) -> None:
        self.inner = inner
        """The wrapped store."""
        self._instruments = instruments
        self._name = type(inner).__name__

    def __repr__(self) -> str:
        return f"<traced {self.inner!r}>"

    @contextmanager
    def _measured(self, operation: str) -> Iterator[None]:
        """A span around the call and its duration recorded (``error.type`` if it
        raised)."""
        attributes = {"websession.store": self._name, "websession.operation": operation}
        with self._instruments.tracer.start_as_current_span(
            f"websession.store.{operation}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ):
            started = time.perf_counter()
            try:
                yield
            except Exception as exc:
                attributes["error.type"] = type(exc).__name__
                raise
            finally:
                self._instruments.duration.record(time.perf_counter() - started, attributes)


def _sync_method(name: str) -> Callable[..., Any]:
    def call(self: _Traced, *args: Any, **kwargs: Any) -> Any:
        with self._measured(name):
            return getattr(self.inner, name)(*args, **kwargs)

    return call


def _async_method(name: str) -> Callable[..., Any]:
    async def call(self: _Traced, *args: Any, **kwargs: Any) -> Any:
        with self._measured(name):
            return await getattr(self.inner, name)(*args, **kwargs)

    return call


_CLASSES: dict[tuple[type, bool], type[_Traced]] = {}


def _wrap(store: Any, is_async: bool, instruments: _Instruments) -> Any:
    made = _CLASSES.get((type(store), is_async))
    if made is None:
        method = _async_method if is_async else _sync_method
        made = _CLASSES[type(store), is_async] = face_class(_Traced, type(store), method, "Traced")
    return made(store, instruments)


def traced_async_store(
    store: AsyncStore,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> AsyncStore:
    """``store`` with a span and a duration record around every call; it claims the
    same abilities (the global providers unless given)."""
    instruments = _Instruments(tracer_provider, meter_provider)
    return cast(AsyncStore, _wrap(store, True, instruments))


def traced_store(
    store: Store,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Store:
    """The sync form of ``traced_async_store``."""
    instruments = _Instruments(tracer_provider, meter_provider)
    return cast(Store, _wrap(store, False, instruments))


def count_events(
    events: Events, *, meter_provider: metrics.MeterProvider | None = None
) -> Callable[[], None]:
    """Count every lifecycle event in ``websession.events``; return a function that
    stops counting."""
    counter = metrics.get_meter(SCOPE, meter_provider=meter_provider).create_counter(
        "websession.events", description="Session lifecycle events"
    )

    def count(event: Event) -> None:
        counter.add(1, {"websession.event": event.name.value})

    return events.subscribe(count)
