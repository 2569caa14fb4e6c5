"""A node's events: streamed live through LangGraph's writer and kept for the `_events` delta."""

from __future__ import annotations

from langgraph.config import get_stream_writer

from miot_harness.events import HarnessEvent


class NodeEvents:
    """Collects a node's events in order, writing each to the run's custom stream at once."""

    def __init__(self) -> None:
        self.events: list[HarnessEvent] = []
        try:
            self._writer = get_stream_writer()
        except RuntimeError:
            # Called outside a graph run (a node exercised on its own): nothing streams.
            self._writer = None

    def __call__(self, event: HarnessEvent) -> None:
        self.events.append(event)
        if self._writer is not None:
            self._writer(event)

    def delta(self, **update: object) -> dict[str, object]:
        """The node's state update with its events attached."""
        return {**update, "_events": self.events}
