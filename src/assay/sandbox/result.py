"""What a sandbox run produced. Serialised records, so pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from assay.sandbox.spec import Verdict


class StepResult(BaseModel):
    """Outcome of one process tree run in the sandbox (a compile step or the program).

    ``signal`` is the signal that ended the program when one did. ``limit_exceeded`` names
    the limit behind a TIME_LIMIT / MEMORY_LIMIT / OUTPUT_LIMIT verdict, or a process-count
    limit that was hit during the run. ``error`` explains a SANDBOX_ERROR.
    """

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    limit_exceeded: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


class CompileResult(StepResult):
    """The compile step of a compiled language (or the syntax check of an interpreted one).

    ``cached`` is true when the artefact came from the compile cache and nothing ran.
    """

    cached: bool = False
    cache_key: str | None = None


class RunResult(StepResult):
    """Outcome of ``Sandbox.run``: the program's own result plus its compile step's.

    ``report`` is what the program wrote on its report channel (``RunSpec.report``).
    """

    language: str = ""
    backend: str = ""
    compile: CompileResult | None = None
    report: str | None = None
