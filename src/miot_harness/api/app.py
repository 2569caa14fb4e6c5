"""`create_app()`: the HTTP face of the harness, booted by an async lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from miot_harness.api import run_routes, system_routes, thread_routes
from miot_harness.api.auth import ApiKeyRing, LoopbackOnlyMiddleware, warn_if_open
from miot_harness.api.docs_routes import docs_router
from miot_harness.api.errors import install_error_handlers
from miot_harness.api.host_guard import HostGuardMiddleware, HostPolicy
from miot_harness.api.runs import RunLauncher
from miot_harness.api.runtime_port import RuntimeFactory, default_runtime_factory
from miot_harness.api.state import ApiState, publish_nexo_state
from miot_harness.settings import HarnessSettings, load_settings
from miot_harness.telemetry import TraceContextMiddleware
from miot_harness.web import web_router

# A question is at most 4,000 characters; the cap leaves room for UTF-8 and the other fields.
MAX_BODY_BYTES = 64 * 1024


def create_app(
    settings: HarnessSettings | None = None,
    *,
    demo: bool = False,
    runtime_factory: RuntimeFactory | None = None,
) -> FastAPI:
    """The API app; the runtime (Nexo boot, store, supervisor) opens in its lifespan.

    `demo=True` boots against the embedded demo database; `runtime_factory` replaces
    `miot_harness.runtime.open_runtime` (called as `factory(settings, demo=demo)`).
    """
    settings = settings or load_settings()
    state = ApiState(settings=settings, keys=ApiKeyRing.from_settings(settings))
    factory = runtime_factory or default_runtime_factory()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warn_if_open(state.keys)
        async with factory(settings, demo=demo) as runtime:
            state.runtime = runtime
            state.launcher = RunLauncher(runtime.supervisor, state.metrics, settings)
            publish_nexo_state(app, runtime)
            try:
                yield
            finally:
                await state.launcher.drain(settings.run_timeout_s)
                state.launcher = None
                state.runtime = None

    app = FastAPI(
        title="miot-harness",
        summary="Governed answers over Coordinador's read-only SQL functions",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        # Served by `docs_router`, behind the same keys as the API.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = state
    policy = HostPolicy.for_server(settings.allowed_hosts, open_server=state.keys.is_open)
    if policy is not None:
        app.add_middleware(HostGuardMiddleware, policy=policy)
    app.add_middleware(LoopbackOnlyMiddleware, keys=state.keys)
    app.add_middleware(TraceContextMiddleware)
    install_error_handlers(app)
    app.include_router(run_routes.router)
    app.include_router(thread_routes.router)
    app.include_router(docs_router(page_enabled=settings.docs_enabled))
    app.include_router(system_routes.router)
    app.include_router(web_router(settings))
    return app
