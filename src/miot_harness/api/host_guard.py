"""Host and Origin checks against DNS rebinding: a page on another name never reaches the API."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_HOST_NAMES = ("localhost", "127.0.0.1", "::1")
FOREIGN_HOST = "host not allowed: this server answers loopback names and MIOT_HARNESS_ALLOWED_HOSTS"
FOREIGN_ORIGIN = (
    "origin not allowed: this server answers pages from loopback and MIOT_HARNESS_ALLOWED_HOSTS"
)


def host_name(authority: str) -> str:
    """The name part of a `Host` value or URL authority, lower case, without port or brackets."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else ""
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


@dataclass(frozen=True)
class HostPolicy:
    """The names a request may address; `*.example.com` matches any subdomain of it."""

    names: frozenset[str]
    check_origin: bool

    @classmethod
    def for_server(cls, allowed_hosts: tuple[str, ...], *, open_server: bool) -> HostPolicy | None:
        """Loopback plus the allowed hosts on an open server; with keys, only when configured."""
        if open_server:
            return cls(frozenset((*LOOPBACK_HOST_NAMES, *allowed_hosts)), check_origin=True)
        if allowed_hosts:
            return cls(frozenset(allowed_hosts), check_origin=False)
        return None

    def allows(self, name: str) -> bool:
        name = name.strip("[]")
        if not name:
            return False
        if name in self.names:
            return True
        return any(entry.startswith("*.") and name.endswith(entry[1:]) for entry in self.names)

    def refusal(self, headers: Headers) -> str | None:
        """Why a request is refused, in one line; None when it may pass."""
        if not self.allows(host_name(headers.get("host", ""))):
            return FOREIGN_HOST
        origin = headers.get("origin")
        if self.check_origin and origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not self.allows(host_name(parts.netloc)):
                return FOREIGN_ORIGIN
        return None


class HostGuardMiddleware:
    """Refuse with 403 any request whose `Host` (or `Origin`) names a host the policy lacks."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reason = self.policy.refusal(Headers(scope=scope))
            if reason is not None:
                await JSONResponse({"detail": reason}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
