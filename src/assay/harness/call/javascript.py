"""JavaScript call suites: the entry point called with each case's arguments.

One node process runs the suite (``runners/js_call.js``): the cases run in a worker
thread, each in a fresh vm context where the solution's top level has just run, under the
case's time limit (the vm timeout stops synchronous loops; the worker is stopped and
replaced when a case outlives it anyway, crashes it or calls ``process.exit``). Return
values come back as canonical JSON and are compared here, in ``grade``, as for Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from assay.data.records import TestOutcome
from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.harness.call.python import call_limits, cases_json, grade_calls
from assay.harness.protocol import RunnerReport
from assay.sandbox import RunSpec


@register_harness
class JavaScriptCallHarness(Harness):
    kind = "call"
    languages = ("javascript",)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        files = {"runner.js": runner_source("js_call.js"), "solution.js": task.code,
                 "cases.json": cases_json(task)}
        return RunSpec(language="javascript", files=files, entry="runner.js",
                       argv=tuple(only), env=self.runner_env(task), report=True,
                       limits=call_limits(self, task, len(only) or len(task.suite.cases)))

    def grade(self, task: HarnessTask, report: RunnerReport) -> dict[str, TestOutcome]:
        return grade_calls(task, report)
