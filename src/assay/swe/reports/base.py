"""The result type every report parser returns, and the rule that merges repeated test ids.

A report is judged on three levels. Each test id gets a :class:`TestStatus`. Each *unit*
(a pytest module, a Go package, a cargo test binary, a jest test file, a Surefire class) that
failed outside any test — it did not build, did not import, crashed, or a hook failed — is
named in ``unit_failures``. The report as a whole is :class:`Completeness`: ``NOT_RUN`` when
it holds no test result at all (missing, empty, malformed, or nothing ran), ``PARTIAL`` when it
holds results but is not to be trusted whole (cut short, unit failures, counts that disagree
with the runner's own summary), ``COMPLETE`` otherwise. ``NOT_RUN`` is never "all passed".

Duplicate ids: a test id that appears more than once in one report (``go test -count=N``, a
pytest test that failed and then errored in teardown, the same name in two cargo binaries)
is merged by *worst wins*: FAILED > ERROR > PASSED > SKIPPED; the message and duration are
those of the first occurrence with the winning status. Reruns that a runner records inside
one entry (Surefire's ``flakyFailure``, jest's retries, mocha's ``currentRetry``) keep the
runner's final status. Either way, a test seen both passing and failing is listed in
``flaky``, so that the caller can drop it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 4000
_MESSAGE_HEAD = 1000


class TestStatus(StrEnum):
    """Outcome of one test."""

    __test__ = False  # not a pytest test class, though its name says Test

    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


class Completeness(StrEnum):
    """How far a report can be trusted."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    NOT_RUN = "not_run"


# Worst first: the merge keeps the lowest rank.
_RANK = {TestStatus.FAILED: 0, TestStatus.ERROR: 1, TestStatus.PASSED: 2, TestStatus.SKIPPED: 3}
_BAD = frozenset({TestStatus.FAILED, TestStatus.ERROR})


class TestResult(BaseModel):
    """One test's outcome.

    Attributes:
        status: The outcome (merged over duplicates, see the module docstring).
        message: Failure or skip message, cut to ``MAX_MESSAGE_CHARS``.
        duration_s: Seconds, when the report gives them.
        unit: The package, binary, file or suite the test belongs to, when known.
        attempts: How many times the report saw the test run (duplicates and reruns).
    """

    model_config = ConfigDict(frozen=True)
    __test__ = False

    status: TestStatus
    message: str | None = None
    duration_s: float | None = None
    unit: str | None = None
    attempts: int = 1


class TestReport(BaseModel):
    """A parsed test report.

    Attributes:
        format: Which parser made it (``junit``, ``go-test-json``, ``jest-json``, ...).
        completeness: See :class:`Completeness`.
        tests: Test id -> result, in the order of the report's first result for each.
        unit_failures: Unit -> why it failed outside any test (its tests may be absent).
        errors: What was wrong with the report itself (truncated, malformed, inconsistent).
        duplicates: Ids seen more than once, merged by worst-wins.
        flaky: Ids seen both passing and failing within this report.
    """

    model_config = ConfigDict(frozen=True)
    __test__ = False

    format: str
    completeness: Completeness
    tests: dict[str, TestResult] = Field(default_factory=dict)
    unit_failures: dict[str, str] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    duplicates: list[str] = Field(default_factory=list)
    flaky: list[str] = Field(default_factory=list)

    @property
    def ran(self) -> bool:
        """Whether the suite ran at all (the report holds at least one result)."""
        return self.completeness is not Completeness.NOT_RUN

    def statuses(self) -> dict[str, TestStatus]:
        """Test id -> status."""
        return {test_id: result.status for test_id, result in self.tests.items()}

    def ids(self, *statuses: TestStatus) -> list[str]:
        """The ids whose status is one of ``statuses``, in report order."""
        return [test_id for test_id, result in self.tests.items() if result.status in statuses]


def clip(message: str | None) -> str | None:
    """Cut a message to ``MAX_MESSAGE_CHARS``, keeping its head and its tail."""
    if message is None:
        return None
    message = message.strip()
    if not message:
        return None
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    tail = MAX_MESSAGE_CHARS - _MESSAGE_HEAD
    # The head names the error, the tail usually holds the assertion.
    return f"{message[:_MESSAGE_HEAD]}\n[...]\n{message[-tail:]}"


