"""Capture: run each program N times in the sandbox; keep its trace when the runs agree.

Python programs are traced many to a sandbox run (``runners/trace_runner.py``: one fresh
worker interpreter per run, one forked child per program); a program in any other language
gets its own sandbox run (one compile), whose wrapper starts it N times. Every run of a
program sees the same environment: the same work dir path, PYTHONHASHSEED=0 (or, with
``vary_hash_seed``, seed k-1 in run k), TZ=UTC, LANG/LC_ALL=C.UTF-8, the same argv, stdin and
files; programs that seed their own generators reproduce, programs that read the clock,
draw unseeded random numbers or depend on object addresses do not, and are dropped.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from assay.data.errors import InputError
from assay.data.io import RecordWriter, read_numbered_records
from assay.engine import RunStore, content_key, run_streaming
from assay.harness.io import entry_file
from assay.sandbox import Limits, RunResult, RunSpec, Sandbox, Verdict, get_language
from assay.sandbox.languages import LanguageError
from assay.sandbox.languages.base import WORK_DIR
from assay.sandbox.spec import MIB
from assay.trace.determinism import Caps, RunOutcome, judge
from assay.trace.format import EVENT_TYPES
from assay.trace.records import DropReason, TraceProgram, TraceRecord, TraceStats

RUNNER_FILE = "assay_trace_runner.py"
TRACER_FILE = "assay_tracer.py"
SYSTEM_PYTHON = "/usr/bin/python3"
RUN_DIR = "run"  # the work dir of every Python run: /work/run
CAPTURE_KIND = "trace-record"
STARTUP_SLACK_S = 10.0
RUN_SLACK_S = 0.5  # a run's start and the clean-up after it


def runner_source(name: str) -> str:
    """A runner file shipped in ``assay/trace/runners``."""
    return (importlib.resources.files("assay.trace") / "runners" / name).read_text()


@dataclass(frozen=True)
class TracerConfig:
    """Granularity and bounds of assay's Python tracer.

    Attributes:
        events: Event types written (IN, OUT, VAR, TRANSFORM, BRANCH, LOOP, ERR).
        loop_iterations: Iterations traced per run of a loop; past it nothing inside the
            loop is traced, and the loop's exit says how many iterations ran.
        value_chars: Characters of one rendered value (containers are cut with ``...+N``).
        call_depth: Nested traced calls; deeper calls run untraced.
        comprehensions: Also trace inside lambdas, comprehensions and generator expressions.
        module_level: Trace a script's own top-level statements (globals as VAR).
    """

    events: tuple[str, ...] = ("IN", "OUT", "VAR", "TRANSFORM", "BRANCH", "LOOP", "ERR")
    loop_iterations: int = 10
    value_chars: int = 120
    call_depth: int = 32
    comprehensions: bool = False
    module_level: bool = True

    def __post_init__(self) -> None:
        unknown = [name for name in self.events if name not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown trace event type(s) {', '.join(unknown)}; known: "
                             f"{', '.join(EVENT_TYPES)}")
        if not self.events:
            raise ValueError("the tracer needs at least one event type")
        for name in ("loop_iterations", "value_chars", "call_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = list(self.events)
        return data


@dataclass(frozen=True)
class CaptureConfig:
    """Settings of a capture.

    Attributes:
        runs: Runs of each program; its trace is kept when all of them agree.
        timeout_s: Time limit of one run.
        max_events: Events a trace may hold; a run writing more is stopped (too long).
        max_bytes: Bytes of stderr a run may write; more is stopped (too long).
        instrument: Trace Python programs with assay's tracer (otherwise, and for other
            languages, programs print their own trace lines).
        tracer: The tracer's granularity and bounds.
        keep_errors: A program exiting non-zero the same way in every run is kept (its
            trace ends with the error) instead of dropped as crashed.
        vary_hash_seed: Run k of a Python program uses PYTHONHASHSEED=k-1 instead of 0, so
            that traces depending on the iteration order of sets of strings are dropped.
        memory_mb: Memory of one sandbox run.
        workers: Sandbox runs at once (default: one per core).
        batch_size: Python programs per sandbox run.
    """

    runs: int = 3
    timeout_s: float = 5.0
    max_events: int = 2000
    max_bytes: int = 256 * 1024
    instrument: bool = False
    tracer: TracerConfig = field(default_factory=TracerConfig)
    keep_errors: bool = False
    vary_hash_seed: bool = False
    memory_mb: int = 512
    workers: int | None = None
    batch_size: int = 64

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise ValueError("runs must be at least 1")
        if not self.timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        if self.max_events < 1 or self.max_bytes < 1 or self.batch_size < 1:
            raise ValueError("max_events, max_bytes and batch_size must be positive")

    @property
    def caps(self) -> Caps:
        return Caps(max_events=self.max_events, max_bytes=self.max_bytes,
                    timeout_s=self.timeout_s, keep_errors=self.keep_errors)

    def runner_config(self) -> dict[str, Any]:
        return {"runs": self.runs, "timeout": self.timeout_s, "max_events": self.max_events,
                "max_bytes": self.max_bytes, "instrument": self.instrument,
                "tracer": self.tracer.as_dict(), "hash_seed": 0,
                "vary_hash_seed": self.vary_hash_seed, "run_dir": RUN_DIR,
                "tracer_file": TRACER_FILE}

    def key(self, language: str) -> dict[str, Any]:
        """What of the settings decides a program's record."""
        python = language == "python"
        return {"runs": self.runs, "timeout": self.timeout_s, "max_events": self.max_events,
                "max_bytes": self.max_bytes, "keep_errors": self.keep_errors,
                "memory_mb": self.memory_mb,
                "instrument": self.instrument and python,
                "tracer": self.tracer.as_dict() if self.instrument and python else None,
                "vary_hash_seed": self.vary_hash_seed and python}


