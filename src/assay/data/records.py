"""The records assay reads and writes. Serialised, so pydantic; unknown fields are errors."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.sandbox.languages import get_language


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Status(StrEnum):
    """Outcome of one test. ``INFRA`` means the machinery failed, not the solution."""

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    INFRA = "INFRA"


Difficulty = Literal["easy", "medium", "hard"]


def canonical_language(name: str) -> str:
    """The registered name of a language or alias ('py' -> 'python'); ValueError if unknown."""
    try:
        return get_language(name).name
    except LookupError as exc:
        raise ValueError(str(exc)) from exc
    except Exception as exc:  # UnknownLanguage
        raise ValueError(str(exc)) from exc


class Checker(Record):
    """How a program's output (io) or return value (call) is compared with the expected one.

    Attributes:
        kind: ``exact`` (byte for byte, after trailing-newline normalisation), ``tokens``
            (whitespace-separated tokens equal), ``float`` (tokens equal, numbers within
            ``abs_tol`` or ``rel_tol``), or ``custom`` (``program`` decides).
        program: A checker program (``custom``): run as ``checker INPUT OUTPUT ANSWER`` (three
            file paths); exit code 0 accepts, anything else rejects; what it prints is the
            message.
        language: Language of ``program``; defaults to python.
    """

    kind: Literal["exact", "tokens", "float", "custom"] = "tokens"
    abs_tol: float = 1e-6
    rel_tol: float = 1e-6
    program: str | None = None
    language: str = "python"

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return canonical_language(value)


class TestCase(Record):
    """One test of a suite. ``io``: ``input`` -> ``expected`` stdout. ``call``: ``args`` (and
    ``kwargs``) -> ``expected`` return value, all JSON values. ``unit`` suites may list their
    tests' names here so that a test that is never collected counts as an error."""

    __test__ = False  # not a pytest class

    name: str
    input: str | None = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    expected: Any = None


class SuiteOrigin(Record):
    strategy: Literal["minimal", "structured", "contrastive", "human"] = "human"
    generator: str | None = None


class TestSuite(Record):
    """The tests of a problem.

    Attributes:
        kind: ``unit`` (a test file in the language's own style, in ``code``), ``io`` (stdin
            -> stdout cases) or ``call`` (arguments -> return value cases).
        code: The test file of a ``unit`` suite.
        cases: The cases of ``io`` / ``call`` suites; for ``unit``, optional expected names.
        prelude: Code placed before the tests (imports, helpers).
        checker: How outputs are compared (``io`` and ``call``).
        timeout_s: Time limit of each test.
    """

    __test__ = False

    kind: Literal["unit", "io", "call"]
    code: str = ""
    cases: list[TestCase] = Field(default_factory=list)
    prelude: str = ""
    checker: Checker = Field(default_factory=Checker)
    timeout_s: float = Field(default=5.0, gt=0)
    origin: SuiteOrigin = Field(default_factory=SuiteOrigin)

    @field_validator("cases")
    @classmethod
    def _unique_names(cls, cases: list[TestCase]) -> list[TestCase]:
        seen: set[str] = set()
        for case in cases:
            if case.name in seen:
                raise ValueError(f"test case name {case.name!r} appears twice")
            seen.add(case.name)
        return cases


class Problem(Record):
    """A task: a prompt, the tests that decide it, and what is known about it."""

    id: str
    language: str
    prompt: str = ""
    entry_point: str | None = None
    tests: TestSuite
    reference: str | None = None  # a known correct solution, when there is one
    difficulty: Difficulty | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return canonical_language(value)


class Solution(Record):
    """A candidate program for a problem; ``origin`` says what made it (model, temperature)."""

    id: str
    problem_id: str
    code: str
    language: str | None = None  # the problem's when unset
    origin: dict[str, Any] = Field(default_factory=dict)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        return None if value is None else canonical_language(value)


class TestOutcome(Record):
    __test__ = False

    name: str
    status: Status
    message: str = ""
    time_s: float = 0.0


class Resources(Record):
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    runs: int = 0  # sandbox runs it took (restarts after a crash add to it)


class SolutionReport(Record):
    """Every test's outcome of one solution, and the scores derived from them.

    ``pass_fraction`` is passed / (total - infra): tests the machinery failed to run are
    neither passes nor failures; it is None when no test could be run at all.
    """

    problem_id: str
    solution_id: str
    language: str
    code: str
    outcomes: list[TestOutcome]
    passed: int
    total: int
    infra: int = 0
    pass_fraction: float | None
    score: float | None  # 0-100
    compile_verdict: str | None = None
    compile_message: str = ""
    resources: Resources = Field(default_factory=Resources)
    difficulty: Difficulty | None = None
    key: str = ""  # content hash of everything that decided this report

    @property
    def complete(self) -> bool:
        """True when every test ran (none was lost to an infrastructure failure)."""
        return self.infra == 0 and self.total > 0
