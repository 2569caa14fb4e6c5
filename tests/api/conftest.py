"""API fixtures: apps built on the scripted runtime of `api_support`."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import RuntimeBox, api_settings
from fastapi import FastAPI

from miot_harness.api.app import create_app


@pytest.fixture
def box() -> RuntimeBox:
    return RuntimeBox()


@pytest.fixture
def keyed_app(tmp_path: Path, box: RuntimeBox) -> FastAPI:
    return create_app(api_settings(tmp_path), runtime_factory=box.factory)


@pytest.fixture
def open_app(tmp_path: Path, box: RuntimeBox) -> FastAPI:
    return create_app(api_settings(tmp_path, keys=False), runtime_factory=box.factory)
