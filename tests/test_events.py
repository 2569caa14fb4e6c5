"""The per-run emitter: strictly increasing seq, one run id, fan-out and streaming."""

import asyncio

import pytest

from miot_harness.events import HarnessEventType, RunEmitter, make_event


def test_seq_is_strictly_increasing_from_one_and_stamped_with_the_run():
    seen = []
    emitter = RunEmitter("run-1", subscribers=[seen.append])
    for _ in range(3):
        emitter.publish(make_event(HarnessEventType.TOOL_STARTED, "data_fetcher", tool="t"))
    emitter.emit(HarnessEventType.RUN_COMPLETED, status="completed")
    assert [e.seq for e in emitter.events] == [1, 2, 3, 4]
    assert {e.run_id for e in emitter.events} == {"run-1"}
    assert seen == emitter.events


def test_publish_after_close_is_an_error_not_a_silent_drop():
    emitter = RunEmitter("run-2")
    emitter.close()
    with pytest.raises(RuntimeError, match="run-2"):
        emitter.emit(HarnessEventType.RUN_STARTED)


async def test_stream_replays_past_events_then_follows_live_ones_until_close():
    emitter = RunEmitter("run-3")
    emitter.emit(HarnessEventType.RUN_STARTED)

    async def produce():
        await asyncio.sleep(0)
        emitter.emit(HarnessEventType.ROUTE_SELECTED, route="nexo_query")
        emitter.close()

    producer = asyncio.create_task(produce())
    received = [event.seq async for event in emitter.stream()]
    await producer
    assert received == [1, 2]