@cache
def capture_version() -> str:
    """Hash of the code that decides a record: the runners, the filter, the format."""
    digest = hashlib.sha256()
    for name in ("trace_runner.py", "tracer.py"):
        digest.update(runner_source(name).encode())
    for module in ("determinism.py", "format.py", "capture.py"):
        digest.update((importlib.resources.files("assay.trace") / module).read_bytes())
    return digest.hexdigest()[:16]


# -- building the sandbox runs ---------------------------------------------------------------


def python_batch_spec(programs: Sequence[TraceProgram], config: CaptureConfig) -> RunSpec:
    """One sandbox run tracing every program of the batch ``config.runs`` times."""
    files: dict[str, str] = {"runner.py": runner_source("trace_runner.py")}
    if config.instrument:
        files[TRACER_FILE] = runner_source("tracer.py")
    jobs = []
    for index, program in enumerate(programs):
        directory = f"jobs/{index}"
        job: dict[str, Any] = {"argv": program.argv, "stdin": program.stdin, "call": None,
                               "script": None}
        if program.script is not None:
            files[f"{directory}/program.py"] = program.code
            files[f"{directory}/main.py"] = program.script
            job.update(program=f"{directory}/program.py", script=f"{directory}/main.py",
                       filename="program.py", entry="main.py")
        else:
            files[f"{directory}/main.py"] = program.code
            job.update(program=f"{directory}/main.py", filename="main.py", entry="main.py")
            if program.input is not None:
                job["call"] = f"{program.entry_point}({program.input})"
        jobs.append(job)
    files["jobs.json"] = json.dumps({"config": config.runner_config(), "jobs": jobs})
    per_run = sum(config.timeout_s + RUN_SLACK_S for _ in programs) + 1.0
    wall = STARTUP_SLACK_S + 1.2 * config.runs * per_run
    report = config.runs * len(programs) * (config.max_bytes + 8192) + MIB
    limits = Limits(wall_s=wall, cpu_s=wall, memory_mb=config.memory_mb, processes=128,
                    output_bytes=max(8 * MIB, report))
    return RunSpec(language="python", files=files, entry="runner.py",
                   argv=("--python", "jobs.json"), report=True, limits=limits)


def program_spec(program: TraceProgram, config: CaptureConfig) -> RunSpec:
    """One sandbox run of a program in any language: compiled once, run N times."""
    language = get_language(program.language)
    files: dict[str, str] = {RUNNER_FILE: runner_source("trace_runner.py")}
    if program.script is not None:
        entry = entry_file(language.name, program.script)
        files[entry] = program.script
        files[f"program{language.extensions[0]}"] = program.code
    else:
        entry = entry_file(language.name, program.code)
        files[entry] = program.code
    job = {"runs": config.runs, "timeout": config.timeout_s, "max_events": config.max_events,
           "max_bytes": config.max_bytes, "stdin": program.stdin}
    wall = STARTUP_SLACK_S + 1.2 * config.runs * (config.timeout_s + RUN_SLACK_S)
    report = config.runs * (config.max_bytes + 8192) + MIB
    limits = Limits(wall_s=wall, cpu_s=2 * wall, memory_mb=config.memory_mb, processes=128,
                    output_bytes=max(8 * MIB, report))
    return RunSpec(language=language.name, files=files, entry=entry, argv=tuple(program.argv),
                   stdin=json.dumps(job).encode(), report=True, limits=limits,
                   wrapper=(SYSTEM_PYTHON, "-I", "-S", f"{WORK_DIR}/{RUNNER_FILE}", "--exec"))


Table = list[list[RunOutcome | None]]


