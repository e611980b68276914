"""``assay trace run / instrument / tasks / score``: execution traces and prediction tasks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from assay.cli.common import (
    BACKEND_OPTION,
    COLD_OPTION,
    EXIT_FAILED,
    EXIT_SANDBOX,
    EXIT_USAGE,
    console,
    err_console,
    fail,
    open_sandbox,
)
from assay.cli.verification import make_progress
from assay.data import InputError, RecordWriter
from assay.engine import RunStore
from assay.trace import (
    EVENT_TYPES,
    CaptureConfig,
    CaptureSummary,
    DropReason,
    ScoreReport,
    TracerConfig,
    TraceRecord,
    capture,
    generate_tasks,
    instrument,
    score_executions,
    score_traces,
)
from assay.trace.capture import read_programs
from assay.trace.records import TaskKind
from assay.trace.scoring import gold_kind
from assay.trace.tasks import read_crux

trace_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                        help="Execution traces: capture, auto-instrumentation, tasks, scores.")

EVENTS_OPTION = typer.Option(",".join(EVENT_TYPES), "--events",
                             help="Event types the tracer writes (comma-separated).")
LOOPS_OPTION = typer.Option(10, "--loop-iterations", min=1,
                            help="Iterations traced per run of a loop.")
VALUE_OPTION = typer.Option(120, "--value-chars", min=8, help="Characters of a rendered value.")
DEPTH_OPTION = typer.Option(32, "--call-depth", min=1, help="Nested traced calls.")
INNER_OPTION = typer.Option(False, "--comprehensions",
                            help="Also trace inside lambdas and comprehensions.")


def _tracer(events: str, loops: int, value_chars: int, depth: int, inner: bool
            ) -> TracerConfig:
    try:
        return TracerConfig(events=tuple(e.strip().upper() for e in events.split(",")
                                         if e.strip()),
                            loop_iterations=loops, value_chars=value_chars, call_depth=depth,
                            comprehensions=inner)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc


def _count(rows: Iterable[object]) -> int:
    """How many valid rows; bad input stops here, before the progress bar and any run."""
    try:
        return sum(1 for _ in rows)
    except InputError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc


# -- assay trace run -------------------------------------------------------------------------

RUN_HELP = "Run programs N times in the sandbox; keep the traces that are identical and " \
           "non-empty."
RUN_EPILOG = """**Examples**

    assay trace run cruxeval.jsonl -o traces.jsonl --instrument
    assay trace run programs.jsonl -o traces.jsonl --dropped dropped.jsonl --runs 5
    assay trace run programs.jsonl -o t.jsonl --instrument --vary-hash-seed --json

