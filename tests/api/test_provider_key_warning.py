"""A provider key while a seat runs `offline`: one boot warning naming MIOT_HARNESS_MODEL,
and `/health` carries the same line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from api_support import RuntimeBox, api_settings, asgi_client

from miot_harness.api.app import create_app
from miot_harness.models.factory import offline_seats_warning
from miot_harness.runtime import open_runtime
from miot_harness.settings import load_settings

FAKE_KEY = "sk-ant-test-not-a-real-key-7f2c"


def _boot_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "miot_harness.runtime" and record.levelno == logging.WARNING
    ]


async def test_a_key_with_offline_seats_warns_once_at_boot_naming_the_variable(
    no_provider_environment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="miot_harness.runtime")
    settings = load_settings(data_dir=tmp_path, anthropic_api_key=FAKE_KEY)
    async with open_runtime(settings) as runtime:
        await runtime.maybe_retry_boot()
    [warning] = _boot_warnings(caplog)
    assert "ANTHROPIC_API_KEY" in warning and "MIOT_HARNESS_MODEL" in warning
    assert "filter_expert" in warning and "narrator" in warning
    assert FAKE_KEY not in caplog.text


async def test_no_warning_without_a_key_or_when_every_seat_names_a_provider(
    no_provider_environment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="miot_harness.runtime")
    async with open_runtime(load_settings(data_dir=tmp_path / "a")):
        pass
    named = load_settings(
        data_dir=tmp_path / "b", model="claude-sonnet-4-5", anthropic_api_key=FAKE_KEY
    )
    async with open_runtime(named):
        pass
    assert _boot_warnings(caplog) == []


async def test_one_offline_seat_is_named_when_the_others_use_the_provider(
    no_provider_environment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="miot_harness.runtime")
    settings = load_settings(
        data_dir=tmp_path,
        model="gpt-4o",
        nexo_critic_model="offline",
        openai_api_key="sk-test-not-real",
    )
    async with open_runtime(settings):
        pass
    [warning] = _boot_warnings(caplog)
    assert "OPENAI_API_KEY" in warning and "these seats run the offline model: critic." in warning


async def test_health_carries_the_same_warning(no_provider_environment, tmp_path: Path) -> None:
    box = RuntimeBox()
    keyed = create_app(
        api_settings(tmp_path, keys=False, openai_api_key="sk-test-not-real"),
        runtime_factory=box.factory,
    )
    async with asgi_client(keyed) as client:
        report = (await client.get("/health")).json()
    [warning] = report["warnings"]
    assert "OPENAI_API_KEY" in warning and "MIOT_HARNESS_MODEL" in warning
    assert "sk-test-not-real" not in warning


def test_both_keys_are_named_with_a_model_for_each(no_provider_environment) -> None:
    settings = load_settings(anthropic_api_key=FAKE_KEY, openai_api_key="sk-test-not-real")
    warning = offline_seats_warning({"analyst": "offline", "critic": "gpt-4o"}, settings)
    assert warning is not None
    assert warning.startswith("ANTHROPIC_API_KEY and OPENAI_API_KEY are set")
    assert "run the offline model: analyst." in warning
    assert "for example claude-sonnet-4-5 or gpt-4o" in warning
