"""The harness contract: turn (problem, solution, suite) into one sandbox run whose runner
reports every test's outcome, and say how to grade what it reported."""

from __future__ import annotations

import importlib.resources
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from assay.data.records import Problem, TestOutcome, TestSuite
from assay.harness.protocol import RunnerReport
from assay.sandbox import Limits, RunSpec

# Room for the runner's own start (JVM, compile cache lookup) on top of the tests' time.
STARTUP_SLACK_S = 10.0
MAX_RUN_WALL_S = 600.0


@dataclass(frozen=True)
class HarnessTask:
    """One solution against one suite.

    Attributes:
        problem: The problem (its entry point, its language).
        code: The solution's source.
        language: The solution's language (registered name).
        suite: The tests to run.
        memory_mb: Memory of the whole run (all tests share it).
    """

    problem: Problem
    code: str
    language: str
    suite: TestSuite
    memory_mb: int = 512

    @property
    def timeout_s(self) -> float:
        return self.suite.timeout_s

    @property
    def test_file(self) -> str:
        """The suite's test file: its prelude, then its code."""
        suite = self.suite
        return suite.prelude + "\n" + suite.code if suite.prelude else suite.code


class Harness(ABC):
    """Builds the run of one (solution, suite) for one kind of suite and some languages.

    The runner gets the names of the tests to run as arguments (all when none), the time
    limit of each test in ``ASSAY_TEST_TIMEOUT`` and the problem's entry point in
    ``ASSAY_ENTRY_POINT``; it writes the report protocol (``assay.harness.protocol``) to
    ``ASSAY_REPORT_FD``. Those stay out of the files, so a compiled runner is compiled once
    per (solution, suite) whatever subset of tests a restart asks for.
    """

    kind: ClassVar[str]
    languages: ClassVar[tuple[str, ...]]
    # True when ``build_batch`` can verify several solutions in one run.
    batchable: ClassVar[bool] = False

    def test_names(self, task: HarnessTask) -> list[str] | None:
        """Tests known before running; None when only the runner can find them."""
        return [case.name for case in task.suite.cases] or None

    @abstractmethod
    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        """The run executing the tests named in ``only`` (all of them when empty)."""

    def build_batch(self, tasks: Sequence[HarnessTask]) -> RunSpec:
        """One run verifying every task (only when ``batchable``); the runner writes
        ``{"job": N}`` before the events of the N-th task."""
        raise NotImplementedError(f"{type(self).__name__} does not run batches")

    def grade(self, task: HarnessTask, report: RunnerReport) -> dict[str, TestOutcome]:
        """Final outcomes from what the runner reported (io suites compare outputs here)."""
        return report.results

    # -- helpers for subclasses ----------------------------------------------------------

    def limits(self, task: HarnessTask, tests: int) -> Limits:
        wall = min(MAX_RUN_WALL_S, STARTUP_SLACK_S + task.timeout_s * max(1, tests) * 1.5)
        return Limits(wall_s=wall, cpu_s=wall, memory_mb=task.memory_mb, processes=128,
                      output_bytes=4 * 1024 * 1024)

    def runner_env(self, task: HarnessTask) -> dict[str, str]:
        return {"ASSAY_TEST_TIMEOUT": f"{task.timeout_s:g}",
                "ASSAY_ENTRY_POINT": task.problem.entry_point or ""}


class ScriptUnitHarness(Harness):
    """A unit harness of an interpreted language whose runner (``runner_file`` in
    ``runners/``) reads ``solution.EXT`` and ``tests.EXT`` from the work dir."""

    kind = "unit"
    runner_file: ClassVar[str]
    extension: ClassVar[str]

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        ext = self.extension
        files = {f"runner.{ext}": runner_source(self.runner_file),
                 f"solution.{ext}": task.code, f"tests.{ext}": task.test_file}
        return RunSpec(language=self.languages[0], files=files, entry=f"runner.{ext}",
                       argv=tuple(only), env=self.runner_env(task), report=True,
                       limits=self.limits(task, len(only) or 50))


def runner_source(name: str) -> str:
    """A runner file shipped in ``assay/harness/runners``."""
    return (importlib.resources.files("assay.harness") / "runners" / name).read_text()


_HARNESSES: dict[tuple[str, str], Harness] = {}


def register_harness(cls: type[Harness]) -> type[Harness]:
    """Class decorator: the harness of its kind for each of its languages."""
    instance = cls()
    for language in cls.languages:
        _HARNESSES[(cls.kind, language)] = instance
    return cls


def get_harness(kind: str, language: str) -> Harness:
    try:
        return _HARNESSES[(kind, language)]
    except KeyError:
        have = sorted(lang for k, lang in _HARNESSES if k == kind)
        raise LookupError(f"no {kind!r} harness for {language!r}; {kind} suites run in: "
                          f"{', '.join(have) or 'none'}") from None


def harness_languages() -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for kind, language in sorted(_HARNESSES):
        kinds.setdefault(kind, []).append(language)
    return kinds


HarnessFactory = Callable[[], Harness]