Each row is a program: `id`, `code`, `language` (default python), and its input: `input`
(Python: the arguments of `entry_point`, default `f`), `argv`, `stdin`, or a `script` run
instead of it (the program beside it as `program.EXT`). Programs print their own
`TRACE:<TYPE>:<LOC>:<STATE>` lines on stderr; with --instrument, Python programs are traced
by assay's tracer. Every input row is checked before anything runs. Results are committed to
the run store as they are decided (default: OUT.store.sqlite): run the same command again
after an interruption and it runs only what is missing. Exit code: 0 done; 2 bad input;
3 the sandbox failed for some programs (running again retries them)."""


def run_command(
    programs: Path = typer.Argument(..., help="Programs with their inputs (JSONL/Parquet)."),
    output: Path = typer.Option(..., "--output", "-o", help="Kept traces to write."),
    runs: int = typer.Option(3, "--runs", "-n", min=1, help="Runs of each program."),
    do_instrument: bool = typer.Option(False, "--instrument",
                                       help="Trace Python programs with assay's tracer."),
    dropped: Path = typer.Option(None, "--dropped", help="Also write the dropped programs, "
                                 "each with why."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.001, help="Seconds per run."),
    max_events: int = typer.Option(2000, "--max-events", min=1,
                                   help="Events a trace may hold."),
    max_bytes: int = typer.Option(256 * 1024, "--max-bytes", min=1,
                                  help="Bytes of stderr a run may write."),
    keep_errors: bool = typer.Option(False, "--keep-errors", help="Keep programs that exit "
                                     "non-zero the same way in every run."),
    vary_hash_seed: bool = typer.Option(False, "--vary-hash-seed", help="Run k of a Python "
                                        "program with PYTHONHASHSEED=k-1 instead of 0."),
    store: Path = typer.Option(None, "--store", help="Run store (default: OUT.store.sqlite)."),
    workers: int = typer.Option(None, "--workers", "-w", min=1,
                                help="Sandbox runs at once (default: one per core)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1,
                                   help="Python programs per sandbox run."),
    memory_mb: int = typer.Option(512, "--memory-mb", min=16, help="Memory of a sandbox run."),
    events: str = EVENTS_OPTION,
    loop_iterations: int = LOOPS_OPTION,
    value_chars: int = VALUE_OPTION,
    call_depth: int = DEPTH_OPTION,
    comprehensions: bool = INNER_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    config = CaptureConfig(
        runs=runs, timeout_s=timeout, max_events=max_events, max_bytes=max_bytes,
        instrument=do_instrument, keep_errors=keep_errors, vary_hash_seed=vary_hash_seed,
        memory_mb=memory_mb, workers=workers, batch_size=batch_size,
        tracer=_tracer(events, loop_iterations, value_chars, call_depth, comprehensions))
    store_path = store or output.with_name(output.name + ".store.sqlite")
    total = _count(read_programs(programs))
    with open_sandbox(backend, cold) as sandbox, RunStore(store_path) as run_store, \
            make_progress() as bar:
        task = bar.add_task("tracing", total=total, status="")
        kept = 0

        def advance(record: TraceRecord, from_store: bool) -> None:
            nonlocal kept
            kept += int(record.kept)
            bar.update(task, advance=1, status=f"{kept} kept")

        try:
            summary = capture(programs, output, run_store, sandbox, config, dropped, advance)
        except InputError as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
    _print_capture(summary, as_json)
    if not as_json:
        console.print(f"traces: {output}   store: {store_path}"
                      + (f"   dropped: {dropped}" if dropped else ""))
    if summary.incomplete:
        raise typer.Exit(EXIT_SANDBOX)


def _print_capture(summary: CaptureSummary, as_json: bool) -> None:
    data = {"programs": summary.programs, "kept": summary.kept,
            "dropped": {reason.value: summary.dropped.get(reason.value, 0)
                        for reason in DropReason},
            "from_store": summary.from_store, "events_in_kept": summary.events,
            "incomplete": summary.incomplete}
    if as_json:
        print(json.dumps(data))
        return
    table = Table(title="Trace capture", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("programs", str(summary.programs))
    share = f" ({100 * summary.kept / summary.programs:.1f}%)" if summary.programs else ""
    table.add_row("kept (identical, non-empty)", f"{summary.kept}{share}")
    for reason in DropReason:
        table.add_row(f"  dropped: {reason.value.replace('_', ' ')}",
                      str(summary.dropped.get(reason.value, 0)))
    if summary.from_store:
        table.add_row("reused from the run store", str(summary.from_store))
    if summary.kept:
        table.add_row("events per kept trace (mean)", f"{summary.events / summary.kept:.1f}")
    console.print(table)


# -- assay trace instrument ------------------------------------------------------------------

INSTRUMENT_HELP = "Run a Python file, or one call of its functions, under assay's tracer."
INSTRUMENT_EPILOG = """**Examples**

    assay trace instrument prog.py
    assay trace instrument prog.py --call 'f([3, 1, 2], key=None)'
    assay trace instrument script.py --stdin input.txt --events IN,OUT,ERR -- arg1 arg2
    assay trace instrument prog.py --call 'f(5)' --runs 3 --json

