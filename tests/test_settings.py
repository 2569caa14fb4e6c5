"""Settings: every variable read with its prefix; invalid values named by variable."""

import pytest

from miot_harness.settings import AGENT_SEATS, HarnessSettings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith("MIOT_HARNESS_") or name in {
            "ANTHROPIC_API_KEY",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_BASE_URL",
        }:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_spec():
    s = load_settings()
    assert s.timezone == "America/Santiago"
    assert s.nexo_schema == "nexo"
    assert s.nexo_tenant_lock == "mintral"
    assert (s.nexo_freshness_warn_minutes, s.nexo_freshness_refuse_minutes) == (15, 120)
    assert s.nexo_turn_cap == 4
    assert s.nexo_critic_enabled is False
    assert s.nexo_tool_prefix == "coordinador_"
    assert (s.nexo_truncation_rows, s.nexo_max_limit) == (5, 500)
    assert s.model == "offline"
    assert s.seat_models() == dict.fromkeys(AGENT_SEATS, "offline")
    assert s.search_path_sql == "nexo, pg_catalog, pg_temp"
    assert s.nexo_dsn is None and s.store_dsn is None and s.api_keys is None


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"),
    [
        ("MIOT_HARNESS_TIMEZONE", "Europe/Madrid", "timezone", "Europe/Madrid"),
        ("MIOT_HARNESS_NEXO_SCHEMA", "coord", "nexo_schema", "coord"),
        ("MIOT_HARNESS_NEXO_SEARCH_PATH", "nexo_v2", "nexo_search_path", "nexo_v2"),
        ("MIOT_HARNESS_NEXO_TENANT_LOCK", "otra", "nexo_tenant_lock", "otra"),
        ("MIOT_HARNESS_NEXO_FRESHNESS_WARN_MINUTES", "7", "nexo_freshness_warn_minutes", 7),
        ("MIOT_HARNESS_NEXO_FRESHNESS_REFUSE_MINUTES", "60", "nexo_freshness_refuse_minutes", 60),
        ("MIOT_HARNESS_NEXO_TURN_CAP", "2", "nexo_turn_cap", 2),
        ("MIOT_HARNESS_NEXO_CRITIC_ENABLED", "true", "nexo_critic_enabled", True),
        ("MIOT_HARNESS_NEXO_TRUNCATION_ROWS", "3", "nexo_truncation_rows", 3),
        ("MIOT_HARNESS_NEXO_MAX_LIMIT", "100", "nexo_max_limit", 100),
        ("MIOT_HARNESS_NEXO_STATEMENT_TIMEOUT_MS", "250", "nexo_statement_timeout_ms", 250),
        ("MIOT_HARNESS_RUN_TIMEOUT_S", "5", "run_timeout_s", 5),
        ("MIOT_HARNESS_MAX_CONCURRENT_RUNS", "2", "max_concurrent_runs", 2),
        ("MIOT_HARNESS_MODEL", "claude-sonnet-4-5", "model", "claude-sonnet-4-5"),
        ("MIOT_HARNESS_NEXO_ANALYST_MODEL", "gpt-4o", "nexo_analyst_model", "gpt-4o"),
        (
            "MIOT_HARNESS_OPENAI_BASE_URL",
            "http://127.0.0.1:9/v1",
            "openai_base_url",
            "http://127.0.0.1:9/v1",
        ),
        ("OPENAI_BASE_URL", "http://127.0.0.1:8/v1", "openai_base_url", "http://127.0.0.1:8/v1"),
    ],
)
def test_each_variable_is_read_from_the_environment(monkeypatch, variable, raw, field, expected):
    monkeypatch.setenv(variable, raw)
    assert getattr(load_settings(), field) == expected


@pytest.mark.parametrize("variable", ["ANTHROPIC_API_KEY", "MIOT_HARNESS_ANTHROPIC_API_KEY"])
def test_provider_keys_read_prefixed_and_unprefixed(monkeypatch, variable):
    monkeypatch.setenv(variable, "sk-ant-test-123")
    key = load_settings().anthropic_api_key
    assert key is not None and key.get_secret_value() == "sk-ant-test-123"
    assert "sk-ant-test-123" not in repr(load_settings())


def test_seat_model_falls_back_to_the_global_model(monkeypatch):
    monkeypatch.setenv("MIOT_HARNESS_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("MIOT_HARNESS_NEXO_SYNTHESIZER_MODEL", "claude-haiku-4-5")
    seats = load_settings().seat_models()
    assert seats["synthesizer"] == "claude-haiku-4-5"
    assert seats["filter_expert"] == seats["critic"] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("MIOT_HARNESS_NEXO_SEARCH_PATH", "nexo; DROP SCHEMA nexo"),
        ("MIOT_HARNESS_NEXO_SEARCH_PATH", "Nexo"),
        ("MIOT_HARNESS_NEXO_SCHEMA", "nexo,public"),
        ("MIOT_HARNESS_MODEL", "llama3"),
        ("MIOT_HARNESS_NEXO_CRITIC_MODEL", "gemini-pro"),
        ("MIOT_HARNESS_TIMEZONE", "Mars/Olympus"),
        ("MIOT_HARNESS_NEXO_TURN_CAP", "9"),
        ("MIOT_HARNESS_NEXO_SUPERVISOR_MODE", "llm"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch, variable, raw):
    monkeypatch.setenv(variable, raw)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_env_example_documents_every_variable():
    from pathlib import Path

    example = (Path(__file__).parents[1] / ".env.example").read_text()
    for field in HarnessSettings.model_fields:
        assert f"MIOT_HARNESS_{field.upper()}" in example, field


@pytest.mark.parametrize("alias", ["coordinador-prod-harness", "demo-owner", "prod.v2", "demo"])
def test_db_scripts_aliases_may_hold_hyphens_and_dots(monkeypatch, alias):
    monkeypatch.setenv("MIOT_HARNESS_NEXO_DB_ALIAS", alias)
    assert load_settings().nexo_db_alias == alias


@pytest.mark.parametrize(
    "alias", ["../etc", "a/b", "a..b", ".env", "-x", "prod\n", "prod;rm -rf", "a b", "x" * 129]
)
def test_db_aliases_that_could_leave_the_root_are_refused(monkeypatch, alias):
    monkeypatch.setenv("MIOT_HARNESS_NEXO_DB_ALIAS", alias)
    with pytest.raises(SettingsError, match=r"MIOT_HARNESS_NEXO_DB_ALIAS: .*not a plain name"):
        load_settings()