def parse_runs(result: RunResult, jobs: int, runs: int) -> tuple[Table, int | None]:
    """Each job's run outcomes from a sandbox run's report (None where missing), and the job
    the runner started last without finishing it when the sandbox run did not end well."""
    table: Table = [[None] * runs for _ in range(jobs)]
    started: int | None = None
    for line in (result.report or "").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        job, run = event.get("job", event.get("start")), event.get("run")
        if not (isinstance(job, int) and isinstance(run, int) and 0 <= job < jobs
                and 1 <= run <= runs):
            continue
        if "start" in event:
            started = job
        else:
            table[job][run - 1] = RunOutcome.from_report(event)
            if started == job:
                started = None
    if result.verdict is Verdict.OK:
        started = None
    return table, started


def missing_outcome(result: RunResult, culprit: bool) -> RunOutcome:
    """What stands for the runs a sandbox run did not report: a compile error, the fate of
    the job that was running when the runner died (``culprit``), or INFRA."""
    problem = (result.error or result.stderr or "").strip()[-300:]
    how = f"{result.verdict}{': ' + problem if problem else ''}"
    if result.verdict is Verdict.COMPILE_ERROR:
        message = (result.compile.stderr if result.compile else "") or result.error or ""
        return RunOutcome(compile_error=message.strip() or "does not compile")
    if culprit and result.verdict is Verdict.TIME_LIMIT:
        return RunOutcome(timed_out=True, crashed=f"the whole sandbox run timed out ({how})")
    if culprit and result.verdict is not Verdict.SANDBOX_ERROR:
        return RunOutcome(crashed=f"the trace runner died while running it ({how})")
    return RunOutcome(infra=f"the trace runner did not finish ({how})")


def make_record(program: TraceProgram, runs: Sequence[RunOutcome | None],
                config: CaptureConfig) -> TraceRecord:
    """The program's trace record from its runs (the filter decides kept or dropped)."""
    judgement = judge(runs, config.caps)
    done = [run for run in runs if run is not None]
    trace = judgement.trace
    stats = TraceStats(runs=len(done), events=len(trace.events),
                       bytes=len(trace.text.encode()), noise_lines=trace.noise,
                       exit_code=done[0].exit_code if done else None,
                       time_s=round(sum(run.time_s for run in done) / len(done), 6)
                       if done else 0.0,
                       instrumented=config.instrument and program.language == "python")
    return TraceRecord(
        **program.model_dump(), kept=judgement.kept, reason=judgement.reason,
        detail=judgement.detail, trace=trace.text,
        events=[event.as_dict() for event in trace.events] if judgement.kept else [],
        stats=stats)


def trace_batch(sandbox: Sandbox, programs: Sequence[TraceProgram], config: CaptureConfig
                ) -> list[TraceRecord]:
    """Records of a batch: Python programs share one sandbox run; otherwise one program.

    Should a program take the whole runner down (it may kill it), it is dropped as crashed
    and a new sandbox run traces the programs the runner had not finished.
    """
    if len(programs) > 1 and any(p.language != "python" for p in programs):
        raise ValueError("only Python programs are traced several to a sandbox run")
    done: dict[int, list[RunOutcome | None]] = {}
    pending = list(range(len(programs)))
    while pending:
        batch = [programs[index] for index in pending]
        spec = python_batch_spec(batch, config) if batch[0].language == "python" \
            else program_spec(batch[0], config)
        result = sandbox.run(spec)
        table, culprit = parse_runs(result, len(batch), config.runs)
        for local, row in enumerate(table):
            if local == culprit:
                done[pending[local]] = [missing_outcome(result, True) if run is None else run
                                        for run in row]
            elif all(run is not None for run in row):
                done[pending[local]] = row
        remaining = [index for index in pending if index not in done]
        if len(remaining) == len(pending) or result.verdict in (Verdict.OK,
                                                                 Verdict.COMPILE_ERROR):
            for index in remaining:
                row = table[pending.index(index)]
                done[index] = [missing_outcome(result, False) if run is None else run
                               for run in row]
            break
        pending = remaining
    return [make_record(program, done[index], config)
            for index, program in enumerate(programs)]


def capture_programs(sandbox: Sandbox, programs: Sequence[TraceProgram],
                     config: CaptureConfig | None = None) -> list[TraceRecord]:
    """Trace programs held in memory (no store); records in input order."""
    config = config or CaptureConfig()
    batches = list(batched(iter(programs), config.batch_size))
    records: dict[int, list[TraceRecord]] = {}
    for index, result in run_streaming(range(len(batches)),
                                       lambda i: trace_batch(sandbox, batches[i], config),
                                       workers=config.workers):
        records[index] = result
    return [record for index in range(len(batches)) for record in records[index]]


