"""``assay selfcheck``: the conformance suite every sandbox backend must pass.

For every language: hello world, stdin echo, compile error, runtime error, non-zero exit,
infinite loop. Then hostile programs: memory hogs, fork bombs, output floods, a connect to a
listener on the host's loopback, writes outside the work dir, reads of /root and of the
parent's environment, a daemonised child, and a program that kills its parent's group. After
the suite: no leftover processes, files or cgroups.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assay.conformance import hostile
from assay.conformance.host import HostBait
from assay.conformance.programs import BASIC, ECHO_INPUT, HELLO_OUTPUT, MEMORY_HOG
from assay.sandbox import (
    LanguageError,
    Limits,
    RunResult,
    RunSpec,
    Sandbox,
    Verdict,
    all_languages,
    get_language,
)

Check = Callable[[RunResult, HostBait], str | None]

LOOP_LIMITS = Limits(cpu_s=1.0, wall_s=5.0)
HOG_LIMITS = Limits(memory_mb=256, wall_s=20.0, cpu_s=20.0)
BOMB_LIMITS = Limits(processes=32, wall_s=3.0, cpu_s=3.0)
FLOOD_LIMITS = Limits(output_bytes=1 << 20, wall_s=10.0, file_size_mb=8, disk_mb=64)


@dataclass(frozen=True)
class Case:
    name: str
    language: str
    source: str
    expect: frozenset[Verdict]
    stdin: bytes = b""
    argv: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    check: Check | None = None

    def spec(self) -> RunSpec:
        return RunSpec.single(self.language, self.source, stdin=self.stdin, argv=self.argv,
                              limits=self.limits)


@dataclass(frozen=True)
class CaseResult:
    name: str
    language: str
    expected: str
    verdict: str
    passed: bool
    detail: str
    seconds: float


def _expect(*verdicts: Verdict) -> frozenset[Verdict]:
    return frozenset(verdicts)


def _stdout_is(text: str) -> Check:
    return lambda r, _: None if r.stdout == text else f"stdout {r.stdout[:80]!r} != {text!r}"


def _exit_code_is(code: int) -> Check:
    return lambda r, _: None if r.exit_code == code else f"exit code {r.exit_code} != {code}"


def _has_compile_result(r: RunResult, _: HostBait) -> str | None:
    if r.compile is None or r.compile.verdict is not Verdict.COMPILE_ERROR:
        return "no compile result with the compiler's message"
    return None if (r.compile.stderr or r.compile.stdout) else "empty compile message"


def _limit_is(*limits: str) -> Check:
    return lambda r, _: None if r.limit_exceeded in limits else \
        f"limit_exceeded {r.limit_exceeded!r}, expected one of {limits}"


def _all(*checks: Check) -> Check:
    def run(result: RunResult, bait: HostBait) -> str | None:
        problems = [p for c in checks if (p := c(result, bait))]
        return "; ".join(problems) or None
    return run


def basic_cases(language: str) -> list[Case]:
    programs = BASIC[language]
    return [
        Case("hello", language, programs["hello"], _expect(Verdict.OK),
             check=_stdout_is(HELLO_OUTPUT)),
        Case("stdin echo", language, programs["echo"], _expect(Verdict.OK),
             stdin=ECHO_INPUT.encode(), check=_stdout_is(ECHO_INPUT)),
        Case("compile error", language, programs["compile_error"],
             _expect(Verdict.COMPILE_ERROR), check=_has_compile_result),
        Case("runtime error", language, programs["runtime_error"],
             _expect(Verdict.RUNTIME_ERROR)),
        Case("non-zero exit", language, programs["nonzero_exit"],
             _expect(Verdict.RUNTIME_ERROR), check=_exit_code_is(3)),
        Case("infinite loop", language, programs["infinite_loop"],
             _expect(Verdict.TIME_LIMIT), limits=LOOP_LIMITS),
    ]


def hostile_cases(bait: HostBait, languages: Sequence[str]) -> list[Case]:
    def no_connection(r: RunResult, b: HostBait) -> str | None:
        if "CONNECTED" in r.stdout or b.connections:
            return f"reached the host listener ({b.connections} connections)"
        return None

    def no_host_files(r: RunResult, b: HostBait) -> str | None:
        found = b.files_with_token()
        return f"wrote on the host: {found}" if found else None

    def no_secret(r: RunResult, b: HostBait) -> str | None:
        return "read a host secret" if b.secret in r.stdout + r.stderr else None

    def no_leftovers(r: RunResult, b: HostBait) -> str | None:
        found = b.processes_with_token()
        return f"left processes running: {found[:3]}" if found else None

    def canary_alive(r: RunResult, b: HostBait) -> str | None:
        return None if b.canary_alive() else "killed a host process"

    def truncated_at_limit(r: RunResult, b: HostBait) -> str | None:
        kept = len(r.stdout.encode()) if r.stdout_truncated else len(r.stderr.encode())
        if not (r.stdout_truncated or r.stderr_truncated):
            return "output not flagged as truncated"
        return None if kept <= FLOOD_LIMITS.output_bytes else f"kept {kept} bytes"

    cases = [Case("memory hog", lang, MEMORY_HOG[lang], _expect(Verdict.MEMORY_LIMIT),
                  limits=HOG_LIMITS, check=_limit_is("memory"))
             for lang in languages if lang in MEMORY_HOG]
    wanted = [
        Case("fork bomb", "python", hostile.FORK_BOMB_PYTHON,
             _expect(Verdict.RUNTIME_ERROR, Verdict.TIME_LIMIT), argv=(bait.token,),
             limits=BOMB_LIMITS, check=_all(no_leftovers, _limit_is(
                 "processes", "wall_time", "cpu_time"))),
        Case("fork bomb", "bash", hostile.FORK_BOMB_BASH,
             _expect(Verdict.RUNTIME_ERROR, Verdict.TIME_LIMIT), argv=(bait.token,),
             limits=BOMB_LIMITS, check=_all(no_leftovers, _limit_is(
                 "processes", "wall_time", "cpu_time"))),
        Case("stdout flood", "python", hostile.OUTPUT_FLOOD_PYTHON,
             _expect(Verdict.OUTPUT_LIMIT), limits=FLOOD_LIMITS, check=truncated_at_limit),
        Case("stderr flood", "c", hostile.OUTPUT_FLOOD_C, _expect(Verdict.OUTPUT_LIMIT),
             limits=FLOOD_LIMITS, check=truncated_at_limit),
        Case("file flood", "c", hostile.FILE_FLOOD_C, _expect(Verdict.OUTPUT_LIMIT),
             limits=FLOOD_LIMITS, check=_limit_is("file_size")),
        Case("network connect", "python", hostile.network_python(bait),
             _expect(Verdict.RUNTIME_ERROR), check=no_connection),
        Case("network connect", "bash", hostile.network_bash(bait),
             _expect(Verdict.RUNTIME_ERROR), check=no_connection),
        Case("write outside work dir", "python", hostile.write_outside(bait),
             _expect(Verdict.OK), check=no_host_files),
        Case("read /root and parent env", "python", hostile.read_secrets(bait),
             _expect(Verdict.OK), check=no_secret),
        Case("daemonised child", "python", hostile.daemon_child(bait), _expect(Verdict.OK),
             check=no_leftovers),
        Case("kill parent process group", "python", hostile.KILL_PARENT_GROUP,
             _expect(Verdict.RUNTIME_ERROR), check=canary_alive),
    ]
    return cases + [c for c in wanted if c.language in languages]


def _judge(case: Case, result: RunResult, bait: HostBait, seconds: float) -> CaseResult:
    problems = []
    if result.verdict not in case.expect:
        detail = result.error or (result.compile.stderr if result.compile else "") \
            or result.stderr
        problems.append(f"got {result.verdict.value}: {detail.strip()[-200:]}")
    if case.check is not None and (problem := case.check(result, bait)):
        problems.append(problem)
    return CaseResult(
        name=case.name, language=case.language,
        expected="|".join(sorted(v.value for v in case.expect)), verdict=result.verdict.value,
        passed=not problems, detail="; ".join(problems), seconds=round(seconds, 3))


def available_languages(requested: Sequence[str] | None = None
                        ) -> tuple[list[str], list[CaseResult]]:
    """Languages to check, and a failed row for each requested one whose toolchain is missing."""
    names = list(requested) if requested else [lang.name for lang in all_languages()]
    ok: list[str] = []
    missing: list[CaseResult] = []
    for name in names:
        try:
            language = get_language(name)
            language.toolchain()
            ok.append(language.name)
        except LanguageError as exc:
            missing.append(CaseResult("toolchain", name, "available", "missing", False,
                                      str(exc), 0.0))
    return ok, missing


def run_selfcheck(sandbox: Sandbox, languages: Sequence[str] | None = None,
                  workers: int | None = None,
                  on_result: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    """Run the conformance suite; one row per case plus the after-suite host checks."""
    names, rows = available_languages(languages)
    report = on_result or (lambda _: None)
    for row in rows:
        report(row)
    with HostBait() as bait:
        basic = [case for name in names for case in basic_cases(name)]
        results = sandbox.run_many([case.spec() for case in basic], workers=workers)
        for case, result in zip(basic, results, strict=True):
            seconds = result.wall_s + (result.compile.wall_s if result.compile else 0.0)
            row = _judge(case, result, bait, seconds)
            rows.append(row)
            report(row)
        # Hostile cases run one at a time so each host check sees only its own run.
        for case in hostile_cases(bait, names):
            started = time.monotonic()
            result = sandbox.run(case.spec())
            row = _judge(case, result, bait, time.monotonic() - started)
            rows.append(row)
            report(row)
        for row in _after_suite(sandbox, bait):
            rows.append(row)
            report(row)
    return rows


def _after_suite(sandbox: Sandbox, bait: HostBait) -> list[CaseResult]:
    sandbox.release_idle()  # what is left after that was left by the runs
    checks: list[tuple[str, list[str]]] = [
        ("no leftover processes", bait.processes_with_token()),
        ("no leftover files", bait.files_with_token()
         + [str(p) for p in sandbox.cache.staging_dirs_of_this_process()]),
        ("host loopback listener untouched",
         [f"{bait.connections} connections"] if bait.connections else []),
        ("host canary process alive", [] if bait.canary_alive() else ["canary killed"]),
    ]
    cgroups = getattr(sandbox, "cgroups", None)
    if cgroups is not None and cgroups.available:
        prefix = f"assay-{os.getpid()}-"
        left = [str(p) for parent in cgroups.parents.values()
                for p in Path(parent).glob(f"{prefix}*")]
        checks.append(("no leftover cgroups", left))
    return [CaseResult(name, "host", "clean", "clean" if not found else "dirty", not found,
                       "; ".join(found[:5]), 0.0) for name, found in checks]
