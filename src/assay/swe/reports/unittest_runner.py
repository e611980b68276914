"""Run unittest tests and write a JUnit XML report: assay's runner, standalone.

Copied next to the code under test and run by that project's interpreter, so it uses the
standard library only and runs on Python 3.8+::

    python unittest_runner.py --report OUT.xml [-s START_DIR] [-p PATTERN] [-t TOP_DIR] [NAME...]

Without NAMEs it discovers like ``python -m unittest discover``. Why a runner rather than
reading ``-v`` output: the ids come from ``TestCase.id()`` itself, nothing a test prints can
be mistaken for a result, subtest failures fail their test, and tests that never ran because
a ``setUpClass``/``setUpModule`` failed are reported (ERROR) instead of vanishing. A module
that does not import, and a class or module fixture that fails, are written as a test case
with an empty classname, which :mod:`assay.swe.reports.junit` reads as a unit failure.

Exit code: 0 when every test passed or was skipped, 1 otherwise, 5 when there was no test
(as pytest). The report is written to a temporary name and renamed, so it is whole or absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import unittest
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

SUITE_NAME = "assay-unittest"
_RANK = {"failure": 0, "error": 1, "passed": 2, "skipped": 3}


def _flatten(suite: unittest.TestSuite | unittest.TestCase) -> Iterator[unittest.TestCase]:
    if isinstance(suite, unittest.TestSuite):
        for item in suite:
            yield from _flatten(item)
    else:
        yield suite


def _is_import_failure(test: object) -> bool:
    return type(test).__name__ == "_FailedTest"


class _Result(unittest.TestResult):
    """Keeps (outcome, message, seconds) per test id, worst outcome first."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, tuple[str, str, float]] = {}
        self.units: list[tuple[str, str]] = []
        self._started: dict[str, float] = {}

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._started[test.id()] = time.perf_counter()

    def _record(self, test: Any, outcome: str, message: str = "") -> None:
        if _is_import_failure(test):
            self.units.append((str(getattr(test, "_testMethodName", test.id())), message))
            return
        if not isinstance(test, unittest.TestCase):
            # unittest reports setUpClass / setUpModule errors on an _ErrorHolder.
            self.units.append((str(test.id()), message))
            return
        test_id = test.id()
        seconds = time.perf_counter() - self._started.get(test_id, time.perf_counter())
        previous = self.outcomes.get(test_id)
        if previous is None or _RANK[outcome] < _RANK[previous[0]]:
            self.outcomes[test_id] = (outcome, message, seconds)

    def _trace(self, err: Any, test: Any = None) -> str:
        # unittest's own (private) formatting drops its frames from the traceback.
        own = getattr(self, "_exc_info_to_string", None)
        if callable(own) and isinstance(test, unittest.TestCase):
            return str(own(err, test))
        return "".join(traceback.format_exception(*err))

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._record(test, "failure", self._trace(err, test))

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._record(test, "error", self._trace(err, test))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._record(test, "skipped", "expected failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._record(test, "failure", "unexpected success")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase,
                   err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "failure" if issubclass(err[0], test.failureException) else "error"
            self._record(test, outcome, f"{subtest}\n{self._trace(err, test)}")


def _last_line(message: str, default: str) -> str:
    lines = message.strip().splitlines()
    return lines[-1][:500] if lines else default


def _write(path: str, ids: list[str], result: _Result) -> None:
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=SUITE_NAME)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for unit, message in result.units:
        case = ET.SubElement(suite, "testcase", classname="", name=unit)
        ET.SubElement(case, "error", message=_last_line(message, "error")).text = message
        counts["error"] += 1
    for test_id in ids:
        # A test never reached: its class or module fixture failed, or the run stopped.
        outcome, message, seconds = result.outcomes.get(
            test_id, ("error", "did not run (a class or module fixture failed?)", 0.0))
        classname, _, name = test_id.rpartition(".")
        case = ET.SubElement(suite, "testcase", classname=classname, name=name,
                             time=f"{seconds:.6f}")
        if outcome != "passed":
            counts[outcome] += 1
            ET.SubElement(case, outcome, message=_last_line(message, outcome)).text = message
    suite.set("tests", str(len(ids)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    temporary = f"{path}.tmp{os.getpid()}"
    ET.ElementTree(suites).write(temporary, encoding="utf-8", xml_declaration=True)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    """Run the tests, write the report, return the exit code."""
    parser = argparse.ArgumentParser(description="Run unittest tests, write JUnit XML.")
    parser.add_argument("--report", required=True)
    parser.add_argument("-s", "--start-dir", default=".")
    parser.add_argument("-p", "--pattern", default="test*.py")
    parser.add_argument("-t", "--top-level-dir", default=None)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    # As `python -m unittest`: the working directory, not this script's, comes first.
    sys.path[0] = os.getcwd()
    loader = unittest.TestLoader()
    if args.names:
        suite = loader.loadTestsFromNames(args.names)
    else:
        suite = loader.discover(args.start_dir, args.pattern, args.top_level_dir)
    ids = [t.id() for t in _flatten(suite) if not _is_import_failure(t)]
    result = _Result()
    suite.run(result)
    _write(args.report, list(dict.fromkeys(ids)), result)
    if not ids and not result.units:
        return 5
    return 0 if result.wasSuccessful() and len(result.outcomes) == len(set(ids)) else 1


if __name__ == "__main__":
    sys.exit(main())
