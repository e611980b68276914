"""``go test -json`` (test2json) event streams.

Ids are ``<import path>/<TestName>[/<subtest>...]``, e.g. ``example.com/m/calc/TestTable/
one_plus_one``: Go's own test name (spaces in subtest names already ``_``, ``#01`` for a
repeated subtest name) after the package. The package is also each result's ``unit``, so
``test_id[len(unit) + 1:]`` is the name ``go test -run`` matches.

Decisions:
- pass / fail / skip events of a test are its result; a test that got ``run`` but no result
  (the binary crashed, the stream was cut) is ERROR.
- A package that failed to build (``build-fail``, ``FailedBuild``, or ``[build failed]`` /
  ``[setup failed]`` from Go before 1.24) is a unit failure: its tests did not run.
- A package that failed with a panic is a unit failure too (tests after the panicking one
  did not run); so is a package that failed while none of its tests did (TestMain, os.Exit).
- A package that started but has no final event means the stream was cut: PARTIAL.
- Lines that are not JSON (stderr mixed in) are skipped; a line that starts like JSON but
  does not parse is an error (a truncated stream).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.swe.reports.base import ReportBuilder, TestReport, TestStatus, as_text, read_report

FORMAT = "go-test-json"
_RESULTS = {"pass": TestStatus.PASSED, "fail": TestStatus.FAILED, "skip": TestStatus.SKIPPED}
_NOISE = ("=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP")
_MAX_LINES = 200


@dataclass
class _Package:
    started: bool = False
    final: str | None = None
    failed_build: bool = False
    output: list[str] = field(default_factory=list)
    failed_tests: int = 0
    panicked_in: str | None = None


def parse_go_test_json(data: str | bytes) -> TestReport:
    """Parse the stdout of ``go test -json`` (stderr may be mixed in).

    Args:
        data: The event stream, one JSON object per line.

    Returns:
        The report.
    """
    reader = _Reader()
    for number, line in enumerate(as_text(data).splitlines(), 1):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            reader.builder.error(f"line {number}: not a JSON event (stream cut?): {line[:80]}")
            continue
        if isinstance(event, dict):
            reader.event(event)
    return reader.finish()


def read_go_test_json(path: Path) -> TestReport:
    """Parse a file holding ``go test -json`` output; missing or empty did not run."""
    return read_report(path, FORMAT, parse_go_test_json)


class _Reader:
    def __init__(self) -> None:
        self.builder = ReportBuilder(FORMAT)
        self.packages: dict[str, _Package] = {}
        self.build_output: dict[str, list[str]] = {}
        self.running: dict[tuple[str, str], list[str]] = {}

    def package(self, name: str) -> _Package:
        return self.packages.setdefault(name, _Package())

    def event(self, event: dict[str, Any]) -> None:
        action = str(event.get("Action", ""))
        output = event.get("Output")
        if "ImportPath" in event and "Package" not in event:
            # Go 1.24+: compiler output, keyed "pkg [pkg.test]".
            path = str(event["ImportPath"]).split(" ", 1)[0]
            if action == "build-output" and isinstance(output, str):
                self.build_output.setdefault(path, []).append(output)
            elif action == "build-fail":
                self.package(path).failed_build = True
            return
        name = event.get("Package")
        if not isinstance(name, str):
            return
        pkg = self.package(name)
        test = event.get("Test")
        if not isinstance(test, str) or not test:
            self.package_event(pkg, action, output, event)
            return
        key = (name, test)
        if action == "run":
            self.running[key] = []
        elif action == "output" and isinstance(output, str):
            # Output of a test that already has its result must not revive it.
            lines = self.running.get(key)
            if lines is not None and len(lines) < _MAX_LINES:
                lines.append(output)
            if output.startswith("panic: ") and pkg.panicked_in is None:
                pkg.panicked_in = test
        elif action in _RESULTS:
            status = _RESULTS[action]
            lines = self.running.pop(key, [])
            if status is TestStatus.FAILED:
                pkg.failed_tests += 1
            message = None
            if status is not TestStatus.PASSED:
                message = "".join(x for x in lines if not x.lstrip().startswith(_NOISE))
            elapsed = event.get("Elapsed")
            seconds = float(elapsed) if isinstance(elapsed, int | float) else None
            self.builder.add(f"{name}/{test}", status, message=message, unit=name,
                             duration_s=seconds)

    def package_event(self, pkg: _Package, action: str, output: object,
                      event: dict[str, Any]) -> None:
        if action == "start":
            pkg.started = True
        elif action == "output" and isinstance(output, str):
            if len(pkg.output) < _MAX_LINES:
                pkg.output.append(output)
            if output.startswith("panic: ") and pkg.panicked_in is None:
                pkg.panicked_in = "the package"
        elif action in _RESULTS:
            pkg.final = action
            if event.get("FailedBuild"):
                pkg.failed_build = True

    def finish(self) -> TestReport:
        for (name, test), lines in self.running.items():
            self.builder.add(f"{name}/{test}", TestStatus.ERROR, unit=name,
                             message="no result: the test binary ended first\n" + "".join(lines))
        for name, pkg in self.packages.items():
            output = "".join(pkg.output)
            if pkg.failed_build or "[build failed]" in output or "[setup failed]" in output:
                built = "".join(self.build_output.get(name, [])) or output
                self.builder.unit_failure(name, f"build failed: {built}")
            elif pkg.final is None:
                self.builder.error(f"{name}: no final event (stream cut short)")
            elif pkg.final == "fail" and pkg.panicked_in is not None:
                self.builder.unit_failure(
                    name, f"panic in {pkg.panicked_in}: tests after it did not run")
            elif pkg.final == "fail" and not pkg.failed_tests:
                self.builder.unit_failure(name, f"package failed outside its tests: {output}")
        return self.builder.build()
