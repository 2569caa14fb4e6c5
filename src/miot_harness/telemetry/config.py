"""When spans are exported, and the process's tracer provider built from the `OTEL_*` variables."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from miot_harness.events import Subscriber
from miot_harness.settings import HarnessSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
DEFAULT_SERVICE_NAME = "miot-harness"
TRACER_NAME = "miot_harness"
MISSING_EXTRA = (
    "%s is set but the OpenTelemetry SDK is not installed, so no spans are exported: "
    "install the `otel` extra (`uv sync --extra otel`, or `pip install 'miot-harness[otel]'`)"
)


def export_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the standard variables ask for span export: an OTLP endpoint, SDK not disabled."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(env.get(name, "").strip() for name in ENDPOINT_VARIABLES)


@functools.cache
def process_tracer_provider() -> TracerProvider | None:
    """One provider per process, batching spans to the OTLP/HTTP endpoint of the `OTEL_*` variables.

    None, with one warning naming the extra, when the SDK is not installed. The SDK itself
    reads the endpoint, headers, sampler (`OTEL_TRACES_SAMPLER`), resource and batch settings,
    and flushes at process exit.
    """
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        named = next(name for name in ENDPOINT_VARIABLES if os.environ.get(name, "").strip())
        log.warning(MISSING_EXTRA, named)
        return None
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def run_span_subscribers(settings: HarnessSettings) -> list[Subscriber]:
    """The span subscriber for every run's emitter, or none when export is not configured."""
    if not export_configured():
        return []
    provider = process_tracer_provider()
    if provider is None:
        return []
    from miot_harness.telemetry.spans import RunSpans

    return [
        RunSpans(provider.get_tracer(TRACER_NAME), capture_content=settings.otel_capture_content)
    ]
