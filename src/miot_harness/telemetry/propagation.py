"""Continue a caller's trace: the W3C `traceparent` of an HTTP request becomes the run's parent."""

from __future__ import annotations

from typing import Any

from miot_harness.telemetry.config import export_configured

TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})

Scope = dict[str, Any]


class TraceContextMiddleware:
    """Pure ASGI: attach the request's trace context for the request's duration.

    A run started by the request is an asyncio task, which copies the current context when
    created, so its root span is a child of the caller's span. A pass-through when span export
    is not configured.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.enabled = export_configured()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in TRACE_HEADERS
        }
        if not carrier:
            await self.app(scope, receive, send)
            return
        # The OpenTelemetry API (not the SDK) comes with FastAPI itself.
        from opentelemetry import context, propagate

        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)
