"""pytest's JUnit XML, written by a real pytest run on a project made in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.swe.reports import (
    Completeness,
    DisagreementKind,
    TestStatus,
    cross_check,
    parse_junit,
    read_junit,
    read_report_file,
)

TESTS_A = '''
import pytest

def test_pass():
    pass

def test_fail():
    assert 1 == 2, "one is not two"

@pytest.mark.parametrize("x", [1, "a b", "x::y", "dotted.value"])
def test_param(x):
    assert x != 1

@pytest.mark.skip(reason="later")
def test_skip():
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert 0

@pytest.mark.xfail(strict=True)
def test_xpass_strict():
    pass

@pytest.fixture
def broken():
    raise RuntimeError("fixture boom")

def test_setup_error(broken):
    pass

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown boom")

def test_teardown_error(bad_teardown):
    pass

def test_fail_and_teardown_error(bad_teardown):
    assert 0

class TestOuter:
    def test_method(self):
        print("PASSED tests/test_a.py::test_fail")

    class TestInner:
        def test_deep(self):
            pass
'''

TESTS_B = '''
import module_that_does_not_exist

def test_never():
    pass
'''

TESTS_C = '''
def test_in_subpackage():
    pass
'''

EXPECTED = {
    "tests/test_a.py::test_pass": TestStatus.PASSED,
    "tests/test_a.py::test_fail": TestStatus.FAILED,
    "tests/test_a.py::test_param[1]": TestStatus.FAILED,
    "tests/test_a.py::test_param[a b]": TestStatus.PASSED,
    "tests/test_a.py::test_param[x::y]": TestStatus.PASSED,
    "tests/test_a.py::test_param[dotted.value]": TestStatus.PASSED,
    "tests/test_a.py::test_skip": TestStatus.SKIPPED,
    "tests/test_a.py::test_xfail": TestStatus.SKIPPED,
    "tests/test_a.py::test_xpass_strict": TestStatus.FAILED,
    "tests/test_a.py::test_setup_error": TestStatus.ERROR,
    "tests/test_a.py::test_teardown_error": TestStatus.ERROR,
    "tests/test_a.py::test_fail_and_teardown_error": TestStatus.FAILED,
    "tests/test_a.py::TestOuter::test_method": TestStatus.PASSED,
    "tests/test_a.py::TestOuter::TestInner::test_deep": TestStatus.PASSED,
    "tests/sub.pkg/test_c.py::test_in_subpackage": TestStatus.PASSED,
}


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
         *args], cwd=project, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pyproj")
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (root / "tests" / "sub.pkg").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text(TESTS_A)
    (root / "tests" / "test_b.py").write_text(TESTS_B)
    # A directory with a dot: pytest's classname "tests.sub.pkg.test_c" is ambiguous.
    (root / "tests" / "sub.pkg" / "test_c.py").write_text(TESTS_C)
    return root


@pytest.fixture(scope="module")
def run(project: Path) -> tuple[Path, int]:
    """xunit2 (pytest's default) report of a run that goes on past the collection error."""
    report = project / "report-xunit2.xml"
    done = _pytest(project, "--continue-on-collection-errors", f"--junitxml={report}")
    return report, done.returncode


def test_statuses_and_ids_are_pytest_node_ids(project: Path, run: tuple[Path, int]) -> None:
    report_path, exit_code = run
    report = read_junit(report_path, root=project)
    assert report.format == "junit"
    assert report.statuses() == EXPECTED
    # The ids are exactly what pytest itself collects (less the module that did not import).
    collected = _pytest(project, "--collect-only", "-q", "--continue-on-collection-errors")
    node_ids = {line for line in collected.stdout.splitlines() if "::" in line}
    assert set(report.tests) == node_ids
    assert exit_code == 1


def test_collection_error_is_a_unit_failure(project: Path, run: tuple[Path, int]) -> None:
    report = read_junit(run[0], root=project)
    assert set(report.unit_failures) == {"tests/test_b.py"}
    assert "module_that_does_not_exist" in report.unit_failures["tests/test_b.py"]
    assert report.completeness is Completeness.PARTIAL
    assert "tests/test_b.py::test_never" not in report.tests


def test_failure_then_teardown_error_merges_to_failed(project: Path,
                                                      run: tuple[Path, int]) -> None:
    # pytest writes two <testcase> for it: the failure, then the teardown error.
    report = read_junit(run[0], root=project)
    test_id = "tests/test_a.py::test_fail_and_teardown_error"
    assert report.duplicates == [test_id]
    assert report.tests[test_id].attempts == 2
    assert report.flaky == []  # failed both times: not flaky


def test_messages_and_units(project: Path, run: tuple[Path, int]) -> None:
    tests = read_junit(run[0], root=project).tests
    assert "one is not two" in (tests["tests/test_a.py::test_fail"].message or "")
    assert tests["tests/test_a.py::test_skip"].message == "later" or "later" in (
        tests["tests/test_a.py::test_skip"].message or "")
    assert "fixture boom" in (tests["tests/test_a.py::test_setup_error"].message or "")
    assert tests["tests/test_a.py::test_pass"].message is None
    assert tests["tests/test_a.py::test_pass"].unit == "tests/test_a.py"
    assert tests["tests/test_a.py::test_pass"].duration_s is not None


def test_xunit1_file_attribute_gives_the_same_ids_without_root(project: Path,
                                                               run: tuple[Path, int]) -> None:
    report_path = project / "report-xunit1.xml"
    _pytest(project, "--continue-on-collection-errors", "-o", "junit_family=xunit1",
            f"--junitxml={report_path}")
    report = read_junit(report_path)  # no root: the file attribute is enough
    assert report.statuses() == EXPECTED
    assert set(report.unit_failures) == {"tests/test_b.py"}


def test_without_root_or_file_the_heuristic_misses_only_dotted_dirs(
        run: tuple[Path, int]) -> None:
    statuses = read_junit(run[0]).statuses()
    wrong = {k: v for k, v in EXPECTED.items() if statuses.get(k) != v}
    assert list(wrong) == ["tests/sub.pkg/test_c.py::test_in_subpackage"]
    assert statuses["tests/sub/pkg/test_c.py::test_in_subpackage"] is TestStatus.PASSED


def test_report_and_exit_code_cross_check(project: Path, run: tuple[Path, int]) -> None:
    report = read_junit(run[0], root=project)
    assert cross_check(report, run[1]) is None
    disagreement = cross_check(report, 0)
    assert disagreement is not None
    assert disagreement.kind is DisagreementKind.FAILED_BUT_EXIT_OK
    assert "tests/test_a.py::test_fail" in disagreement.evidence

    passing = project / "report-passing.xml"
    done = _pytest(project, "tests/test_a.py::test_pass", f"--junitxml={passing}")
    assert done.returncode == 0
    clean = read_junit(passing, root=project)
    assert clean.completeness is Completeness.COMPLETE
    assert clean.statuses() == {"tests/test_a.py::test_pass": TestStatus.PASSED}
    assert cross_check(clean, 0) is None
    # A report that says all passed, from a run that failed: the report is not this run's.
    forged = cross_check(clean, 1)
    assert forged is not None and forged.kind is DisagreementKind.PASSED_BUT_EXIT_FAILED
    assert cross_check(clean, None) is not None  # killed: no exit code is not success


def test_truncated_report_is_partial_never_complete(project: Path,
                                                    run: tuple[Path, int]) -> None:
    data = run[0].read_bytes()
    cut = data.index(b"TestOuter")  # inside the last test cases
    report = parse_junit(data[:cut], root=project)
    assert report.completeness is Completeness.PARTIAL
    assert any("truncated" in e for e in report.errors)
    assert report.tests["tests/test_a.py::test_pass"].status is TestStatus.PASSED
    assert "tests/test_a.py::TestOuter::TestInner::test_deep" not in report.tests
    assert cross_check(report, 0) is not None

    head = parse_junit(data[: data.index(b"<testcase")], root=project)
    assert head.completeness is Completeness.NOT_RUN
    assert not head.ran


def test_no_tests_collected_did_not_run(project: Path) -> None:
    report_path = project / "report-empty-selection.xml"
    done = _pytest(project, "tests/test_a.py", "-k", "no_such_test_name",
                   f"--junitxml={report_path}")
    assert done.returncode == 5
    report = read_report_file("pytest", report_path, root=project)
    assert report.completeness is Completeness.NOT_RUN
    assert cross_check(report, done.returncode) is None
    missing = read_report_file("pytest", project / "never-written.xml")
    assert missing.completeness is Completeness.NOT_RUN
    assert "missing" in missing.errors[0]
    no_report = cross_check(missing, 0)
    assert no_report is not None and no_report.kind is DisagreementKind.NO_REPORT_BUT_EXIT_OK
