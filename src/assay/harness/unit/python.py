"""Python unit tests: test_* functions, unittest.TestCase methods, HumanEval's check()."""

from __future__ import annotations

from collections.abc import Sequence

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec


@register_harness
class PythonUnitHarness(Harness):
    kind = "unit"
    languages = ("python",)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        tests = task.suite.prelude + "\n" + task.suite.code if task.suite.prelude \
            else task.suite.code
        files = {"runner.py": runner_source("python_unit.py"), "solution.py": task.code,
                 "tests.py": tests}
        return RunSpec(language="python", files=files, entry="runner.py", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=self.limits(task, len(only) or 50))
