"""assay's unittest runner, run for real on a project made in tmp_path, and its report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assay.swe.reports import (
    UNITTEST_RUNNER,
    Completeness,
    TestStatus,
    cross_check,
    read_report_file,
)

TESTS = '''
import sys
import unittest


class TestC(unittest.TestCase):
    def test_pass(self):
        # Looks like a verbose unittest result line; it is only output.
        sys.stderr.write("test_fail (tests.test_m.TestC.test_fail) ... ok\\n")

    def test_fail(self):
        self.assertEqual(1, 2)

    def test_error(self):
        raise RuntimeError("boom")

    @unittest.skip("later")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

    @unittest.expectedFailure
    def test_unexpected_success(self):
        pass

    def test_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)


class TestBrokenClass(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("class setup boom")

    def test_never_reached(self):
        pass
'''


def _run(project: Path, report: Path, *names: str) -> subprocess.CompletedProcess[str]:
    # The runner is copied beside the project, as it would be into a sandbox.
    runner = project / "assay_unittest_runner.py"
    runner.write_text(UNITTEST_RUNNER.read_text())
    return subprocess.run([sys.executable, str(runner), "--report", str(report), *names],
                          cwd=project, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unittest-project")
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_m.py").write_text(TESTS)
    (root / "tests" / "test_unimportable.py").write_text("import module_that_does_not_exist\n")
    return root


def test_discovery_run(project: Path) -> None:
    report_path = project / "report.xml"
    done = _run(project, report_path)
    assert done.returncode == 1
    report = read_report_file("unittest", report_path)
    assert report.statuses() == {
        "tests.test_m.TestC.test_pass": TestStatus.PASSED,
        "tests.test_m.TestC.test_fail": TestStatus.FAILED,
        "tests.test_m.TestC.test_error": TestStatus.ERROR,
        "tests.test_m.TestC.test_skip": TestStatus.SKIPPED,
        "tests.test_m.TestC.test_expected_failure": TestStatus.SKIPPED,
        "tests.test_m.TestC.test_unexpected_success": TestStatus.FAILED,
        "tests.test_m.TestC.test_subtests": TestStatus.FAILED,
        "tests.test_m.TestBrokenClass.test_never_reached": TestStatus.ERROR,
    }
    assert "i=1" in (report.tests["tests.test_m.TestC.test_subtests"].message or "")
    assert "1 != 2" in (report.tests["tests.test_m.TestC.test_fail"].message or "")
    assert report.tests["tests.test_m.TestC.test_fail"].unit == "tests.test_m.TestC"
    assert set(report.unit_failures) == {"tests.test_unimportable",
                                         "setUpClass (tests.test_m.TestBrokenClass)"}
    assert "module_that_does_not_exist" in report.unit_failures["tests.test_unimportable"]
    assert report.completeness is Completeness.PARTIAL
    assert cross_check(report, done.returncode) is None


def test_ids_are_what_unittest_accepts(project: Path) -> None:
    report_path = project / "selected.xml"
    done = _run(project, report_path, "tests.test_m.TestC.test_pass")
    assert done.returncode == 0
    report = read_report_file("unittest", report_path)
    assert report.completeness is Completeness.COMPLETE
    assert report.statuses() == {"tests.test_m.TestC.test_pass": TestStatus.PASSED}
    assert cross_check(report, 0) is None
    assert cross_check(report, 1) is not None


def test_no_tests_is_exit_5_and_did_not_run(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    report_path = tmp_path / "report.xml"
    done = _run(tmp_path, report_path)
    assert done.returncode == 5
    report = read_report_file("unittest", report_path)
    assert report.completeness is Completeness.NOT_RUN
