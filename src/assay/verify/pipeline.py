"""Problems x solutions -> one report per solution, through the run store (resumable)."""

from __future__ import annotations

import hashlib
import importlib.resources
import inspect
import json
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO

import numpy as np

from assay.data.errors import InputError
from assay.data.io import RecordWriter, read_numbered_records, read_rows
from assay.data.records import Problem, Solution, SolutionReport, Status, TestSuite
from assay.engine import RunStore, content_key, default_workers, run_streaming
from assay.harness import Harness, HarnessTask, SuiteRun, get_harness, run_batch, run_tests
from assay.sandbox import Sandbox
from assay.sandbox.languages import get_language
from assay.verify.scoring import mean_pass_at_k, pass_fraction, score
from assay.verify.selection import DEFAULT_TAUS, SweepCounter, SweepRow

REPORT_KIND = "solution-report"
MIN_BATCH = 4  # the smallest batch the end of a run shrinks to
PASS_AT = (1, 5, 10)

Progress = Callable[[SolutionReport, bool], None]  # (report, came from the store)


@dataclass(frozen=True)
class VerifyConfig:
    """Settings of a verification run.

    Attributes:
        workers: Sandbox runs at once (default: one per core).
        memory_mb: Memory of each solution's run.
        timeout_s: Time limit of each test, overriding the suites' own.
        tau: Pass-fraction threshold used in the summary ("retained at tau").
        batch_size: The most solutions verified per sandbox run by harnesses that can batch
            (each solution's tests still run in a process of their own); batches shrink
            near the end of the run so that every worker stays busy.
    """

    workers: int | None = None
    memory_mb: int = 512
    timeout_s: float | None = None
    tau: float = 1.0
    batch_size: int = 64


@dataclass
class VerifySummary:
    solutions: int = 0
    problems: int = 0
    from_store: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    pass_at: dict[int, float | None] = field(default_factory=dict)
    mean_pass_fraction: float | None = None
    fully_passing: int = 0
    retained: int = 0
    retained_problems: int = 0
    incomplete: int = 0
    tau: float = 1.0
    sweep: list[SweepRow] = field(default_factory=list)


def load_problems(path: str | Path) -> dict[str, Problem]:
    """Every problem of a file by id; InputError on a bad row or a repeated id."""
    problems: dict[str, Problem] = {}
    for line, problem in read_numbered_records(path, Problem):
        if problem.id in problems:
            raise InputError(str(path), line, f"problem id {problem.id!r} appears twice", "id")
        get_harness(problem.tests.kind, problem.language)  # a clear error before any run
        problems[problem.id] = problem
    return problems


def iter_solutions(path: str | Path, problems: dict[str, Problem]) -> Iterator[Solution]:
    """Solutions of a file, each checked against its problem (streamed)."""
    for line, solution in read_numbered_records(path, Solution):
        problem = problems.get(solution.problem_id)
        if problem is None:
            raise InputError(str(path), line, f"no problem with id {solution.problem_id!r} "
                                              f"in the problems file", "problem_id")
        language = solution.language or problem.language
        try:
            get_harness(problem.tests.kind, language)
        except LookupError as exc:
            raise InputError(str(path), line, str(exc), "language") from None
        yield solution


def check_solutions(path: str | Path, problems: dict[str, Problem]) -> int:
    """Validate every solution and refuse repeated ids; returns how many there are.

    Ids are kept as 8-byte digests in a flat array (8 bytes a solution, not a Python set),
    so checking a file of millions of solutions stays small.
    """
    digests = array("Q")
    for solution in iter_solutions(path, problems):
        digests.append(_id_digest(solution.id))
    values = np.frombuffer(digests, dtype=np.uint64)
    unique, counts = np.unique(values, return_counts=True)
    repeated = set(unique[counts > 1].tolist())
    if repeated:
        seen: set[int] = set()
        for line, row in read_rows(path):
            digest = _id_digest(str(row.get("id")))
            if digest in repeated and digest in seen:
                raise InputError(str(path), line, f"solution id {row.get('id')!r} appears "
                                                  f"twice", "id")
            seen.add(digest)
    return len(digests)


def _id_digest(solution_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(solution_id.encode(), digest_size=8).digest(),
                          "little")


