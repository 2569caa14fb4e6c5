"""OpenTelemetry export of runs: one more event subscriber, on only when `OTEL_*` names a collector.

Nothing here imports the OpenTelemetry SDK until an exporter endpoint is configured, so the
core install stays light and an unconfigured harness attaches no subscriber at all.
"""

from miot_harness.telemetry.config import export_configured, run_span_subscribers
from miot_harness.telemetry.propagation import TraceContextMiddleware

__all__ = ["TraceContextMiddleware", "export_configured", "run_span_subscribers"]
