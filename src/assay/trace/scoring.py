"""Scoring predictions against gold files: traces by exact match and line-level ROUGE-2,
output and input predictions by executing them.

Predictions are rows ``{"id": ..., "trace": "..."}`` (a predicted trace: text, or a list of
lines) or ``{"id": ..., "prediction": "..."}`` (a predicted output value, or predicted
arguments, as Python source). A gold row with no prediction scores as an empty trace or a
wrong answer and is counted as missing; predictions with no gold row are counted and ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from assay.data.errors import InputError, from_validation
from assay.data.io import read_rows
from assay.sandbox import Sandbox
from assay.trace.execution import ExecutionJob, run_checks
from assay.trace.metrics import aggregate, score_trace
from assay.trace.records import CruxRecord, PredictionTask, TaskKind

GoldKind = Literal["trace", "task", "crux"]


@dataclass
class ScoreReport:
    """Per-sample scores and the aggregate of one scoring."""

    mode: Literal["trace", "execution"]
    samples: list[dict[str, Any]] = field(default_factory=list)
    aggregate: dict[str, Any] = field(default_factory=dict)
    missing: int = 0
    extra: int = 0


def gold_kind(path: str | Path) -> GoldKind:
    """What a gold file holds, from its first row: traces (``trace``), tasks written by
    ``assay trace tasks`` (``kind``), or CRUXEval rows (``code``, ``input``, ``output``)."""
    for line, row in read_rows(path):
        if "trace" in row:
            return "trace"
        if "kind" in row:
            return "task"
        if {"code", "input", "output"} <= row.keys():
            return "crux"
        raise InputError(str(path), line, "not a gold row: expected a 'trace' (a trace "
                                          "record), a 'kind' (a task) or 'code', 'input' and "
                                          "'output' (a CRUXEval row)")
    raise InputError(str(path), None, "no rows")


def read_predictions(path: str | Path, name: str) -> dict[str, str]:
    """id -> the prediction's ``name`` field (a list of lines is joined)."""
    found: dict[str, str] = {}
    for line, row in read_rows(path):
        sample_id = row.get("id")
        if not isinstance(sample_id, str):
            raise InputError(str(path), line, "missing (required), a string", "id")
        if sample_id in found:
            raise InputError(str(path), line, f"id {sample_id!r} appears twice", "id")
        value = row.get(name)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = "\n".join(value)
        if not isinstance(value, str):
            raise InputError(str(path), line, "missing (required), a string" if value is None
                             else f"expected a string, got {type(value).__name__}", name)
        found[sample_id] = value
    return found


def score_traces(predictions: str | Path, gold: str | Path) -> ScoreReport:
    """Exact match and line-level ROUGE-2 of every gold trace (dropped gold rows skipped)."""
    predicted = read_predictions(predictions, "trace")
    report = ScoreReport(mode="trace")
    scores = []
    seen: set[str] = set()
    for line, row in read_rows(gold):
        sample_id, trace = row.get("id"), row.get("trace")
        if not isinstance(sample_id, str):
            raise InputError(str(gold), line, "missing (required), a string", "id")
        if not isinstance(trace, str):
            raise InputError(str(gold), line, "expected a string", "trace")
        if row.get("kept") is False:
            continue
        seen.add(sample_id)
        if sample_id not in predicted:
            report.missing += 1
        score = score_trace(sample_id, predicted.get(sample_id, ""), trace)
        scores.append(score)
        report.samples.append({
            "id": sample_id, "exact": score.exact, "rouge2_f1": score.rouge2.f1,
            "rouge2_precision": score.rouge2.precision, "rouge2_recall": score.rouge2.recall,
            "predicted_events": score.predicted_events, "gold_events": score.gold_events,
            "predicted_noise": score.predicted_noise, "missing": sample_id not in predicted})
    report.extra = len(set(predicted) - seen)
    total = aggregate(scores)
    report.aggregate = {"samples": total.samples, "exact_match": total.exact_match,
                        "rouge2_f1": total.rouge2_f1,
                        "rouge2_precision": total.rouge2_precision,
                        "rouge2_recall": total.rouge2_recall,
                        "missing": report.missing, "extra": report.extra}
    return report


def read_gold_tasks(path: str | Path, task: TaskKind | None) -> list[PredictionTask]:
    """Gold tasks: rows of ``assay trace tasks``, or CRUXEval rows with ``task`` given."""
    kind = gold_kind(path)
    tasks: list[PredictionTask] = []
    for line, row in read_rows(path):
        try:
            if kind == "task":
                tasks.append(PredictionTask.model_validate(row))
                continue
            if task is None:
                raise InputError(str(path), line, "CRUXEval rows need the task to score "
                                                  "(--task output or --task input)")
            crux = CruxRecord.model_validate(row)
        except ValidationError as exc:
            raise from_validation(str(path), line, exc) from None
        tasks.append(PredictionTask(id=crux.id, source_id=crux.id, kind=task, code=crux.code,
                                    input=crux.input, output=crux.output,
                                    entry_point=crux.entry_point, prompt=""))
    return tasks


def score_executions(predictions: str | Path, gold: str | Path, sandbox: Sandbox,
                     task: TaskKind | None = None, timeout_s: float = 5.0,
                     batch_size: int = 64, workers: int | None = None,
                     progress: Callable[[int], None] | None = None) -> ScoreReport:
    """Each output prediction is right when ``prediction == f(input)``, each input
    prediction when ``f(prediction) == output``, compared as Python values in the sandbox."""
    tasks = read_gold_tasks(gold, task)
    predicted = read_predictions(predictions, "prediction")
    report = ScoreReport(mode="execution")
    jobs: list[ExecutionJob] = []
    asked: list[PredictionTask] = []
    for item in tasks:
        if item.id not in predicted:
            continue
        asked.append(item)
        if item.kind == "output":
            jobs.append(ExecutionJob(kind="output", code=item.code,
                                     entry_point=item.entry_point, input=item.input,
                                     prediction=predicted[item.id]))
        else:
            jobs.append(ExecutionJob(kind="input", code=item.code,
                                     entry_point=item.entry_point, expected=item.output,
                                     prediction=predicted[item.id]))
    results = dict(zip([item.id for item in asked],
                       run_checks(sandbox, jobs, timeout_s, batch_size, workers,
                                  progress=progress), strict=True))
    counts: Counter[str] = Counter()
    right: Counter[str] = Counter()
    infra = expressions = 0
    for item in tasks:
        result = results.get(item.id)
        correct = bool(result is not None and result.equal)
        counts[item.kind] += 1
        right[item.kind] += int(correct)
        if result is None:
            report.missing += 1
        else:
            infra += int(result.infra)
            expressions += int(result.evaluated == "expression")
        report.samples.append({
            "id": item.id, "kind": item.kind, "correct": correct,
            "evaluated": result.evaluated if result else None,
            "actual": result.actual if result else None,
            "error": "no prediction" if result is None else result.error,
            "infra": bool(result and result.infra)})
    report.extra = len(set(predicted) - {item.id for item in tasks})
    total = sum(counts.values())
    report.aggregate = {
        "samples": total, "correct": sum(right.values()),
        "accuracy": sum(right.values()) / total if total else 0.0,
        "by_kind": {kind: {"samples": counts[kind], "correct": right[kind],
                           "accuracy": right[kind] / counts[kind]} for kind in sorted(counts)},
        "evaluated_as_expression": expressions, "infra": infra,
        "missing": report.missing, "extra": report.extra}
    return report
