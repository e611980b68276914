"""stdin -> stdout suites in every sandbox language.

The solution is a whole program, compiled once. A case runner (``runners/io_runner.py``)
starts the program once per case with the case's input, a per-case time limit and an output
cap, and reports what each run did. The job (cases, the names to run, the checker) reaches
the runner on its stdin, so the files, and with them the compile cache key, are the solution
and the runner only.

For most languages the runner is the sandbox run's wrapper (run by the system python3) and
starts the program's run command per case. A Python solution's run has no wrapper: the
runner is the Python program the sandbox runs (in a warm executor when there is one), and
each case is a process forked from a clean interpreter (the runner's program server) that
runs the solution as ``launch.py`` would, without a new interpreter per case.

Outcomes are decided here, in ``grade``, from the raw results: a runtime error is ERROR, a
case over its time limit TIMEOUT, an output the checker rejects FAIL with the first
difference (see ``checkers``). A ``custom`` checker must be Python: the runner runs it in
the sandbox after each case, once the program and whatever it started are dead.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
from collections.abc import Sequence
from typing import Any

from assay.data.records import Status, TestCase, TestOutcome
from assay.harness.base import (
    MAX_RUN_WALL_S,
    STARTUP_SLACK_S,
    Harness,
    HarnessTask,
    register_harness,
    runner_source,
)
from assay.harness.checkers import as_text, decode_raw, output_mismatch, runner_verdict
from assay.harness.protocol import RunnerReport
from assay.sandbox import Limits, RunSpec
from assay.sandbox.languages import get_language
from assay.sandbox.languages.base import WORK_DIR
from assay.sandbox.spec import MIB

RUNNER_FILE = "assay_io_runner.py"
SYSTEM_PYTHON = "/usr/bin/python3"
# The runner forks each case from its program server (Python solutions).
PROGRAM_SERVER_VARIABLE = "ASSAY_IO_PROGRAM_SERVER"
# launch.py keeps the status fd for the program it runs (the runner), which reports the
# solution's syntax error there itself.
PASS_STATUS_VARIABLE = "ASSAY_PASS_STATUS_FD"
# Output a case may print: twice the expected output, plus this much.
OUTPUT_SLACK = 64 * 1024
CHECKER_MIN_TIMEOUT_S = 10.0
MAX_REPORT_BYTES = 256 * MIB
# Stack frames of assay's launchers (/assay/...) and of node's internals; node's version line.
_LAUNCHER_FRAME = re.compile(r"/assay/|\(node:|^\s+at node:|^Node\.js v\d")
_JAVA_PUBLIC_CLASS = re.compile(r"^\s*public\s+(?:final\s+|abstract\s+)*class\s+(\w+)", re.M)


@register_harness
class IoHarness(Harness):
    kind = "io"
    languages = ("python", "javascript", "typescript", "java", "c", "cpp", "go", "rust",
                 "ruby", "php", "bash")

    # Python solutions: each case forked from the runner's program server. False runs them
    # as every other language, a new interpreter per case (kept to compare the two: the
    # tests and benchmarks/io_throughput.py).
    python_program_server = True

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        language = get_language(task.language)
        entry = entry_file(task.language, task.code)
        wanted = set(only)
        cases = [case for case in task.suite.cases if not wanted or case.name in wanted]
        job = _job(task, cases)
        files = {entry: task.code, RUNNER_FILE: runner_source("io_runner.py")}
        limits = self._limits(task, job["cases"])
        if language.name == "python" and self.python_program_server:
            # The runner is the program; its arguments are the solution's own run command.
            program = language.run_argv(language.toolchain(), entry)
            return RunSpec(language=task.language, files=files, entry=RUNNER_FILE,
                           argv=tuple(program), stdin=json.dumps(job).encode(),
                           env={**self.runner_env(task), PROGRAM_SERVER_VARIABLE: "1",
                                PASS_STATUS_VARIABLE: "1"},
                           report=True, limits=limits)
        return RunSpec(language=task.language, files=files, entry=entry,
                       stdin=json.dumps(job).encode(), env=self.runner_env(task), report=True,
                       wrapper=(SYSTEM_PYTHON, "-I", "-S", f"{WORK_DIR}/{RUNNER_FILE}"),
                       limits=limits)

    def grade(self, task: HarnessTask, report: RunnerReport) -> dict[str, TestOutcome]:
        cases = {case.name: case for case in task.suite.cases}
        graded = {}
        for name, outcome in report.results.items():
            raw = decode_raw(outcome.message)
            case = cases.get(name)
            if raw is None or case is None:
                graded[name] = runner_verdict(outcome)
            else:
                status, message = grade_case(task, case, raw)
                graded[name] = TestOutcome(name=name, status=status, message=message,
                                           time_s=outcome.time_s)
        return graded

    def _limits(self, task: HarnessTask, cases: list[dict[str, Any]]) -> Limits:
        per_case = task.timeout_s + 0.5  # the program's start and the clean-up after it
        if "checker" in _job_checker(task):
            per_case += _checker_timeout(task)
        wall = min(MAX_RUN_WALL_S, STARTUP_SLACK_S + per_case * max(1, len(cases)) * 1.5)
        # Room in the report for every output that differs from the expected one.
        report = sum(2 * case["cap"] + 16 * 1024 for case in cases) + MIB
        return self.limits(task, len(cases)).with_(
            wall_s=wall, cpu_s=2 * wall,
            output_bytes=max(4 * MIB, min(MAX_REPORT_BYTES, report)))


def entry_file(language: str, code: str) -> str:
    """The solution's file name: the language's usual one; Java's is its public class's."""
    if get_language(language).name == "java":
        found = _JAVA_PUBLIC_CLASS.search(code)
        return f"{found.group(1) if found else 'Main'}.java"
    return get_language(language).default_entry


def _job(task: HarnessTask, cases: Sequence[TestCase]) -> dict[str, Any]:
    custom = "checker" in _job_checker(task)
    entries = []
    for case in cases:
        expected = (as_text(case.expected) or "").encode()
        entry: dict[str, Any] = {
            "name": case.name, "input": as_text(case.input) or "",
            "cap": 2 * len(expected) + OUTPUT_SLACK,
            # Only a digest: the program must not find the answers in the sandbox.
            "expected_sha256": hashlib.sha256(expected).hexdigest()}
        if custom:
            entry["answer"] = expected.decode()  # the checker's ANSWER file
        entries.append(entry)
    return {"cases": entries, **_job_checker(task)}


def _job_checker(task: HarnessTask) -> dict[str, Any]:
    checker = task.suite.checker
    if checker.kind != "custom" or checker.language != "python" or not checker.program:
        return {}
    return {"checker": checker.program, "checker_timeout": _checker_timeout(task)}


def _checker_timeout(task: HarnessTask) -> float:
    return max(CHECKER_MIN_TIMEOUT_S, 2 * task.timeout_s)


def grade_case(task: HarnessTask, case: TestCase, raw: dict[str, Any]) -> tuple[Status, str]:
    """The outcome of one case from what its run did (a pure function of the report)."""
    if raw.get("timeout"):
        return Status.TIMEOUT, f"exceeded the {task.timeout_s:g} s time limit"
    expected = as_text(case.expected)
    if raw.get("over_cap"):  # then killed by the runner: the output is what is wrong
        return Status.FAIL, (f"printed more than {raw.get('stdout_bytes', 0)} bytes; the "
                             f"expected output has {len((expected or '').encode())}")
    stderr = str(raw.get("stderr") or "").strip()
    detail = f": {_last_lines(stderr)}" if stderr else ""
    if raw.get("signal"):
        return Status.ERROR, f"{_signal_text(int(raw['signal']))}{detail}"
    if raw.get("exit") != 0:
        return Status.ERROR, f"exited with code {raw.get('exit')}{detail}"
    checker = task.suite.checker
    if checker.kind == "custom":
        return _custom_outcome(task, raw)
    if expected is None:
        return Status.INFRA, "the case has no expected output"
    if raw.get("same"):
        return Status.PASS, ""
    problem = output_mismatch(checker, expected, str(raw.get("stdout", "")))
    return (Status.PASS, "") if problem is None else (Status.FAIL, problem)


def _custom_outcome(task: HarnessTask, raw: dict[str, Any]) -> tuple[Status, str]:
    checker = task.suite.checker
    if checker.language != "python" or not checker.program:
        reason = ("has no program" if not checker.program else
                  f"is in {checker.language}; only Python checkers can run")
        return Status.INFRA, f"the suite's custom checker {reason}"
    verdict = raw.get("checker")
    if not isinstance(verdict, dict):
        return Status.INFRA, "the checker did not run"
    message = str(verdict.get("message") or "").strip()
    if verdict.get("timeout"):
        return Status.ERROR, f"the checker did not finish in {_checker_timeout(task):g} s"
    if verdict.get("exit") == 0:
        return Status.PASS, _short(message)
    if verdict.get("signal"):
        return Status.ERROR, f"the checker was {_signal_text(int(verdict['signal']))}"
    return Status.FAIL, _short(message or f"rejected by the checker (exit {verdict.get('exit')})")


def _signal_text(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hint = " (out of memory?)" if number == signal.SIGKILL else ""
    return f"killed by {name}{hint}"


def _last_lines(text: str, lines: int = 8, limit: int = 1500) -> str:
    """The end of a program's stderr, without the frames of assay's launchers and of the
    runtime's own internals (they say nothing about the program)."""
    kept: list[str] = []
    skip_next = False
    for line in text.splitlines():
        if skip_next:  # the source line shown under a launcher's Python frame
            skip_next = False
            continue
        if _LAUNCHER_FRAME.search(line):
            skip_next = line.lstrip().startswith('File "')
            continue
        if line.strip():
            kept.append(line)
    summary = "\n".join(kept[-lines:])
    return summary if len(summary) <= limit else "..." + summary[-limit:]


def _short(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
