"""Calls of Python functions checked by running them: f(input) == expected, as Python values.

Used to reproduce recorded outputs (CRUXEval rows), to verify generated tasks and to score
output and input predictions. The comparison happens inside the sandbox
(``runners/crux_runner.py``), many jobs to a sandbox run, one forked child per call;
predictions that are not Python literals are evaluated in a child of their own.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from assay.engine import run_streaming
from assay.sandbox import Limits, RunResult, RunSpec, Sandbox

CheckKind = Literal["check", "output", "input"]
STARTUP_SLACK_S = 10.0


@dataclass(frozen=True)
class ExecutionJob:
    """One call to check.

    Attributes:
        kind: ``check``: f(input) == expected, both from the dataset. ``output``:
            f(input) == prediction. ``input``: f(prediction) == expected.
        code: Defines ``entry_point``.
        entry_point: The function called.
        input: The call's arguments as Python source (check, output).
        expected: The expected return value as Python source (check, input).
        prediction: A predicted return value (output) or predicted arguments, bare or as
            ``f(...)`` (input).
    """

    kind: CheckKind
    code: str
    entry_point: str = "f"
    input: str | None = None
    expected: str | None = None
    prediction: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "code": self.code, "entry_point": self.entry_point,
                "input": self.input, "expected": self.expected, "prediction": self.prediction}


@dataclass(frozen=True)
class ExecutionResult:
    """How a call compared.

    Attributes:
        equal: True or False; None when a ``check`` could not be decided (the call raised,
            timed out, the machinery failed).
        actual: The value the call returned (its repr, bounded).
        error: Why the call or the comparison failed.
        timed_out: The call (or evaluating the prediction) exceeded the time limit.
        evaluated: ``literal`` (the prediction was read without running anything) or
            ``expression`` (it was evaluated in a child of its own).
        infra: The sandbox run failed; nothing is known about the call.
    """

    equal: bool | None
    actual: str | None = None
    error: str | None = None
    timed_out: bool = False
    evaluated: str | None = None
    infra: bool = False


def runner_source() -> str:
    return (importlib.resources.files("assay.trace") / "runners" / "crux_runner.py").read_text()


def batch_spec(jobs: Sequence[ExecutionJob], timeout_s: float, memory_mb: int = 512) -> RunSpec:
    files = {"runner.py": runner_source(),
             "jobs.json": json.dumps({"timeout": timeout_s,
                                      "jobs": [job.as_dict() for job in jobs]})}
    # A job may take two children (an untrusted prediction, then the decision).
    wall = STARTUP_SLACK_S + 1.2 * sum(2 * timeout_s + 0.2 for _ in jobs)
    limits = Limits(wall_s=wall, cpu_s=wall, memory_mb=memory_mb, processes=128,
                    output_bytes=16 * 1024 * 1024)
    return RunSpec(language="python", files=files, entry="runner.py", argv=("jobs.json",),
                   report=True, limits=limits)


def parse_results(result: RunResult, count: int
                  ) -> tuple[dict[int, ExecutionResult], int | None]:
    """The results a checker run reported, and the job it started last but did not finish
    (None when it finished every job it started)."""
    found: dict[int, ExecutionResult] = {}
    started: int | None = None
    for line in (result.report or "").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        index = event.get("job", event.get("start"))
        if not isinstance(index, int) or not 0 <= index < count:
            continue
        if "start" in event:
            started = index
            continue
        equal = event.get("equal")
        found[index] = ExecutionResult(
            equal=equal if isinstance(equal, bool) else None,
            actual=_text(event.get("actual")), error=_text(event.get("error")),
            timed_out=bool(event.get("timeout")), evaluated=_text(event.get("evaluated")))
    return found, (started if started is not None and started not in found else None)


def check_batch(sandbox: Sandbox, jobs: Sequence[ExecutionJob], timeout_s: float,
                memory_mb: int = 512) -> list[ExecutionResult]:
    """Results of a batch of jobs. A job that takes the checker down (a prediction may kill
    it) gets an error of its own and a new sandbox run takes the jobs after it; jobs lost to
    the machinery are INFRA."""
    results: dict[int, ExecutionResult] = {}
    pending = list(range(len(jobs)))
    while pending:
        run = sandbox.run(batch_spec([jobs[i] for i in pending], timeout_s, memory_mb))
        found, dying = parse_results(run, len(pending))
        for local, result in found.items():
            results[pending[local]] = result
        problem = (run.error or run.stderr or "").strip()[-300:]
        why = f"{run.verdict}{': ' + problem if problem else ''}"
        if dying is not None:
            index = pending[dying]
            results[index] = ExecutionResult(
                equal=None if jobs[index].kind == "check" else False,
                error=f"the checker died while running it ({why})")
        remaining = [index for index in pending if index not in results]
        if len(remaining) == len(pending):
            for index in remaining:
                results[index] = ExecutionResult(
                    equal=None, infra=True, error=f"the checker did not finish ({why})")
            break
        pending = remaining
    return [results[index] for index in range(len(jobs))]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def run_checks(sandbox: Sandbox, jobs: Sequence[ExecutionJob], timeout_s: float = 5.0,
               batch_size: int = 64, workers: int | None = None, memory_mb: int = 512,
               progress: Callable[[int], None] | None = None) -> list[ExecutionResult]:
    """Results of every job, in order; ``progress(n)`` after each batch of n jobs."""
    batches = [list(jobs[start:start + batch_size])
               for start in range(0, len(jobs), batch_size)]
    done: dict[int, list[ExecutionResult]] = {}

    def work(index: int) -> list[ExecutionResult]:
        return check_batch(sandbox, batches[index], timeout_s, memory_mb)

    for index, results in run_streaming(range(len(batches)), work, workers=workers):
        done[index] = results
        if progress is not None:
            progress(len(results))
    return [result for index in range(len(batches)) for result in done[index]]
