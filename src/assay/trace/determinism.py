"""The determinism filter: from the raw results of a program's runs, keep its trace or say
why not. A pure function of what the runner reported, so it can be re-run offline."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass

from assay.trace.format import ParsedTrace, first_difference, parse_trace
from assay.trace.records import DropReason

_DETAIL_LIMIT = 500


@dataclass(frozen=True)
class RunOutcome:
    """What one run of a program did, as the trace runner reported it.

    Attributes:
        exit_code: Exit code (None when killed by a signal or never run).
        signal: Signal that killed it.
        timed_out: Killed at its time limit.
        over: ``events`` or ``bytes`` when killed for writing more than the caps.
        trace: Its stderr (at most the byte cap).
        time_s: Wall time.
        stdout_bytes: Bytes it printed on stdout.
        crashed: The runner's own account of a crash (its worker died meanwhile).
        compile_error: The program does not compile.
        infra: The machinery failed; the run says nothing about the program.
    """

    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    over: str | None = None
    trace: str = ""
    time_s: float = 0.0
    stdout_bytes: int = 0
    crashed: str | None = None
    compile_error: str | None = None
    infra: str | None = None

    @classmethod
    def from_report(cls, event: dict[str, object]) -> RunOutcome:
        def text(name: str) -> str | None:
            value = event.get(name)
            return None if value is None else str(value)

        def number(name: str) -> int | None:
            value = event.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        seconds = event.get("time")
        return cls(exit_code=number("exit"), signal=number("signal"),
                   timed_out=bool(event.get("timeout")), over=text("over"),
                   trace=str(event.get("trace") or ""),
                   time_s=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
                   stdout_bytes=number("stdout_bytes") or 0, crashed=text("crashed"),
                   compile_error=text("compile_error"), infra=text("infra"))


@dataclass(frozen=True)
class Caps:
    """What a kept trace may not exceed, and what counts as a clean run."""

    max_events: int
    max_bytes: int
    timeout_s: float
    keep_errors: bool = False  # a run exiting non-zero the same way every time still counts


@dataclass(frozen=True)
class Judgement:
    """Kept (reason None) or dropped with a reason and a sentence saying why."""

    reason: DropReason | None
    detail: str
    trace: ParsedTrace

    @property
    def kept(self) -> bool:
        return self.reason is None


def judge(runs: Sequence[RunOutcome | None], caps: Caps) -> Judgement:
    """Keep the trace when every run ended cleanly and wrote the same non-empty events."""
    total = len(runs)
    first = next((run for run in runs if run is not None), None)
    first_trace = parse_trace(first.trace if first else "")
    for number, run in enumerate(runs, 1):
        if run is None:
            return Judgement(DropReason.INFRA, f"run {number} of {total} did not report",
                           first_trace)
        if run.infra:
            return Judgement(DropReason.INFRA, _short(run.infra), first_trace)
    complete = [run for run in runs if run is not None]
    for run in complete:
        if run.compile_error:
            return Judgement(DropReason.COMPILE_ERROR, _short(run.compile_error), first_trace)
    for number, run in enumerate(complete, 1):
        if run.timed_out:
            return Judgement(DropReason.TIMED_OUT, f"run {number} of {total} exceeded the "
                           f"{caps.timeout_s:g} s time limit", first_trace)
    for number, run in enumerate(complete, 1):
        if run.over:
            what = (f"{caps.max_events} events" if run.over == "events"
                    else f"{caps.max_bytes} bytes of stderr")
            return Judgement(DropReason.TOO_LONG, f"run {number} of {total} wrote more than "
                           f"{what}", first_trace)
    crash = _crash(complete, caps)
    if crash is not None:
        return Judgement(DropReason.CRASHED, crash, first_trace)
    traces = [parse_trace(run.trace) for run in complete]
    for number, trace in enumerate(traces, 1):
        if len(trace.events) > caps.max_events:
            return Judgement(DropReason.TOO_LONG, f"run {number} of {total} wrote "
                           f"{len(trace.events)} events (cap {caps.max_events})", first_trace)
    if all(not trace.events for trace in traces):
        noise = f"; {traces[0].noise} other line(s) on stderr, e.g. " \
                f"{traces[0].noise_examples[0]!r}" if traces[0].noise else ""
        return Judgement(DropReason.EMPTY, f"no trace events in {total} run(s){noise}",
                       first_trace)
    for number, trace in enumerate(traces[1:], 2):
        at = first_difference(traces[0].events, trace.events)
        if at is not None:
            return Judgement(DropReason.DIFFERS, _difference(traces[0], trace, number, at),
                           first_trace)
    return Judgement(None, "", traces[0])


def _crash(runs: Sequence[RunOutcome], caps: Caps) -> str | None:
    total = len(runs)
    for number, run in enumerate(runs, 1):
        if run.crashed:
            return f"run {number} of {total}: {run.crashed}"
        if run.signal is not None:
            return f"run {number} of {total} was killed by {_signal_name(run.signal)}" \
                   f"{_last_words(run.trace)}"
    codes = {run.exit_code for run in runs}
    for number, run in enumerate(runs, 1):
        if run.exit_code != 0 and not (caps.keep_errors and len(codes) == 1):
            return f"run {number} of {total} exited with code {run.exit_code}" \
                   f"{_last_words(run.trace)}"
    return None


def _difference(a: ParsedTrace, b: ParsedTrace, number: int, at: int) -> str:
    def event(trace: ParsedTrace) -> str:
        if at <= len(trace.events):
            return repr(_short(trace.events[at - 1].line, 160))
        return f"the end (it has {len(trace.events)} events)"

    return f"runs 1 and {number} differ at event {at}: {event(a)} vs {event(b)}"


def _last_words(stderr: str) -> str:
    """The last line of stderr that is not an event (an exception's message)."""
    for line in reversed(stderr.splitlines()):
        if line.strip() and not line.strip().startswith("TRACE:"):
            return f": {_short(line, 200)}"
    return ""


def _signal_name(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    return name + (" (out of memory?)" if number == signal.SIGKILL else "")


def _short(text: str, limit: int = _DETAIL_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."