def not_run(format: str, reason: str) -> TestReport:
    """A report for a suite that did not run (missing, empty or unreadable report)."""
    return TestReport(format=format, completeness=Completeness.NOT_RUN, errors=[reason])


class _Entry:
    __slots__ = ("occurrences", "reruns", "unit")

    def __init__(self, unit: str | None) -> None:
        self.occurrences: list[tuple[TestStatus, str | None, float | None]] = []
        self.reruns: list[TestStatus] = []
        self.unit = unit


class ReportBuilder:
    """Collects results while a parser reads, then applies the merge rule once."""

    def __init__(self, format: str) -> None:
        self.format = format
        self._entries: dict[str, _Entry] = {}
        self.unit_failures: dict[str, str] = {}
        self.errors: list[str] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, test_id: object) -> bool:
        return test_id in self._entries

    def add(self, test_id: str, status: TestStatus, *, message: str | None = None,
            duration_s: float | None = None, unit: str | None = None,
            reruns: Iterable[TestStatus] = ()) -> None:
        """Record one occurrence of a test.

        Args:
            test_id: The runner-native id.
            status: The runner's final status for this occurrence.
            message: Failure or skip message.
            duration_s: Seconds.
            unit: Package, binary, file or suite.
            reruns: Statuses of earlier attempts the runner recorded inside this entry.
        """
        entry = self._entries.get(test_id)
        if entry is None:
            entry = self._entries[test_id] = _Entry(unit)
        entry.occurrences.append((status, clip(message), duration_s))
        entry.reruns.extend(reruns)

    def unit_failure(self, unit: str, reason: str) -> None:
        """Record that a unit failed outside any test; a second reason is appended."""
        reason = clip(reason) or "failed"
        previous = self.unit_failures.get(unit)
        self.unit_failures[unit] = f"{previous}\n{reason}" if previous else reason

    def error(self, message: str) -> None:
        """Record a problem with the report itself."""
        self.errors.append(message)

    def build(self) -> TestReport:
        """Merge duplicates and judge completeness."""
        tests: dict[str, TestResult] = {}
        duplicates: list[str] = []
        flaky: list[str] = []
        for test_id, entry in self._entries.items():
            status, message, duration = min(entry.occurrences, key=lambda o: _RANK[o[0]])
            seen = {o[0] for o in entry.occurrences} | set(entry.reruns)
            if len(entry.occurrences) > 1:
                duplicates.append(test_id)
            if TestStatus.PASSED in seen and seen & _BAD:
                flaky.append(test_id)
            tests[test_id] = TestResult(
                status=status, message=message, duration_s=duration, unit=entry.unit,
                attempts=len(entry.occurrences) + len(entry.reruns))
        errors = list(self.errors)
        if not tests:
            completeness = Completeness.NOT_RUN
            if not errors and not self.unit_failures:
                errors.append("the report holds no test result")
        elif errors or self.unit_failures:
            completeness = Completeness.PARTIAL
        else:
            completeness = Completeness.COMPLETE
        return TestReport(format=self.format, completeness=completeness, tests=tests,
                          unit_failures=dict(self.unit_failures), errors=errors,
                          duplicates=duplicates, flaky=flaky)


def load_bytes(path: Path) -> bytes | str:
    """A report file's bytes, or why there are none (missing, unreadable, empty)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"report missing: {path}"
    except OSError as exc:
        return f"report unreadable: {path}: {exc}"
    if not data.strip():
        return f"report empty: {path}"
    return data


def read_report(path: Path, format: str, parse: Callable[[bytes], TestReport]) -> TestReport:
    """Read a report file and parse it; a missing, unreadable or empty file did not run.

    Args:
        path: The report file.
        format: The format name for the NOT_RUN report.
        parse: The parser, given the file's bytes.

    Returns:
        The parsed report, or a NOT_RUN one saying why there is none.
    """
    data = load_bytes(path)
    return not_run(format, data) if isinstance(data, str) else parse(data)


def as_text(data: str | bytes) -> str:
    """Decode runner output; bytes that are not UTF-8 become U+FFFD rather than an error."""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
