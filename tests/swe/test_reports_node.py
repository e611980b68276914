"""``node --test`` with assay's reporter, run for real on files made in tmp_path."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assay.swe.reports import (
    NODE_TEST_REPORTER,
    Completeness,
    DisagreementKind,
    TestStatus,
    cross_check,
    parse_node_test,
    read_junit,
    read_node_test,
)

MATH_TEST = '''
const { test, describe, it } = require('node:test');
const assert = require('node:assert');

test('adds', () => { assert.strictEqual(1 + 2, 3); });
test('fails', () => { assert.strictEqual(1 + 2, 4); });
test('skipped', { skip: 'not today' }, () => {});
test.todo('later');
describe('group', () => {
  it('nested', () => { console.log('{"event":"end"}'); });
  describe('deeper', () => {
    it('nested fails', () => { throw new Error('boom'); });
  });
});
'''

# The same test name as in math.test.js: a different id because the file differs.
OTHER_TEST = '''
const { test, describe, it, before } = require('node:test');
test('adds', () => {});
describe('hooked', () => {
  before(() => { throw new Error('hook boom'); });
  it('never runs', () => {});
});
'''

UNLOADABLE = "require('./no-such-module');\n"


def _node_test(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The reporter is copied beside the project, as it would be into a sandbox.
    shutil.copy(NODE_TEST_REPORTER, project / "assay_reporter.mjs")
    return subprocess.run(["node", "--test", *args], cwd=project, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("node-project")
    (root / "test").mkdir()
    (root / "test" / "math.test.js").write_text(MATH_TEST)
    (root / "test" / "other.test.js").write_text(OTHER_TEST)
    (root / "test" / "unloadable.test.js").write_text(UNLOADABLE)
    return root


@pytest.fixture(scope="module")
def run(project: Path) -> tuple[Path, int]:
    out = project / "report.jsonl"
    done = _node_test(project, "--test-reporter=./assay_reporter.mjs",
                      f"--test-reporter-destination={out}", "test/")
    return out, done.returncode


def test_statuses_and_ids(project: Path, run: tuple[Path, int]) -> None:
    report = read_node_test(run[0], root=project)
    assert report.statuses() == {
        "test/math.test.js::adds": TestStatus.PASSED,
        "test/math.test.js::fails": TestStatus.FAILED,
        "test/math.test.js::skipped": TestStatus.SKIPPED,
        "test/math.test.js::later": TestStatus.SKIPPED,
        "test/math.test.js::group > nested": TestStatus.PASSED,
        "test/math.test.js::group > deeper > nested fails": TestStatus.FAILED,
        "test/other.test.js::adds": TestStatus.PASSED,
        "test/other.test.js::hooked > never runs": TestStatus.ERROR,
    }
    assert "3 !== 4" in (report.tests["test/math.test.js::fails"].message or "")
    assert report.tests["test/math.test.js::skipped"].message == "not today"
    assert report.tests["test/other.test.js::adds"].unit == "test/other.test.js"
    assert run[1] == 1
    assert cross_check(report, run[1]) is None
    assert cross_check(report, 0) is not None


def test_hook_and_load_failures_are_unit_failures(project: Path, run: tuple[Path, int]) -> None:
    report = read_node_test(run[0], root=project)
    assert set(report.unit_failures) == {"test/other.test.js::hooked",
                                         "test/unloadable.test.js"}
    assert "hook boom" in report.unit_failures["test/other.test.js::hooked"]
    assert "no-such-module" in report.unit_failures["test/unloadable.test.js"]
    assert report.completeness is Completeness.PARTIAL


def test_passing_run_and_cut_report(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.test.js").write_text(
            "require('node:test').test('adds', () => {});\n")
    out = tmp_path / "passing.jsonl"
    done = _node_test(tmp_path, "--test-reporter=./assay_reporter.mjs",
                      f"--test-reporter-destination={out}", "a.test.js", "b.test.js")
    report = read_node_test(out, root=tmp_path)
    assert done.returncode == 0
    assert report.completeness is Completeness.COMPLETE
    assert report.ids(TestStatus.PASSED) == ["a.test.js::adds", "b.test.js::adds"]
    disagreement = cross_check(report, 1)
    assert disagreement is not None
    assert disagreement.kind is DisagreementKind.PASSED_BUT_EXIT_FAILED
    lines = out.read_text().splitlines(keepends=True)
    cut = parse_node_test("".join(lines[:-1]), root=tmp_path)  # no end line
    assert cut.completeness is Completeness.PARTIAL
    assert cut.errors == ["no end line: the run was cut short"]


def test_nodes_own_junit_reporter_loses_files_and_describes(project: Path) -> None:
    out = project / "junit.xml"
    _node_test(project, "--test-reporter=junit", f"--test-reporter-destination={out}",
               "test/math.test.js", "test/other.test.js")
    report = read_junit(out)
    # Both files' "adds" become one id: why assay brings its own reporter.
    assert report.duplicates == ["test::adds"]
