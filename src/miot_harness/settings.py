"""Harness settings: every `MIOT_HARNESS_*` variable of the spec, validated at load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "MIOT_HARNESS_"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# A db-scripts alias names a folder (`coordinador-prod-harness`): no separators, no `..`.
DB_ALIAS = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
MODEL_NAME = re.compile(r"^(offline|claude-[\w.\-]+|(gpt|o1|o3|o4)-[\w.\-]+|openai:[\w.\-:/]+)$")
MODEL_FORMS = "offline, claude-*, gpt-*, o1-*, o3-*, o4-*, openai:<model>"
AGENT_SEATS = ("filter_expert", "analyst", "synthesizer", "critic", "summarizer")

Minutes = Annotated[int, Field(ge=0)]
Millis = Annotated[int, Field(ge=1)]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("miot-harness"))


def check_db_alias(value: str) -> str:
    """A db-scripts alias that is a plain folder name; else a ValueError saying why."""
    if not DB_ALIAS.fullmatch(value) or ".." in value:
        raise ValueError(
            f"database alias {value!r} is not a plain name "
            "(letters, digits, '_', '-' and '.', no '..', at most 128 characters)"
        )
    return value


def _validate_model_name(value: str | None) -> str | None:
    if value is not None and not MODEL_NAME.match(value):
        raise ValueError(f"unknown model form {value!r}; accepted forms: {MODEL_FORMS}")
    return value


class SettingsError(ValueError):
    """Invalid configuration, with the offending environment variables named."""


class HarnessSettings(BaseSettings):
    """The whole configuration surface (SPEC section 10); read from the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    timezone: str = "America/Santiago"

    nexo_dsn: SecretStr | None = None
    nexo_db_scripts_root: Path | None = None
    nexo_db_alias: str = "demo"
    nexo_schema: str = "nexo"
    nexo_search_path: str = "nexo"
    nexo_tenant_lock: str = "mintral"
    nexo_freshness_warn_minutes: Minutes = 15
    nexo_freshness_refuse_minutes: Minutes = 120
    nexo_freshness_probe: str = "fn_dx_centro_control"
    nexo_freshness_stamps: str = "fn_snapshot_stamps"
    nexo_turn_cap: Annotated[int, Field(ge=1, le=4)] = 4
    nexo_critic_enabled: bool = False
    nexo_supervisor_mode: Literal["rules"] = "rules"
    nexo_tool_prefix: str = "coordinador_"
    nexo_truncation_rows: Annotated[int, Field(ge=1)] = 5
    nexo_max_limit: Annotated[int, Field(ge=1)] = 500
    nexo_statement_timeout_ms: Millis = 5000
    nexo_idle_tx_timeout_ms: Millis = 5000

    model: str = "offline"
    nexo_filter_expert_model: str | None = None
    nexo_analyst_model: str | None = None
    nexo_synthesizer_model: str | None = None
    nexo_critic_model: str | None = None
    nexo_summarizer_model: str | None = None

    run_timeout_s: Annotated[float, Field(gt=0)] = 60
    max_concurrent_runs: Annotated[int, Field(ge=1)] = 16
    # Runs waiting for a slot; unset = 4 x max_concurrent_runs (0 = refuse at once).
    max_queued_runs: Annotated[int, Field(ge=0)] | None = None
    queue_wait_s: Annotated[float, Field(ge=0)] = 30
    max_runs_per_user: Annotated[int, Field(ge=1)] = 4

    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MIOT_HARNESS_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
    )
    anthropic_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MIOT_HARNESS_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL"),
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MIOT_HARNESS_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MIOT_HARNESS_OPENAI_API_KEY", "OPENAI_API_KEY"),
    )

    store_dsn: SecretStr | None = None
    api_keys: SecretStr | None = None
    # Host names the API answers besides loopback (comma-separated; `*.example.com` allowed).
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    docs_enabled: bool = True
    header_timeout_s: Annotated[float, Field(gt=0)] = 10
    keep_alive_timeout_s: Annotated[float, Field(gt=0)] = 5
    max_connections: Annotated[int, Field(ge=1)] = 256
    max_header_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024
    # Spans carry the question and tool arguments only when this is on (OTEL_* set the rest).
    otel_capture_content: bool = False

    @field_validator(
        "nexo_schema", "nexo_search_path", "nexo_freshness_probe", "nexo_freshness_stamps"
    )
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a plain identifier matching [a-z_][a-z0-9_]*")
        return value

    @field_validator("nexo_db_alias")
    @classmethod
    def _db_alias(cls, value: str) -> str:
        return check_db_alias(value)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(str(name).strip().lower() for name in value if str(name).strip())
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not re.fullmatch(r"(\*\.)?[a-z0-9.\-]+|\[[0-9a-f:.]+\]", name):
                raise ValueError(f"{name!r} is not a host name (a leading '*.' is allowed)")
        return value

    @field_validator("nexo_tool_prefix")
    @classmethod
    def _tool_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_]{1,32}", value):
            raise ValueError(f"{value!r} must match [a-z0-9_]{{1,32}}")
        return value

    @field_validator(
        "model",
        "nexo_filter_expert_model",
        "nexo_analyst_model",
        "nexo_synthesizer_model",
        "nexo_critic_model",
        "nexo_summarizer_model",
    )
    @classmethod
    def _model_form(cls, value: str | None) -> str | None:
        return _validate_model_name(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def seat_model(self, seat: str) -> str:
        """The model name for one agent seat, falling back to `MIOT_HARNESS_MODEL`."""
        if seat not in AGENT_SEATS:
            raise ValueError(f"unknown seat {seat!r}; seats are {', '.join(AGENT_SEATS)}")
        return getattr(self, f"nexo_{seat}_model") or self.model

    def seat_models(self) -> dict[str, str]:
        """Every seat's model name."""
        return {seat: self.seat_model(seat) for seat in AGENT_SEATS}

    @property
    def queued_runs_limit(self) -> int:
        """How many runs may wait for a slot at once."""
        if self.max_queued_runs is None:
            return 4 * self.max_concurrent_runs
        return self.max_queued_runs

    @property
    def search_path_sql(self) -> str:
        """The validated search_path with the harness's safe tail appended."""
        return f"{self.nexo_search_path}, pg_catalog, pg_temp"


def env_var_for(field: str) -> str:
    """The environment variable that sets a settings field."""
    alias = HarnessSettings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return " or ".join(str(choice) for choice in alias.choices)
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: object) -> HarnessSettings:
    """Load settings, turning validation errors into messages that name the variable."""
    try:
        return HarnessSettings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = env_var_for(field) if field in HarnessSettings.model_fields else field
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
