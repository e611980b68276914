"""``assay verify``, ``regrade``, ``select``, ``passk``, ``agree``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from assay.cli.common import (
    BACKEND_OPTION,
    COLD_OPTION,
    EXIT_SANDBOX,
    EXIT_USAGE,
    console,
    err_console,
    fail,
    open_sandbox,
)
from assay.cli.summary import summary_json, summary_table, sweep_table
from assay.data import InputError, RecordWriter, SolutionReport, read_records, read_rows
from assay.engine import RunStore
from assay.verify import (
    SelectionConfig,
    Summarizer,
    VerifyConfig,
    agreement,
    code_fingerprint,
    mean_pass_at_k,
    parse_mix,
    select,
    verify,
)
from assay.verify.pipeline import REPORT_KIND, check_solutions, load_problems
from assay.verify.scoring import pass_fraction, score

VERIFY_HELP = "Run every solution against its problem's tests; one report per solution."
VERIFY_EPILOG = """**Examples**

    assay verify --problems problems.jsonl --solutions solutions.jsonl -o reports.jsonl
    assay verify -p problems.jsonl -s samples.parquet -o reports.parquet --tau 0.8 --workers 4
    assay verify -p p.jsonl -s s.jsonl -o r.jsonl --store runs.sqlite --json | jq .pass_at

Every input row is checked before anything runs. Results are committed to the run store as
they finish (default: OUT.store.sqlite); run the same command again after an interruption
and it runs only what is missing. Exit code: 0 done; 2 bad input; 3 the sandbox failed (some
tests ended INFRA: running again retries them)."""


def make_progress() -> Progress:
    """A progress bar on stderr, so that stdout stays clean for --json."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err_console, transient=False)


def count_rows(path: Path) -> int:
    return sum(1 for _ in read_rows(path))


