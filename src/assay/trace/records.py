"""The records of ``assay trace``: programs to trace, traces, execution-prediction tasks."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assay.data.records import canonical_language


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TraceProgram(Record):
    """A program to trace with its input. A CRUXEval row (code, input, output, id) is one.

    Attributes:
        id: Unique in its file.
        code: The program's source.
        language: Any sandbox language (programs print their own trace lines); Python
            programs can also be traced by assay's tracer (``instrument``).
        input: Python only: the arguments of ``entry_point`` as Python source (``1, 'a'``);
            the program is then loaded and ``entry_point(<input>)`` called.
        entry_point: The function ``input`` is passed to.
        argv: Arguments of the program.
        stdin: Standard input of the program.
        script: A test script run instead of the program, with the program beside it as
            ``program.<ext>`` (Python: ``import program``); only the program is traced.
        output: Carried through to the trace record (CRUXEval's recorded output).
        metadata: Carried through.
    """

    id: str
    code: str
    language: str = "python"
    input: str | None = None
    entry_point: str = "f"
    argv: list[str] = Field(default_factory=list)
    stdin: str = ""
    script: str | None = None
    output: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return canonical_language(value)

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"not a Python identifier: {value!r}")
        return value

    @model_validator(mode="after")
    def _input_shape(self) -> TraceProgram:
        if self.input is not None and self.language != "python":
            raise ValueError("'input' (arguments of a call) is for Python programs only; "
                             "give other programs argv or stdin")
        if self.input is not None and self.script is not None:
            raise ValueError("give either 'input' or 'script', not both")
        return self


class DropReason(StrEnum):
    """Why a program's trace was not kept."""

    EMPTY = "empty"
    DIFFERS = "differs"
    CRASHED = "crashed"
    TIMED_OUT = "timed_out"
    TOO_LONG = "too_long"
    COMPILE_ERROR = "compile_error"
    INFRA = "infra"  # the machinery failed: not stored, a rerun retries


class TraceStats(Record):
    """How the runs went.

    Attributes:
        runs: Runs made.
        events: Events of the (first run's) trace.
        bytes: Bytes of that trace.
        noise_lines: Lines of the first run's stderr that are not events.
        exit_code: Exit code of the first run (None when killed).
        time_s: Mean wall time of a run.
        instrumented: Traced by assay's Python tracer.
    """

    runs: int = 0
    events: int = 0
    bytes: int = 0
    noise_lines: int = 0
    exit_code: int | None = None
    time_s: float = 0.0
    instrumented: bool = False


class TraceRecord(Record):
    """A program, its input and its trace (kept), or why it has none (dropped)."""

    id: str
    language: str
    code: str
    input: str | None = None
    entry_point: str = "f"
    argv: list[str] = Field(default_factory=list)
    stdin: str = ""
    script: str | None = None
    output: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    kept: bool
    reason: DropReason | None = None
    detail: str = ""
    trace: str = ""
    events: list[dict[str, str]] = Field(default_factory=list)
    stats: TraceStats = Field(default_factory=TraceStats)


TaskKind = Literal["output", "input"]


class CruxRecord(Record):
    """A Python function with one call and its recorded result (CRUXEval's rows).

    Attributes:
        id: Unique in its file.
        code: Defines ``entry_point``.
        input: The call's arguments as Python source (``[1, 2], 3``).
        output: The value the call returns, as Python source.
    """

    id: str
    code: str
    input: str
    output: str
    entry_point: str = "f"
    metadata: dict[str, Any] = Field(default_factory=dict)


class PredictionTask(Record):
    """An execution-prediction task whose answer was verified by running it.

    ``output`` tasks show ``code`` and ``input`` and ask for the output; ``input`` tasks
    show ``code`` and ``output`` and ask for an input (any input for which the call returns
    ``output`` is right; ``input`` is one).
    """

    id: str
    source_id: str
    kind: TaskKind
    code: str
    input: str
    output: str
    entry_point: str = "f"
    prompt: str
    verified: bool = True
