"""The HTTP API: `create_app()` in `miot_harness.api.app`."""
