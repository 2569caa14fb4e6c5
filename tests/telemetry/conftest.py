"""Telemetry fixtures: an in-memory span exporter, a loopback OTLP receiver, a clean provider."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from otlp_receiver import OtlpReceiver, otlp_receiver

from miot_harness.telemetry import config
from miot_harness.telemetry.config import ENDPOINT_VARIABLES

# Shared, not copied: the API test support (keys, uvicorn in this loop, SSE parsing).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

OTEL_VARIABLES = (
    *ENDPOINT_VARIABLES,
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
)


@pytest.fixture
def memory_provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as running:
        yield running


@pytest.fixture
def otel_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No `OTEL_*` variable from the caller's shell, and a process provider built afresh."""
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    cached = config.process_tracer_provider
    cached.cache_clear()
    yield monkeypatch
    if cached.cache_info().currsize and (built := cached()) is not None:
        built.shutdown()
    cached.cache_clear()
