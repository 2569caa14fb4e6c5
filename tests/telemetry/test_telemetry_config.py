"""When spans are exported: only the standard `OTEL_*` variables decide; the core stays light."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from miot_harness.settings import HarnessSettings
from miot_harness.telemetry import config, export_configured, run_span_subscribers
from miot_harness.telemetry.spans import RunSpans

ENDPOINT = "http://127.0.0.1:4318"


@pytest.mark.parametrize(
    ("environ", "configured"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "harness"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{ENDPOINT}/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "false"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_export_needs_an_endpoint_and_an_enabled_sdk(
    environ: dict[str, str], configured: bool
) -> None:
    assert export_configured(environ) is configured


def test_without_an_endpoint_no_subscriber_is_attached(
    otel_environment: pytest.MonkeyPatch,
) -> None:
    assert run_span_subscribers(HarnessSettings()) == []
    assert config.process_tracer_provider.cache_info().currsize == 0, "no provider was built"


def test_booting_without_an_endpoint_never_imports_the_sdk() -> None:
    script = (
        "import sys\n"
        "from miot_harness.api.app import create_app\n"
        "from miot_harness.runtime import HarnessRuntime\n"
        "from miot_harness.settings import HarnessSettings\n"
        "from miot_harness.telemetry import run_span_subscribers\n"
        "assert run_span_subscribers(HarnessSettings()) == []\n"
        "create_app(HarnessSettings())\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk',"
        " 'opentelemetry.exporter', 'opentelemetry.semconv'))))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_an_endpoint_without_the_extra_warns_once_naming_it(
    otel_environment: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    # As if the `otel` extra were not installed: importing the SDK or exporter fails.
    for module in (
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    ):
        otel_environment.setitem(sys.modules, module, None)

    with caplog.at_level(logging.WARNING, logger=config.__name__):
        assert run_span_subscribers(HarnessSettings()) == []
        assert run_span_subscribers(HarnessSettings()) == []

    [warning] = caplog.records
    assert "OTEL_EXPORTER_OTLP_ENDPOINT is set" in warning.getMessage()
    assert "uv sync --extra otel" in warning.getMessage()


def test_an_endpoint_attaches_one_subscriber_with_the_content_setting(
    otel_environment: pytest.MonkeyPatch,
) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)

    [plain] = run_span_subscribers(HarnessSettings())
    [capturing] = run_span_subscribers(HarnessSettings(otel_capture_content=True))

    assert isinstance(plain, RunSpans) and isinstance(capturing, RunSpans)
    assert (plain.capture_content, capturing.capture_content) == (False, True)


def test_the_sampler_comes_from_otel_traces_sampler(otel_environment: pytest.MonkeyPatch) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    otel_environment.setenv("OTEL_TRACES_SAMPLER", "always_off")

    provider = config.process_tracer_provider()

    assert provider is not None
    assert provider.sampler.get_description() == "AlwaysOffSampler"


def test_the_content_flag_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIOT_HARNESS_OTEL_CAPTURE_CONTENT", "true")
    assert HarnessSettings().otel_capture_content is True
    monkeypatch.delenv("MIOT_HARNESS_OTEL_CAPTURE_CONTENT")
    assert HarnessSettings(_env_file=None).otel_capture_content is False
