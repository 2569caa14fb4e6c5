"""`get_chat_model`: model names to providers, keys checked at construction, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from miot_harness.models.factory import PLACEHOLDER_KEY, ModelConfigError, get_chat_model
from miot_harness.settings import MODEL_FORMS, load_settings


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_", "MIOT_HARNESS_")):
            monkeypatch.delenv(name)


def settings(**values: object):
    return load_settings(_env_file=None, **values)


def test_claude_without_a_key_fails_at_construction_naming_the_variable() -> None:
    with pytest.raises(ModelConfigError, match="ANTHROPIC_API_KEY"):
        get_chat_model("claude-sonnet-4-6", settings())


def test_claude_with_a_key_builds_chat_anthropic_against_the_configured_base_url() -> None:
    model = get_chat_model(
        "claude-sonnet-4-6",
        settings(anthropic_api_key="k", anthropic_base_url="http://127.0.0.1:9"),
        timeout_s=3,
        max_retries=0,
    )
    assert type(model).__name__ == "ChatAnthropic"
    assert model.model == "claude-sonnet-4-6"
    assert model.anthropic_api_url == "http://127.0.0.1:9"
    assert (model.default_request_timeout, model.max_retries) == (3, 0)


@pytest.mark.parametrize("name", ["gpt-5.1", "o1-mini", "o3-pro", "o4-mini"])
def test_openai_names_need_the_openai_key(name: str) -> None:
    with pytest.raises(ModelConfigError, match="OPENAI_API_KEY"):
        get_chat_model(name, settings())
    model = get_chat_model(name, settings(openai_api_key="sk-test"))
    assert type(model).__name__ == "ChatOpenAI"
    assert model.model_name == name and model.use_responses_api is False


def test_openai_compatible_server_needs_a_base_url() -> None:
    with pytest.raises(ModelConfigError, match="MIOT_HARNESS_OPENAI_BASE_URL"):
        get_chat_model("openai:llama3.1", settings())


def test_openai_compatible_server_uses_a_placeholder_key_and_chat_completions() -> None:
    model = get_chat_model("openai:llama3.1", settings(openai_base_url="http://127.0.0.1:9/v1"))
    assert model.model_name == "llama3.1"
    assert model.openai_api_key.get_secret_value() == PLACEHOLDER_KEY
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.use_responses_api is False


def test_openai_compatible_server_uses_the_key_when_one_is_set() -> None:
    model = get_chat_model(
        "openai:qwen", settings(openai_base_url="http://127.0.0.1:9/v1", openai_api_key="sk-x")
    )
    assert model.openai_api_key.get_secret_value() == "sk-x"


@pytest.mark.parametrize("name", ["llama3", "openai:", "gemini-pro", "Claude-3", ""])
def test_unknown_names_list_the_accepted_forms(name: str) -> None:
    with pytest.raises(ValueError, match="accepted forms") as raised:
        get_chat_model(name, settings())
    assert MODEL_FORMS in str(raised.value)


def test_importing_the_factory_loads_no_provider_integration() -> None:
    code = (
        "import sys, miot_harness.models.factory\n"
        "print(any(m in sys.modules for m in ('langchain_anthropic', 'langchain_openai')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
