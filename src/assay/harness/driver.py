"""Run one solution against one suite and get one outcome per test, whatever the code does.

The runner normally runs every test in one sandbox run. When the run ends before the runner
reports every test (a crash that takes the runner down, a hang it cannot interrupt, memory
exhausted), the test that was running gets ERROR or TIMEOUT, and the runner is started again
for the tests not yet run; the compile is cached, so a restart costs one process start.
Tests that never ran are never passes: they end as ERROR (the code's fault) or INFRA (the
machinery's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assay.data.records import Resources, Status, TestOutcome
from assay.harness.base import Harness, HarnessTask
from assay.harness.protocol import RunnerReport, parse_batch_report, parse_report
from assay.sandbox import RunResult, Sandbox, Verdict

# A run that loses to the machinery (SANDBOX_ERROR) is retried this many times.
INFRA_RETRIES = 1
COLLECTION = "<collection>"


@dataclass
class SuiteRun:
    outcomes: list[TestOutcome]
    compile_verdict: str | None = None
    compile_message: str = ""
    resources: Resources = field(default_factory=Resources)


def run_tests(sandbox: Sandbox, harness: Harness, task: HarnessTask) -> SuiteRun:
    expected = harness.test_names(task)
    names: list[str] | None = list(expected) if expected else None
    outcomes: dict[str, TestOutcome] = {}
    resources = Resources()
    compile_verdict: str | None = None
    compile_message = ""
    only: list[str] = []
    infra_left = INFRA_RETRIES
    while True:
        spec = harness.build(task, only)
        result = sandbox.run(spec)
        _account(resources, result)
        if result.compile is not None:
            compile_verdict = compile_verdict or result.compile.verdict.value
            if result.compile.verdict is not Verdict.OK:
                compile_message = _compile_excerpt(result.compile.stderr
                                                   or result.compile.stdout
                                                   or result.compile.error or "")
        if result.verdict is Verdict.SANDBOX_ERROR and infra_left > 0:
            infra_left -= 1
            continue
        report = parse_report(result.report)
        if names is None and report.collected is not None:
            names = report.collected
        graded = harness.grade(task, report)
        known = set(names) if names is not None else set(graded)
        outcomes.update({name: o for name, o in graded.items() if name in known})
        if result.verdict is Verdict.COMPILE_ERROR:
            message = f"compile error: {compile_message or _tail(result.stderr)}"
            return _finish(names, outcomes, Status.ERROR, message, compile_verdict,
                           compile_message or message, resources)
        if result.verdict is Verdict.SANDBOX_ERROR:
            return _finish(names, outcomes, Status.INFRA, f"sandbox error: {result.error}",
                           compile_verdict, compile_message, resources)
        if report.fatal is not None:
            return _finish(names, outcomes, Status.ERROR, report.fatal, compile_verdict,
                           compile_message, resources)
        if names is None:
            message = "the test runner exited before collecting any test: " + _why(result)
            return _finish(None, outcomes, Status.ERROR, message, compile_verdict,
                           compile_message, resources)
        if report.started is not None and report.started in known \
                and report.started not in outcomes:
            status = Status.TIMEOUT if result.verdict is Verdict.TIME_LIMIT else Status.ERROR
            outcomes[report.started] = TestOutcome(name=report.started, status=status,
                                                   message=_why(result))
        remaining = [name for name in names if name not in outcomes]
        if not remaining:
            break
        progressed = bool(report.results) or report.started is not None
        if report.done or not progressed:
            # The runner finished without these tests, or died before starting any.
            message = ("not run: the runner finished without reporting it" if report.done
                       else "not run: the test runner exited early: " + _why(result))
            return _finish(names, outcomes, Status.ERROR, message, compile_verdict,
                           compile_message, resources)
        only = remaining
    return _finish(names, outcomes, Status.ERROR, "", compile_verdict, compile_message,
                   resources)


def run_batch(sandbox: Sandbox, harness: Harness, tasks: list[HarnessTask]) -> list[SuiteRun]:
    """Verify several solutions in one sandbox run when the harness can (``batchable``).

    The runner reads every input before any test starts and still runs each test in its own
    process. A solution whose report is not conclusive (the run died, a test was not
    reported) is verified again on its own by ``run_tests``, with its restarts.
    """
    if len(tasks) == 1 or not harness.batchable:
        return [run_tests(sandbox, harness, task) for task in tasks]
    result = sandbox.run(harness.build_batch(tasks))
    reports = parse_batch_report(result.report) if result.verdict is not \
        Verdict.SANDBOX_ERROR else {}
    runs = []
    for index, task in enumerate(tasks):
        report = reports.get(index)
        run = _conclusive(harness, task, report) if report is not None else None
        if run is None:
            run = run_tests(sandbox, harness, task)
        else:
            run.resources = Resources(
                wall_s=round(sum(o.time_s for o in run.outcomes), 6), runs=1,
                peak_memory_mb=result.peak_memory_mb)
        runs.append(run)
    return runs


def _conclusive(harness: Harness, task: HarnessTask, report: RunnerReport) -> SuiteRun | None:
    """The outcomes of one job of a batch when its report settles every test, else None."""
    expected = harness.test_names(task)
    names = list(expected) if expected else report.collected
    if report.fatal is not None:
        return _finish(names, dict(report.results), Status.ERROR, report.fatal, None, "",
                       Resources())
    if not report.done or names is None:
        return None
    graded = harness.grade(task, report)
    outcomes = {name: o for name, o in graded.items() if name in set(names)}
    return _finish(names, outcomes, Status.ERROR,
                   "not run: the runner finished without reporting it", None, "", Resources())


def _finish(names: list[str] | None, outcomes: dict[str, TestOutcome], status: Status,
            message: str, compile_verdict: str | None, compile_message: str,
            resources: Resources) -> SuiteRun:
    if names is None:
        names = list(outcomes) or [COLLECTION]
        if not outcomes and not message:
            message = "no tests were collected"
    elif not names:
        names = [COLLECTION]
        message = message or "no tests were collected"
    ordered = [outcomes.get(name) or TestOutcome(name=name, status=status, message=message)
               for name in names]
    return SuiteRun(ordered, compile_verdict, compile_message, resources)


def _account(resources: Resources, result: RunResult) -> None:
    resources.runs += 1
    resources.wall_s = round(resources.wall_s + result.wall_s, 6)
    resources.cpu_s = round(resources.cpu_s + result.cpu_s, 6)
    resources.peak_memory_mb = max(resources.peak_memory_mb, result.peak_memory_mb)


def _why(result: RunResult) -> str:
    if result.verdict is Verdict.TIME_LIMIT:
        return f"the run exceeded its time limit ({result.limit_exceeded or 'wall'})"
    if result.verdict is Verdict.MEMORY_LIMIT:
        return "the run exceeded its memory limit"
    if result.verdict is Verdict.OUTPUT_LIMIT:
        return "the run printed more output than allowed"
    detail = _crash_excerpt(result.stderr)
    if result.signal:
        return f"killed by signal {result.signal}" + (f": {detail}" if detail else "")
    return f"exited with code {result.exit_code}" + (f": {detail}" if detail else "")


# Runtimes that print the reason first and a long dump after it (Go, the JVM).
_CRASH_HEADS = ("panic:", "fatal error:", "Exception in thread", "thread '")


def _crash_excerpt(stderr: str, limit: int = 1500) -> str:
    """The line that says why a runtime died, then the end of its stderr."""
    heads = [line for line in stderr.splitlines() if line.startswith(_CRASH_HEADS)][:2]
    tail = _tail(stderr, limit)
    if heads and heads[0] not in tail:
        return _tail("\n".join(heads) + "\n...\n" + tail[-(limit // 2):], limit)
    return tail


def _compile_excerpt(text: str, limit: int = 1500) -> str:
    """A compiler's error lines first: its warnings must not push them out of the message."""
    text = text.strip()
    if len(text) <= limit:
        return text
    errors = [line for line in text.splitlines() if "error" in line.lower()]
    return _tail("\n".join(errors) if errors else text[:limit], limit)


def _tail(text: str, limit: int = 1500) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]
