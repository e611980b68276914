"""jest, vitest and mocha reports from real runs; the runners are installed with npm once into
a cache directory (``ASSAY_TEST_CACHE``, default ``~/.cache/assay-tests``) and reused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assay.swe.reports import (
    Completeness,
    DisagreementKind,
    TestStatus,
    cross_check,
    parse_jest_json,
    parse_mocha_json,
    parse_report,
    read_jest_json,
    read_junit,
    read_mocha_json,
    read_vitest_json,
)

pytestmark = pytest.mark.slow

PACKAGE = {"name": "assay-report-tools", "private": True, "devDependencies": {
    "jest": "30.5.2", "jest-junit": "17.0.0", "mocha": "12.0.3", "vitest": "4.1.12"}}

JEST_TESTS = '''
const sum = (a, b) => a + b;
describe('sum', () => {
  test('adds', () => { expect(sum(1, 2)).toBe(3); });
  test('fails', () => { expect(sum(1, 2)).toBe(4); });
  test.skip('skipped', () => {});
  test.todo('todo later');
  describe('nested', () => {
    it('deep', () => { console.log('{"testResults": []}'); expect(1).toBe(1); });
  });
});
test('top level', () => {});
'''

JEST_RETRY = '''
jest.retryTimes(2);
let calls = 0;
test('flaky', () => { calls += 1; expect(calls).toBe(2); });
'''

VITEST_TESTS = '''
import { describe, test, it, expect } from 'vitest';
describe('sum', () => {
  test('adds', () => { expect(1 + 2).toBe(3); });
  test('fails', () => { expect(1 + 2).toBe(4); });
  test.skip('skipped', () => {});
  describe('nested', () => { it('deep', () => { expect(1).toBe(1); }); });
});
'''

BROKEN = "import x from './does-not-exist.js';\ntest('never', () => {});\n"

MOCHA_TESTS = '''
const assert = require('assert');
describe('sum', function () {
  it('adds', function () { assert.strictEqual(1 + 2, 3); });
  it('fails', function () { assert.strictEqual(1 + 2, 4); });
  it.skip('skipped', function () {});
  describe('nested', function () {
    it('deep', function () { console.log('{\\n  "stats": {"tests": 99}, "tests": []}'); });
  });
  describe('hooked', function () {
    before(function () { throw new Error('hook boom'); });
    it('never runs', function () {});
  });
  describe('retried', function () {
    this.retries(2);
    let calls = 0;
    it('flaky', function () { calls += 1; assert.strictEqual(calls, 2); });
  });
});
'''


@pytest.fixture(scope="module")
def node_modules() -> Path:
    text = json.dumps(PACKAGE, sort_keys=True)
    cache = Path(os.environ.get("ASSAY_TEST_CACHE", Path.home() / ".cache" / "assay-tests"))
    home = cache / f"js-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    if not (home / "installed").exists():
        staging = cache / f"{home.name}.tmp{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / "package.json").write_text(text)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=staging, check=True, capture_output=True, timeout=900)
        (staging / "installed").write_text("")
        shutil.rmtree(home, ignore_errors=True)
        staging.rename(home)
    return home / "node_modules"


def _project(root: Path, node_modules: Path, files: dict[str, str]) -> Path:
    (root / "package.json").write_text('{"name": "p", "private": true}')
    (root / "node_modules").symlink_to(node_modules)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _node(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], cwd=project, env={**os.environ, **env, "CI": "1"},
                          capture_output=True, text=True, timeout=300)


def test_jest_json(tmp_path: Path, node_modules: Path) -> None:
    project = _project(tmp_path, node_modules, {
        "src/sum.test.js": JEST_TESTS, "src/broken.test.js": BROKEN.replace(
            "import x from './does-not-exist.js';", "require('./does-not-exist');"),
        "src/retry.test.js": JEST_RETRY})
    out = tmp_path / "jest.json"
    done = _node(project, "node_modules/jest/bin/jest.js", "--json", f"--outputFile={out}")
    report = read_jest_json(out, root=project)
    assert report.statuses() == {
        "src/sum.test.js::sum > adds": TestStatus.PASSED,
        "src/sum.test.js::sum > fails": TestStatus.FAILED,
        "src/sum.test.js::sum > skipped": TestStatus.SKIPPED,
        "src/sum.test.js::sum > todo later": TestStatus.SKIPPED,
        "src/sum.test.js::sum > nested > deep": TestStatus.PASSED,
        "src/sum.test.js::top level": TestStatus.PASSED,
        "src/retry.test.js::flaky": TestStatus.PASSED,
    }
    assert report.flaky == ["src/retry.test.js::flaky"]
    assert "does-not-exist" in report.unit_failures["src/broken.test.js"]
    assert report.completeness is Completeness.PARTIAL
    assert "Expected: 4" in (report.tests["src/sum.test.js::sum > fails"].message or "")
    assert done.returncode == 1
    assert cross_check(report, done.returncode) is None
    # Without --outputFile jest writes the report on stdout; console.log goes to stderr.
    again = _node(project, "node_modules/jest/bin/jest.js", "--json", "src/sum.test.js")
    assert parse_jest_json(again.stdout, root=project).statuses() == {
        k: v for k, v in report.statuses().items() if k.startswith("src/sum.test.js")}


def test_jest_passing_run_and_exit_code(tmp_path: Path, node_modules: Path) -> None:
    project = _project(tmp_path, node_modules, {"a.test.js": "test('ok', () => {});\n"})
    out = tmp_path / "jest.json"
    done = _node(project, "node_modules/jest/bin/jest.js", "--json", f"--outputFile={out}")
    report = read_jest_json(out, root=project)
    assert done.returncode == 0
    assert report.completeness is Completeness.COMPLETE
    assert report.statuses() == {"a.test.js::ok": TestStatus.PASSED}
    disagreement = cross_check(report, 1)
    assert disagreement is not None
    assert disagreement.kind is DisagreementKind.PASSED_BUT_EXIT_FAILED


def test_jest_junit_generic_ids(tmp_path: Path, node_modules: Path) -> None:
    project = _project(tmp_path, node_modules, {"src/sum.test.js": JEST_TESTS})
    out = tmp_path / "junit.xml"
    _node(project, "node_modules/jest/bin/jest.js", "--reporters=jest-junit",
          JEST_JUNIT_OUTPUT_FILE=str(out), JEST_JUNIT_CLASSNAME="{filepath}",
          JEST_JUNIT_TITLE="{title}")
    report = read_junit(out)
    assert report.tests["src/sum.test.js::fails"].status is TestStatus.FAILED
    assert report.tests["src/sum.test.js::skipped"].status is TestStatus.SKIPPED
    assert report.tests["src/sum.test.js::adds"].status is TestStatus.PASSED


def test_vitest_json_and_junit_agree(tmp_path: Path, node_modules: Path) -> None:
    project = _project(tmp_path, node_modules, {"src/v.test.js": VITEST_TESTS,
                                                "src/broken.test.js": BROKEN})
    vitest = "node_modules/vitest/vitest.mjs"
    done = _node(project, vitest, "run", "--reporter=json", "--outputFile=v.json")
    _node(project, vitest, "run", "--reporter=junit", "--outputFile=v.xml")
    from_json = read_vitest_json(project / "v.json", root=project)
    from_junit = read_junit(project / "v.xml")
    expected = {
        "src/v.test.js::sum > adds": TestStatus.PASSED,
        "src/v.test.js::sum > fails": TestStatus.FAILED,
        "src/v.test.js::sum > skipped": TestStatus.SKIPPED,
        "src/v.test.js::sum > nested > deep": TestStatus.PASSED,
    }
    assert from_json.format == "vitest-json"
    assert from_json.statuses() == expected
    assert from_junit.statuses() == expected
    assert set(from_json.unit_failures) == set(from_junit.unit_failures) == {
        "src/broken.test.js"}
    assert done.returncode == 1
    assert cross_check(from_json, done.returncode) is None


def test_mocha_json(tmp_path: Path, node_modules: Path) -> None:
    project = _project(tmp_path, node_modules, {"test/a.spec.js": MOCHA_TESTS})
    mocha = "node_modules/mocha/bin/mocha.js"
    out = tmp_path / "mocha.json"
    done = _node(project, mocha, "--reporter", "json", "--reporter-option", f"output={out}")
    report = read_mocha_json(out, root=project)
    assert report.statuses() == {
        "test/a.spec.js::sum adds": TestStatus.PASSED,
        "test/a.spec.js::sum fails": TestStatus.FAILED,
        "test/a.spec.js::sum skipped": TestStatus.SKIPPED,
        "test/a.spec.js::sum nested deep": TestStatus.PASSED,
        "test/a.spec.js::sum retried flaky": TestStatus.PASSED,
    }
    assert report.flaky == ["test/a.spec.js::sum retried flaky"]
    [hook] = report.unit_failures
    assert "before all" in hook and "hook boom" in report.unit_failures[hook]
    assert done.returncode != 0
    assert cross_check(report, done.returncode) is None
    # On stdout the report follows what the tests printed, a fake report among it.
    on_stdout = _node(project, mocha, "--reporter", "json")
    assert '"stats": {"tests": 99}' in on_stdout.stdout
    assert parse_mocha_json(on_stdout.stdout, root=project).statuses() == report.statuses()
    assert parse_report("mocha", on_stdout.stdout, root=project).ran
