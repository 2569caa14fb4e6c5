"""The structured log: one JSON line per run event, fed by the same emitter as every other view."""

from __future__ import annotations

import json
import logging

from miot_harness.events import HarnessEvent, HarnessEventType, Subscriber

EVENT_LOGGER = "miot_harness.events"
_WARNINGS = frozenset({HarnessEventType.TOOL_FAILED, HarnessEventType.FRESHNESS_WARNING})


def event_log_line(event: HarnessEvent) -> str:
    """The event as one compact JSON object (what log shippers index)."""
    return json.dumps(
        {
            "event": event.type.value,
            "run_id": event.run_id,
            "seq": event.seq,
            "ts": event.ts.isoformat(),
            "agent": event.agent,
            "payload": event.payload,
        },
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )


def log_subscriber(logger: logging.Logger | None = None) -> Subscriber:
    """A run-emitter subscriber writing each event to the log at a level fitting its type."""
    target = logger or logging.getLogger(EVENT_LOGGER)

    def write(event: HarnessEvent) -> None:
        if event.type is HarnessEventType.RUN_FAILED:
            level = logging.ERROR
        elif event.type in _WARNINGS:
            level = logging.WARNING
        else:
            level = logging.INFO
        if target.isEnabledFor(level):
            target.log(level, event_log_line(event))

    return write
