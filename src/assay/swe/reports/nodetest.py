"""Node's built-in test runner (``node --test``), through assay's reporter.

Node's own JUnit reporter names no file and flattens ``describe`` blocks, so two files'
``test('adds')`` would be one id; :data:`NODE_TEST_REPORTER` writes one JSON line per
finished test instead, with its file and its describe path, then an end line::

    node --test --test-reporter=node_reporter.mjs --test-reporter-destination=OUT

Ids are ``<file>::<describe> > <test>`` like jest's, the file relative to ``root``.

Decisions: a pass is PASSED, or SKIPPED for ``skip``/``todo``; a fail is FAILED, or ERROR
when the test was cancelled because its parent failed (a ``before`` hook, a timeout). A
suite that failed other than through its tests (``hookFailed``) and a file that failed
without reporting any test (it did not load) are unit failures. No end line means the
run was cut short: PARTIAL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.swe.reports.base import ReportBuilder, TestReport, TestStatus, as_text, read_report
from assay.swe.reports.jsjson import relative

FORMAT = "node-test"
NODE_TEST_REPORTER = Path(__file__).with_name("node_reporter.mjs")
_CANCELLED = frozenset({"cancelledByParent", "cancelledByTimeout"})  # never ran to the end


def parse_node_test(data: str | bytes, *, root: Path | None = None) -> TestReport:
    """Parse the output of assay's node test reporter.

    Args:
        data: The JSON lines.
        root: The project directory, to make test file paths relative.

    Returns:
        The report.
    """
    builder = ReportBuilder(FORMAT)
    ended = False
    for number, line in enumerate(as_text(data).splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            builder.error(f"line {number}: not JSON (cut short?): {line[:80]}")
            continue
        if not isinstance(event, dict):
            continue
        if event.get("event") == "end":
            ended = True
        elif event.get("event") in ("pass", "fail"):
            _event(builder, event, root)
    if not ended and len(builder):
        builder.error("no end line: the run was cut short")
    return builder.build()


def read_node_test(path: Path, *, root: Path | None = None) -> TestReport:
    """Parse a file written by assay's node test reporter; missing or empty did not run."""
    return read_report(path, FORMAT, lambda data: parse_node_test(data, root=root))


def _event(builder: ReportBuilder, event: dict[str, Any], root: Path | None) -> None:
    raw_file = str(event.get("file") or "")
    file = relative(raw_file, root)
    path = [str(p) for p in event.get("path") or [] if p is not None]
    failed = event.get("event") == "fail"
    message = event.get("message")
    message = str(message) if message is not None else None
    if failed and path == [raw_file]:
        builder.unit_failure(file, message or "the test file failed")
        return
    test_id = f"{file}::{' > '.join(path)}"
    if event.get("kind") == "suite":
        if failed and event.get("failure") != "subtestsFailed":
            builder.unit_failure(test_id, message or "the suite failed")
        return
    if failed:
        status = TestStatus.ERROR if event.get("failure") in _CANCELLED else TestStatus.FAILED
    elif event.get("skip") or event.get("todo"):
        status = TestStatus.SKIPPED
    else:
        status = TestStatus.PASSED
    duration = event.get("duration_ms")
    builder.add(test_id, status, message=message if status is not TestStatus.PASSED else None,
                unit=file, duration_s=float(duration) / 1000
                if isinstance(duration, int | float) else None)
