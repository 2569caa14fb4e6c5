"""`miot-harness-evals`: score the harness on the golden set and write a result per commit."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from miot_harness.evals.catalogue import DEFAULT_SNAPSHOT, ToolCatalogue, load_catalogue
from miot_harness.evals.golden import (
    DEFAULT_GOLDEN,
    GoldenExample,
    GoldenSetError,
    load_golden,
    select_examples,
)
from miot_harness.evals.outcome import ExampleResult, aggregate
from miot_harness.evals.report import (
    coverage_table,
    failures_table,
    print_tables,
    summary_table,
)
from miot_harness.evals.results import (
    DEFAULT_RESULTS_DIR,
    public_settings,
    short_sha,
    tracked_changes,
    write_mode_section,
)
from miot_harness.evals.static_mode import golden_coverage
from miot_harness.evals.thresholds import Thresholds, missed_thresholds
from miot_harness.observability import EVENT_LOGGER
from miot_harness.settings import HarnessSettings, SettingsError, load_settings

EXIT_THRESHOLDS = 1
EXIT_CONFIG = 2


class Mode(StrEnum):
    STATIC = "static"
    FAKE = "fake"
    OFFLINE = "offline"
    REAL = "real"


app = typer.Typer(
    name="miot-harness-evals",
    help="Score the harness on the golden set: static | fake | offline | real.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

Rate = Annotated[float | None, typer.Option(min=0.0, max=1.0, help="minimum pass rate, 0–1")]


def _split_ids(only: list[str]) -> list[str]:
    return [part.strip() for value in only for part in value.split(",") if part.strip()]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def section_key(mode: Mode, golden: Path) -> str:
    """The result-file section: the mode for the main golden set, "<mode>:<stem>" otherwise."""
    if golden.resolve() == DEFAULT_GOLDEN.resolve():
        return mode.value
    return f"{mode.value}:{golden.stem}"


def _fail(console: Console, message: str, code: int) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


async def _run_examples(
    mode: Mode,
    examples: list[GoldenExample],
    settings: HarnessSettings,
    model: str | None,
    catalogue: ToolCatalogue,
    console: Console,
) -> tuple[list[ExampleResult], list[str], dict[str, str], HarnessSettings]:
    """Every runnable example's result, the ids skipped, the seat models and the settings."""
    from miot_harness.evals.modes import open_mode

    results = []
    async with open_mode(mode.value, settings, model, catalogue) as (session, models):
        skipped = [e.id for e in examples if not session.runnable(e)]
        if skipped:
            console.print(
                f"skipping {len(skipped)} stale-data example(s): snapshots can be aged only "
                f"on the embedded demo database ({', '.join(skipped)})",
                highlight=False,
            )
        examples = [e for e in examples if session.runnable(e)]
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task(f"mode {mode.value}", total=len(examples), current="")
            for example in examples:
                progress.update(task, current=example.id)
                results.append(await session.run_example(example))
                progress.advance(task)
        return results, skipped, models, session.settings


