"""Test report parsers: runner output -> per-test status, with the defences the SWE pipeline
needs (a missing or broken report did not run; report vs exit code; duplicate ids).

Test id conventions, one per runner, each what the runner itself uses to name a test:

=================  ==========================================================
pytest             ``tests/test_x.py::TestK::test_y[param]`` (node id)
unittest           ``pkg.module.Class.method`` (``TestCase.id()``)
Maven Surefire     ``com.example.CalcTest#adds`` (``-Dtest=`` form)
go test            ``example.com/m/pkg/TestName/subtest``
cargo test         ``module::tests::name`` (libtest name)
jest / vitest      ``src/x.test.js::describe > nested > title``
node --test        ``src/x.test.js::describe > nested > title``
mocha              ``test/x.spec.js::describe nested title`` (``fullTitle``)
other JUnit        ``classname::name``
=================  ==========================================================

How to run each runner so that its report parses fully (the parsers still cope otherwise,
with a PARTIAL or NOT_RUN report saying why):

- pytest: ``--junitxml=OUT -o junit_family=xunit1 --continue-on-collection-errors``, and
  pass pytest's rootdir as ``root`` (xunit1 writes the file of each test; without it the
  files under ``root`` are searched). Exit 5 (nothing collected) leaves a NOT_RUN report.
- unittest: :data:`UNITTEST_RUNNER` (``--report OUT``), not ``python -m unittest -v``, whose
  text any test can imitate on stderr.
- Maven: ``mvn test``, then :func:`parse_surefire_reports` on ``target/surefire-reports``
  (``-Dsurefire.rerunFailingTestsCount=N`` reruns are understood).
- go: ``go test -json ./...``; stdout is the stream (stderr may be mixed in).
- cargo: ``cargo test --no-fail-fast 2>&1``, without ``-q``.
- jest: ``--json --outputFile=OUT``; vitest: ``run --reporter=json --outputFile=OUT``;
  mocha: ``--reporter json --reporter-option output=OUT``; node's test runner:
  ``--test --test-reporter=NODE_TEST_REPORTER --test-reporter-destination=OUT``.

Every one of these reports is written by a process the code under test runs in or beside;
keeping the code from forging it (a report path outside its reach, a fresh one per run) is
the caller's part. :func:`cross_check` catches the crude forgeries: a report of passes from
a run that failed.
"""

from pathlib import Path

from assay.swe.reports import unittest_runner
from assay.swe.reports.base import (
    Completeness,
    TestReport,
    TestResult,
    TestStatus,
    read_report,
)
from assay.swe.reports.cargo import parse_cargo_test, read_cargo_test
from assay.swe.reports.crosscheck import Disagreement, DisagreementKind, cross_check
from assay.swe.reports.formats import FORMATS, ReportFormat, parse_report, read_report_file
from assay.swe.reports.gotest import parse_go_test_json, read_go_test_json
from assay.swe.reports.jsjson import (
    parse_jest_json,
    parse_mocha_json,
    parse_vitest_json,
    read_jest_json,
    read_mocha_json,
    read_vitest_json,
)
from assay.swe.reports.junit import (
    parse_junit,
    parse_junit_files,
    parse_surefire_reports,
    read_junit,
)
from assay.swe.reports.nodetest import NODE_TEST_REPORTER, parse_node_test, read_node_test

UNITTEST_RUNNER = Path(unittest_runner.__file__)
"""assay's unittest runner script, to copy next to the code under test and run there."""

__all__ = [
    "FORMATS", "NODE_TEST_REPORTER", "UNITTEST_RUNNER", "Completeness", "Disagreement",
    "DisagreementKind", "ReportFormat", "TestReport", "TestResult", "TestStatus", "cross_check",
    "parse_cargo_test", "parse_go_test_json", "parse_jest_json", "parse_junit",
    "parse_junit_files", "parse_mocha_json", "parse_node_test", "parse_report",
    "parse_surefire_reports", "parse_vitest_json", "read_cargo_test", "read_go_test_json",
    "read_jest_json", "read_junit", "read_mocha_json", "read_node_test", "read_report",
    "read_report_file", "read_vitest_json",
]
