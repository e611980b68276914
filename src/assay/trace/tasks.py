"""Execution-prediction tasks from Python functions with one call and its recorded output.

Every row's call is run in the sandbox first: a row whose call does not return the recorded
output (compared as Python values) yields no task and is reported with why. The others give
an output-prediction task (code and input shown, output asked) and an input-prediction task
(code and output shown, an input asked; any input for which the call returns the output is
right), both with an answer verified by running it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assay.data.errors import InputError
from assay.data.io import RecordWriter, read_numbered_records
from assay.sandbox import Sandbox
from assay.trace.execution import ExecutionJob, ExecutionResult, run_checks
from assay.trace.records import CruxRecord, PredictionTask, TaskKind

TASK_KINDS: tuple[TaskKind, ...] = ("output", "input")


def read_crux(path: str | Path) -> Iterator[tuple[int, CruxRecord]]:
    """(line, row) of a file of {id, code, input, output} rows; InputError on a bad row."""
    seen: set[str] = set()
    for line, record in read_numbered_records(path, CruxRecord):
        if record.id in seen:
            raise InputError(str(path), line, f"id {record.id!r} appears twice", "id")
        seen.add(record.id)
        yield line, record


def output_prompt(row: CruxRecord) -> str:
    return (f"```python\n{row.code.rstrip()}\n\nassert {row.entry_point}({row.input}) == ??\n"
            f"```\nReplace ?? with the value {row.entry_point} returns, as a Python literal.")


def input_prompt(row: CruxRecord) -> str:
    return (f"```python\n{row.code.rstrip()}\n\nassert {row.entry_point}(??) == {row.output}\n"
            f"```\nReplace ?? with arguments for which the assertion holds.")


def reproduction_job(row: CruxRecord) -> ExecutionJob:
    return ExecutionJob(kind="check", code=row.code, entry_point=row.entry_point,
                        input=row.input, expected=row.output)


def tasks_for(row: CruxRecord, kinds: Sequence[TaskKind]) -> list[PredictionTask]:
    prompts = {"output": output_prompt, "input": input_prompt}
    return [PredictionTask(id=f"{row.id}/{kind}", source_id=row.id, kind=kind, code=row.code,
                           input=row.input, output=row.output, entry_point=row.entry_point,
                           prompt=prompts[kind](row))
            for kind in kinds]


def failure_reason(result: ExecutionResult) -> str:
    if result.infra:
        return f"infra: {result.error}"
    if result.timed_out:
        return "timed out"
    if result.error:
        return f"error: {result.error}"
    return f"returned {result.actual}"


@dataclass
class TasksSummary:
    """Rows read, rows whose recorded output was reproduced, tasks written."""

    rows: int = 0
    reproduced: int = 0
    tasks: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (id, why)
    infra: int = 0


def generate_tasks(input_path: str | Path, output: str | Path, sandbox: Sandbox,
                   kinds: Sequence[TaskKind] = TASK_KINDS, timeout_s: float = 5.0,
                   batch_size: int = 64, workers: int | None = None,
                   failures_path: str | Path | None = None,
                   progress: Callable[[int], None] | None = None) -> TasksSummary:
    """Reproduce every row by running it, then write the tasks of the rows that reproduce
    (and, to ``failures_path``, the rows that do not, with why)."""
    unknown = [kind for kind in kinds if kind not in TASK_KINDS]
    if unknown or not kinds:
        raise ValueError(f"task kinds are {', '.join(TASK_KINDS)}; got {', '.join(kinds)}")
    rows = [row for _, row in read_crux(input_path)]
    results = run_checks(sandbox, [reproduction_job(row) for row in rows], timeout_s,
                         batch_size, workers, progress=progress)
    summary = TasksSummary(rows=len(rows))
    failures = RecordWriter(failures_path) if failures_path is not None else None
    try:
        with RecordWriter(output, PredictionTask) as writer:
            for row, result in zip(rows, results, strict=True):
                if result.equal:
                    summary.reproduced += 1
                    for task in tasks_for(row, kinds):
                        writer.write(task)
                        summary.tasks += 1
                    continue
                why = failure_reason(result)
                summary.infra += int(result.infra)
                summary.failures.append((row.id, why))
                if failures is not None:
                    failures.write({"id": row.id, "code": row.code, "input": row.input,
                                    "output": row.output, "actual": result.actual,
                                    "reason": why})
    except BaseException:
        if failures is not None:
            failures.close(commit=False)
        raise
    if failures is not None:
        failures.close()
    return summary
