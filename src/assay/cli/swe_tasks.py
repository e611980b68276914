"""``assay swe build`` and ``assay swe eval``: candidates -> validated tasks -> graded patches."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assay.cli.common import (
    BACKEND_OPTION,
    EXIT_FAILED,
    EXIT_USAGE,
    console,
    err_console,
    fail,
    open_sandbox,
)
from assay.data import InputError, RecordWriter, read_records, read_rows
from assay.engine import RunStore
from assay.swe import criteria
from assay.swe.build import BuildConfig, BuildSummary, build_tasks
from assay.swe.env import ECOSYSTEMS, Environments
from assay.swe.evaluate import (
    GOLD,
    EvalResult,
    Evaluator,
    gold_predictions,
    read_predictions,
    summarize,
)
from assay.swe.export import read_task_row, rejected_row, task_row
from assay.swe.records import BuildOutcome, Candidate, Task
from assay.swe.runs import TEST_LIMITS
from assay.swe.testfiles import TestFileRules

BUILD_HELP = "Validate candidates by running their tests before and after the fix."
BUILD_EPILOG = f"""**Examples**

    assay swe build candidates.jsonl -o tasks.jsonl
    assay swe build candidates.jsonl -o tasks.jsonl --repeats 5 --workers 2 --json
    assay swe build c.jsonl -o tasks.jsonl --ecosystem python --max-fix-lines 300

For each candidate: the static criteria (patch sides, sizes, binary/empty files, problem
statement, duplicates, patches apply), then the project's environment is set up in the
sandbox with network (cached by the hash of its dependency files), then its tests run with
no network at base + test patch (before) and base + test patch + fix (after), --repeats
times each. FAIL_TO_PASS / PASS_TO_PASS come from the reports; tests whose status differs
between repeats are flaky: dropped and recorded.

