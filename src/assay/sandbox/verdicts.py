"""Turn what the supervisor saw into a verdict: a pure function, so it can be re-graded."""

from __future__ import annotations

import signal

from assay.sandbox.result import StepResult
from assay.sandbox.spec import MIB, Limits, Verdict
from assay.sandbox.supervisor import RawExit

# bwrap's init reports a program killed by signal N as exit code 128 + N.
SIGNAL_EXIT_BASE = 128


def decode(text: bytes) -> str:
    return text.decode("utf-8", errors="replace")


def classify(raw: RawExit, limits: Limits, out_of_memory_markers: tuple[str, ...] = ()
             ) -> StepResult:
    """The verdict of one step. An exit code that came through bwrap's init
    (``raw.signal_in_exit_code``) encodes a death by signal N as 128 + N: it is decoded back.
    """
    exit_code, sig = raw.exit_code, raw.signal
    if raw.signal_in_exit_code and exit_code is not None \
            and SIGNAL_EXIT_BASE < exit_code < SIGNAL_EXIT_BASE + signal.NSIG:
        sig, exit_code = exit_code - SIGNAL_EXIT_BASE, None
    failed = sig is not None or exit_code != 0
    stderr = decode(raw.stderr)

    limit: str | None = None
    if raw.error is not None:
        verdict = Verdict.SANDBOX_ERROR
    elif raw.killed_for == "output" or sig == signal.SIGXFSZ:
        verdict, limit = Verdict.OUTPUT_LIMIT, raw.killed_for or "file_size"
    elif raw.killed_for in ("wall_time", "cpu_time"):
        verdict, limit = Verdict.TIME_LIMIT, raw.killed_for
    elif sig == signal.SIGXCPU or (failed and raw.cpu_s > limits.cpu_s):
        verdict, limit = Verdict.TIME_LIMIT, "cpu_time"
    elif raw.oom_killed or (failed and _ran_out_of_memory(stderr, out_of_memory_markers)):
        verdict, limit = Verdict.MEMORY_LIMIT, "memory"
    elif failed:
        verdict = Verdict.RUNTIME_ERROR
        if raw.pids_limit_hit:
            limit = "processes"
    else:
        verdict = Verdict.OK
    return StepResult(
        verdict=verdict, exit_code=exit_code, signal=sig,
        stdout=decode(raw.stdout), stderr=stderr,
        stdout_truncated=raw.stdout_truncated, stderr_truncated=raw.stderr_truncated,
        wall_s=round(raw.wall_s, 6), cpu_s=round(raw.cpu_s, 6),
        peak_memory_mb=round(raw.peak_memory_bytes / MIB, 3),
        limit_exceeded=limit, error=raw.error,
    )


def _ran_out_of_memory(stderr: str, markers: tuple[str, ...]) -> bool:
    # Only the tail: a runtime's own out-of-memory report is the last thing it prints.
    tail = stderr[-4096:]
    return any(marker in tail for marker in markers)
