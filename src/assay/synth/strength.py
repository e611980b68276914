"""Suite strength: does a suite accept its reference solution, and which bugs does it catch?

A suite that fails the reference is wrong somewhere (a bad expected value, a test of
something the task never asked for): it is flagged invalid and names the failing tests.
A valid suite is run against mutants of the reference; its mutation score, killed /
(killed + survived), says how much of the reference's behaviour the tests pin down.
Mutants that do not compile ("stillborn") say nothing about the suite and are left out.

Everything runs through the verify machinery and a run store (reports keyed by code, suite
and toolchain), so a second run, or a run after a kill, costs nothing for what finished.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pydantic import Field

from assay.data.records import Problem, Record, Solution, SolutionReport, Status, TestSuite
from assay.engine import RunStore, default_workers, run_streaming
from assay.harness import HarnessTask, get_harness, run_batch
from assay.sandbox import Sandbox
from assay.synth.mutants import DEFAULT_MAX_MUTANTS, Mutant, make_mutants, supports
from assay.verify.pipeline import REPORT_KIND, batched, make_report, report_key

# A mutant's test gets ``mutant_timeout_s``, or this many times the reference's slowest test
# when that is more (rounded up to whole seconds, so that reruns find the same store keys),
# and at most the suite's own limit: mutants that loop forever are common and cost one
# limit per test.
SLOWDOWN_ALLOWED = 10
COMPILE_FAILURES = ("the solution does not compile", "compile error:")

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class StrengthConfig:
    """Settings of a suite-strength run.

    Attributes:
        max_mutants: The most mutants per reference.
        seed: Seed of the choice of mutants among every candidate.
        workers: Sandbox runs at once (default: one per core).
        memory_mb: Memory of each run.
        timeout_s: Time limit of each test, overriding the suites' own.
        mutant_timeout_s: The least time limit of a mutant's test (see SLOWDOWN_ALLOWED).
        batch_size: The most solutions per sandbox run where the harness batches.
    """

    max_mutants: int = DEFAULT_MAX_MUTANTS
    seed: int = 0
    workers: int | None = None
    memory_mb: int = 512
    timeout_s: float | None = None
    mutant_timeout_s: float = 0.5
    batch_size: int = 64


class MutantInfo(Record):
    id: str
    operator: str
    description: str
    line: int


class SuiteStrength(Record):
    """The strength of one problem's suite, measured with one reference solution.

    ``valid`` is None when the machinery lost some of the reference's tests (INFRA): run
    again. ``mutation_score`` is None when nothing was scored (invalid suite, no mutants).
    ``undecided`` mutants passed every test that ran but lost others to the machinery.
    """

    problem_id: str
    reference_id: str
    language: str
    strategy: str
    valid: bool | None
    failing_reference_tests: list[str] = Field(default_factory=list)
    suite_size: int = 0
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    stillborn: int = 0
    undecided: int = 0
    mutation_score: float | None = None
    survivors: list[MutantInfo] = Field(default_factory=list)
    note: str = ""


def measure_suites(pairs: Sequence[tuple[Problem, Solution]], sandbox: Sandbox,
                   store: RunStore, config: StrengthConfig | None = None,
                   progress: Progress | None = None) -> list[SuiteStrength]:
    """One record per (problem, reference), in input order.

    The references run first, all at once; then the mutants of the references that pass
    their suite, all at once (mutants of an invalid suite would measure nothing).
    """
    config = config or StrengthConfig()
    results = [_start(problem, reference) for problem, reference in pairs]
    tasks = [_task(problem, reference.code, _language(problem, reference),
                   _suite(problem.tests, config.timeout_s), config)
             for problem, reference in pairs]
    references: dict[int, SolutionReport] = {}
    _run(list(enumerate(tasks)), sandbox, store, config, "references", progress,
         references.__setitem__)
    mutants: list[tuple[int, Mutant]] = []
    for index, (_, reference) in enumerate(pairs):
        if _judge_reference(results[index], references[index]):
            made = make_mutants(reference.code, results[index].language, config.max_mutants,
                                config.seed)
            results[index].note = "" if made else _no_mutants(results[index].language)
            mutants += [(index, mutant) for mutant in made]
        if progress is not None:
            progress("mutating", index + 1, len(pairs))
    jobs: list[tuple[int, HarnessTask]] = []
    for index, mutant in mutants:
        limit = _mutant_timeout(tasks[index].suite.timeout_s, references[index], config)
        jobs.append((len(jobs), _task(pairs[index][0], mutant.code, results[index].language,
                                      _suite(tasks[index].suite, limit), config)))

    def tally(job: int, report: SolutionReport) -> None:
        index, mutant = mutants[job]
        _count(results[index], mutant, report)

    _run(jobs, sandbox, store, config, "mutants", progress, tally)
    for result in results:
        scored = result.killed + result.survived
        result.mutation_score = result.killed / scored if scored else None
        # Reports arrive in completion order; the record lists survivors in source order.
        result.survivors.sort(key=lambda m: (m.line, int(m.id[1:])))
    return results


def _start(problem: Problem, reference: Solution) -> SuiteStrength:
    return SuiteStrength(problem_id=problem.id, reference_id=reference.id,
                         language=_language(problem, reference),
                         strategy=problem.tests.origin.strategy, valid=None)


def _language(problem: Problem, reference: Solution) -> str:
    return reference.language or problem.language


def _suite(suite: TestSuite, timeout_s: float | None) -> TestSuite:
    if timeout_s is None or timeout_s == suite.timeout_s:
        return suite
    return suite.model_copy(update={"timeout_s": timeout_s})


def _task(problem: Problem, code: str, language: str, suite: TestSuite,
          config: StrengthConfig) -> HarnessTask:
    return HarnessTask(problem=problem, code=code, language=language, suite=suite,
                       memory_mb=config.memory_mb)


def _judge_reference(result: SuiteStrength, report: SolutionReport) -> bool:
    """Fill in validity from the reference's report; True when mutants should run."""
    result.suite_size = report.total
    result.failing_reference_tests = [o.name for o in report.outcomes
                                      if o.status not in (Status.PASS, Status.INFRA)]
    if result.failing_reference_tests:
        result.valid = False
        result.note = _first_failure(report)
    elif report.total == 0:
        result.valid, result.note = False, "the suite has no tests"
    elif report.infra:
        result.note = "the machinery lost some of the reference's tests (INFRA): run again"
    else:
        result.valid = True
    return result.valid is True