@app.command()
def main_command(
    mode: Annotated[Mode, typer.Option(help="what to run")] = Mode.STATIC,
    golden: Annotated[Path, typer.Option(help="golden-set YAML")] = DEFAULT_GOLDEN,
    only: Annotated[
        list[str] | None, typer.Option(help="only these example ids (repeat or comma-separate)")
    ] = None,
    results_dir: Annotated[Path, typer.Option(help="where <short-sha>.json goes")] = (
        DEFAULT_RESULTS_DIR
    ),
    catalogue: Annotated[
        Path, typer.Option(help="catalogue snapshot; pinned tool names when absent")
    ] = DEFAULT_SNAPSHOT,
    model: Annotated[str | None, typer.Option(help="real mode: this model for every seat")] = None,
    judge: Annotated[
        str | None, typer.Option(help="advisory LLM judge model (evals/judge_prompt.md)")
    ] = None,
    min_route: Rate = None,
    min_status: Rate = None,
    min_tool_selection: Rate = None,
    min_filter_sanity: Rate = None,
    min_freshness_citation: Rate = None,
    min_refusal: Rate = None,
    min_no_hallucination: Rate = None,
    min_clarified_when_unresolved: Rate = None,
    min_no_silent_widening: Rate = None,
    min_false_refusal: Rate = None,
    min_answer_contains: Rate = None,
    max_latency_p95_ms: Annotated[float | None, typer.Option(min=0.0)] = None,
    max_model_calls_per_run: Annotated[float | None, typer.Option(min=0.0)] = None,
) -> None:
    """Validate the golden set, run it in one mode, print a summary and write the result file."""
    console = Console()
    # Every run's events are kept in the result file; the per-event log would bury the table.
    logging.getLogger(EVENT_LOGGER).setLevel(logging.ERROR)
    started_wall = time.perf_counter()
    started_at = _stamp()
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(console, str(exc), EXIT_CONFIG) from None
    tool_catalogue = load_catalogue(catalogue)
    try:
        examples = select_examples(
            load_golden(golden, tool_catalogue), _split_ids(list(only or []))
        )
    except GoldenSetError as exc:
        for problem in exc.problems:
            console.print(f"[red]invalid:[/] {problem}", highlight=False)
        raise _fail(console, f"the golden set {golden} is invalid", EXIT_THRESHOLDS) from None

    section: dict[str, Any] = {
        "mode": mode.value,
        "started_at": started_at,
        "golden": str(golden),
        "catalogue": tool_catalogue.source,
        "only": _split_ids(list(only or [])),
        "tracked_changes": tracked_changes(),
    }
    if mode is Mode.STATIC:
        coverage = golden_coverage(examples, tool_catalogue)
        section |= {"coverage": coverage, "examples": [e.id for e in examples]}
        section |= {"finished_at": _stamp(), "wall_s": time.perf_counter() - started_wall}
        path = write_mode_section(results_dir, short_sha(), section_key(mode, golden), section)
        print_tables(console, coverage_table(coverage))
        console.print(f"golden set valid; result written to {path}", highlight=False)
        return

    from miot_harness.evals.judge import judge_model, judge_results
    from miot_harness.evals.modes import ModeConfigError

    try:
        chosen_judge = judge_model(judge, settings) if judge else None
        results, skipped, models, run_settings = asyncio.run(
            _run_examples(mode, examples, settings, model, tool_catalogue, console)
        )
    except ModeConfigError as exc:
        raise _fail(console, str(exc), EXIT_CONFIG) from None
    aggregates = aggregate(results)
    if chosen_judge is not None:
        section["judge"] = asyncio.run(judge_results(chosen_judge, results))
    wall_s = time.perf_counter() - started_wall
    section |= {
        "finished_at": _stamp(),
        "wall_s": round(wall_s, 3),
        "settings": public_settings(run_settings),
        "models": models,
        "aggregates": aggregates,
        "skipped": skipped,
        "examples": [r.model_dump(mode="json") for r in results],
    }
    path = write_mode_section(results_dir, short_sha(), section_key(mode, golden), section)
    print_tables(console, summary_table(mode.value, aggregates, wall_s), failures_table(results))
    console.print(f"result written to {path}", highlight=False)

    thresholds = Thresholds(
        route=min_route,
        status=min_status,
        tool_selection=min_tool_selection,
        filter_sanity=min_filter_sanity,
        freshness_citation=min_freshness_citation,
        refusal=min_refusal,
        no_hallucination=min_no_hallucination,
        clarified_when_unresolved=min_clarified_when_unresolved,
        no_silent_widening=min_no_silent_widening,
        false_refusal=min_false_refusal,
        answer_contains=min_answer_contains,
        latency_p95_ms=max_latency_p95_ms,
        model_calls_per_run=max_model_calls_per_run,
    )
    missed = missed_thresholds(thresholds, aggregates)
    if missed:
        for line in missed:
            console.print(f"[red]threshold missed:[/] {line}", highlight=False)
        raise typer.Exit(EXIT_THRESHOLDS)


def main() -> None:
    app()
