"""Fixtures for the observability tests: a log capture, OpenTelemetry in-memory exporters."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

Capture = Callable[..., list[logging.LogRecord]]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture_logs() -> Iterator[Capture]:
    """`capture_logs(level, *names)` attaches a handler at `level` to the named loggers; returns its records."""
    saved: list[tuple[logging.Logger, int, logging.Handler]] = []

    def capture(level: int, *names: str) -> list[logging.LogRecord]:
        handler = _ListHandler()
        for name in names:
            logger = logging.getLogger(name)
            saved.append((logger, logger.level, handler))
            logger.setLevel(level)
            logger.addHandler(handler)
        return handler.records

    yield capture
    for logger, level, handler in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


class Otel:
    """An SDK tracer provider and meter provider writing to memory."""

    def __init__(self) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[Any]:
        """Finished spans, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def metric(self, name: str) -> list[Any]:
        """The data points of metric `name` collected now."""
        data = self.reader.get_metrics_data()
        points: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def tracing(self, **kwargs: Any) -> Any:
        """A DistributedTracingPolicy writing here."""
        from pipework import DistributedTracingPolicy

        return DistributedTracingPolicy(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **kwargs
        )


@pytest.fixture
def otel() -> Iterator[Otel]:
    """In-memory OpenTelemetry traces and metrics."""
    pytest.importorskip("opentelemetry.sdk")
    otel = Otel()
    yield otel
    otel.tracer_provider.shutdown()
    otel.meter_provider.shutdown()
