"""Pydantic input and output models built from a function descriptor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from miot_harness.nexo.contract import LIMIT_ARGUMENT, OFFSET_ARGUMENT
from miot_harness.nexo.introspect import FunctionDescriptor, OutputColumn, ToolArgument
from miot_harness.nexo.type_mapping import python_type

RESERVED_FIELD_NAMES = frozenset(dir(BaseModel))


class NexoOutput(BaseModel):
    """Provenance every Nexo tool output carries, as a model sees it."""

    model_config = ConfigDict(serialize_by_alias=True)

    source: str
    refreshed_at: datetime | None = None
    layer: str | None = None
    domain: str | None = None
    truncated: bool = False


class NexoTableOutput(NexoOutput):
    """At most `truncation_rows` rows, the function's total, and whether rows were cut."""

    rows: list[Any]
    total_count: int


class NexoJsonOutput(NexoOutput):
    data: Any


class NexoScalarOutput(NexoOutput):
    value: Any


def _model_name(tool_name: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in tool_name.split("_") if part) + suffix


def _field_key(name: str) -> str:
    """A Python-safe field name; the real name stays the alias the schema shows."""
    return f"{name}_" if name in RESERVED_FIELD_NAMES or name.startswith("model_") else name


def _input_field(argument: ToolArgument, max_limit: int) -> tuple[Any, Any]:
    annotated: Any = argument.python_type
    if argument.name == LIMIT_ARGUMENT:
        annotated = Annotated[annotated, Field(ge=1, le=max_limit)]
    elif argument.name == OFFSET_ARGUMENT:
        annotated = Annotated[annotated, Field(ge=0)]
    description = None
    if argument.default_sql is not None and argument.default is None:
        description = f"Por defecto: {argument.default_sql}"
    if argument.required:
        return annotated, Field(alias=argument.name, description=description)
    return annotated | None, Field(
        default=argument.default, alias=argument.name, description=description
    )


def build_input_model(descriptor: FunctionDescriptor, max_limit: int) -> type[BaseModel]:
    """Arguments named without `p_`, defaults optional, enums as Literals, limit capped."""
    fields = {
        _field_key(argument.name): _input_field(argument, max_limit)
        for argument in descriptor.arguments
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        _model_name(descriptor.tool_name, "Input"),
        __config__=ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True),
        **fields,
    )


def _row_field(column: OutputColumn) -> tuple[Any, Any]:
    return column.python_type | None, Field(default=None, alias=column.name)


def build_output_model(
    descriptor: FunctionDescriptor, hidden_columns: frozenset[str]
) -> tuple[type[NexoOutput], type[BaseModel] | None]:
    """The output model for the return shape, and the row model for table functions."""
    name = _model_name(descriptor.tool_name, "Output")
    if descriptor.return_kind == "table":
        row = create_model(  # type: ignore[call-overload]
            _model_name(descriptor.tool_name, "Row"),
            __config__=ConfigDict(serialize_by_alias=True, validate_by_name=True),
            **{
                _field_key(column.name): _row_field(column)
                for column in descriptor.columns
                if column.name not in hidden_columns
            },
        )
        output = create_model(name, __base__=NexoTableOutput, rows=(list[row], ...))
        return output, row
    if descriptor.return_kind == "json":
        return create_model(name, __base__=NexoJsonOutput), None
    value_type = python_type(descriptor.return_type) or Any
    scalar = create_model(name, __base__=NexoScalarOutput, value=(value_type | None, None))
    return scalar, None
