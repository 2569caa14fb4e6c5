"""A ready demo database for the commands that need one (`demo`, `ask`, `serve --demo`, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from miot_harness.demo.cluster import DemoCluster, DemoConnection

if TYPE_CHECKING:
    from miot_harness.settings import HarnessSettings


def ensure_demo_database(
    settings: HarnessSettings, data_dir: Path | None = None, *, refresh: bool = True
) -> DemoConnection:
    """Do what `db up` does, then bring the data up to today unless `refresh` is False."""
    cluster = DemoCluster.from_settings(settings, data_dir)
    connection = cluster.up()
    if refresh:
        cluster.ensure_current(settings.nexo_freshness_warn_minutes)
    return connection
