"""The offline model over the tools a real boot builds from the demo database.

Acceptance point 2 (offline side): a new function with a new `@meta` comment, once booted,
is chosen for a question matching its description, with no code change.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from langchain_core.messages import HumanMessage, SystemMessage

from miot_harness.models.offline import OfflineChatModel
from miot_harness.models.seat_protocol import (
    SECTION_PLAN,
    FilterDecision,
    local_now_line,
    render_json_section,
    render_section,
    seat_heading,
)
from miot_harness.nexo.agents.prompts import (
    previous_plan_section,
    tools_section,
    values_section,
)
from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.catalog_values import CatalogValues
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.nexo.primer import COORDINADOR_PRIMER
from miot_harness.settings import HarnessSettings
from miot_harness.tools import HarnessTool, ToolRegistry
from offline.prompts import NOW, ZONE

NEW_FUNCTION = """
CREATE FUNCTION nexo.fn_dx_devoluciones_pendientes(p_centro text DEFAULT NULL,
                                                    p_limit integer DEFAULT 50)
RETURNS TABLE (centro text, devoluciones bigint, refreshed_at_servicios timestamptz,
               total_count bigint)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT s.centro, count(*), (SELECT r.refreshed_at FROM nexo.snapshot_refresh r
                                WHERE r.snapshot = 'servicios'), count(*) OVER ()
    FROM nexo.snap_servicio s
    WHERE s.estado = 'fallido' AND (p_centro IS NULL OR s.centro = p_centro)
    GROUP BY s.centro ORDER BY 2 DESC LIMIT p_limit
$$;
COMMENT ON FUNCTION nexo.fn_dx_devoluciones_pendientes(text, integer) IS '@meta
domain: devoluciones
layer: L2
returns: table
side_effects: none
keywords: devoluciones, retorno al remitente, logística inversa
@end
Devoluciones pendientes de retorno al remitente por centro de distribución.';
GRANT EXECUTE ON FUNCTION nexo.fn_dx_devoluciones_pendientes(text, integer) TO harness;
"""


async def _booted(dsn: str, data_dir: Path) -> tuple[list[HarnessTool], dict]:
    settings = HarnessSettings(nexo_dsn=dsn, data_dir=data_dir)
    pool = await create_nexo_pool(dsn, settings)
    try:
        registry = ToolRegistry()
        result = await load_nexo_tools(registry, settings, pool)
        assert result.enabled, result.reason
        tools = [registry.get(name) for name in result.registered]
        values = await CatalogValues.from_registry(registry, settings).get()
        return tools, values
    finally:
        await pool.close()


def _filter_prompt(tools: list[HarnessTool], values: dict, question: str) -> list:
    body = "\n\n".join(
        [
            COORDINADOR_PRIMER,
            seat_heading("filter_expert"),
            render_section("Fecha y hora", local_now_line(NOW, ZONE)),
            tools_section(tools),
            values_section(values),
            previous_plan_section(None),
            render_json_section(SECTION_PLAN, []),
        ]
    )
    return [SystemMessage(content=body), HumanMessage(question)]


async def test_a_new_meta_function_is_routed_after_a_reboot_with_no_code_change(
    demo_db_clone, tmp_path
):
    model = OfflineChatModel()
    question = "¿Cuántas devoluciones pendientes de retorno hay en el CD Pudahuel?"

    def decide(tools: list[HarnessTool], values: dict, text: str) -> FilterDecision:
        reply = model.invoke(_filter_prompt(tools, values, text))
        return FilterDecision.model_validate_json(reply.content)

    tools, values = await _booted(demo_db_clone.harness_dsn, tmp_path)
    assert decide(tools, values, question).tool != "coordinador_devoluciones_pendientes"

    with psycopg.connect(demo_db_clone.superuser_dsn, autocommit=True) as admin:
        admin.execute(NEW_FUNCTION)
    tools, values = await _booted(demo_db_clone.harness_dsn, tmp_path)

    assert "coordinador_devoluciones_pendientes" in {tool.name for tool in tools}
    decision = decide(tools, values, question)
    assert decision.tool == "coordinador_devoluciones_pendientes"
    assert decision.args == {"centro": "CD Pudahuel"}
    summary = decide(tools, values, "resumen del centro de control de hoy")
    assert summary.tool == "coordinador_centro_control"
