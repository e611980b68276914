"""One test run of a checkout in the sandbox, read back as a report.

The checkout is a fresh copy (the run may write anywhere in it), bound at ``/repo``; the
environment is read-only at ``/env``; the report goes to a fresh directory at ``/report``
that is not part of the tree, so no file of the repository (nor a patch to one) can be the
report, and a report left by an earlier run cannot be read again. There is no network. The
report is then checked against the runner's exit code (:func:`cross_check`): a report of
passes from a failing run, or of failures from a passing one, is a disagreement.

The code under test runs in the runner's process (pytest, jest, cargo's test binaries), so
it could rewrite the report with intent; what it cannot do is pass by printing "PASSED"
lines (reports are structured files, not logs), by editing the tests (callers restore them)
or by leaving a file in the tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assay.sandbox import Bind, Limits, RunSpec, Sandbox, Verdict
from assay.swe.env.base import ENV, REPO, REPORT, SCRATCH, Ecosystem
from assay.swe.env.cache import Environment
from assay.swe.reports import Disagreement, TestReport, cross_check
from assay.swe.reports.base import not_run

# A repository's whole suite: builds, many processes, minutes.
TEST_LIMITS = Limits(wall_s=900.0, cpu_s=1800.0, memory_mb=4096, processes=512,
                     open_files=4096, file_size_mb=1024, output_bytes=8 * 1024 * 1024,
                     disk_mb=2048)
LOG_TAIL = 200_000


@dataclass(frozen=True)
class TestRun:
    """What one run of a checkout's tests gave.

    Attributes:
        verdict: The sandbox's verdict of the runner process.
        exit_code: The runner's exit code (None when it was killed).
        seconds: Wall time of the run.
        report: The parsed report (NOT_RUN when there was none).
        disagreement: How the report and the exit code disagree, if they do.
        log: The run's stdout then stderr (tail).
        raw_report: The report files' bytes by name, to keep with the task.
        error: The sandbox's error, if it failed.
    """

    __test__ = False

    verdict: Verdict
    exit_code: int | None
    seconds: float
    report: TestReport
    disagreement: Disagreement | None
    log: str
    raw_report: dict[str, bytes]
    error: str | None = None


def run_tests(sandbox: Sandbox, ecosystem: Ecosystem, environment: Environment, tree: Path,
              limits: Limits = TEST_LIMITS) -> TestRun:
    """Run the tests of ``tree`` (left untouched: the run works on a copy)."""
    with tempfile.TemporaryDirectory(prefix="assay-test-") as tmp:
        work = Path(tmp)
        checkout, report_dir, scratch = work / "repo", work / "report", work / "scratch"
        shutil.copytree(tree, checkout, symlinks=True)
        report_dir.mkdir()
        scratch.mkdir()
        ecosystem.prepare_checkout(environment.path, checkout, scratch)
        work.chmod(0o755)
        for directory in (checkout, report_dir, scratch):
            sandbox.prepare_writable_tree(directory)
        command = ecosystem.test_command(checkout)
        spec = RunSpec(
            language="bash", files={"test.sh": f"cd {REPO} || exit 125\n" + command.script,
                                    **command.files},
            entry="test.sh", env=command.env, limits=limits, toolchains=ecosystem.toolchains,
            binds=(Bind(str(checkout), REPO, writable=True), Bind(str(environment.path), ENV),
                   Bind(str(report_dir), REPORT, writable=True),
                   Bind(str(scratch), SCRATCH, writable=True)))
        started = time.monotonic()
        result = sandbox.run(spec)
        seconds = time.monotonic() - started
        log = (result.stdout + ("\n" if result.stdout and result.stderr else "")
               + result.stderr)[-LOG_TAIL:]
        _drop_links(report_dir)
        raw = {str(p.relative_to(report_dir)): p.read_bytes()
               for p in sorted(report_dir.rglob("*")) if p.is_file()}
        if result.verdict is Verdict.SANDBOX_ERROR:
            report = not_run(ecosystem.name, f"sandbox error: {result.error}")
        else:
            report = ecosystem.read_report(report_dir, log, checkout)
    exit_code = result.exit_code if result.verdict in (Verdict.OK, Verdict.RUNTIME_ERROR) \
        else None
    disagreement = (cross_check(report, exit_code, ok_codes=command.ok_codes)
                    if result.verdict is not Verdict.SANDBOX_ERROR else None)
    return TestRun(verdict=result.verdict, exit_code=exit_code, seconds=seconds, report=report,
                   disagreement=disagreement, log=log, raw_report=raw, error=result.error)


def _drop_links(directory: Path) -> None:
    """Remove everything but plain files and directories from what the run wrote: the host
    reads the report as root, and a symlink there could point it at any host file."""
    for parent, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = Path(parent, name)
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                path.unlink()
