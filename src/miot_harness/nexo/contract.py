"""The shared filter contract: argument names and enums every list/KPI function shares."""

from __future__ import annotations

LIMIT_ARGUMENT = "limit"
OFFSET_ARGUMENT = "offset"
# Which rows: the date range and the date it applies to, then one value per attribute.
DATE_FILTERS: tuple[str, ...] = ("fecha_desde", "fecha_hasta", "fecha_tipo")
VALUE_FILTERS: tuple[str, ...] = (
    "cliente",
    "canal",
    "tipo_servicio",
    "region",
    "comuna",
    "centro",
    "transportista",
    "conductor",
    "patente",
    "estado",
    "eta_clasificacion",
    "es_critico",
    "prioridad",
)
ROW_FILTERS: tuple[str, ...] = DATE_FILTERS + VALUE_FILTERS
# The 18 parameters, in the order every list/KPI function declares them.
FILTER_CONTRACT_ARGUMENTS: tuple[str, ...] = (*ROW_FILTERS, LIMIT_ARGUMENT, OFFSET_ARGUMENT)

# Enums of the contract apply to every tool with these arguments, whatever its comment says.
SHARED_ENUMS: dict[str, tuple[str, ...]] = {
    "fecha_tipo": ("creacion", "compromiso", "entrega", "eta"),
    "eta_clasificacion": ("a_tiempo", "en_riesgo", "atrasado", "sin_eta"),
}


def argument_name(sql_name: str) -> str:
    """A tool argument's name: the SQL parameter name without its `p_` prefix."""
    return sql_name[2:] if sql_name.startswith("p_") and len(sql_name) > 2 else sql_name


def takes_filter_contract(argument_names: set[str] | frozenset[str]) -> bool:
    """Whether a function takes all 18 parameters of the shared filter contract."""
    return set(FILTER_CONTRACT_ARGUMENTS) <= set(argument_names)