Writes OUT (SWE-bench-compatible rows plus assay's fields), OUT's .rejected.jsonl (each
rejected candidate with its reasons and evidence), and a folder per candidate with the logs
and raw reports (OUT's .logs/). A killed build resumes from its run store.

Ecosystems: {", ".join(ECOSYSTEMS)}. Rejection reasons: {", ".join(criteria.REASONS)}.

Exit code: 0 at least one task; 1 none accepted; 2 bad usage or input; 3 the sandbox failed."""


def build_command(
    candidates: Path = typer.Argument(..., exists=True, dir_okay=False,
                                      help="Candidates from `assay swe mine`."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="Tasks (.jsonl)."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Runs of each state."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Candidates at once."),
    ecosystem: str = typer.Option(None, "--ecosystem", help="Use this ecosystem instead of "
                                  f"detecting it ({', '.join(ECOSYSTEMS)})."),
    rejected: Path = typer.Option(None, "--rejected", dir_okay=False, help="Rejected "
                                  "candidates (default: OUT with .rejected.jsonl)."),
    logs: Path = typer.Option(None, "--logs", file_okay=False, help="Per-candidate logs "
                              "(default: OUT with .logs)."),
    store: Path = typer.Option(None, "--store", dir_okay=False,
                               help="Run store (default: OUT.store.sqlite)."),
    env_dir: Path = typer.Option(None, "--env-dir", file_okay=False, help="Environment "
                                 "cache (default: ~/.cache/assay/swe-env)."),
    test_timeout: float = typer.Option(TEST_LIMITS.wall_s, "--test-timeout", min=1.0,
                                       help="Wall-clock limit of each test run, seconds."),
    max_fix_files: int = typer.Option(criteria.Limits.max_fix_files, "--max-fix-files", min=1),
    max_fix_lines: int = typer.Option(criteria.Limits.max_fix_lines, "--max-fix-lines", min=1),
    max_test_files: int = typer.Option(criteria.Limits.max_test_files, "--max-test-files",
                                       min=1),
    max_test_lines: int = typer.Option(criteria.Limits.max_test_lines, "--max-test-lines",
                                       min=1),
    min_statement: int = typer.Option(criteria.Limits.min_statement_chars,
                                      "--min-statement-chars", min=0),
    backend: str = BACKEND_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    stem = output.name.removesuffix(".gz").removesuffix(".jsonl")
    rejected = rejected or output.with_name(f"{stem}.rejected.jsonl")
    logs = logs or output.with_name(f"{stem}.logs")
    store = store or output.with_name(output.name + ".store.sqlite")
    try:
        rows = list(read_records(candidates, Candidate))
        limits = criteria.Limits(max_fix_files, max_fix_lines, max_test_files, max_test_lines,
                                 min_statement)
        config = BuildConfig(repeats=repeats, ecosystem=ecosystem, criteria=limits,
                             test_limits=TEST_LIMITS.with_(wall_s=test_timeout,
                                                           cpu_s=2 * test_timeout),
                             rules=TestFileRules.for_ecosystems(), workers=workers,
                             logs_dir=logs)
    except (InputError, ValueError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    progress = _progress()
    from_store = 0
    with open_sandbox(backend) as sandbox, RunStore(store) as run_store, progress:
        bar = progress.add_task("building", total=len(rows), status="")
        accepted = 0

        def advance(outcome: BuildOutcome, stored: bool) -> None:
            nonlocal accepted, from_store
            accepted += outcome.task is not None
            from_store += stored
            progress.update(bar, advance=1, status=f"{accepted} accepted")

        started = time.monotonic()
        outcomes = build_tasks(rows, sandbox, run_store, config,
                               Environments(sandbox, env_dir), advance)
        seconds = time.monotonic() - started
    with RecordWriter(output) as tasks_out, RecordWriter(rejected) as rejected_out:
        for outcome in outcomes:
            if outcome.task is not None:
                tasks_out.write(task_row(outcome.task))
            else:
                rejected_out.write(rejected_row(outcome))
    summary = BuildSummary.of(outcomes, from_store, seconds).as_dict()
    summary.update(tasks=str(output), rejected_file=str(rejected), logs=str(logs))
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(_build_table(summary))
        console.print(f"tasks: {output}   rejected: {rejected}   logs: {logs}")
    if summary["accepted"] == 0:
        raise typer.Exit(EXIT_FAILED)


def _build_table(summary: dict[str, Any]) -> Table:
    table = Table(title="SWE build summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for label, key in (("candidates", "candidates"), ("accepted", "accepted"),
                       ("rejected", "rejected")):
        table.add_row(label, str(summary[key]))
    for reason, count in summary["rejected_by_reason"].items():
        table.add_row(f"  {reason}", str(count))
    table.add_row("flaky tests found", str(summary["flaky_tests"]))
    table.add_row("from the run store", str(summary["from_store"]))
    table.add_row("seconds", f"{summary['seconds']:.1f}")
    return table


EVAL_HELP = "Grade model patches against tasks, as SWE-bench does, without Docker."
EVAL_EPILOG = """**Examples**

    assay swe eval --tasks tasks.jsonl --predictions gold -o eval/
    assay swe eval --tasks tasks.jsonl --predictions preds.jsonl -o eval/ --json

Predictions are SWE-bench's: JSONL (or a JSON list) of instance_id, model_name_or_path,
model_patch. `gold` uses each task's own fix. Test files the patch touches are put back
before the test patch is applied; tests run with no network; a task is resolved when every
FAIL_TO_PASS and PASS_TO_PASS test passes.

Writes OUT/<model>/<instance_id>/report.json (SWE-bench's fields), the logs and the patch,
and OUT/<model>.summary.json.

Exit code: 0 every prediction was evaluated; 1 some could not be (patch did not apply,
setup or sandbox failed); 2 bad usage or input; 3 the sandbox failed."""


def eval_command(
    tasks: Path = typer.Option(..., "--tasks", "-t", exists=True, dir_okay=False,
                               help="Tasks from `assay swe build`."),
    predictions: str = typer.Option(..., "--predictions", "-p",
                                    help="Predictions file, or `gold`."),
    output: Path = typer.Option(Path("swe-eval"), "--output", "-o", file_okay=False,
                                help="Where reports go."),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Test runs per prediction (a "
                                "test succeeds when it passes in every one)."),
    instance: list[str] = typer.Option([], "--instance", "-i", help="Only these ids."),
    env_dir: Path = typer.Option(None, "--env-dir", file_okay=False,
                                 help="Environment cache (default: ~/.cache/assay/swe-env)."),
    backend: str = BACKEND_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    try:
        task_list = _read_tasks(tasks)
        chosen = (gold_predictions(task_list) if predictions == GOLD
                  else read_predictions(Path(predictions)))
    except (InputError, ValueError, OSError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    if instance:
        chosen = [p for p in chosen if p.instance_id in set(instance)]
    model = chosen[0].model_name_or_path if chosen else "model"
    progress = _progress()
    with open_sandbox(backend) as sandbox, RunStore(output / "store.sqlite") as store, \
            progress:
        bar = progress.add_task("evaluating", total=len(chosen), status="")
        resolved = 0

        def advance(result: EvalResult, stored: bool) -> None:
            nonlocal resolved
            resolved += result.resolved
            progress.update(bar, advance=1, status=f"{resolved} resolved")

        evaluator = Evaluator(sandbox, Environments(sandbox, env_dir), output, store, repeats)
        try:
            results = evaluator.evaluate(task_list, chosen, advance)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
    summary = summarize(results, len(task_list))
    output.mkdir(parents=True, exist_ok=True)
    summary_path = output / f"{model.replace('/', '__')}.summary.json"
    summary_path.write_text(json.dumps(summary, indent=2))
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(_eval_table(summary, model))
        console.print(f"reports: {output}   summary: {summary_path}")
    if summary["error_instances"]:
        raise typer.Exit(EXIT_FAILED)


def _read_tasks(path: Path) -> list[Task]:
    tasks = []
    for number, row in read_rows(path):
        try:
            tasks.append(read_task_row(row))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return tasks


def _eval_table(summary: dict[str, Any], model: str) -> Table:
    table = Table(title=f"SWE eval summary ({model})", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key in ("total_instances", "submitted_instances", "completed_instances",
                "resolved_instances", "unresolved_instances", "empty_patch_instances",
                "error_instances"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    return table


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                    console=err_console, transient=True)
