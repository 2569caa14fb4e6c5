"""Pydantic input models built from a function's arguments, and the output model per shape."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from miot_harness.nexo.contract import LIMIT_ARGUMENT, OFFSET_ARGUMENT
from miot_harness.nexo.introspect import ReturnKind, ToolArgument

RESERVED_FIELD_NAMES = frozenset(dir(BaseModel))
INPUT_MODEL_NAME = "ToolArguments"


class NexoOutput(BaseModel):
    """Provenance every Nexo tool output carries, as a model sees it."""

    source: str
    refreshed_at: datetime | None = None
    layer: str | None = None
    domain: str | None = None
    truncated: bool = False


class NexoTableOutput(NexoOutput):
    """At most `truncation_rows` rows, the function's total, and whether rows were cut."""

    rows: list[dict[str, Any]]
    total_count: int


class NexoJsonOutput(NexoOutput):
    """A json/jsonb function's document."""

    data: Any


class NexoScalarOutput(NexoOutput):
    """A scalar function's value."""

    value: Any


OUTPUT_MODELS: dict[ReturnKind, type[NexoOutput]] = {
    "table": NexoTableOutput,
    "json": NexoJsonOutput,
    "scalar": NexoScalarOutput,
}


def field_key(name: str) -> str:
    """A Python-safe field name; the real name stays the alias the schema shows."""
    return f"{name}_" if name in RESERVED_FIELD_NAMES or name.startswith("model_") else name


def _input_field(argument: ToolArgument, max_limit: int) -> tuple[Any, Any]:
    annotated: Any = argument.python_type
    if argument.name == LIMIT_ARGUMENT:
        annotated = Annotated[annotated, Field(ge=1, le=max_limit)]
    elif argument.name == OFFSET_ARGUMENT:
        annotated = Annotated[annotated, Field(ge=0)]
    description = None
    if argument.default_expression is not None:
        description = f"Por defecto: {argument.default_expression}"
    if argument.required:
        return annotated, Field(alias=argument.name, description=description)
    return annotated | None, Field(
        default=argument.default, alias=argument.name, description=description
    )


@lru_cache(maxsize=1024)
def build_input_model(arguments: tuple[ToolArgument, ...], max_limit: int) -> type[BaseModel]:
    """Arguments named without `p_`, defaults optional, enums as Literals, limit capped.

    Cached by signature: functions sharing the filter contract share one model class.
    """
    fields = {field_key(a.name): _input_field(a, max_limit) for a in arguments}
    return create_model(  # type: ignore[call-overload, no-any-return]
        INPUT_MODEL_NAME,
        __config__=ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True),
        **fields,
    )
