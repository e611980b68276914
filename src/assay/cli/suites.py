"""``assay suites``: is each test suite right about its reference, and how strong is it?"""

from __future__ import annotations

import json
import math
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
from assay.data.records import Problem, Solution
from assay.engine import RunStore
from assay.sandbox.compile_cache import default_cache_root
from assay.synth.mutants import DEFAULT_MAX_MUTANTS
from assay.synth.strength import StrengthConfig, SuiteStrength, measure_suites
from assay.verify.pipeline import iter_solutions, load_problems

HELP = "Measure test suites: do they pass the reference solution, and how many of its " \
       "mutants do they catch (mutation score)?"
EPILOG = """**Examples**

    assay suites --humaneval
    assay suites -p problems.jsonl -o suites.jsonl
    assay suites -p problems.jsonl -r solutions.jsonl --mutants 50 --seed 1 --json

Each suite runs against its problem's reference solution: the problem's `reference`
field, or with --references the first solution of that problem in the file. A suite that
fails its reference is **invalid** and its failing tests are listed. A valid suite then runs
against up to N mutants of the reference (syntax-tree mutations for Python; operator and
integer mutations for C, C++, Java, JavaScript, TypeScript, Go, Rust, PHP and Ruby).
Mutation score = killed / (killed + survived); mutants that do not compile are left out.
The summary groups suites by how they were made (`tests.origin.strategy`). `--humaneval`
measures HumanEval's own tests with its canonical solutions (bundled; nothing to download).

Results go to a run store (default OUT.store.sqlite, or suites.store.sqlite in assay's
cache directory without -o): running again costs nothing for what finished.

Exit code: 0 every suite is valid; 1 some suite fails its reference; 2 bad input or usage
(no problems, or none with a reference); 3 the sandbox failed (some result undecided:
running again retries it)."""