@cache
def harness_version(harness: Harness) -> str:
    """Hash of the harness's module and of the runner files it names: changing either
    invalidates the stored results of that harness, and only of that one."""
    module_path = Path(inspect.getfile(type(harness)))
    source = module_path.read_text()
    digest = hashlib.sha256(source.encode())
    runners = importlib.resources.files("assay.harness") / "runners"
    for entry in sorted(runners.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name in source:
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()[:16]


def task_for(problem: Problem, solution: Solution, config: VerifyConfig) -> HarnessTask:
    suite = problem.tests
    if config.timeout_s is not None:
        suite = suite.model_copy(update={"timeout_s": config.timeout_s})
    return HarnessTask(problem=problem, code=solution.code,
                       language=solution.language or problem.language, suite=suite,
                       memory_mb=config.memory_mb)


def report_key(task: HarnessTask, suite_digest: str | None = None) -> str:
    """Hash of everything that decides a report: code, suite, limits, toolchain, harness.
    ``suite_digest`` (``suite_digest(task.suite)``) saves hashing a suite shared by many
    solutions once per solution."""
    toolchain = get_language(task.language).toolchain().version
    harness = get_harness(task.suite.kind, task.language)
    return content_key(REPORT_KIND, harness_version(harness), task.language, toolchain, task.code,
                       suite_digest or _suite_digest(task.suite), task.problem.entry_point,
                       task.memory_mb)


def _suite_digest(suite: TestSuite) -> str:
    return content_key("suite", suite.model_dump(mode="json"))


def verify_one(sandbox: Sandbox, task: HarnessTask, solution_id: str, key: str = ""
               ) -> SolutionReport:
    """Run one solution's tests and score it."""
    run = run_tests(sandbox, get_harness(task.suite.kind, task.language), task)
    return make_report(task, run, solution_id, key)


def make_report(task: HarnessTask, run: SuiteRun, solution_id: str, key: str
                ) -> SolutionReport:
    passed, total, infra, fraction = pass_fraction(run.outcomes)
    return SolutionReport(
        problem_id=task.problem.id, solution_id=solution_id, language=task.language,
        code=task.code, outcomes=run.outcomes, passed=passed, total=total, infra=infra,
        pass_fraction=fraction, score=score(fraction), compile_verdict=run.compile_verdict,
        compile_message=run.compile_message, resources=run.resources,
        difficulty=task.problem.difficulty, key=key)


Job = tuple[Solution, HarnessTask, str]


def batched(jobs: Iterator[Job], size: int, left: Callable[[], int] | None = None,
            workers: int = 1) -> Iterator[list[Job]]:
    """Consecutive jobs of one harness, up to ``size`` per batch (1 when it cannot batch).

    Batches are as large as allowed while there is much work left: each costs a sandbox run
    and a runner start. Near the end of the input (``left()``: jobs still to come after the
    one being read), they shrink to what keeps every worker busy, so that the workers finish
    together instead of one waiting for another's last large batch.
    """
    batch: list[Job] = []
    target = size
    for job in jobs:
        task = job[1]
        harness = get_harness(task.suite.kind, task.language)
        if batch and (len(batch) >= target or not harness.batchable
                      or (batch[0][1].suite.kind, batch[0][1].language)
                      != (task.suite.kind, task.language)):
            yield batch
            batch = []
        if not batch and left is not None:
            share = -(-(left() + 1) // (2 * workers))  # half of a worker's share, rounded up
            target = max(min(MIN_BATCH, size), min(size, share))
        batch.append(job)
    if batch:
        yield batch


def verify(problems_path: str | Path, solutions_path: str | Path, output: str | Path,
           store: RunStore, sandbox: Sandbox, config: VerifyConfig | None = None,
           progress: Progress | None = None) -> VerifySummary:
    """Verify every solution, write one report per solution to ``output`` in input order.

    All input is checked before anything runs. Finished reports are committed to ``store``
    batch by batch; a rerun after a kill runs only what is missing, and the output is the
    same as that of an uninterrupted run. Reports with tests lost to the machinery (INFRA)
    are not stored, so a rerun retries them.
    """
    config = config or VerifyConfig()
    problems = load_problems(problems_path)
    total = check_solutions(solutions_path, problems)  # nothing runs on bad input
    read = 0  # solutions read so far by jobs()
    fresh: dict[str, SolutionReport] = {}
    suites: dict[str, str] = {}  # problem id -> digest of its suite (as this run sees it)
    # Which report goes where in the output, in input order, kept on disk (not in memory).
    with tempfile.TemporaryFile("w+", encoding="utf-8") as order:

        def jobs() -> Iterator[Job]:
            nonlocal read
            for solution in iter_solutions(solutions_path, problems):
                read += 1
                problem = problems[solution.problem_id]
                task = task_for(problem, solution, config)
                if problem.id not in suites:
                    suites[problem.id] = _suite_digest(task.suite)
                key = report_key(task, suites[problem.id])
                order.write(json.dumps([key, solution.id, problem.id]) + "\n")
                if store.has(key):
                    if progress is not None:
                        progress(_stored(store, key, solution.id, problem), True)
                    continue
                yield solution, task, key

        def work(batch: list[Job]) -> list[SolutionReport]:
            tasks = [task for _, task, _ in batch]
            runs = run_batch(sandbox, get_harness(tasks[0].suite.kind, tasks[0].language),
                             tasks)
            return [make_report(task, run, solution.id, key)
                    for (solution, task, key), run in zip(batch, runs, strict=True)]

        workers = config.workers or default_workers()
        batches = batched(jobs(), config.batch_size, lambda: total - read, workers)
        for _, reports in run_streaming(batches, work, workers=workers):
            # One transaction per batch: a kill loses at most the batch being committed.
            store.put_many([(report.key, REPORT_KIND, report.model_dump(mode="json"))
                            for report in reports if report.complete])
            fresh.update((report.key, report) for report in reports if not report.complete)
            if progress is not None:
                for report in reports:
                    progress(report, False)
        order.seek(0)
        return _write_output(problems, order, output, store, fresh, config)


def _stored(store: RunStore, key: str, solution_id: str, problem: Problem) -> SolutionReport:
    value = store.get(key)
    assert value is not None
    return _attach(SolutionReport.model_validate(value), solution_id, problem)


def _attach(report: SolutionReport, solution_id: str, problem: Problem) -> SolutionReport:
    """The same code may have been verified for another solution or problem with the same
    tests (same key): the ids and the problem's labels are this one's."""
    return report.model_copy(update={"solution_id": solution_id, "problem_id": problem.id,
                                     "difficulty": problem.difficulty})


def _write_output(problems: dict[str, Problem], order: IO[str], output: str | Path,
                  store: RunStore, fresh: dict[str, SolutionReport], config: VerifyConfig
                  ) -> VerifySummary:
    summarizer = Summarizer(config.tau)
    with RecordWriter(output) as writer:
        for line in order:
            key, solution_id, problem_id = json.loads(line)
            problem = problems[problem_id]
            report = fresh.get(key)
            report = (_stored(store, key, solution_id, problem) if report is None
                      else _attach(report, solution_id, problem))
            writer.write(report)
            summarizer.add(report)
    return summarizer.finish()


class Summarizer:
    """Streams reports into the closing summary (counts, pass@k, retained at tau, sweep).

    Memory grows with the number of problems, never with the number of solutions.
    """

    def __init__(self, tau: float) -> None:
        self.summary = VerifySummary(tau=tau)
        self._counts: dict[str, tuple[int, int]] = {}
        self._fraction_sum = 0.0
        self._fraction_count = 0
        self._sweep = SweepCounter((*DEFAULT_TAUS, tau))

    def add(self, report: SolutionReport) -> None:
        s = self.summary
        s.solutions += 1
        for outcome in report.outcomes:
            s.statuses[outcome.status.value] += 1
        n, c = self._counts.get(report.problem_id, (0, 0))
        correct = report.complete and report.pass_fraction == 1.0
        self._counts[report.problem_id] = (n + 1, c + int(correct))
        s.fully_passing += int(correct)
        if not report.complete:
            s.incomplete += 1
        if report.pass_fraction is not None:
            self._fraction_sum += report.pass_fraction
            self._fraction_count += 1
        self._sweep.add(report)

    def finish(self) -> VerifySummary:
        s = self.summary
        s.problems = len(self._counts)
        s.pass_at = {k: mean_pass_at_k(self._counts, k) for k in PASS_AT}
        s.mean_pass_fraction = (self._fraction_sum / self._fraction_count
                                if self._fraction_count else None)
        s.sweep = [self._sweep.row(tau) for tau in DEFAULT_TAUS]
        retained = self._sweep.row(s.tau)
        s.retained, s.retained_problems = retained.solutions, retained.problems
        return s


def outcome_statuses() -> list[str]:
    return [status.value for status in Status]
