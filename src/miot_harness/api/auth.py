"""API keys → (tenant, user); with no keys, an open server that only loopback may reach."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
from dataclasses import dataclass

from fastapi import HTTPException
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from miot_harness.schemas import Identifier
from miot_harness.settings import HarnessSettings

log = logging.getLogger("miot_harness.api")

OPEN_USER = "local"
LOOPBACK_NAMES = frozenset({"localhost"})


class AuthConfigError(ValueError):
    """`MIOT_HARNESS_API_KEYS` cannot be used; the message never repeats a key."""


class OpenServerRefused(RuntimeError):
    """The server would be reachable beyond loopback without any API key."""


class KeyOwner(BaseModel):
    """Who an API key speaks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    user_id: Identifier


@dataclass(frozen=True)
class Principal:
    """The caller of one request: the tenant and user every run and read is scoped to."""

    tenant_id: str
    user_id: str


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class ApiKeyRing:
    """The configured keys, held as digests and matched in constant time."""

    def __init__(self, owners: dict[str, KeyOwner]) -> None:
        self._entries = [(_digest(key), owner) for key, owner in owners.items()]

    @classmethod
    def from_settings(cls, settings: HarnessSettings) -> ApiKeyRing:
        """Parse `MIOT_HARNESS_API_KEYS` (JSON: key → {tenant_id, user_id}); empty when unset."""
        if settings.api_keys is None:
            return cls({})
        try:
            raw = json.loads(settings.api_keys.get_secret_value())
        except json.JSONDecodeError:
            raise AuthConfigError("MIOT_HARNESS_API_KEYS is not valid JSON") from None
        if not isinstance(raw, dict) or not raw:
            raise AuthConfigError(
                "MIOT_HARNESS_API_KEYS must be a non-empty JSON object: key → {tenant_id, user_id}"
            )
        owners: dict[str, KeyOwner] = {}
        for position, (key, owner) in enumerate(raw.items(), start=1):
            if not key:
                raise AuthConfigError(f"MIOT_HARNESS_API_KEYS entry {position}: empty key")
            try:
                owners[key] = KeyOwner.model_validate(owner)
            except ValidationError as exc:
                fields = ", ".join(".".join(map(str, e["loc"])) or "value" for e in exc.errors())
                raise AuthConfigError(
                    f"MIOT_HARNESS_API_KEYS entry {position}: invalid {fields}"
                ) from None
        return cls(owners)

    @property
    def is_open(self) -> bool:
        return not self._entries

    def owner_of(self, presented: str) -> KeyOwner | None:
        """The owner of a presented key; every key is compared so timing reveals nothing."""
        candidate = _digest(presented)
        found: KeyOwner | None = None
        for digest, owner in self._entries:
            if hmac.compare_digest(candidate, digest):
                found = owner
        return found


# Declared as security schemes so the OpenAPI document says how to authenticate; neither
# raises on its own, so one missing header is fine when the other carries the key.
BEARER_SCHEME = HTTPBearer(
    auto_error=False, description="`Authorization: Bearer <key>` (MIOT_HARNESS_API_KEYS)"
)
API_KEY_SCHEME = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The same key in `X-API-Key`"
)


def presented_key(bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> str | None:
    """The key from `Authorization: Bearer`, else from `X-API-Key`."""
    if bearer is not None and bearer.credentials.strip():
        return bearer.credentials.strip()
    return api_key.strip() if api_key and api_key.strip() else None


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def is_loopback_host(host: str) -> bool:
    """True for loopback addresses and `localhost`; any other name or address is not."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def ensure_bind_allowed(settings: HarnessSettings, host: str) -> None:
    """Refuse to serve on a non-loopback address without API keys (call before binding)."""
    if ApiKeyRing.from_settings(settings).is_open and not is_loopback_host(host):
        raise OpenServerRefused(
            f"refusing to listen on {host}: no MIOT_HARNESS_API_KEYS are configured, so the "
            "server would be open to the network; bind to 127.0.0.1 or configure API keys"
        )


def warn_if_open(keys: ApiKeyRing) -> None:
    if keys.is_open:
        log.warning(
            "!!! NO API KEYS CONFIGURED (MIOT_HARNESS_API_KEYS unset): the API is OPEN and "
            "answers loopback connections only; configure keys before exposing it !!!"
        )


class LoopbackOnlyMiddleware:
    """With no keys, refuse any connection that reached a non-loopback local address.

    The ASGI `server` entry is the address the client connected to, so a server bound to
    0.0.0.0 still answers 127.0.0.1 but not its network addresses. Test transports that
    name no IP address (``testserver``) are in-process and pass.
    """

    def __init__(self, app: ASGIApp, keys: ApiKeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.keys.is_open and _reached_network(scope):
            response = JSONResponse(
                {"detail": "this server has no API keys and answers loopback clients only"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _reached_network(scope: Scope) -> bool:
    server = scope.get("server")
    if not server:
        return False  # a Unix socket: local by construction
    host = str(server[0]).strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_loopback


@dataclass(frozen=True)
class Caller:
    """An authenticated request: a key's owner, or nobody in particular on an open server."""

    key_owner: KeyOwner | None
    default_tenant: str

    def principal(self, tenant_id: str | None = None, user_id: str | None = None) -> Principal:
        """Who the request acts for; with a key, claimed tenant and user are ignored."""
        if self.key_owner is not None:
            owner = self.key_owner
            return Principal(tenant_id=owner.tenant_id, user_id=owner.user_id)
        return Principal(tenant_id=tenant_id or self.default_tenant, user_id=user_id or OPEN_USER)


def authenticate(key: str | None, keys: ApiKeyRing, default_tenant: str) -> Caller:
    """Check the presented key (401 when keys exist and it is missing or wrong)."""
    if keys.is_open:
        return Caller(key_owner=None, default_tenant=default_tenant)
    if key is None:
        raise unauthorized("missing API key: send Authorization: Bearer <key> or X-API-Key")
    owner = keys.owner_of(key)
    if owner is None:
        raise unauthorized("invalid API key")
    return Caller(key_owner=owner, default_tenant=default_tenant)
