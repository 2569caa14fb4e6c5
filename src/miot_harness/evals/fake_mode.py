"""`--mode fake`: scripted seat models and stand-in tools through the real graph and supervisor.

Plumbing, not judgement: the filter expert picks `expected_tools` in order with the example's
filters, so what is measured is the gate, routing, graph, events, store and scoring path.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from miot_harness.evals.catalogue import ToolCatalogue
from miot_harness.evals.fake_models import FAKE_MODEL_NAME, Script, ScriptedSeatModel
from miot_harness.evals.fake_tools import FRESH_AGE_MINUTES, SnapshotAge, fake_registry
from miot_harness.evals.golden import GoldenExample
from miot_harness.evals.session import EvalSession
from miot_harness.events import utc_now
from miot_harness.models.seat_protocol import SEATS
from miot_harness.schemas import RunContext
from miot_harness.settings import HarnessSettings


def demo_catalogue_values() -> dict[str, Any]:
    """The `fn_dx_catalogo` shape built from the pinned demo vocabulary."""
    from miot_harness.demo import vocabulary as v

    return {
        "clientes": sorted(client.nombre for client in v.CLIENTS),
        "canales": sorted(name for name, _ in v.CANALES),
        "tipos_servicio": sorted(name for name, _ in v.TIPOS_SERVICIO),
        "prioridades": sorted(name for name, _ in v.PRIORIDADES),
        "centros": sorted(centre[0] for centre in v.CENTRES),
        "transportistas": sorted(carrier.nombre for carrier in v.CARRIERS),
        "estados": sorted(v.ESTADOS),
        "eta_clasificaciones": sorted(v.ETA_CLASIFICACIONES),
        "regiones": [
            {"nombre": r.nombre, "codigo": r.codigo, "alias": list(r.alias)} for r in v.REGIONS
        ],
        "comunas": [{"nombre": c, "region": r.nombre} for r in v.REGIONS for c, _ in r.comunas],
        "refreshed_at_servicios": utc_now().isoformat(),
    }


@asynccontextmanager
async def open_fake_session(
    settings: HarnessSettings, catalogue: ToolCatalogue
) -> AsyncIterator[tuple[EvalSession, dict[str, str]]]:
    """A supervisor over stand-in tools and scripted models, with its own temporary stores."""
    from miot_harness.nexo.graph import build_nexo_graph
    from miot_harness.nexo.runner import run_nexo_turn
    from miot_harness.nexo.threads import open_checkpointer
    from miot_harness.request_gate import check_request
    from miot_harness.store import open_run_store
    from miot_harness.storytelling import build_story_runner
    from miot_harness.supervisor import HarnessSupervisor, RouteTable

    values = demo_catalogue_values()

    async def catalog_values() -> dict[str, Any]:
        return values

    age = SnapshotAge()
    registry = fake_registry(catalogue, values, age, utc_now, settings.nexo_tenant_lock)
    seat_names = dict.fromkeys(SEATS, FAKE_MODEL_NAME)
    script = Script()
    with tempfile.TemporaryDirectory(prefix="miot-evals-fake-") as data_dir:
        fake = settings.model_copy(update={"data_dir": Path(data_dir), "store_dsn": None})
        store = await open_run_store(fake)
        try:
            async with open_checkpointer(fake) as checkpointer:
                model = ScriptedSeatModel(script=script, timezone=fake.timezone)
                graph = build_nexo_graph(
                    registry,
                    fake,
                    dict.fromkeys(SEATS, model),
                    catalog_values=catalog_values,
                    checkpointer=checkpointer,
                )

                @asynccontextmanager
                async def prepare(example: GoldenExample) -> AsyncIterator[None]:
                    script.example = example
                    age.minutes = example.stale_minutes or FRESH_AGE_MINUTES
                    try:
                        yield
                    finally:
                        script.example = None
                        age.minutes = FRESH_AGE_MINUTES

                async def nexo(question: str, ctx: RunContext, publish: Any) -> Any:
                    return await run_nexo_turn(graph, question, ctx, fake, publish)

                routes = RouteTable(
                    nexo=nexo,
                    nexo_reason=None,
                    storytelling=build_story_runner(
                        registry, fake, model, catalog_values=catalog_values, clock=utc_now
                    ),
                    storytelling_reason=None,
                    catalogue_texts=tuple(catalogue.descriptions.values()),
                )
                supervisor = HarnessSupervisor(
                    fake, store, routes, gate=check_request, seat_models=seat_names
                )
                yield EvalSession(supervisor, fake, prepare, ages_snapshots=True), seat_names
        finally:
            await store.close()