def _first_failure(report: SolutionReport) -> str:
    for outcome in report.outcomes:
        if outcome.status not in (Status.PASS, Status.INFRA):
            message = outcome.message.strip().splitlines()
            return f"{outcome.name}: {outcome.status.value}" + \
                (f": {message[0][:200]}" if message else "")
    return ""


def _no_mutants(language: str) -> str:
    if not supports(language):
        return f"no mutants: {language} is not mutated"
    return "no mutants: the reference has nothing to mutate"


def _mutant_timeout(suite_timeout: float, reference: SolutionReport,
                    config: StrengthConfig) -> float:
    allowed = SLOWDOWN_ALLOWED * max((o.time_s for o in reference.outcomes), default=0.0)
    limit = config.mutant_timeout_s if allowed <= config.mutant_timeout_s \
        else float(math.ceil(allowed))
    return min(suite_timeout, limit)


def _count(result: SuiteStrength, mutant: Mutant, report: SolutionReport) -> None:
    result.mutants += 1
    statuses = {o.status for o in report.outcomes}
    if (report.compile_verdict not in (None, "OK")
            or any(o.message.startswith(COMPILE_FAILURES) for o in report.outcomes)):
        result.stillborn += 1
    elif statuses & {Status.FAIL, Status.ERROR, Status.TIMEOUT}:
        result.killed += 1
    elif Status.INFRA in statuses or not report.outcomes:
        result.undecided += 1
    else:
        result.survived += 1
        result.survivors.append(MutantInfo(id=mutant.id, operator=mutant.operator,
                                           description=mutant.description, line=mutant.line))


def _run(items: list[tuple[int, HarnessTask]], sandbox: Sandbox, store: RunStore,
         config: StrengthConfig, phase: str, progress: Progress | None,
         on_report: Callable[[int, SolutionReport], None]) -> None:
    """Each task's report, handed to ``on_report`` with the task's number: from the store
    when it has it, else run in batches on every worker (as ``verify`` does). Reports with
    tests lost to the machinery are not stored, so a rerun retries them."""
    total, done, read = len(items), 0, 0

    def finished(number: int, report: SolutionReport) -> None:
        nonlocal done
        done += 1
        on_report(number, report)
        if progress is not None:
            progress(phase, done, total)

    def jobs() -> Iterator[tuple[Solution, HarnessTask, str]]:
        nonlocal read
        for number, task in items:
            read += 1
            key = report_key(task)
            stored = store.get(key)
            if stored is not None:
                finished(number, SolutionReport.model_validate(stored))
                continue
            # The number rides in the solution id, the one field batched() carries along.
            yield Solution(id=str(number), problem_id=task.problem.id, code=task.code), \
                task, key

    def work(batch: list[tuple[Solution, HarnessTask, str]]) -> list[SolutionReport]:
        tasks = [task for _, task, _ in batch]
        runs = run_batch(sandbox, get_harness(tasks[0].suite.kind, tasks[0].language), tasks)
        return [make_report(task, run, solution.id, key)
                for (solution, task, key), run in zip(batch, runs, strict=True)]

    if progress is not None:
        progress(phase, 0, total)
    workers = config.workers or default_workers()
    batches = batched(jobs(), config.batch_size, lambda: total - read, workers)
    for _, reports in run_streaming(batches, work, workers=workers):
        store.put_many([(r.key, REPORT_KIND, r.model_dump(mode="json"))
                        for r in reports if r.complete])
        for report in reports:
            finished(int(report.solution_id), report)