The trace lines go to stdout, the verdict to stderr. With --runs N the program runs N times
and the verdict says whether the traces agreed. Exit code: 0 the runs ended cleanly (and
agreed); 1 the program crashed, timed out, wrote no events or too many, or the runs
differed (the first run's trace is still printed); 2 bad usage; 3 the sandbox failed."""


def instrument_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="Python source file."),
    args: list[str] = typer.Argument(None, help="Arguments passed to the program."),
    call: str = typer.Option(None, "--call", "-c", help="Trace this call only, e.g. 'f(1, 2)'."),
    stdin: Path = typer.Option(None, "--stdin", exists=True, dir_okay=False,
                               help="File fed to the program's standard input."),
    runs: int = typer.Option(1, "--runs", "-n", min=1, help="Runs (their traces compared)."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.001, help="Seconds per run."),
    max_events: int = typer.Option(2000, "--max-events", min=1),
    events: str = EVENTS_OPTION,
    loop_iterations: int = LOOPS_OPTION,
    value_chars: int = VALUE_OPTION,
    call_depth: int = DEPTH_OPTION,
    comprehensions: bool = INNER_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the trace record as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    tracer = _tracer(events, loop_iterations, value_chars, call_depth, comprehensions)
    config = CaptureConfig(runs=runs, timeout_s=timeout, max_events=max_events, workers=1)
    try:
        code = file.read_text(encoding="utf-8")
        data = stdin.read_text(encoding="utf-8") if stdin else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{file}: cannot read: {exc}", EXIT_USAGE) from exc
    with open_sandbox(backend, cold) as sandbox:
        try:
            record = instrument(sandbox, code, call, args or (), data, tracer, config,
                                program_id=file.name)
        except ValueError as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
    if as_json:
        print(json.dumps(record.model_dump(mode="json")))
    elif record.trace:
        print(record.trace)
    if record.kept:
        err_console.print(f"[green]ok[/]: {record.stats.events} events in {runs} run(s)")
        return
    err_console.print(f"[bold red]{record.reason}[/]: {record.detail}")
    raise typer.Exit(EXIT_SANDBOX if record.reason is DropReason.INFRA else EXIT_FAILED)


# -- assay trace tasks -----------------------------------------------------------------------

TASKS_HELP = "Output- and input-prediction tasks from {code, input, output} rows, verified by " \
             "running them."
TASKS_EPILOG = """**Examples**

    assay trace tasks cruxeval.jsonl -o tasks.jsonl
    assay trace tasks cruxeval.jsonl -o tasks.jsonl --kinds output --failures bad.jsonl --json

Each row (`id`, `code`, `input`, `output`, optional `entry_point`, default `f`) is run in
the sandbox first: `entry_point(input) == output` must hold as Python values. Rows that do
not reproduce give no task and are listed with why (and written to --failures). Exit code:
0 done; 2 bad input; 3 the sandbox failed for some rows."""


