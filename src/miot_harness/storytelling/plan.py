"""The storytelling plan: which window and filters a narrative question asks about.

Dates, servicio codes and catalogue values are read with the shared language resolvers
(the same ones the offline filter expert uses), against the run's clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from miot_harness.language.catalogue_values import CatalogMatcher
from miot_harness.language.dates import resolve_dates
from miot_harness.language.question_flags import extract_flags
from miot_harness.models.seat_protocol import VALUE_LIST_KEYS
from miot_harness.nexo.state import NexoStep
from miot_harness.storytelling.tools import DELIVERY_METRICS, MAX_STORY_DAYS, WORKFLOW_EVENTS

DEFAULT_WINDOW_DAYS = 7
NOTABLE_EVENTS = 10
METRIC_FILTERS = ("region", "cliente", "transportista")


def story_window(question: str, today: date) -> tuple[date, date]:
    """The inclusive window a question names (the last seven days when it names none),
    cut to its last `MAX_STORY_DAYS` days."""
    dates = resolve_dates(question, today)
    hasta = dates.hasta or max(today, dates.desde or today)
    desde = dates.desde or hasta - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    return max(desde, hasta - timedelta(days=MAX_STORY_DAYS - 1)), hasta


def plan_story(question: str, today: date, catalogue: dict[str, Any]) -> list[NexoStep]:
    """A servicio's history by code, or a window's daily metrics plus its notable events."""
    codigo = extract_flags(question).get("codigo")
    if codigo:
        return [NexoStep(tool=WORKFLOW_EVENTS, args={"codigo": codigo}, rationale="historia")]
    desde, hasta = story_window(question, today)
    window = {"fecha_desde": desde.isoformat(), "fecha_hasta": hasta.isoformat()}
    found = CatalogMatcher(catalogue, VALUE_LIST_KEYS).match(question).args if catalogue else {}
    filters = {key: found[key] for key in METRIC_FILTERS if key in found}
    return [
        NexoStep(tool=DELIVERY_METRICS, args={**window, **filters}, rationale="métricas diarias"),
        NexoStep(
            tool=WORKFLOW_EVENTS,
            args={**window, "limit": NOTABLE_EVENTS},
            rationale="eventos destacados",
        ),
    ]
