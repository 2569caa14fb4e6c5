"""`/metrics` shows the admission line: the queue depth and slots in use while a run waits,
and the wait-time histogram of the admitted runs once they are through."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_admission import ANA, post, served_line, until

pytestmark = pytest.mark.reliability


async def samples(client: httpx.AsyncClient) -> dict[str, float]:
    """Every unlabelled sample of /metrics, plus the wait histogram's buckets as `le=…`."""
    text = (await client.get("/metrics", headers=ANA)).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels:
                found[sample.name] = sample.value
            elif sample.name == "miot_queue_wait_seconds_bucket":
                found[f"le={sample.labels['le']}"] = sample.value
    return found


async def test_metrics_show_the_queue_depth_while_a_run_waits_and_its_wait_after(
    tmp_path: Path,
) -> None:
    async with served_line(tmp_path, "ana", max_concurrent_runs=1) as (client, held, launcher):
        before = await samples(client)
        running = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.active == 1)
        waiting = asyncio.create_task(post(client, ANA))
        await until(lambda: launcher.queued == 1)
        during = await samples(client)
        held.release()
        answered = await asyncio.gather(running, waiting)
        after = await samples(client)

    assert [r.json()["status"] for r in answered] == ["completed"] * 2
    assert answered[1].json()["events"][0]["type"] == "run.queued"
    assert (before["miot_runs_queued"], before["miot_run_slots_in_use"]) == (0, 0)
    assert before["miot_queue_wait_seconds_count"] == 0
    assert (during["miot_runs_queued"], during["miot_run_slots_in_use"]) == (1, 1)
    assert during["miot_queue_wait_seconds_count"] == 1, "only the running one is through"
    assert (after["miot_runs_queued"], after["miot_run_slots_in_use"]) == (0, 0)
    assert after["miot_queue_wait_seconds_count"] == 2
    assert after["miot_queue_wait_seconds_sum"] > during["miot_queue_wait_seconds_sum"]
    assert after["le=+Inf"] == 2 and after["le=60.0"] == 2, "every wait is in a bucket"
