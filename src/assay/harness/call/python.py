"""Python call suites: the entry point called with each case's arguments.

One interpreter runs the suite (``runners/python_call.py``): the solution is compiled once
and loaded once, and each case runs in a child forked from the loaded solution, under its
own time limit. Return values come back as canonical JSON and are compared here, in
``grade``, with the suite checker's float tolerance (see ``assay.harness.checkers``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from assay.data.records import Status, TestOutcome
from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.harness.checkers import decode_raw, runner_verdict, value_mismatch
from assay.harness.protocol import RunnerReport
from assay.sandbox import Limits, RunSpec
from assay.sandbox.spec import MIB

# Room in the report for one case's return value (its JSON is capped at 1 MiB).
REPORT_BYTES_PER_CASE = MIB + 4096
MAX_REPORT_BYTES = 256 * MIB


@register_harness
class PythonCallHarness(Harness):
    kind = "call"
    languages = ("python",)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        files = {"runner.py": runner_source("python_call.py"), "solution.py": task.code,
                 "cases.json": cases_json(task)}
        return RunSpec(language="python", files=files, entry="runner.py", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=call_limits(self, task, len(only) or len(task.suite.cases)))

    def grade(self, task: HarnessTask, report: RunnerReport) -> dict[str, TestOutcome]:
        return grade_calls(task, report)


def cases_json(task: HarnessTask) -> str:
    """The cases as the runners read them; the expected values stay out of the sandbox."""
    return json.dumps([{"name": case.name, "args": case.args or [],
                        "kwargs": case.kwargs or {}} for case in task.suite.cases])


def call_limits(harness: Harness, task: HarnessTask, cases: int) -> Limits:
    report = min(MAX_REPORT_BYTES, max(4 * MIB, cases * REPORT_BYTES_PER_CASE))
    return harness.limits(task, cases).with_(output_bytes=report)


def grade_calls(task: HarnessTask, report: RunnerReport) -> dict[str, TestOutcome]:
    """Outcomes of a call suite: each returned value against the case's expected one."""
    cases = {case.name: case for case in task.suite.cases}
    checker = task.suite.checker
    graded = {}
    for name, outcome in report.results.items():
        raw = decode_raw(outcome.message)
        case = cases.get(name)
        if raw is None or case is None or "returned" not in raw:
            graded[name] = runner_verdict(outcome)
            continue
        if checker.kind == "custom":
            status, message = Status.INFRA, "custom checkers cannot judge call suites yet"
        else:
            problem = value_mismatch(checker, case.expected, raw["returned"])
            status, message = (Status.PASS, "") if problem is None else (Status.FAIL, problem)
        graded[name] = TestOutcome(name=name, status=status, message=message,
                                   time_s=outcome.time_s)
    return graded
