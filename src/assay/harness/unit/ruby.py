"""Ruby unit tests: Minitest::Test / Test::Unit::TestCase methods, or top-level raises."""

from __future__ import annotations

from collections.abc import Sequence

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec


@register_harness
class RubyUnitHarness(Harness):
    """Runs each test method (``Class#test_name``) in its own forked Ruby process.

    Files without test classes run each top-level statement that raises or asserts as a
    test (``assert:LINE``), after the plain statements before it.
    """

    kind = "unit"
    languages = ("ruby",)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        suite = task.suite
        tests = suite.prelude + "\n" + suite.code if suite.prelude else suite.code
        files = {"runner.rb": runner_source("ruby_unit.rb"), "solution.rb": task.code,
                 "tests.rb": tests}
        return RunSpec(language="ruby", files=files, entry="runner.rb", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=self.limits(task, len(only) or 50))
