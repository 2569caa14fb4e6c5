"""What runs derive from the catalogue is built once per catalogue, again once refetched."""

from __future__ import annotations

import datetime as dt

import asyncpg

from miot_harness.nexo.agents.domain_signal import domain_vocabulary
from miot_harness.nexo.agents.filter_values import catalogue_spellings, resolve_value
from miot_harness.nexo.agents.prompts import values_section
from miot_harness.nexo.boot import load_nexo_tools
from miot_harness.nexo.catalog_values import CatalogValues
from miot_harness.nexo.credentials import credentials_from_settings
from miot_harness.nexo.identity_cache import by_identity
from miot_harness.nexo.pool import create_nexo_pool
from miot_harness.settings import HarnessSettings
from miot_harness.tools import ToolRegistry

NEW_CLIENT = "Ferretería Quiltro"


def test_a_cache_by_identity_rebuilds_for_an_equal_but_new_object_and_forgets_the_oldest():
    built: list[dict[str, int]] = []

    @by_identity(maxsize=2)
    def keys(values: dict[str, int], label: str) -> list[str]:
        built.append(values)
        return sorted(values)

    first = {"a": 1}
    kept = keys(first, "x")
    assert keys(first, "x") is kept and len(built) == 1
    assert keys(first, "y") is not kept and len(built) == 2
    copy = dict(first)
    assert keys(copy, "x") == ["a"] and built[-1] is copy
    keys(first, "x")  # the least recently used entry, dropped for the third: built again
    assert len(built) == 4


async def test_a_refetched_catalogue_rebuilds_spellings_vocabulary_and_the_values_section(
    demo_db_clone,
):
    settings = HarnessSettings(
        nexo_db_scripts_root=demo_db_clone.db_scripts_root, nexo_db_alias=demo_db_clone.alias
    )
    pool = await create_nexo_pool(credentials_from_settings(settings), settings)
    try:
        registry = ToolRegistry()
        assert (await load_nexo_tools(registry, settings, pool)).enabled
        now = [dt.datetime.now(dt.UTC)]
        catalogue = CatalogValues.from_registry(registry, settings, clock=lambda: now[0])
        tools = registry.with_prefix(settings.nexo_tool_prefix)
        first = await catalogue.get()
        spellings = catalogue_spellings("cliente", first)
        vocabulary = domain_vocabulary(tools, first, "mintral")
        section = values_section(first)
        assert catalogue_spellings("cliente", first) is spellings
        assert domain_vocabulary(tools, first, "mintral") is vocabulary
        assert values_section(first) is section
        assert domain_vocabulary(tools, first, "otro") is not vocabulary

        owner = await asyncpg.connect(demo_db_clone.owner_dsn)
        try:
            await owner.execute("INSERT INTO nexo.cliente VALUES ($1, false)", NEW_CLIENT)
        finally:
            await owner.close()
        assert await catalogue.get() is first
        now[0] += dt.timedelta(minutes=settings.nexo_freshness_warn_minutes + 1)
        second = await catalogue.get()

        assert second is not first
        assert resolve_value("ferreteria quiltro", spellings) is None
        assert resolve_value("ferreteria quiltro", catalogue_spellings("cliente", second)) == (
            NEW_CLIENT
        )
        assert NEW_CLIENT not in section and NEW_CLIENT in values_section(second)
        assert "quiltro" not in vocabulary.keys
        assert "quiltro" in domain_vocabulary(tools, second, "mintral").keys

        rebooted = ToolRegistry()
        assert (await load_nexo_tools(rebooted, settings, pool)).enabled
        fresh_tools = rebooted.with_prefix(settings.nexo_tool_prefix)
        assert domain_vocabulary(fresh_tools, second, "mintral") is not domain_vocabulary(
            tools, second, "mintral"
        )
    finally:
        await pool.close()
