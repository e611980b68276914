"""Shared by the harness tests: run one solution against one suite in the real sandbox."""

from __future__ import annotations

from assay.data import Problem, TestCase, TestSuite
from assay.harness import HarnessTask, get_harness, run_tests
from assay.sandbox import Sandbox


def run_suite(sandbox: Sandbox, language: str, code: str, tests: str = "", kind: str = "unit",
              entry_point: str | None = None, timeout_s: float = 1.0,
              cases: list[TestCase] | None = None, **suite: object) -> dict[str, tuple[str, str]]:
    """name -> (status, message) of every test, in the suite's order."""
    problem = Problem(id="p", language=language, entry_point=entry_point,
                      tests=TestSuite(kind=kind, code=tests, timeout_s=timeout_s,  # type: ignore[arg-type]
                                      cases=cases or [], **suite))  # type: ignore[arg-type]
    task = HarnessTask(problem=problem, code=code, language=problem.language,
                       suite=problem.tests)
    run = run_tests(sandbox, get_harness(kind, problem.language), task)
    return {o.name: (o.status.value, o.message) for o in run.outcomes}


def statuses(outcomes: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {name: status for name, (status, _) in outcomes.items()}