def tasks_command(
    rows: Path = typer.Argument(..., help="{id, code, input, output} rows (JSONL/Parquet)."),
    output: Path = typer.Option(..., "--output", "-o", help="Tasks to write."),
    kinds: str = typer.Option("output,input", "--kinds", help="Task kinds: output, input."),
    failures: Path = typer.Option(None, "--failures", help="Write the rows that do not "
                                  "reproduce, with why."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.001, help="Seconds per call."),
    workers: int = typer.Option(None, "--workers", "-w", min=1),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Calls per sandbox run."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    wanted: list[TaskKind] = []
    for kind in (k.strip() for k in kinds.split(",") if k.strip()):
        if kind not in ("output", "input"):
            raise fail(f"--kinds: unknown task kind {kind!r}; kinds: output, input",
                       EXIT_USAGE)
        wanted.append("output" if kind == "output" else "input")
    total = _count(read_crux(rows))
    with open_sandbox(backend, cold) as sandbox, make_progress() as bar:
        task = bar.add_task("reproducing", total=total, status="")
        try:
            summary = generate_tasks(rows, output, sandbox, wanted, timeout, batch_size,
                                     workers, failures,
                                     progress=lambda n: bar.update(task, advance=n))
        except (InputError, ValueError) as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
    data = {"rows": summary.rows, "reproduced": summary.reproduced, "tasks": summary.tasks,
            "not_reproduced": [{"id": i, "reason": why} for i, why in summary.failures],
            "infra": summary.infra}
    if as_json:
        print(json.dumps(data))
    else:
        table = Table(title="Execution-prediction tasks", show_header=False,
                      title_justify="left")
        table.add_row("rows", str(summary.rows))
        table.add_row("reproduced (f(input) == output)", str(summary.reproduced))
        table.add_row("tasks written", str(summary.tasks))
        table.add_row("not reproduced", str(len(summary.failures)))
        console.print(table)
        for sample_id, why in summary.failures[:20]:
            console.print(f"  {sample_id}: {why}")
        console.print(f"tasks: {output}")
    if summary.infra:
        raise typer.Exit(EXIT_SANDBOX)


# -- assay trace score -----------------------------------------------------------------------

SCORE_HELP = "Score predicted traces (exact match, ROUGE-2) or output/input predictions " \
             "(by running them)."
SCORE_EPILOG = """**Examples**

    assay trace score --pred predicted_traces.jsonl --gold traces.jsonl
    assay trace score --pred answers.jsonl --gold tasks.jsonl -o per_sample.jsonl
    assay trace score --pred outputs.jsonl --gold cruxeval.jsonl --task output --json

Predicted traces are rows `{id, trace}` scored against trace records (`assay trace run`):
exact match and line-level ROUGE-2 F1 (bigrams of consecutive event lines). Predicted
answers are rows `{id, prediction}` scored against tasks (`assay trace tasks`) or CRUXEval
rows (with --task): an output prediction is right when it equals `f(input)`, an input
prediction when `f(prediction)` equals the output, compared as Python values in the
sandbox. Exit code: 0 done; 2 bad input; 3 the sandbox failed for some predictions."""


def score_command(
    pred: Path = typer.Option(..., "--pred", "-p", help="Predictions (JSONL/Parquet)."),
    gold: Path = typer.Option(..., "--gold", "-g", help="Trace records, tasks or CRUXEval "
                              "rows."),
    output: Path = typer.Option(None, "--output", "-o", help="Write per-sample scores."),
    task: str = typer.Option(None, "--task", help="With CRUXEval gold rows: output or input."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.001, help="Seconds per call."),
    workers: int = typer.Option(None, "--workers", "-w", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print the aggregate as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    if task not in (None, "output", "input"):
        raise fail(f"--task must be output or input, not {task!r}", EXIT_USAGE)
    try:
        if gold_kind(gold) == "trace":
            report = score_traces(pred, gold)
        else:
            kind: TaskKind | None = None if task is None else \
                ("output" if task == "output" else "input")
            with open_sandbox(backend, cold) as sandbox:
                report = score_executions(pred, gold, sandbox, kind, timeout, workers=workers)
    except InputError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    if output is not None:
        with RecordWriter(output) as writer:
            writer.write_all(report.samples)
    _print_score(report, as_json)
    if report.aggregate.get("infra"):
        raise typer.Exit(EXIT_SANDBOX)


def _print_score(report: ScoreReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"mode": report.mode, **report.aggregate}))
        return
    data: dict[str, Any] = report.aggregate
    table = Table(title=f"Scores ({report.mode} predictions)", show_header=False,
                  title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("samples", str(data["samples"]))
    if report.mode == "trace":
        table.add_row("exact match", f"{100 * data['exact_match']:.2f}%")
        table.add_row("ROUGE-2 F1 (line level)", f"{100 * data['rouge2_f1']:.2f}")
        table.add_row("  precision / recall", f"{100 * data['rouge2_precision']:.2f} / "
                                              f"{100 * data['rouge2_recall']:.2f}")
    else:
        table.add_row("correct", f"{data['correct']} ({100 * data['accuracy']:.2f}%)")
        for kind, counts in data["by_kind"].items():
            table.add_row(f"  {kind} prediction", f"{counts['correct']} / {counts['samples']}"
                                                  f" ({100 * counts['accuracy']:.2f}%)")
        table.add_row("evaluated as expressions", str(data["evaluated_as_expression"]))
    table.add_row("missing predictions (scored as wrong)", str(data["missing"]))
    table.add_row("predictions without gold (ignored)", str(data["extra"]))
    console.print(table)


trace_app.command("run", help=RUN_HELP, epilog=RUN_EPILOG)(run_command)
trace_app.command("instrument", help=INSTRUMENT_HELP, epilog=INSTRUMENT_EPILOG)(
    instrument_command)
trace_app.command("tasks", help=TASKS_HELP, epilog=TASKS_EPILOG)(tasks_command)
trace_app.command("score", help=SCORE_HELP, epilog=SCORE_EPILOG)(score_command)
