"""The per-app state the routes read: settings, keys, metrics, and the booted runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from miot_harness.api.auth import (
    API_KEY_SCHEME,
    BEARER_SCHEME,
    ApiKeyRing,
    Caller,
    authenticate,
    presented_key,
)
from miot_harness.api.metrics import HarnessMetrics
from miot_harness.api.runs import RunLauncher
from miot_harness.api.runtime_port import ApiRuntime
from miot_harness.settings import HarnessSettings


class RuntimeNotReady(RuntimeError):
    """A route ran outside the lifespan (the runtime is opened there)."""


@dataclass
class ApiState:
    """One app's state; `runtime` and `launcher` exist while the lifespan runs."""

    settings: HarnessSettings
    keys: ApiKeyRing
    metrics: HarnessMetrics = field(default_factory=HarnessMetrics)
    runtime: ApiRuntime | None = None
    launcher: RunLauncher | None = None

    def booted(self) -> tuple[ApiRuntime, RunLauncher]:
        if self.runtime is None or self.launcher is None:
            raise RuntimeNotReady("the harness runtime is opened by the app's lifespan")
        return self.runtime, self.launcher


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def runtime_of(request: Request) -> ApiRuntime:
    return api_state(request).booted()[0]


def launcher_of(request: Request) -> RunLauncher:
    return api_state(request).booted()[1]


def caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)],
    api_key: Annotated[str | None, Security(API_KEY_SCHEME)],
) -> Caller:
    """FastAPI dependency: the authenticated caller of this request (401 otherwise)."""
    state = api_state(request)
    key = presented_key(bearer, api_key)
    return authenticate(key, state.keys, state.settings.nexo_tenant_lock)


def publish_nexo_state(app: FastAPI, runtime: ApiRuntime) -> None:
    """Mirror the runtime's Nexo state on `app.state` (it changes when a boot retry succeeds)."""
    app.state.nexo_enabled = runtime.nexo_enabled
    app.state.nexo_reason = runtime.nexo_reason
    app.state.nexo_pool = runtime.pool
    app.state.nexo_registered = list(runtime.nexo_registered)
