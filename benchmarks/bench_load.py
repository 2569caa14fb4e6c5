"""Sustained load: many clients over two API keys of two tenants through real uvicorn.

    uv run python benchmarks/bench_load.py [--clients 32] [--duration 120] [--warmup 15]

Boots an embedded demo database in a temporary data directory and starts
`uvicorn --factory miot_harness.api.server:create_app` on loopback with the offline model
and the default admission settings (16 slots, at most 4 per user, a line of 64). A
baseline of one client runs first, then a warm-up at full concurrency, then the measured
phase: each client asks mixed questions (KPIs, a table, a count, the storytelling route)
one after another with its key; Mintral's key is answered, the other tenant's is refused.

Prints runs/s, p50, p95, errors, the p95 wait in the admission line and the server's
resident memory after the warm-up and after
the run, with ratios against the one-client baseline, then checks: 0 errors; every record
belongs to the key's tenant and its events to its own run, `seq` contiguous from 1; no answer
holds a number absent from its run's evidence (the evals `no_hallucination` scorer); memory
after the run within 20 % of memory after the warm-up. Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench_api import percentile, queue_wait_ms, start_server
from rich.console import Console
from rich.table import Table

from miot_harness.demo.cluster import DemoCluster
from miot_harness.evals.observation import observe
from miot_harness.evals.scorers import question_numbers, score_no_hallucination
from miot_harness.schemas import HarnessRunRecord
from miot_harness.settings import HarnessSettings, load_settings

MINTRAL_KEY = "key-load-mintral"
OTHER_KEY = "key-load-logisur"
LOAD_KEYS = {
    MINTRAL_KEY: {"tenant_id": "mintral", "user_id": "ops-load"},
    OTHER_KEY: {"tenant_id": "logisur", "user_id": "ops-load"},
}
# The harness serves Mintral only (the tenant lock): the other tenant is refused every time.
EXPECTED_STATUS = {"mintral": "completed", "logisur": "refused"}
QUESTIONS = (
    "Resumen del centro de control de hoy",
    "Cola crítica de hoy en la RM, los 10 primeros",
    "¿Cuántos servicios se crearon hoy?",
    "Cuéntame cómo fue la semana con las entregas",
)
MEMORY_TOLERANCE = 0.20


@dataclass(frozen=True)
class Asked:
    """One request of one client: its latency, its record, and anything wrong with it."""

    latency_s: float
    record: HarnessRunRecord | None
    error: str | None
    violations: tuple[str, ...] = ()


@dataclass
class Phase:
    """What a phase of the load produced."""

    clients: int
    asked: list[Asked] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def runs(self) -> list[Asked]:
        return [a for a in self.asked if a.error is None]

    @property
    def runs_per_s(self) -> float:
        return len(self.runs) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, q: int) -> float:
        latencies = [a.latency_s for a in self.runs]
        if len(latencies) < 2:
            return latencies[0] * 1000 if latencies else float("nan")
        return statistics.quantiles(latencies, n=100, method="inclusive")[q - 1] * 1000

    def queue_wait_p95_ms(self) -> float:
        waits = [queue_wait_ms(a.record.model_dump(mode="json")) for a in self.runs if a.record]
        return percentile(waits, 95)

    @property
    def errors(self) -> list[str]:
        return [a.error for a in self.asked if a.error is not None]

    @property
    def violations(self) -> list[str]:
        return [v for a in self.asked for v in a.violations]

    def tenants(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for asked in self.runs:
            assert asked.record is not None
            counts[asked.record.tenant_id] = counts.get(asked.record.tenant_id, 0) + 1
        return counts


def record_violations(
    record: HarnessRunRecord, tenant: str, question: str, settings: HarnessSettings
) -> list[str]:
    """Cross-talk and invented numbers in one record; empty when it is sound."""
    found = []
    if record.tenant_id != tenant:
        found.append(f"{record.run_id}: tenant {record.tenant_id}, key of {tenant}")
    if {event.run_id for event in record.events} != {record.run_id}:
        found.append(f"{record.run_id}: holds events of another run")
    if [event.seq for event in record.events] != list(range(1, len(record.events) + 1)):
        found.append(f"{record.run_id}: seq not contiguous from 1")
    latency_ms = (record.finished_at - record.created_at).total_seconds() * 1000
    given = [
        *question_numbers(question),
        settings.nexo_freshness_warn_minutes,
        settings.nexo_freshness_refuse_minutes,
        settings.nexo_truncation_rows,
    ]
    score = score_no_hallucination(observe(record, latency_ms), settings.timezone, given)
    if score.passed is False:
        found.append(f"{record.run_id}: {score.detail}")
    return found


async def ask(
    client: httpx.AsyncClient, key: str, question: str, settings: HarnessSettings
) -> Asked:
    """One POST /runs, judged: an error is anything but a record with the expected status."""
    tenant = LOAD_KEYS[key]["tenant_id"]
    started = time.perf_counter()
    try:
        response = await client.post(
            "/runs", json={"message": question}, headers={"Authorization": f"Bearer {key}"}
        )
    except httpx.HTTPError as exc:
        return Asked(time.perf_counter() - started, None, f"{type(exc).__name__}")
    latency = time.perf_counter() - started
    if response.status_code != 200:
        return Asked(latency, None, f"HTTP {response.status_code}: {response.text[:200]}")
    record = HarnessRunRecord.model_validate(response.json())
    if record.status.value != EXPECTED_STATUS[tenant]:
        error = f"{record.run_id}: {record.status.value} for {tenant}: {record.answer[:200]}"
        return Asked(latency, record, error)
    violations = tuple(record_violations(record, tenant, question, settings))
    return Asked(latency, record, None, violations)


async def drive(url: str, clients: int, duration_s: float, settings: HarnessSettings) -> Phase:
    """`clients` workers asking one question after another until `duration_s` has passed."""
    phase = Phase(clients)
    keys = list(LOAD_KEYS)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + duration_s

        async def worker(number: int) -> None:
            turn = number
            while time.perf_counter() < deadline:
                # Every client cycles through all questions with one key, then with the other.
                question = QUESTIONS[turn % len(QUESTIONS)]
                key = keys[(turn // len(QUESTIONS)) % len(keys)]
                phase.asked.append(await ask(client, key, question, settings))
                turn += 1

        await asyncio.gather(*(worker(number) for number in range(clients)))
        phase.wall_s = time.perf_counter() - started
    return phase


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "-"


def report(baseline: Phase, warmup: Phase, load: Phase, rss_warm: float, rss_after: float) -> bool:
    """Print the table and the checks; whether every check passed."""
    table = Table(
        title="POST /runs through uvicorn on loopback, offline model, 2 keys of 2 tenants"
    )
    columns = ["phase", "clients", "runs", "runs/s", "p50 ms", "p95 ms", "queue wait p95 ms"]
    columns += ["errors"]
    columns += ["violations", "runs/s vs 1", "p50 vs 1", "p95 vs 1"]
    for column in columns:
        table.add_column(column, justify="right")
    for name, phase in (("baseline", baseline), ("warm-up", warmup), ("load", load)):
        table.add_row(
            name,
            str(phase.clients),
            str(len(phase.runs)),
            f"{phase.runs_per_s:.1f}",
            f"{phase.percentile_ms(50):.0f}",
            f"{phase.percentile_ms(95):.0f}",
            f"{phase.queue_wait_p95_ms():.0f}",
            str(len(phase.errors)),
            str(len(phase.violations)),
            _ratio(phase.runs_per_s, baseline.runs_per_s),
            _ratio(phase.percentile_ms(50), baseline.percentile_ms(50)),
            _ratio(phase.percentile_ms(95), baseline.percentile_ms(95)),
        )
    console = Console(width=160)
    console.print(table)
    growth = (rss_after - rss_warm) / rss_warm
    console.print(
        f"server RSS: {rss_warm:.1f} MiB after warm-up, {rss_after:.1f} MiB after the load "
        f"({growth:+.1%}); runs per tenant: {load.tenants()}"
    )
    phases = (baseline, warmup, load)
    checks = {
        "0 errors": not any(phase.errors for phase in phases),
        "no cross-talk, seq contiguous, no invented number": not any(
            phase.violations for phase in phases
        ),
        f"RSS within {MEMORY_TOLERANCE:.0%} of the warm-up": abs(growth) <= MEMORY_TOLERANCE,
        "both tenants served": set(load.tenants()) == set(EXPECTED_STATUS),
    }
    for problem in [*load.errors, *load.violations][:20]:
        console.print(f"  {problem}")
    for name, passed in checks.items():
        console.print(f"{'PASS' if passed else 'FAIL'}  {name}")
    return all(checks.values())


async def main_async(clients: int, duration_s: float, warmup_s: float, root: Path) -> bool:
    data_dir = root / "data"
    settings = load_settings(data_dir=data_dir, model="offline", api_keys=None, store_dsn=None)
    cluster = DemoCluster.from_settings(settings)
    connection = cluster.up()
    try:
        cluster.ensure_current(settings.nexo_freshness_warn_minutes)
        env = {
            "MIOT_HARNESS_DATA_DIR": str(data_dir),
            "MIOT_HARNESS_API_KEYS": json.dumps(LOAD_KEYS),
            "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT": str(connection.db_scripts_root),
            "MIOT_HARNESS_NEXO_DB_ALIAS": connection.alias,
            "MIOT_HARNESS_MODEL": "offline",
        }
        process, url = start_server(env, root / "uvicorn.log")
        try:
            baseline = await drive(url, 1, min(warmup_s, 10.0), settings)
            warmup = await drive(url, clients, warmup_s, settings)
            rss_warm = rss_mib(process.pid)
            load = await drive(url, clients, duration_s, settings)
            rss_after = rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
        return report(baseline, warmup, load, rss_warm, rss_after)
    finally:
        cluster.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=120.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=15.0, help="warm-up seconds")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="miot-bench-load-"))
    try:
        passed = asyncio.run(main_async(args.clients, args.duration, args.warmup, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
