"""Bash unit tests: test* functions, each passing when it returns 0."""

from __future__ import annotations

from collections.abc import Sequence

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec


@register_harness
class BashUnitHarness(Harness):
    """Runs each ``test*`` function of the tests (named by the function) in a new bash,
    after sourcing the solution and the tests, under a per-test ``timeout``.

    A test file without such functions that runs commands at its top level is one test,
    ``tests.sh``, passing when sourcing it ends with status 0.
    """

    kind = "unit"
    languages = ("bash",)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        suite = task.suite
        tests = suite.prelude + "\n" + suite.code if suite.prelude else suite.code
        files = {"runner.sh": runner_source("bash_unit.sh"), "solution.sh": task.code,
                 "tests.sh": tests}
        return RunSpec(language="bash", files=files, entry="runner.sh", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=self.limits(task, len(only) or 50))
