"""`get_chat_model`: a model name (SPEC 7) to a chat model, importing providers lazily."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from miot_harness.settings import MODEL_FORMS, HarnessSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

ANTHROPIC_KEY_VARS = "ANTHROPIC_API_KEY (or MIOT_HARNESS_ANTHROPIC_API_KEY)"
OPENAI_KEY_VARS = "OPENAI_API_KEY (or MIOT_HARNESS_OPENAI_API_KEY)"
OPENAI_BASE_URL_VAR = "MIOT_HARNESS_OPENAI_BASE_URL (or OPENAI_BASE_URL)"
# Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) ignore the key but the SDK needs one.
PLACEHOLDER_KEY = "not-needed"
OPENAI_PREFIXES = ("gpt-", "o1-", "o3-", "o4-")
DEFAULT_MAX_TOKENS = 2048
DEFAULT_MAX_RETRIES = 2


def offline_seats_warning(seat_models: Mapping[str, str], settings: HarnessSettings) -> str | None:
    """Why a provider key is unused while some seat runs the offline model, or None.

    A key alone never switches a seat to a provider (the default stays predictable), so
    the operator who set one is told which variable does.
    """
    examples = {
        name: example
        for name, key, example in (
            ("ANTHROPIC_API_KEY", settings.anthropic_api_key, "claude-sonnet-4-5"),
            ("OPENAI_API_KEY", settings.openai_api_key, "gpt-4o"),
        )
        if key is not None
    }
    offline = sorted(seat for seat, model in seat_models.items() if model == "offline")
    if not examples or not offline:
        return None
    verb = "is" if len(examples) == 1 else "are"
    return (
        f"{' and '.join(examples)} {verb} set but these seats run the offline model: "
        f"{', '.join(offline)}. A key alone changes nothing: set MIOT_HARNESS_MODEL "
        f"(for example {' or '.join(examples.values())}), or one seat's "
        "MIOT_HARNESS_NEXO_<SEAT>_MODEL, to use the provider."
    )


class ModelConfigError(ValueError):
    """A model that cannot be built from the configuration; the message names the variable."""


def get_chat_model(
    name: str,
    settings: HarnessSettings,
    *,
    timeout_s: float | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> BaseChatModel:
    """The chat model for `name`; a missing key or base URL raises here, not at first call."""
    timeout = timeout_s if timeout_s is not None else settings.run_timeout_s
    if name == "offline":
        return _offline()
    if name.startswith("claude-"):
        return _anthropic(name, settings, timeout, max_retries)
    if name.startswith(OPENAI_PREFIXES):
        if settings.openai_api_key is None:
            raise ModelConfigError(f"model {name!r} needs {OPENAI_KEY_VARS}")
        return _openai(
            name, settings.openai_api_key.get_secret_value(), settings, timeout, max_retries
        )
    if name.startswith("openai:") and len(name) > len("openai:"):
        if not settings.openai_base_url:
            raise ModelConfigError(f"model {name!r} needs {OPENAI_BASE_URL_VAR}")
        key = (
            settings.openai_api_key.get_secret_value()
            if settings.openai_api_key
            else PLACEHOLDER_KEY
        )
        return _openai(name.removeprefix("openai:"), key, settings, timeout, max_retries)
    raise ModelConfigError(f"unknown model {name!r}; accepted forms: {MODEL_FORMS}")


def _offline() -> BaseChatModel:
    try:
        from miot_harness.models.offline import OfflineChatModel
    except ImportError as exc:
        raise ModelConfigError(f"the offline model is not available: {exc}") from exc
    return OfflineChatModel()


def _anthropic(
    name: str, settings: HarnessSettings, timeout: float, max_retries: int
) -> BaseChatModel:
    if settings.anthropic_api_key is None:
        raise ModelConfigError(f"model {name!r} needs {ANTHROPIC_KEY_VARS}")
    from langchain_anthropic import ChatAnthropic

    return ChatAnthropic(
        model=name,
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        timeout=timeout,
        max_retries=max_retries,
        max_tokens=DEFAULT_MAX_TOKENS,
    )


def _openai(
    model: str,
    api_key: str,
    settings: HarnessSettings,
    timeout: float,
    max_retries: int,
) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    # Chat Completions always: some names would otherwise switch to /v1/responses.
    return ChatOpenAI(
        model=model,
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=timeout,
        max_retries=max_retries,
        use_responses_api=False,
    )
