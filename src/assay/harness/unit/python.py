"""Python unit tests: test_* functions, unittest.TestCase methods, HumanEval's check()."""

from __future__ import annotations

import json
from collections.abc import Sequence

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec


@register_harness
class PythonUnitHarness(Harness):
    kind = "unit"
    languages = ("python",)
    batchable = True

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        files = {"runner.py": runner_source("python_unit.py"), "solution.py": task.code,
                 "tests.py": task.test_file}
        return RunSpec(language="python", files=files, entry="runner.py", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=self.limits(task, len(only) or 50))

    def build_batch(self, tasks: Sequence[HarnessTask]) -> RunSpec:
        # One file for the whole batch; solutions of one problem share their test file,
        # which the runner then parses and compiles once.
        tests: dict[str, int] = {}
        jobs = [{"solution": task.code, "tests": tests.setdefault(task.test_file, len(tests)),
                 "entry_point": task.problem.entry_point, "timeout": task.timeout_s}
                for task in tasks]
        batch = json.dumps({"tests": list(tests), "jobs": jobs})
        wall = sum(self.limits(task, 20).wall_s for task in tasks)
        limits = self.limits(tasks[0], 20).with_(wall_s=wall, cpu_s=wall)
        return RunSpec(language="python", files={"runner.py": runner_source("python_unit.py"),
                                                 "jobs.json": batch},
                       entry="runner.py", argv=("--batch", "jobs.json"), report=True,
                       limits=limits)