def suites(
    problems: Path = typer.Option(None, "--problems", "-p", help="Problems with their "
                                  "tests (JSONL or Parquet)."),
    references: Path = typer.Option(None, "--references", "-r", help="Reference solutions "
                                    "(default: each problem's `reference` field)."),
    humaneval: bool = typer.Option(False, "--humaneval", help="Measure the bundled "
                                   "HumanEval's tests with its canonical solutions."),
    mutants: int = typer.Option(DEFAULT_MAX_MUTANTS, "--mutants", "-m", min=1,
                                help="The most mutants per reference."),
    seed: int = typer.Option(0, "--seed", help="Seed of the choice of mutants."),
    output: Path = typer.Option(None, "--output", "-o", help="Write one record per problem."),
    store: Path = typer.Option(None, "--store", help="Run store (default: OUT.store.sqlite)."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="Runs at once "
                                "(default: one per core)."),
    timeout: float = typer.Option(None, "--timeout", min=0.001, help="Time limit of each "
                                  "test, overriding the suites'."),
    mutant_timeout: float = typer.Option(0.5, "--mutant-timeout", min=0.001, help="Time "
                                         "limit of a mutant's test (10x the reference's "
                                         "slowest test when that is more; never more than "
                                         "the suite's): mutants that loop forever cost "
                                         "this much per test."),
    memory_mb: int = typer.Option(512, "--memory-mb", min=16, help="Memory per run."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    backend: str = BACKEND_OPTION,
    cold: bool = COLD_OPTION,
) -> None:
    if humaneval == (problems is not None):
        raise fail("give either --problems or --humaneval", EXIT_USAGE)
    if humaneval and references is not None:
        raise fail("--references goes with --problems (HumanEval has its own)", EXIT_USAGE)
    try:
        pairs, skipped = _humaneval() if humaneval else _load(problems, references)
    except (InputError, LookupError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    if not pairs:
        raise fail("no problem has a reference solution (give --references, or fill the "
                   "problems' `reference` field)", EXIT_USAGE)
    config = StrengthConfig(max_mutants=mutants, seed=seed, workers=workers,
                            memory_mb=memory_mb, timeout_s=timeout,
                            mutant_timeout_s=mutant_timeout)
    store_path = store or (output.with_name(output.name + ".store.sqlite") if output
                           else default_cache_root() / "suites.store.sqlite")
    with open_sandbox(backend, cold) as sandbox, RunStore(store_path) as run_store, \
            make_progress() as bar:
        task = bar.add_task("references", total=len(pairs), status="")

        def advance(phase: str, done: int, total: int) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        results = measure_suites(pairs, sandbox, run_store, config, advance)
    if output is not None:
        with RecordWriter(output) as writer:
            writer.write_all(results)
    summary = summarize(results)
    if as_json:
        print(json.dumps({"summary": summary, "skipped": skipped,
                          "problems": [r.model_dump(mode="json") for r in results]}))
    else:
        _print(results, summary, skipped)
        console.print(f"records: {output or '-'}   store: {store_path}")
    if any(r.valid is None or r.undecided for r in results):
        raise typer.Exit(EXIT_SANDBOX)
    if any(r.valid is False for r in results):
        raise typer.Exit(EXIT_FAILED)


def _load(problems_path: Path, references: Path | None
          ) -> tuple[list[tuple[Problem, Solution]], list[str]]:
    """(problem, reference) pairs in file order, and the ids of problems without one."""
    problems = load_problems(problems_path)
    chosen: dict[str, Solution] = {}
    if references is not None:
        for solution in iter_solutions(references, problems):
            chosen.setdefault(solution.problem_id, solution)
    else:
        chosen = {p.id: Solution(id=f"{p.id}/reference", problem_id=p.id, code=p.reference)
                  for p in problems.values() if p.reference is not None}
    pairs = [(p, chosen[p.id]) for p in problems.values() if p.id in chosen]
    return pairs, [p.id for p in problems.values() if p.id not in chosen]


def _humaneval() -> tuple[list[tuple[Problem, Solution]], list[str]]:
    from assay.demo.humaneval import TEST_TIMEOUT_S, humaneval_problems

    # The demo's limit per test: canonical solutions need milliseconds.
    return [(p.model_copy(update={"tests": p.tests.model_copy(
        update={"timeout_s": TEST_TIMEOUT_S})}), s) for p, s in humaneval_problems()], []


def summarize(results: list[SuiteStrength]) -> dict[str, dict[str, Any]]:
    """Per strategy (how the suites were made), and over all suites under "all"."""
    groups: dict[str, list[SuiteStrength]] = {}
    for result in results:
        groups.setdefault(result.strategy, []).append(result)
    summary = {strategy: _group(group) for strategy, group in sorted(groups.items())}
    summary["all"] = _group(results)
    return summary


def _group(results: list[SuiteStrength]) -> dict[str, Any]:
    valid = [r for r in results if r.valid]
    scores = [r.mutation_score for r in results if r.mutation_score is not None]
    killed, survived = sum(r.killed for r in results), sum(r.survived for r in results)
    return {
        "problems": len(results), "valid": len(valid),
        "invalid": sum(r.valid is False for r in results),
        "valid_fraction": len(valid) / len(results) if results else None,
        "mean_size": _mean([r.suite_size for r in results]),
        "mean_mutation_score": _mean(scores), "scored_problems": len(scores),
        # All mutants pooled: large suites of many mutants weigh more than in the mean.
        "pooled_mutation_score": killed / (killed + survived) if killed + survived else None,
        "mutants": sum(r.mutants for r in results), "killed": killed, "survived": survived,
        "stillborn": sum(r.stillborn for r in results),
        "undecided": sum(r.undecided for r in results)}


def _mean(values: list[float] | list[int]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _print(results: list[SuiteStrength], summary: dict[str, dict[str, Any]],
           skipped: list[str]) -> None:
    table = Table(title="Suites", title_justify="left")
    for name in ("problem", "strategy", "valid", "tests", "mutants", "killed", "survived",
                 "stillborn", "score", "first survivors / failing tests"):
        table.add_column(name, justify="left" if name in ("problem", "strategy", "valid")
                         or name.startswith("first") else "right")
    for r in results:
        valid = {True: "yes", False: "[red]NO[/]", None: "[yellow]?[/]"}[r.valid]
        detail = ", ".join(r.failing_reference_tests[:3]) if r.valid is False else \
            "; ".join(f"L{m.line} {m.description}" for m in r.survivors[:2])
        table.add_row(r.problem_id, r.strategy, valid, str(r.suite_size), str(r.mutants),
                      str(r.killed), str(r.survived), str(r.stillborn),
                      _pct(r.mutation_score), (detail or r.note)[:70])
    console.print(table)
    table = Table(title="Suite strength per strategy", title_justify="left")
    for name in ("strategy", "problems", "valid", "mean size", "mean mutation score",
                 "mutants", "killed", "survived", "stillborn"):
        table.add_column(name, justify="left" if name == "strategy" else "right")
    shown = summary if len(summary) > 2 else {k: v for k, v in summary.items() if k != "all"}
    for strategy, g in shown.items():
        size = "-" if g["mean_size"] is None else f"{g['mean_size']:.1f}"
        table.add_row(strategy, str(g["problems"]), _pct(g["valid_fraction"]), size,
                      _pct(g["mean_mutation_score"]), str(g["mutants"]), str(g["killed"]),
                      str(g["survived"]), str(g["stillborn"]))
    console.print(table)
    if skipped:
        err_console.print(f"[yellow]skipped {len(skipped)} problems without a reference:[/] "
                          f"{', '.join(skipped[:10])}{' ...' if len(skipped) > 10 else ''}")
