"""The summarizer seat: a short, deterministic Spanish summary of a thread's transcript."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from miot_harness.models.offline.prompt import SeatPrompt, message_text

MAX_QUESTIONS = 5
MAX_CHARS = 160


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"


def summary(prompt: SeatPrompt) -> str:
    messages = [*prompt.history]
    if prompt.question:
        messages.append(HumanMessage(prompt.question))
    questions = [_short(message_text(m)) for m in messages if isinstance(m, HumanMessage)]
    answers = [message_text(m) for m in messages if isinstance(m, AIMessage)]
    lines = [f"Resumen de la conversación ({len(messages)} mensajes)."]
    if questions:
        recent = questions[-MAX_QUESTIONS:]
        lines.append("Preguntas del usuario: " + "; ".join(recent) + ".")
    if answers:
        first_line = next((ln for ln in answers[-1].splitlines() if ln.strip()), "")
        lines.append("Última respuesta: " + _short(first_line))
    return "\n".join(lines)
