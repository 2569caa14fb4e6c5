"""Prometheus metrics of one app, fed only by subscribing to each run's emitter."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from miot_harness.api.admission import Outcome
from miot_harness.events import HarnessEvent, HarnessEventType, Subscriber
from miot_harness.schemas import RunStatus

UNKNOWN = "unknown"
TOOL_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUEUE_WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class HarnessMetrics:
    """Runs by route and status, the admission line, tool calls and latency, model calls
    and tokens.

    Each app owns its registry, so creating several apps in one process never collides.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Memory, CPU and open files of this worker, as the default registry would show.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.runs = Counter(
            "miot_runs",
            "Finished runs by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.runs_in_flight = Gauge(
            "miot_runs_in_flight", "Runs started and not yet finished", registry=self.registry
        )
        self.runs_queued = Gauge(
            "miot_runs_queued", "Runs waiting in the admission line", registry=self.registry
        )
        self.run_slots_in_use = Gauge(
            "miot_run_slots_in_use", "Run slots held by admitted runs", registry=self.registry
        )
        self.queue_wait = Histogram(
            "miot_queue_wait_seconds",
            "Time from asking to holding a run slot, of admitted runs",
            buckets=QUEUE_WAIT_BUCKETS,
            registry=self.registry,
        )
        self.admissions = Counter(
            "miot_admissions",
            "How runs left the admission line: admitted, line_full, wait_expired, client_left",
            ["outcome"],
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "miot_tool_calls",
            "Tool invocations by tool and outcome",
            ["tool", "outcome"],
            registry=self.registry,
        )
        self.tool_latency = Histogram(
            "miot_tool_latency_seconds",
            "Duration of completed tool calls",
            ["tool"],
            buckets=TOOL_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_calls = Counter(
            "miot_model_calls",
            "Chat model calls by agent seat and model",
            ["agent", "model"],
            registry=self.registry,
        )
        self.model_tokens = Counter(
            "miot_model_tokens",
            "Chat model tokens by agent seat, model and direction",
            ["agent", "model", "direction"],
            registry=self.registry,
        )

    def line_depth(self, waiting: int, running: int) -> None:
        self.runs_queued.set(waiting)
        self.run_slots_in_use.set(running)

    def left_line(self, outcome: Outcome, waited_s: float) -> None:
        self.admissions.labels(outcome.value).inc()
        if outcome is Outcome.ADMITTED:
            self.queue_wait.observe(waited_s)

    def observer(self) -> Subscriber:
        """A subscriber for one run's emitter; it remembers the run's route until the end.

        A run refused by the admission line ends without having started: it counts only
        under `miot_admissions`.
        """
        route = UNKNOWN
        started = False

        def observe(event: HarnessEvent) -> None:
            nonlocal route, started
            payload = event.payload
            match event.type:
                case HarnessEventType.RUN_STARTED:
                    started = True
                    self.runs_in_flight.inc()
                case HarnessEventType.ROUTE_SELECTED:
                    route = str(payload.get("route") or UNKNOWN)
                case HarnessEventType.RUN_COMPLETED if started:
                    status = str(payload.get("status") or RunStatus.COMPLETED.value)
                    self._finish(route, status)
                case HarnessEventType.RUN_FAILED if started:
                    self._finish(route, RunStatus.FAILED.value)
                case HarnessEventType.TOOL_COMPLETED:
                    tool = str(payload.get("tool") or UNKNOWN)
                    self.tool_calls.labels(tool, "completed").inc()
                    self.tool_latency.labels(tool).observe(
                        float(payload.get("duration_ms") or 0) / 1000
                    )
                case HarnessEventType.TOOL_FAILED:
                    self.tool_calls.labels(str(payload.get("tool") or UNKNOWN), "failed").inc()
                case HarnessEventType.AGENT_TURN:
                    self._model_turn(event)
                case _:
                    pass

        return observe

    def _finish(self, route: str, status: str) -> None:
        self.runs.labels(route, status).inc()
        self.runs_in_flight.dec()

    def _model_turn(self, event: HarnessEvent) -> None:
        payload = event.payload
        agent = str(payload.get("agent") or event.agent or UNKNOWN)
        model = str(payload.get("model") or UNKNOWN)
        self.model_calls.labels(agent, model).inc(int(payload.get("model_calls") or 0))
        for direction in ("input", "output"):
            tokens = int(payload.get(f"{direction}_tokens") or 0)
            self.model_tokens.labels(agent, model, direction).inc(tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