def batched(programs: Iterator[TraceProgram], size: int) -> Iterator[list[TraceProgram]]:
    """Consecutive Python programs up to ``size`` per batch; any other program alone."""
    batch: list[TraceProgram] = []
    for program in programs:
        if batch and (len(batch) >= size or program.language != "python"
                      or batch[0].language != "python"):
            yield batch
            batch = []
        batch.append(program)
    if batch:
        yield batch


# -- the resumable pipeline ------------------------------------------------------------------


def read_programs(path: str | Path) -> Iterator[TraceProgram]:
    """Programs of a file, validated as they are read; InputError names file, line, field."""
    seen: set[str] = set()
    for line, program in read_numbered_records(path, TraceProgram):
        if program.id in seen:
            raise InputError(str(path), line, f"id {program.id!r} appears twice", "id")
        seen.add(program.id)
        try:
            get_language(program.language).toolchain()
        except LanguageError as exc:
            raise InputError(str(path), line, str(exc), "language") from None
        yield program


def program_key(program: TraceProgram, config: CaptureConfig) -> str:
    """Hash of everything that decides a program's record."""
    toolchain = get_language(program.language).toolchain().version
    return content_key(CAPTURE_KIND, capture_version(), program.language, toolchain,
                       program.code, program.input, program.entry_point, program.argv,
                       program.stdin, program.script, config.key(program.language))


@dataclass
class CaptureSummary:
    """Counts of a capture."""

    programs: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    from_store: int = 0
    events: int = 0
    incomplete: int = 0

    def add(self, record: TraceRecord) -> None:
        self.programs += 1
        if record.kept:
            self.kept += 1
            self.events += record.stats.events
        else:
            self.dropped[str(record.reason)] += 1
            if record.reason is DropReason.INFRA:
                self.incomplete += 1


Progress = Callable[[TraceRecord, bool], None]  # (record, came from the store)


def capture(programs_path: str | Path, output: str | Path, store: RunStore, sandbox: Sandbox,
            config: CaptureConfig | None = None, dropped: str | Path | None = None,
            progress: Progress | None = None) -> CaptureSummary:
    """Trace every program of a file; write the kept traces to ``output`` (and the dropped
    ones, with why, to ``dropped``) in input order.

    All input is checked before anything runs. Each record is committed to ``store`` as it
    is decided, so a run killed at any point and started again runs only what is missing
    and writes the same output. Records lost to the machinery (INFRA) are not stored.
    """
    config = config or CaptureConfig()
    for _ in read_programs(programs_path):
        pass  # validation pass: nothing runs on bad input
    fresh: dict[str, TraceRecord] = {}
    reused = 0

    def todo() -> Iterator[TraceProgram]:
        nonlocal reused
        for program in read_programs(programs_path):
            key = program_key(program, config)
            stored = store.get(key)
            if stored is not None:
                reused += 1
                if progress is not None:
                    progress(_attach(TraceRecord.model_validate(stored), program), True)
                continue
            yield program

    def work(batch: list[TraceProgram]) -> list[TraceRecord]:
        return trace_batch(sandbox, batch, config)

    for batch, records in run_streaming(batched(todo(), config.batch_size), work,
                                        workers=config.workers):
        for program, record in zip(batch, records, strict=True):
            key = program_key(program, config)
            if record.reason is DropReason.INFRA:
                fresh[key] = record
            else:
                store.put(key, CAPTURE_KIND, record.model_dump(mode="json"))
            if progress is not None:
                progress(record, False)
    summary = _write_output(programs_path, output, dropped, store, fresh, config)
    summary.from_store = reused
    return summary


def _attach(record: TraceRecord, program: TraceProgram) -> TraceRecord:
    """A stored record may come from another row with the same program and input: the id
    and what is carried through are this row's."""
    return record.model_copy(update={"id": program.id, "output": program.output,
                                     "metadata": program.metadata})


def _write_output(programs_path: str | Path, output: str | Path, dropped: str | Path | None,
                  store: RunStore, fresh: dict[str, TraceRecord], config: CaptureConfig
                  ) -> CaptureSummary:
    summary = CaptureSummary()
    kept_writer = RecordWriter(output, TraceRecord)
    dropped_writer = RecordWriter(dropped, TraceRecord) if dropped is not None else None
    try:
        for program in read_programs(programs_path):
            key = program_key(program, config)
            record = fresh.get(key)
            if record is None:
                stored = store.get(key)
                assert stored is not None, "every program was run or found in the store"
                record = TraceRecord.model_validate(stored)
            record = _attach(record, program)
            summary.add(record)
            if record.kept:
                kept_writer.write(record)
            elif dropped_writer is not None:
                dropped_writer.write(record)
    except BaseException:
        kept_writer.close(commit=False)
        if dropped_writer is not None:
            dropped_writer.close(commit=False)
        raise
    kept_writer.close()
    if dropped_writer is not None:
        dropped_writer.close()
    return summary
