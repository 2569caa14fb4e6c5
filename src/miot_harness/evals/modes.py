"""Open the harness a mode runs against: fake (plumbing), offline (demo database), real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from miot_harness.evals.catalogue import ToolCatalogue
from miot_harness.evals.session import EvalSession, no_preparation
from miot_harness.settings import AGENT_SEATS, MODEL_FORMS, MODEL_NAME, HarnessSettings

SEAT_VARIABLES = ", ".join(f"MIOT_HARNESS_NEXO_{seat.upper()}_MODEL" for seat in AGENT_SEATS)


class ModeConfigError(ValueError):
    """A mode cannot start with this configuration; the message names the variable."""


def all_seats(settings: HarnessSettings, model: str) -> HarnessSettings:
    """`settings` with `model` in every seat (no per-seat overrides left)."""
    if not MODEL_NAME.match(model):
        raise ModeConfigError(f"--model {model!r}: accepted forms are {MODEL_FORMS}")
    seats = {f"nexo_{seat}_model": None for seat in AGENT_SEATS}
    return settings.model_copy(update={"model": model, **seats})


def real_mode_settings(settings: HarnessSettings, model: str | None) -> HarnessSettings:
    """The settings for `--mode real`, after checking every needed model can be built."""
    from miot_harness.models.factory import ModelConfigError, get_chat_model
    from miot_harness.runtime import seat_model_names

    if model is not None:
        settings = all_seats(settings, model)
    names = {name for name in seat_model_names(settings).values() if name != "offline"}
    if not names:
        raise ModeConfigError(
            "--mode real needs at least one seat that is not 'offline': set MIOT_HARNESS_MODEL "
            f"(or one of {SEAT_VARIABLES}) to a provider model, or pass --model NAME"
        )
    for name in sorted(names):
        try:
            get_chat_model(name, settings)
        except ModelConfigError as exc:
            raise ModeConfigError(str(exc)) from exc
    return settings


@asynccontextmanager
async def open_runtime_session(
    settings: HarnessSettings, *, demo: bool, owner_dsn: str | None
) -> AsyncIterator[tuple[EvalSession, dict[str, str]]]:
    """The booted runtime's supervisor; with an owner DSN, stale examples restamp snapshots.

    With `demo` and no owner DSN, the embedded demo database's owner is used.
    """
    from miot_harness.demo import ensure_demo_database
    from miot_harness.evals.stale import demo_owner_dsn, stale_preparer
    from miot_harness.runtime import open_runtime

    async with open_runtime(
        settings, demo_database=ensure_demo_database if demo else None
    ) as runtime:
        if not runtime.nexo_enabled:
            raise ModeConfigError(f"Nexo did not boot: {runtime.nexo_reason}")
        if owner_dsn is None and demo:
            owner_dsn = await demo_owner_dsn(runtime.settings)
        prepare = stale_preparer(owner_dsn) if owner_dsn else no_preparation
        session = EvalSession(
            runtime.supervisor, runtime.settings, prepare, ages_snapshots=owner_dsn is not None
        )
        yield session, dict(runtime.seat_models)


@asynccontextmanager
async def open_mode(
    mode: str, settings: HarnessSettings, model: str | None, catalogue: ToolCatalogue
) -> AsyncIterator[tuple[EvalSession, dict[str, str]]]:
    """An `EvalSession` for `mode` and the model name of every seat it uses."""
    if mode == "fake":
        from miot_harness.evals.fake_mode import open_fake_session

        async with open_fake_session(settings, catalogue) as opened:
            yield opened
    elif mode == "offline":
        offline = all_seats(settings, "offline")
        async with open_runtime_session(offline, demo=True, owner_dsn=None) as opened:
            yield opened
    elif mode == "real":
        from miot_harness.runtime import database_configured

        real = real_mode_settings(settings, model)
        demo = not database_configured(real)
        async with open_runtime_session(real, demo=demo, owner_dsn=None) as opened:
            yield opened
    else:
        raise ModeConfigError(f"unknown mode {mode!r}")
