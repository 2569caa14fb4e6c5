"""uvicorn options for `serve`: limits that cut off slow, idle and too many clients."""

from __future__ import annotations

import asyncio
import logging
from functools import cache, partial
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from miot_harness.settings import HarnessSettings, load_settings

log = logging.getLogger("miot_harness.api")


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head takes too long.

    uvicorn has no header-read timeout of its own: a client sending its head a byte at a
    time, or nothing at all, would hold a connection for ever. Named to uvicorn directly
    (`--http miot_harness.api.serving:HeaderTimeoutH11Protocol`), it reads the timeout
    from `MIOT_HARNESS_HEADER_TIMEOUT_S`.
    """

    def __init__(self, *args: Any, header_timeout_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s or _configured_header_timeout()
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self._arm()  # between requests: the next head has not arrived yet
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the head is parsed; the app now has the request

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _timed_out(self) -> None:
        self._head_timer = None
        log.debug("closing a connection whose request head took over %gs", self.header_timeout_s)
        if not self.transport.is_closing():
            self.transport.close()


@cache
def _configured_header_timeout() -> float:
    return load_settings().header_timeout_s


def uvicorn_limits(settings: HarnessSettings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` from the slow-client settings."""
    return {
        # A partial of a module-level class, so it pickles into `--workers` processes too.
        "http": partial(HeaderTimeoutH11Protocol, header_timeout_s=settings.header_timeout_s),
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "limit_concurrency": settings.max_connections,
    }
