"""The structured event log: one JSON line per event, at a level that fits the event."""

from __future__ import annotations

import json
import logging

import pytest

from miot_harness.events import HarnessEventType, RunEmitter
from miot_harness.observability import log_subscriber


def test_each_event_becomes_one_json_line_in_seq_order(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.events")
    emitter = RunEmitter("r1", subscribers=[log_subscriber(logger)])
    with caplog.at_level(logging.INFO, logger="test.events"):
        emitter.emit(HarnessEventType.RUN_STARTED, "supervisor", tenant_id="mintral")
        emitter.emit(HarnessEventType.TOOL_FAILED, "data_fetcher", tool="t", message="ñandú")
        emitter.emit(HarnessEventType.RUN_FAILED, "supervisor", reason="timeout")
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert [line["event"] for line in lines] == ["run.started", "tool.failed", "run.failed"]
    assert all(line["run_id"] == "r1" for line in lines)
    assert lines[1]["payload"]["message"] == "ñandú"
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.WARNING, logging.ERROR]


def test_quiet_logger_skips_info_events(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.quiet")
    emitter = RunEmitter("r2", subscribers=[log_subscriber(logger)])
    with caplog.at_level(logging.WARNING, logger="test.quiet"):
        emitter.emit(HarnessEventType.RUN_STARTED, "supervisor")
        emitter.emit(HarnessEventType.FRESHNESS_WARNING, "freshness_judge", level="warn")
    assert [json.loads(r.getMessage())["event"] for r in caplog.records] == ["freshness.warning"]