def verify_command(
    problems: Path = typer.Option(..., "--problems", "-p", help="Problems (JSONL or Parquet)."),
    solutions: Path = typer.Option(..., "--solutions", "-s", help="Solutions (JSONL/Parquet)."),
    output: Path = typer.Option(..., "--output", "-o", help="Reports to write."),
    tau: float = typer.Option(1.0, "--tau", min=0.0, max=1.0,
                              help="Pass-fraction threshold shown as 'retained'."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="Runs at once "
                                "(default: one per core)."),
    store: Path = typer.Option(None, "--store", help="Run store (default: OUT.store.sqlite)."),
    timeout: float = typer.Option(None, "--timeout", min=0.001,
                                  help="Time limit of each test, overriding the suites'."),
    memory_mb: int = typer.Option(512, "--memory-mb", min=16, help="Memory per solution."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="The most solutions "
                                   "per sandbox run where the harness batches (each "
                                   "solution's tests still run in a process of their own; "
                                   "batches shrink near the end so every worker stays "
                                   "busy)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    config = VerifyConfig(workers=workers, memory_mb=memory_mb, timeout_s=timeout, tau=tau,
                          batch_size=batch_size)
    store_path = store or output.with_name(output.name + ".store.sqlite")
    try:
        total = check_solutions(solutions, load_problems(problems))
    except (InputError, LookupError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    with open_sandbox(backend, cold) as sandbox, RunStore(store_path) as run_store, \
            make_progress() as bar:
        task = bar.add_task("verifying", total=total, status="")
        reused = 0

        def advance(report: SolutionReport, from_store: bool) -> None:
            nonlocal reused
            reused += int(from_store)
            bar.update(task, advance=1, status=f"{reused} from store" if reused else "")

        try:
            summary = verify(problems, solutions, output, run_store, sandbox, config, advance)
        except InputError as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
        summary.from_store = reused
    _print_summary(summary, as_json)
    if not as_json:
        console.print(f"reports: {output}   store: {store_path}")
    if summary.incomplete:
        raise typer.Exit(EXIT_SANDBOX)


def _print_summary(summary: object, as_json: bool) -> None:
    from assay.verify import VerifySummary

    assert isinstance(summary, VerifySummary)
    if as_json:
        print(json.dumps(summary_json(summary)))
        return
    console.print(summary_table(summary))
    console.print(sweep_table(summary.sweep))


REGRADE_HELP = "Recompute scores and the summary from a run store, without running anything."
REGRADE_EPILOG = """**Examples**

    assay regrade reports.jsonl.store.sqlite -o regraded.jsonl --tau 0.8
    assay regrade runs.sqlite --json

Reports are recomputed from their stored per-test outcomes (pass fraction, score) and
written in key order."""


def regrade_command(
    store: Path = typer.Argument(..., exists=True, dir_okay=False, help="A run store."),
    output: Path = typer.Option(None, "--output", "-o", help="Write the regraded reports."),
    tau: float = typer.Option(1.0, "--tau", min=0.0, max=1.0),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    summarizer = Summarizer(tau)
    with RunStore(store) as run_store:
        writer = RecordWriter(output) if output else None
        try:
            for _, value in run_store.items(REPORT_KIND):
                report = regrade(SolutionReport.model_validate(value))
                summarizer.add(report)
                if writer is not None:
                    writer.write(report)
        finally:
            if writer is not None:
                writer.close()
    _print_summary(summarizer.finish(), as_json)


def regrade(report: SolutionReport) -> SolutionReport:
    """The report with its scores recomputed from its outcomes."""
    passed, total, infra, fraction = pass_fraction(report.outcomes)
    return report.model_copy(update={"passed": passed, "total": total, "infra": infra,
                                     "pass_fraction": fraction, "score": score(fraction)})


SELECT_HELP = "Keep the verified solutions: threshold, distinct per problem, difficulty mix."
SELECT_EPILOG = """**Examples**

    assay select reports.jsonl -o train.jsonl --tau 0.8
    assay select reports.jsonl -o train.jsonl --tau 0.6 --per-problem 3
    assay select reports.jsonl -o sample.jsonl --mix easy=0.2,medium=0.4,hard=0.4 --size 1000

Duplicates are found on normalised code (comments and whitespace removed; for Python the
syntax tree without docstrings). Exit code 2 on bad input."""


def _reports(path: Path) -> Iterator[SolutionReport]:
    return read_records(path, SolutionReport)


def select_command(
    reports: Path = typer.Argument(..., help="Reports written by 'assay verify'."),
    output: Path = typer.Option(..., "--output", "-o", help="Selected reports."),
    tau: float = typer.Option(1.0, "--tau", min=0.0, max=1.0,
                              help="Keep solutions whose pass fraction is at least tau."),
    per_problem: int = typer.Option(None, "--per-problem", "-k", min=1,
                                    help="At most K distinct solutions per problem."),
    mix: str = typer.Option(None, "--mix", help="Difficulty shares, e.g. "
                            "easy=0.2,medium=0.4,hard=0.4 (needs --size)."),
    size: int = typer.Option(None, "--size", min=1, help="Size of the stratified sample."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampling order."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    try:
        config = SelectionConfig(tau=tau, per_problem=per_problem,
                                 mix=parse_mix(mix) if mix else None, size=size, seed=seed)
        # Pass 1 keeps small copies (no outcomes, no code) and the code fingerprints.
        fingerprints: dict[str, str] = {}
        compact = []
        for report in _reports(reports):
            fingerprints[report.solution_id] = code_fingerprint(report.code, report.language)
            compact.append(report.model_copy(update={"outcomes": [], "code": ""}))
        chosen = select(compact, config, fingerprint=lambda r: fingerprints[r.solution_id])
        keep = {r.solution_id for r in chosen.kept}
        with RecordWriter(output) as writer:  # pass 2 streams the chosen reports out
            for report in _reports(reports):
                if report.solution_id in keep:
                    writer.write(report)
    except (InputError, ValueError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    counts = {"read": len(compact), "kept": len(chosen.kept), "below_tau": chosen.below_tau,
              "duplicates": chosen.duplicates, "over_per_problem": chosen.over_per_problem,
              "incomplete": chosen.incomplete, "shortfall": chosen.shortfall}
    if as_json:
        print(json.dumps(counts))
        return
    from assay.verify import tau_sweep

    console.print(sweep_table(tau_sweep(compact)))
    table = Table(title=f"Selection (tau={tau:g})", show_header=False, title_justify="left")
    for name, value in counts.items():
        table.add_row(name.replace("_", " "), str(value))
    console.print(table)
    console.print(f"selected: {output}")


PASSK_HELP = "pass@k of verified samples (unbiased estimator), averaged over problems."
PASSK_EPILOG = """**Examples**

    assay passk reports.jsonl
    assay passk reports.jsonl --k 1,10,100 --tau 0.8 --json

A sample counts as correct when every test ran and its pass fraction is at least tau."""


def passk_command(
    reports: Path = typer.Argument(..., help="Reports written by 'assay verify'."),
    ks: str = typer.Option("1,5,10", "--k", help="Comma-separated k values."),
    tau: float = typer.Option(1.0, "--tau", min=0.0, max=1.0),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    try:
        k_values = [int(k) for k in ks.split(",") if k.strip()]
        if not k_values or min(k_values) < 1:
            raise ValueError("--k needs positive integers, e.g. 1,5,10")
        counts: dict[str, tuple[int, int]] = {}
        for report in _reports(reports):
            n, c = counts.get(report.problem_id, (0, 0))
            correct = report.complete and (report.pass_fraction or 0.0) + 1e-12 >= tau
            counts[report.problem_id] = (n + 1, c + int(correct))
    except (InputError, ValueError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    values = {k: mean_pass_at_k(counts, k) for k in k_values}
    if as_json:
        print(json.dumps({"problems": len(counts), "tau": tau,
                          "pass_at": {str(k): v for k, v in values.items()}}))
        return
    table = Table(title=f"pass@k over {len(counts)} problems (tau={tau:g})",
                  title_justify="left")
    table.add_column("k", justify="right")
    table.add_column("pass@k", justify="right")
    for k, value in values.items():
        table.add_row(str(k), "- (fewer than k samples)" if value is None
                      else f"{100 * value:.2f}%")
    console.print(table)


AGREE_HELP = "Agreement of two verdict sources on the same solutions: Cohen's kappa."
AGREE_EPILOG = """**Examples**

    assay agree reports_suite_a.jsonl reports_suite_b.jsonl
    assay agree reports.jsonl judge.jsonl --tau-a 0.8 --json

Each file has one row per solution with `solution_id` and either `pass_fraction` (a report:
pass when at least the file's tau) or a verdict `passed` / `verdict` / `score` (true/false,
"pass"/"fail", 1/0)."""


def verdicts_of(path: Path, tau: float) -> dict[str, bool]:
    """solution id -> pass/fail, from reports or judge records."""
    verdicts: dict[str, bool] = {}
    for line, row in read_rows(path):
        solution_id = row.get("solution_id")
        if not isinstance(solution_id, str):
            raise InputError(str(path), line, "missing (required)", "solution_id")
        verdicts[solution_id] = _verdict(row, tau, str(path), line)
    return verdicts


def _verdict(row: dict[str, object], tau: float, path: str, line: int) -> bool:
    if "pass_fraction" in row:
        fraction = row["pass_fraction"]
        if fraction is None or (row.get("infra") or 0):
            return False
        if not isinstance(fraction, (int, float)):
            raise InputError(path, line, "expected a number", "pass_fraction")
        return fraction + 1e-12 >= tau
    for name in ("passed", "verdict", "score"):
        if name in row:
            value = row[name]
            if isinstance(value, str) and value.lower() in ("pass", "fail", "true", "false"):
                return value.lower() in ("pass", "true")
            if isinstance(value, (bool, int, float)) and value in (0, 1):
                return bool(value)
            raise InputError(path, line, f"expected true/false, 'pass'/'fail' or 0/1, got "
                                         f"{value!r}", name)
    raise InputError(path, line, "no verdict: need pass_fraction, passed, verdict or score")


def agree_command(
    a: Path = typer.Argument(..., help="First verdict source."),
    b: Path = typer.Argument(..., help="Second verdict source."),
    tau_a: float = typer.Option(1.0, "--tau-a", min=0.0, max=1.0),
    tau_b: float = typer.Option(1.0, "--tau-b", min=0.0, max=1.0),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    try:
        result = agreement(verdicts_of(a, tau_a), verdicts_of(b, tau_b))
    except InputError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    data = {"solutions": result.total, "both_pass": result.both_pass, "a_only": result.a_only,
            "b_only": result.b_only, "both_fail": result.both_fail,
            "observed_agreement": result.observed, "kappa": result.kappa,
            "only_in_a": result.only_in_a, "only_in_b": result.only_in_b}
    if as_json:
        print(json.dumps(data))
        return
    table = Table(title=f"Agreement on {result.total} solutions", title_justify="left")
    table.add_column("")
    table.add_column(f"B pass ({b.name})", justify="right")
    table.add_column("B fail", justify="right")
    table.add_row(f"A pass ({a.name})", str(result.both_pass), str(result.a_only))
    table.add_row("A fail", str(result.b_only), str(result.both_fail))
    console.print(table)
    kappa = "undefined" if result.kappa is None else f"{result.kappa:.3f}"
    observed = "-" if result.observed is None else f"{100 * result.observed:.1f}%"
    console.print(f"Cohen's kappa: {kappa}   observed agreement: {observed}")
    if result.only_in_a or result.only_in_b:
        console.print(f"not compared: {result.only_in_a} only in A, {result.only_in_b} only in B")
