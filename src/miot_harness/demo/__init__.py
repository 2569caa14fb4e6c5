"""The embedded Coordinador demo database: cluster management, schema, roles and data generator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from miot_harness.demo.ready import ensure_demo_database

__all__ = ["ensure_demo_database"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing the vocabulary does not pull in the database drivers.
    if name == "ensure_demo_database":
        from miot_harness.demo.ready import ensure_demo_database

        return ensure_demo_database
    raise AttributeError(name)
