"""The API factory under the name deployment scripts use.

    uvicorn miot_harness.api.server:create_app --factory

reads every setting from the environment, as `miot-harness serve` does.
"""

from miot_harness.api.app import create_app

__all__ = ["create_app"]
