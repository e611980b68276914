"""Tracing one Python program or one call of its functions with assay's tracer."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import replace

from assay.sandbox import Sandbox
from assay.trace.capture import CaptureConfig, TracerConfig, capture_programs
from assay.trace.records import TraceProgram, TraceRecord


def split_call(call: str) -> tuple[str, str]:
    """``"f(1, x=2)"`` -> ``("f", "1, x=2")``; ValueError when it is not a call of a name."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"--call {call!r} is not a Python expression: {exc.msg}") from None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"--call {call!r} must call a function by name, e.g. f(1, 2)")
    text = call.strip()
    return node.func.id, text[text.index("(") + 1:text.rindex(")")].strip()


def instrument(sandbox: Sandbox, code: str, call: str | None = None,
               argv: Sequence[str] = (), stdin: str = "", tracer: TracerConfig | None = None,
               config: CaptureConfig | None = None, program_id: str = "program"
               ) -> TraceRecord:
    """Run ``code`` under assay's tracer in the sandbox (``config.runs`` times, 1 unless
    told) and return its record: the trace, and whether the runs agreed and ended cleanly.

    With ``call`` (``f(1, 2)``) the module is loaded untraced and only the call is traced;
    without it the program runs as a script, its top level traced too.
    """
    config = replace(config or CaptureConfig(runs=1), instrument=True,
                     tracer=tracer or (config.tracer if config else TracerConfig()))
    fields: dict[str, object] = {"id": program_id, "code": code, "argv": list(argv),
                                 "stdin": stdin}
    if call is not None:
        fields["entry_point"], fields["input"] = split_call(call)
    program = TraceProgram.model_validate(fields)
    return capture_programs(sandbox, [program], config)[0]
