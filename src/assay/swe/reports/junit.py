"""JUnit XML: pytest ``--junitxml``, Maven Surefire ``TEST-*.xml``, jest-junit, vitest,
mocha-junit-reporter, and assay's unittest runner.

Decisions:
- ``<failure>`` -> FAILED, ``<error>`` -> ERROR, ``<skipped>`` -> SKIPPED (pytest's xfail
  too), no such child -> PASSED; a case with both a failure and an error is FAILED.
- Test cases are found at any depth, so ``<testsuites>`` roots, several and nested
  ``<testsuite>`` all work; a case's unit is its nearest suite's name.
- A case that stands for a whole unit is a unit failure, not a test: a nameless case, a
  failing case with an empty classname from pytest or assay's unittest runner (collection /
  import errors, class fixtures), or a failing case whose name and classname both equal its
  suite's name (vitest's "file failed to load").
- Surefire's ``rerunFailure``/``rerunError`` keep the case failed; ``flakyFailure``/
  ``flakyError`` beside a pass keep it PASSED; both mark the test flaky.
- The XML is read as a stream: a report cut short keeps the cases before the cut and is
  PARTIAL, or NOT_RUN if none came before. DTDs are refused (no entity expansion).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from assay.swe.reports.base import (
    ReportBuilder,
    TestReport,
    TestStatus,
    load_bytes,
    not_run,
    read_report,
)
from assay.swe.reports.junit_ids import IdStyle, PytestIds, simple_id

FORMAT = "junit"
_OUTCOMES = {"failure": TestStatus.FAILED, "error": TestStatus.ERROR,
             "skipped": TestStatus.SKIPPED}
_RERUNS = {"rerunFailure": TestStatus.FAILED, "rerunError": TestStatus.ERROR,
           "flakyFailure": TestStatus.FAILED, "flakyError": TestStatus.ERROR}


def parse_junit(data: str | bytes, *, style: IdStyle | None = None,
                root: Path | None = None) -> TestReport:
    """Parse one JUnit XML document.

    Args:
        data: The XML.
        style: How to form test ids (see :mod:`assay.swe.reports.junit_ids`); None detects
            pytest, assay's unittest runner and Surefire 3 from the suite, else ``generic``.
        root: pytest's rootdir, to map classnames back to test files.

    Returns:
        The report.
    """
    builder = ReportBuilder(FORMAT)
    _Reader(builder, style, root).feed(data)
    return builder.build()


def parse_junit_files(paths: Iterable[Path], *, style: IdStyle | None = None,
                      root: Path | None = None) -> TestReport:
    """Parse several JUnit files into one report (duplicates merged by worst-wins).

    A missing, empty or malformed file makes the report PARTIAL (NOT_RUN if nothing else
    holds a result); no file at all is NOT_RUN.
    """
    paths = list(paths)
    if not paths:
        return not_run(FORMAT, "no report file")
    builder = ReportBuilder(FORMAT)
    for path in paths:
        data = load_bytes(path)
        if isinstance(data, str):
            builder.error(data)
        else:
            _Reader(builder, style, root, source=str(path)).feed(data)
    return builder.build()


def parse_surefire_reports(directory: Path) -> TestReport:
    """Parse Maven Surefire's (or Failsafe's) ``TEST-*.xml`` files in a directory."""
    if not directory.is_dir():
        return not_run(FORMAT, f"report directory missing: {directory}")
    paths = sorted(directory.glob("TEST-*.xml"))
    if not paths:
        return not_run(FORMAT, f"no TEST-*.xml in {directory}")
    return parse_junit_files(paths, style="surefire")


def read_junit(path: Path, *, style: IdStyle | None = None,
               root: Path | None = None) -> TestReport:
    """Parse a JUnit XML file; missing or empty means the suite did not run."""
    return read_report(path, FORMAT, lambda data: parse_junit(data, style=style, root=root))


class _Reader:
    def __init__(self, builder: ReportBuilder, style: IdStyle | None, root: Path | None,
                 source: str = "report") -> None:
        self.builder = builder
        self.style = style
        self.pytest = PytestIds(root)
        self.source = source

    def feed(self, data: str | bytes) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if not raw.strip():
            self.builder.error(f"{self.source}: empty")
            return
        if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
            self.builder.error(f"{self.source}: DTDs are not allowed in a test report")
            return
        suites: list[str] = []
        seen_root = False
        try:
            for event, elem in ET.iterparse(io.BytesIO(raw), events=("start", "end")):
                if not seen_root:
                    seen_root = True
                    if elem.tag not in ("testsuites", "testsuite"):
                        self.builder.error(f"{self.source}: root element <{elem.tag}> "
                                           "is not <testsuites> or <testsuite>")
                        return
                if elem.tag == "testsuite":
                    if event == "start":
                        suites.append(elem.get("name", ""))
                        self._detect(elem)
                    else:
                        suites.pop()
                        elem.clear()
                elif elem.tag == "testcase" and event == "end":
                    self._case(elem, suites[-1] if suites else "")
                    elem.clear()
        except ET.ParseError as exc:
            self.builder.error(f"{self.source}: malformed or truncated XML ({exc})")

    def _detect(self, suite: ET.Element) -> None:
        if self.style is not None:
            return
        name = suite.get("name", "")
        if name == "pytest":
            self.style = "pytest"
        elif name == "assay-unittest":
            self.style = "unittest"
        elif any("surefire" in value for value in suite.attrib.values()):
            self.style = "surefire"
        else:
            self.style = "generic"

    def _case(self, case: ET.Element, suite: str) -> None:
        classname = case.get("classname", "").strip()
        name = case.get("name", "").strip()
        status, message, reruns = _outcome(case)
        style = self.style or "generic"
        failed = status in (TestStatus.FAILED, TestStatus.ERROR)
        if not name or (failed and (classname == name == suite or (
                not classname and style in ("pytest", "unittest")))):
            whole = name or classname or suite
            if style == "pytest" and not classname:
                whole = self.pytest.module_path(name, case.get("file"))
            self.builder.unit_failure(whole, message or f"{status.value} outside any test")
            return
        unit: str | None = suite or None
        if style == "pytest":
            test_id = self.pytest.node_id(classname, name, case.get("file"))
            unit = test_id.split("::", 1)[0]
        else:
            test_id = simple_id(style, classname, name)
            if style in ("surefire", "unittest"):
                # Surefire files nested classes' cases under whichever suite ran them.
                unit = classname
        self.builder.add(test_id, status, message=message, duration_s=_seconds(case),
                         unit=unit, reruns=reruns)


def _outcome(case: ET.Element) -> tuple[TestStatus, str | None, list[TestStatus]]:
    found: dict[TestStatus, str] = {}
    reruns: list[TestStatus] = []
    for child in case:
        if child.tag in _OUTCOMES:
            status = _OUTCOMES[child.tag]
            found.setdefault(status, _message(child.get("message"), child.text))
        elif child.tag in _RERUNS:
            reruns.append(_RERUNS[child.tag])
    for status in (TestStatus.FAILED, TestStatus.ERROR, TestStatus.SKIPPED):
        if status in found:
            return status, found[status] or None, reruns
    return TestStatus.PASSED, None, reruns


def _message(message: str | None, text: str | None) -> str:
    message, text = (message or "").strip(), (text or "").strip()
    if not message or message in text:
        return text
    return f"{message}\n{text}" if text else message


def _seconds(case: ET.Element) -> float | None:
    value = case.get("time")
    if not value:
        return None
    try:
        # Old Surefire wrote locale-formatted times such as "1,234.5".
        return float(value.replace(",", ""))
    except ValueError:
        return None
