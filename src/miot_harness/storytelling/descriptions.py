"""What the storytelling tools say they do: shown to models and used by the route classifier."""

from __future__ import annotations

DELIVERY_METRICS_DESCRIPTION = (
    "Métricas diarias de entrega por día de compromiso: entregados, entregados a "
    "tiempo y fallidos, para una ventana de fechas y filtros opcionales."
)
WORKFLOW_EVENTS_DESCRIPTION = (
    "Eventos del flujo: todos los de un servicio por código, o los notables de una "
    "ventana (intentos fallidos, POD rechazados, reprogramaciones)."
)
STORY_DESCRIPTIONS = (DELIVERY_METRICS_DESCRIPTION, WORKFLOW_EVENTS_DESCRIPTION)
