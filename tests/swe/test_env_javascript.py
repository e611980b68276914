"""The JavaScript ecosystem for real: a jest project installed from the npm registry and a
project with no dependency run by ``node --test``, set up in the bwrap sandbox with network,
their tests run without."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.sandbox import Sandbox
from assay.swe.env.cache import Environment, Environments
from assay.swe.env.javascript import NODE_MODULES, JavaScript, Runner, choose_runner
from assay.swe.reports import Completeness, TestStatus
from assay.swe.runs import TestRun, run_tests

pytestmark = pytest.mark.slow

CALC = "module.exports = { add: (a, b) => a + b };\n"
JEST_TEST = """const { add } = require("../src/calc");
test("adds", () => { expect(add(2, 3)).toBe(5); });
test("fails", () => { expect(add(2, 2)).toBe(5); });
"""
NODE_TEST = """const test = require("node:test");
const assert = require("node:assert");
const { add } = require("../src/calc");
test("adds", () => { assert.strictEqual(add(2, 3), 5); });
test("fails", () => { assert.strictEqual(add(2, 2), 5); });
// The setup stage reached the registry; the test stage must not.
test("offline", async () => {
  await assert.rejects(fetch("https://registry.npmjs.org/jest"));
});
"""
MISSING = "assay-no-such-package-7d2e"


def write(tree: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    return tree


def package(**fields: object) -> str:
    return json.dumps({"name": "calc", "version": "1.0.0", "private": True, **fields}, indent=2)


@pytest.fixture(scope="module")
def environments(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Environments:
    return Environments(sandbox, root=tmp_path_factory.mktemp("javascript") / "envs")


@pytest.fixture(scope="module")
def jest_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A postinstall that would fail: the project's own lifecycle scripts are not run.
    return write(tmp_path_factory.mktemp("jest-project"), {
        "package.json": package(scripts={"test": "jest", "postinstall": "node build.js"},
                                devDependencies={"jest": "^29.7.0"}),
        "src/calc.js": CALC, "test/calc.test.js": JEST_TEST})


@pytest.fixture(scope="module")
def jest_environment(environments: Environments, jest_project: Path) -> Environment:
    return environments.ensure(JavaScript(), jest_project)


@pytest.fixture(scope="module")
def jest_run(sandbox: Sandbox, jest_environment: Environment, jest_project: Path) -> TestRun:
    assert jest_environment.ready, jest_environment.log
    return run_tests(sandbox, JavaScript(), jest_environment, jest_project)


@pytest.fixture(scope="module")
def node_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("node-project"), {
        "package.json": package(scripts={"test": "node --test"}),
        "src/calc.js": CALC, "test/calc.test.js": NODE_TEST})


def test_detects_package_json_at_the_root(jest_project: Path, tmp_path: Path) -> None:
    assert JavaScript().detect(jest_project)
    assert not JavaScript().detect(write(tmp_path / "a", {"sub/package.json": package()}))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "package.json").symlink_to(jest_project / "package.json")
    assert not JavaScript().detect(tmp_path / "b")
    tree = write(tmp_path / "c", {"package.json": package(), "package-lock.json": "{}",
                                  ".npmrc": "legacy-peer-deps=true\n", "x/package.json": "{}"})
    assert JavaScript().definition_files(tree) == [".npmrc", "package-lock.json",
                                                   "package.json"]


def test_jest_setup_is_ready_then_reused(environments: Environments,
                                         jest_environment: Environment,
                                         jest_project: Path) -> None:
    assert jest_environment.ready and not jest_environment.reused, jest_environment.log
    assert (jest_environment.path / "node" / "node_modules" / "jest").is_dir()
    again = environments.ensure(JavaScript(), jest_project)
    assert again.ready and again.reused and again.seconds == 0.0
    assert again.path == jest_environment.path


def test_jest_run_reports_each_test(jest_run: TestRun) -> None:
    assert jest_run.report.statuses() == {"test/calc.test.js::adds": TestStatus.PASSED,
                                          "test/calc.test.js::fails": TestStatus.FAILED}
    assert jest_run.report.completeness is Completeness.COMPLETE
    assert jest_run.exit_code == 1  # jest: a test failed
    assert jest_run.disagreement is None
    assert "jest.json" in jest_run.raw_report


def test_node_test_without_dependencies(sandbox: Sandbox, environments: Environments,
                                        node_project: Path) -> None:
    environment = environments.ensure(JavaScript(), node_project)
    assert environment.ready and not environment.reused, environment.log
    run = run_tests(sandbox, JavaScript(), environment, node_project)
    assert run.report.statuses() == {"test/calc.test.js::adds": TestStatus.PASSED,
                                     "test/calc.test.js::fails": TestStatus.FAILED,
                                     "test/calc.test.js::offline": TestStatus.PASSED}, run.log
    assert run.exit_code == 1
    assert run.disagreement is None
    assert "node.jsonl" in run.raw_report
    assert environments.ensure(JavaScript(), node_project).reused


def test_a_missing_dependency_fails_the_setup_with_its_log(environments: Environments,
                                                           tmp_path: Path) -> None:
    tree = write(tmp_path, {"package.json": package(devDependencies={MISSING: "^1.0.0"})})
    environment = environments.ensure(JavaScript(), tree)
    assert not environment.ready
    assert MISSING in environment.log
    assert not environment.path.exists()


def test_a_committed_node_modules_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = write(tmp_path / "host", {"keep.txt": "host file\n"})
    for name, make in [("link", lambda p: p.symlink_to(victim, target_is_directory=True)),
                       ("dir", lambda p: write(p, {"x/index.js": "", "y": ""})),
                       ("file", lambda p: p.write_text("not a directory"))]:
        checkout = write(tmp_path / name, {"package.json": package()})
        make(checkout / "node_modules")
        if name == "dir":
            (checkout / "node_modules" / "out").symlink_to(victim)
        JavaScript().prepare_checkout(tmp_path / "env", checkout, tmp_path / "scratch")
        link = checkout / "node_modules"
        assert link.is_symlink() and str(link.readlink()) == NODE_MODULES
    assert (victim / "keep.txt").read_text() == "host file\n"


@pytest.mark.parametrize(("fields", "runner"), [
    ({"scripts": {"test": "jest --coverage --config jest.unit.js"}},
     Runner("jest", ("jest",), ("--config", "jest.unit.js"))),
    ({"scripts": {"test": "NODE_OPTIONS=--experimental-vm-modules npx jest -i 2>&1"}},
     Runner("jest", ("NODE_OPTIONS=--experimental-vm-modules", "jest"), ("-i",))),
    ({"scripts": {"test": "npm run lint && npm run unit", "lint": "eslint .",
                  "unit": "mocha -R spec 'test/**/*.spec.js' --timeout=5000"}},
     Runner("mocha", ("mocha",), ("'test/**/*.spec.js'", "--timeout=5000"))),
    ({"scripts": {"test": "run-s lint test:*", "test:unit": "nyc --reporter lcov vitest"}},
     Runner("vitest", ("vitest",))),
    ({"scripts": {"test": "yarn test:unit", "test:unit": "pnpm exec -- jest --ci"}},
     Runner("jest", ("jest",))),
    ({"scripts": {"test": "vitest run --reporter verbose src"}},
     Runner("vitest", ("vitest",), ("src",))),
    ({"scripts": {"test": "node --test --test-reporter=spec test/"}},
     Runner("node", ("node",), ("test/",))),
    ({"scripts": {"test": "tsc && node dist/test.js"}, "devDependencies": {"mocha": "^11"}},
     Runner("mocha", ("mocha",))),
    ({"dependencies": {"vitest": "^3"}, "devDependencies": {"jest": "^29"}},
     Runner("jest", ("jest",))),
    ({"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}},
     Runner("node", ("node",))),
])
def test_the_runner_and_its_arguments_come_from_the_test_script(
        fields: dict[str, object], runner: Runner) -> None:
    assert choose_runner(fields) == runner
