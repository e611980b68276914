"""Execution traces: capture, the determinism filter, Python auto-instrumentation, metrics.

    from assay import get_sandbox
    from assay.engine import RunStore
    from assay.trace import CaptureConfig, capture, instrument

    with get_sandbox() as sandbox, RunStore("traces.sqlite") as store:
        summary = capture("programs.jsonl", "traces.jsonl", store, sandbox,
                          CaptureConfig(instrument=True, runs=3))
        record = instrument(sandbox, "def f(x):\\n    return x * 2\\n", call="f(21)")
        print(summary.kept, summary.dropped, record.trace)
"""

from assay.trace.capture import (
    CaptureConfig,
    CaptureSummary,
    TracerConfig,
    capture,
    capture_programs,
)
from assay.trace.determinism import Caps, Judgement, RunOutcome, judge
from assay.trace.execution import ExecutionJob, ExecutionResult, run_checks
from assay.trace.format import (
    EVENT_TYPES,
    ParsedTrace,
    TraceEvent,
    first_difference,
    format_event,
    parse_trace,
)
from assay.trace.instrument import instrument, split_call
from assay.trace.metrics import Rouge, TraceScore, exact_match, rouge2, score_trace
from assay.trace.records import (
    CruxRecord,
    DropReason,
    PredictionTask,
    TraceProgram,
    TraceRecord,
    TraceStats,
)
from assay.trace.scoring import ScoreReport, score_executions, score_traces
from assay.trace.tasks import TasksSummary, generate_tasks

__all__ = [
    "EVENT_TYPES", "Caps", "CaptureConfig", "CaptureSummary", "CruxRecord", "DropReason",
    "ExecutionJob", "ExecutionResult", "Judgement", "ParsedTrace", "PredictionTask", "Rouge",
    "RunOutcome", "ScoreReport", "TasksSummary", "TraceEvent", "TraceProgram", "TraceRecord",
    "TraceScore", "TraceStats", "TracerConfig", "capture", "capture_programs", "exact_match",
    "first_difference", "format_event", "generate_tasks", "instrument", "judge",
    "parse_trace", "rouge2", "run_checks", "score_executions", "score_trace", "score_traces",
    "split_call",
]
