"""JSON reports of JavaScript runners: jest ``--json``, vitest ``--reporter=json`` (the same
schema) and mocha ``--reporter json``.

Ids are ``<test file>::<describe> > <nested describe> > <test title>``, the file relative to
``root`` when it lies under it (jest and vitest write absolute paths); vitest's JUnit output
gives the same ids. Mocha's JSON keeps no describe structure, only ``fullTitle`` (titles
joined by spaces, what ``--grep`` matches), so mocha ids are ``<test file>::<fullTitle>``.

Decisions:
- jest / vitest: passed -> PASSED, failed -> FAILED, pending / skipped / todo / disabled ->
  SKIPPED. A test file that failed with no failing test in it (a syntax or import error, a
  failing ``beforeAll``/``afterAll``) is a unit failure; jest's ``wasInterrupted`` and a
  ``numTotalTests`` that disagrees with the tests listed make the report PARTIAL. A passing
  test with ``invocations`` > 1 or retry reasons was retried, so it is flaky.
- mocha: ``failures`` -> FAILED, ``pending`` -> SKIPPED, ``passes`` -> PASSED; a failure that
  is not a test (``"before all" hook for ...``) is a unit failure; ``currentRetry`` > 0 on a
  pass is flaky. Mocha prints its JSON on stdout after anything the tests printed, so when
  the text is not JSON the last ``{"stats": ...}`` document that runs to the end is used
  (``--reporter-option output=FILE`` avoids the question).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from assay.swe.reports.base import (
    ReportBuilder,
    TestReport,
    TestStatus,
    as_text,
    not_run,
    read_report,
)

_JEST_STATUS = {"passed": TestStatus.PASSED, "failed": TestStatus.FAILED,
                "pending": TestStatus.SKIPPED, "skipped": TestStatus.SKIPPED,
                "todo": TestStatus.SKIPPED, "disabled": TestStatus.SKIPPED}
_MOCHA_START = re.compile(r'^\{\s*"stats"\s*:', re.MULTILINE)


def parse_jest_json(data: str | bytes, *, root: Path | None = None,
                    format: str = "jest-json") -> TestReport:
    """Parse a jest ``--json`` (or vitest JSON reporter) report.

    Args:
        data: The JSON text.
        root: The project directory, to make test file paths relative.
        format: The format name to record (``vitest-json`` for vitest).

    Returns:
        The report.
    """
    doc = _load(as_text(data))
    if not isinstance(doc, dict) or not isinstance(doc.get("testResults"), list):
        return not_run(format, "not a jest/vitest JSON report (no testResults)")
    builder = ReportBuilder(format)
    listed = 0
    for suite in _dicts(doc["testResults"]):
        file = relative(str(suite.get("name", "")), root)
        assertions = _dicts(suite.get("assertionResults"))
        listed += len(assertions)
        failed = 0
        for test in assertions:
            status = _JEST_STATUS.get(str(test.get("status")), TestStatus.ERROR)
            failed += status is TestStatus.FAILED
            titles = [*_strings(test.get("ancestorTitles")), str(test.get("title", ""))]
            retried = _number(test.get("invocations")) > 1 or bool(test.get("retryReasons"))
            builder.add(f"{file}::{' > '.join(titles)}", status,
                        message="\n".join(_strings(test.get("failureMessages"))),
                        duration_s=_ms(test.get("duration")), unit=file,
                        reruns=[TestStatus.FAILED] if retried else [])
        if suite.get("status") == "failed" and not failed:
            builder.unit_failure(file, str(suite.get("message") or "test file failed"))
    total = doc.get("numTotalTests")
    if isinstance(total, int) and total != listed:
        builder.error(f"numTotalTests is {total} but {listed} tests are listed")
    if doc.get("wasInterrupted"):
        builder.error("the run was interrupted")
    return builder.build()


def parse_vitest_json(data: str | bytes, *, root: Path | None = None) -> TestReport:
    """Parse a vitest ``--reporter=json`` report (jest's schema)."""
    return parse_jest_json(data, root=root, format="vitest-json")


def parse_mocha_json(data: str | bytes, *, root: Path | None = None) -> TestReport:
    """Parse a mocha ``--reporter json`` report.

    Args:
        data: The JSON text, or mocha's whole stdout.
        root: The project directory, to make test file paths relative.

    Returns:
        The report.
    """
    doc = _load(as_text(data))
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        return not_run("mocha-json", "not a mocha JSON report (no tests)")
    builder = ReportBuilder("mocha-json")

    def key(test: dict[str, Any]) -> str:
        file = relative(str(test.get("file") or ""), root)
        title = str(test.get("fullTitle", test.get("title", "")))
        return f"{file}::{title}" if file else title

    def entries(name: str) -> list[dict[str, Any]]:
        return _dicts(doc.get(name))

    failures = {key(t): t for t in entries("failures")}
    pending = {key(t) for t in entries("pending")}
    passes = {key(t) for t in entries("passes")}
    for test in entries("tests"):
        test_id = key(test)
        if test_id in failures:
            status, err = TestStatus.FAILED, failures.pop(test_id).get("err")
        elif test_id in pending:
            status, err = TestStatus.SKIPPED, None
        elif test_id in passes:
            status, err = TestStatus.PASSED, None
        else:
            status, err = TestStatus.ERROR, {"message": "listed without an outcome"}
        retried = status is TestStatus.PASSED and _number(test.get("currentRetry")) > 0
        builder.add(test_id, status, message=_mocha_error(err), unit=test_id.split("::")[0],
                    duration_s=_ms(test.get("duration")),
                    reruns=[TestStatus.FAILED] if retried else [])
    for hook_id, hook in failures.items():  # what is left failed outside a test: hooks
        builder.unit_failure(hook_id, _mocha_error(hook.get("err")) or "hook failed")
    return builder.build()


def read_jest_json(path: Path, *, root: Path | None = None) -> TestReport:
    """Parse a jest ``--json --outputFile`` file; missing or empty did not run."""
    return read_report(path, "jest-json", lambda data: parse_jest_json(data, root=root))


def read_vitest_json(path: Path, *, root: Path | None = None) -> TestReport:
    """Parse a vitest ``--outputFile`` JSON file; missing or empty did not run."""
    return read_report(path, "vitest-json", lambda data: parse_vitest_json(data, root=root))


def read_mocha_json(path: Path, *, root: Path | None = None) -> TestReport:
    """Parse a mocha JSON file; missing or empty did not run."""
    return read_report(path, "mocha-json", lambda data: parse_mocha_json(data, root=root))


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    # Mocha on stdout: the report is the last {"stats": ...} document and nothing follows it.
    for match in reversed(list(_MOCHA_START.finditer(text))):
        try:
            doc, end = json.JSONDecoder().raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if not text[end:].strip():
            return doc
    return None


def relative(file: str, root: Path | None) -> str:
    """``file`` relative to ``root`` (POSIX form) when it lies under it, else as given."""
    if root is None or not file:
        return file
    try:
        return Path(file).relative_to(root).as_posix()
    except ValueError:
        # jest may resolve symlinks in root (/tmp -> /private/tmp); try the resolved root.
        try:
            return Path(file).relative_to(root.resolve()).as_posix()
        except ValueError:
            return file


def _dicts(value: object) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [str(x) for x in value] if isinstance(value, list) else []


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _ms(value: object) -> float | None:
    return float(value) / 1000 if isinstance(value, int | float) else None


def _mocha_error(err: object) -> str | None:
    if not isinstance(err, dict) or not err:
        return None
    return str(err.get("stack") or err.get("message") or err)
