"""The unit harness of JavaScript and TypeScript: node:test tests and console.assert/assert
scripts, in the real sandbox."""

from __future__ import annotations

import pytest

from assay.data import Problem, TestSuite
from assay.harness import HarnessTask, SuiteRun, get_harness, run_batch, run_tests
from assay.harness.unit.javascript import find_assert_sites, plan_tests, uses_node_test
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTIONS = {
    "javascript": ("function add(a, b) {\n  return a + b;\n}\n"
                   "function half(x) {\n  return x / 2;\n}\n"
                   "module.exports = { add, half };\n"),
    "typescript": ("export function add(a: number, b: number): number {\n  return a + b;\n}\n"
                   "export function half(x: number): number {\n  return x / 2;\n}\n"),
}
IMPORTS = {
    "javascript": ("const test = require('node:test');\nconst assert = require('node:assert');\n"
                   "const { add, half } = require('./solution');\n"),
    "typescript": ("import test from 'node:test';\nimport assert from 'node:assert';\n"
                   "import { add, half } from './solution';\n"),
}
NODE_TESTS = """
test('add', () => { assert.strictEqual(add(2, 3), 5); });
test('half', async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.strictEqual(half(4), 2);
});
test('both', () => { assert.strictEqual(add(half(2), 1), 2); });
"""
NODE_TEST_NAMES = ["add", "half", "both"]
# HumanEval-X (JavaScript) and MultiPL-E (TypeScript): the solution's functions are globals.
SCRIPTS = {
    "javascript": ("const testAdd = () => {\n"
                   "  console.assert(add(2, 3) === 5)\n"
                   "  console.assert(half(4) === 2)\n"
                   "  console.assert(add(half(2), 1) === 2)\n"
                   "}\n"
                   "testAdd()\n"),
    "typescript": ("declare var require: any;\n"
                   "const assert = require('node:assert');\n"
                   "function test() {\n"
                   "  let candidate = add;\n"
                   "  assert.deepEqual(candidate(2, 3), 5);\n"
                   "  assert.deepEqual(half(4), 2);\n"
                   "  assert.deepEqual(candidate(half(2), 1), 2);\n"
                   "}\n\ntest();\n"),
}
SCRIPT_NAMES = {"javascript": ["assert:2", "assert:3", "assert:4"],
                "typescript": ["assert:5", "assert:6", "assert:7"]}
LANGUAGES = ["javascript", "typescript"]


def node_tests(language: str) -> str:
    return IMPORTS[language] + NODE_TESTS


def breaking_half(language: str, body: str) -> str:
    return SOLUTIONS[language].replace("return x / 2;", body)


def expect(names: list[str], *statuses_in_order: str) -> dict[str, str]:
    return dict(zip(names, statuses_in_order, strict=True))


# -- the required cases, for both languages and both styles --------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_correct_solution_passes_every_test(sandbox: Sandbox, language: str) -> None:
    assert statuses(run_suite(sandbox, language, SOLUTIONS[language], node_tests(language))) \
        == expect(NODE_TEST_NAMES, "PASS", "PASS", "PASS")
    assert statuses(run_suite(sandbox, language, SOLUTIONS[language], SCRIPTS[language])) \
        == expect(SCRIPT_NAMES[language], "PASS", "PASS", "PASS")


@pytest.mark.parametrize("language", LANGUAGES)
def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox,
                                                          language: str) -> None:
    wrong = SOLUTIONS[language].replace("x / 2", "x / 3")
    outcomes = run_suite(sandbox, language, wrong, node_tests(language))
    assert statuses(outcomes) == expect(NODE_TEST_NAMES, "PASS", "FAIL", "FAIL")
    assert "1.3333333333333333" in outcomes["half"][1]
    outcomes = run_suite(sandbox, language, wrong, SCRIPTS[language])
    names = SCRIPT_NAMES[language]
    assert statuses(outcomes) == expect(names, "PASS", "FAIL", "FAIL")
    assert "half(4)" in outcomes[names[1]][1]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("crash", ["process.exit(3);", "throw new TypeError('boom');",
                                   "process.kill(process.pid, 'SIGSEGV'); return 0;"])
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox, language: str,
                                                             crash: str) -> None:
    code = breaking_half(language, crash)
    outcomes = run_suite(sandbox, language, code, node_tests(language))
    assert statuses(outcomes) == expect(NODE_TEST_NAMES, "PASS", "ERROR", "ERROR")
    tests = SCRIPTS[language] + "\nconsole.assert(add(1, 1) === 2);\n"
    outcomes = run_suite(sandbox, language, code, tests)
    names = [*SCRIPT_NAMES[language], f"assert:{SCRIPTS[language].count(chr(10)) + 2}"]
    assert statuses(outcomes) == expect(names, "PASS", "ERROR", "ERROR", "PASS")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox, language: str) -> None:
    code = breaking_half(language, "while (true) {}")
    outcomes = run_suite(sandbox, language, code, node_tests(language), timeout_s=0.5)
    assert statuses(outcomes) == expect(NODE_TEST_NAMES, "PASS", "TIMEOUT", "TIMEOUT")
    tests = SCRIPTS[language] + "\nconsole.assert(add(1, 1) === 2);\n"
    outcomes = run_suite(sandbox, language, code, tests, timeout_s=0.5)
    names = [*SCRIPT_NAMES[language], f"assert:{SCRIPTS[language].count(chr(10)) + 2}"]
    assert statuses(outcomes) == expect(names, "PASS", "TIMEOUT", "TIMEOUT", "PASS")


def test_javascript_solution_that_does_not_parse_errors_every_test(sandbox: Sandbox) -> None:
    code = SOLUTIONS["javascript"].replace("x / 2", "x / )")
    for tests, names in ((node_tests("javascript"), NODE_TEST_NAMES),
                         (SCRIPTS["javascript"], SCRIPT_NAMES["javascript"])):
        outcomes = run_suite(sandbox, "javascript", code, tests)
        assert statuses(outcomes) == dict.fromkeys(names, "ERROR")
        assert "the solution does not compile: SyntaxError" in outcomes[names[0]][1]
        assert "solution.js:5" in outcomes[names[0]][1]


def test_typescript_type_error_is_a_compile_error(sandbox: Sandbox) -> None:
    code = SOLUTIONS["typescript"].replace("return x / 2;", "return 'two';")
    outcomes = run_suite(sandbox, "typescript", code, SCRIPTS["typescript"])
    assert statuses(outcomes) == dict.fromkeys(SCRIPT_NAMES["typescript"], "ERROR")
    message = outcomes["assert:5"][1]
    assert "compile error" in message and "solution.ts(5," in message and "TS2322" in message
    # node:test tests are found by loading them, so a compile error leaves one outcome.
    outcomes = run_suite(sandbox, "typescript", code, node_tests("typescript"))
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "TS2322" in outcomes["<collection>"][1]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tests", ["const x = 1;\n", "import test from 'node:test';\n"])
def test_no_tests_collected_is_an_error(sandbox: Sandbox, language: str, tests: str) -> None:
    outcomes = run_suite(sandbox, language, SOLUTIONS[language], tests)
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests" in outcomes["<collection>"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    for tests in ("console.assert(add(1, 1) === 2\n",
                  IMPORTS["javascript"] + "test('x', ( => 1)\n"):
        outcomes = run_suite(sandbox, "javascript", SOLUTIONS["javascript"], tests)
        assert list(statuses(outcomes).values()) == ["ERROR"]
        assert "the test file does not parse" in next(iter(outcomes.values()))[1]


# -- node:test ---------------------------------------------------------------------------


def test_nested_tests_are_named_by_their_titles_and_hooks_run(sandbox: Sandbox) -> None:
    tests = """import { describe, it, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { add } from './solution.js';
let calls = 0;
before(() => { calls = 100; });
describe('math', () => {
  beforeEach(() => { calls += 1; });
  it('adds', () => { assert.equal(add(1, 2), 3); });
  describe('inner', () => {
    it('counts hooks', () => { assert.equal(calls, 102); });
    it('adds', () => { assert.deepEqual([add(1, 1)], [3]); });
  });
});
it('adds', () => { assert.equal(add(0, 0), 0); });
it('adds', () => { assert.equal(add(0, 1), 1); });
"""
    outcomes = run_suite(sandbox, "javascript", SOLUTIONS["javascript"], tests)
    assert statuses(outcomes) == {"math > adds": "PASS", "math > inner > counts hooks": "PASS",
                                  "math > inner > adds": "FAIL", "adds": "PASS",
                                  "adds (2)": "PASS"}
    assert "tests.js:11" in outcomes["math > inner > adds"][1]


def test_async_tests_and_errors_outside_the_test_function(sandbox: Sandbox) -> None:
    tests = IMPORTS["javascript"] + """
test('awaits', async () => { assert.equal(await Promise.resolve(add(1, 2)), 3); });
test('never settles', () => new Promise(() => {}));
test('waits too long', () => new Promise((resolve) => setTimeout(resolve, 60000)));
test('callback', (t, done) => { setTimeout(() => done(new Error('late')), 1); });
test('throws later', () => { setTimeout(() => { throw new RangeError('stray'); }, 1);
                             return new Promise((resolve) => setTimeout(resolve, 50)); });
test('subtests', async (t) => {
  await t.test('good', () => {});
  await t.test('bad', () => { assert.ok(add(1, 1) === 3); });
});
test('console.assert', () => { console.assert(add(1, 1) === 3, 'one and one'); });
test('skipped', { skip: true }, () => {});
test('last', () => { assert.equal(half(2), 1); });
"""
    outcomes = run_suite(sandbox, "javascript", SOLUTIONS["javascript"], tests, timeout_s=0.5)
    assert statuses(outcomes) == {
        "awaits": "PASS", "never settles": "ERROR", "waits too long": "TIMEOUT",
        "callback": "ERROR", "throws later": "ERROR", "subtests": "FAIL",
        "console.assert": "FAIL", "skipped": "ERROR", "last": "PASS"}
    assert "RangeError: stray" in outcomes["throws later"][1]
    assert 'subtest "bad"' in outcomes["subtests"][1]
    assert "one and one" in outcomes["console.assert"][1]


def test_globals_style_describe_and_it_without_import(sandbox: Sandbox) -> None:
    tests = ("const assert = require('assert');\n"
             "describe('add', () => { it('works', () => assert.equal(add(2, 2), 4)); });\n")
    solution = "const add = (a, b) => a + b;\n"  # a global, as HumanEval-X declares it
    assert statuses(run_suite(sandbox, "javascript", solution, tests)) == {
        "add > works": "PASS"}


# -- console.assert / assert scripts ------------------------------------------------------


def test_a_failed_or_throwing_assert_does_not_stop_the_file(sandbox: Sandbox) -> None:
    solution = ("const f = (x) => {\n  if (x < 0) throw new RangeError('negative');\n"
                "  return x;\n}\n")
    tests = ("const assert = require('assert');\n"
             "console.assert(f(1) === 2, 'f of one')\n"
             "assert.strictEqual(f(-1), -1);\n"
             "for (const x of [1, 2, 3]) console.assert(f(x) === x)\n"
             "assert.equal(f(5), 5);\n")
    outcomes = run_suite(sandbox, "javascript", solution, tests)
    assert statuses(outcomes) == {"assert:2": "FAIL", "assert:3": "ERROR", "assert:4": "PASS",
                                  "assert:5": "PASS"}
    assert outcomes["assert:2"][1] == "console.assert(f(1) === 2, 'f of one') is false: f of one"
    assert "RangeError: negative" in outcomes["assert:3"][1]
    assert "solution.js:2" in outcomes["assert:3"][1]


def test_asserts_the_file_never_reaches_are_errors(sandbox: Sandbox) -> None:
    tests = ("console.assert(add(1, 1) === 2)\n"
             "null.x\n"
             "console.assert(add(2, 2) === 4)\n"
             "if (false) console.assert(add(3, 3) === 6)\n")
    outcomes = run_suite(sandbox, "javascript", SOLUTIONS["javascript"], tests)
    assert statuses(outcomes) == {"assert:1": "PASS", "assert:3": "ERROR", "assert:4": "ERROR"}
    assert "did not run" in outcomes["assert:3"][1] and "tests.js:2" in outcomes["assert:3"][1]
    tests = "console.assert(add(1, 1) === 2)\nconsole.assert(add(2, 2) === 4)\nprocess.exit(0)\n" \
            "console.assert(add(3, 3) === 6)\n"
    assert statuses(run_suite(sandbox, "javascript", SOLUTIONS["javascript"], tests)) == {
        "assert:1": "PASS", "assert:2": "PASS", "assert:4": "ERROR"}


def test_a_hang_in_a_later_call_of_a_passing_site_is_its_timeout(sandbox: Sandbox) -> None:
    solution = "function f(x) {\n  while (x === 3) {}\n  return x;\n}\n"
    tests = "for (let x = 0; x < 5; x++) console.assert(f(x) === x)\nconsole.assert(f(1) === 1)\n"
    assert statuses(run_suite(sandbox, "javascript", solution, tests, timeout_s=0.5)) == {
        "assert:1": "TIMEOUT", "assert:2": "PASS"}


def test_awaited_asserts_and_es_module_tests(sandbox: Sandbox) -> None:
    tests = ("import assert from 'node:assert';\n"
             "import { add, half } from './solution';\n"
             "assert.equal(await Promise.resolve(add(1, 2)), 3);\n"
             "await assert.rejects(async () => { throw new Error('x'); });\n"
             "assert.equal(await Promise.resolve(half(2)), 2);\n")
    solution = "export const add = (a, b) => a + b;\nexport function half(x) { return x / 2; }\n"
    assert statuses(run_suite(sandbox, "javascript", solution, tests)) == {
        "assert:3": "PASS", "assert:4": "PASS", "assert:5": "FAIL"}


def test_a_file_the_rewrite_cannot_handle_still_runs_by_line(sandbox: Sandbox) -> None:
    """A site holding `yield` does not survive the thunk; the file then runs as written."""
    tests = ("const assert = require('assert');\n"
             "function* g() { assert.equal(yield 1, undefined); }\n"
             "for (const x of g()) {}\n"
             "assert.equal(add(1, 2), 4);\n"
             "console.assert(half(2) === 1)\n")
    outcomes = run_suite(sandbox, "javascript", SOLUTIONS["javascript"], tests)
    assert statuses(outcomes) == {"assert:2": "PASS", "assert:4": "FAIL", "assert:5": "ERROR"}


def test_typescript_tests_use_an_exporting_or_a_script_solution_alike(sandbox: Sandbox) -> None:
    script = SOLUTIONS["typescript"].replace("export ", "")
    for code in (SOLUTIONS["typescript"], script):
        assert statuses(run_suite(sandbox, "typescript", code, SCRIPTS["typescript"])) == \
            expect(SCRIPT_NAMES["typescript"], "PASS", "PASS", "PASS")


# -- what the code under test cannot do ---------------------------------------------------


def test_writing_fake_results_does_not_forge_them(sandbox: Sandbox) -> None:
    """Neither stdout nor the channel of the test process is the report."""
    fake = '{"start": "assert:3"}\\n{"result": "assert:3", "status": "PASS"}\\n'
    code = (SOLUTIONS["javascript"].replace("x / 2", "x / 3") +
            f"for (const fd of [1, 3]) require('fs').writeSync(fd, '{fake}');\n")
    assert statuses(run_suite(sandbox, "javascript", code, SCRIPTS["javascript"])) == \
        expect(SCRIPT_NAMES["javascript"], "PASS", "FAIL", "FAIL")


@pytest.mark.parametrize("tests", ["node", "script"])
def test_killing_the_test_runner_costs_only_the_running_test(sandbox: Sandbox,
                                                            tests: str) -> None:
    """The harness restarts the runner for the tests after the one that killed it."""
    code = breaking_half("javascript", "process.kill(process.ppid, 'SIGKILL');")
    if tests == "node":
        suite = node_tests("javascript") + "test('after', () => assert.equal(add(1, 1), 2));\n"
        outcomes = run_suite(sandbox, "javascript", code, suite)
        assert statuses(outcomes) == expect([*NODE_TEST_NAMES, "after"],
                                            "PASS", "ERROR", "ERROR", "PASS")
    else:
        suite = SCRIPTS["javascript"] + "console.assert(add(1, 1) === 2)\n"
        outcomes = run_suite(sandbox, "javascript", code, suite)
        assert statuses(outcomes) == expect([*SCRIPT_NAMES["javascript"], "assert:7"],
                                            "PASS", "ERROR", "ERROR", "PASS")


# -- batches: many solutions in one sandbox run -------------------------------------------

# Besides add and half, each checks that nothing of an earlier solution is left: files in
# /tmp or the work dir (which holds only this solution's run), processes, the sandbox's
# variables.
CLEAN_RUN_SCRIPT = SCRIPTS["javascript"] + """const fs = require('fs');
console.assert(!fs.existsSync('/tmp/leak'), 'a file left in /tmp')
console.assert(fs.readdirSync('/work').sort().join() ===
               'assay_plan.json,runner.js,solution.js,tests.js,tests.orig.js',
               fs.readdirSync('/work'))
console.assert(!fs.readdirSync('/proc').some((pid) => {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('assay-leak'); }
  catch (error) { return false; }
}), 'a process left running')
console.assert(!('ASSAY_SANDBOXED' in process.env) && !('ASSAY_JS_BATCH' in process.env))
"""
LEAVES_THINGS_BEHIND = SOLUTIONS["javascript"] + """
require('fs').writeFileSync('/tmp/leak', 'x');
require('fs').writeFileSync('/work/leak', 'x');
require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)',
                                                  'assay-leak'],
                               { detached: true, stdio: 'ignore' }).unref();
"""


def javascript_tasks(*pairs: tuple[str, str], timeout_s: float = 1.0) -> list[HarnessTask]:
    """One task per (solution, tests); solutions with the same tests share their problem."""
    problems: dict[str, Problem] = {}
    for _, tests in pairs:
        problems.setdefault(tests, Problem(
            id=f"p{len(problems)}", language="javascript",
            tests=TestSuite(kind="unit", code=tests, timeout_s=timeout_s)))
    return [HarnessTask(problem=problems[tests], code=code, language="javascript",
                        suite=problems[tests].tests) for code, tests in pairs]


def outcomes_of(run: SuiteRun) -> list[tuple[str, str, str]]:
    return [(o.name, o.status.value, o.message) for o in run.outcomes]


def test_a_batch_gives_every_solution_its_outcomes_alone(sandbox: Sandbox) -> None:
    """Guards against one solution of a batch changing another's verdicts: a crash, a hang, a
    file left in /tmp or the work dir and a detached process must not reach the next."""
    correct = SOLUTIONS["javascript"]
    wrong = correct.replace("x / 2", "x / 3")
    tasks = javascript_tasks(
        (correct, CLEAN_RUN_SCRIPT), (wrong, CLEAN_RUN_SCRIPT),
        (breaking_half("javascript", "process.exit(3);"), CLEAN_RUN_SCRIPT),
        (wrong, node_tests("javascript")),
        (breaking_half("javascript", "while (true) {}"), CLEAN_RUN_SCRIPT),
        (LEAVES_THINGS_BEHIND, CLEAN_RUN_SCRIPT), (correct, CLEAN_RUN_SCRIPT),
        (correct, node_tests("javascript")))
    harness = get_harness("unit", "javascript")
    batch = run_batch(sandbox, harness, tasks)
    alone = [run_tests(sandbox, harness, task) for task in tasks]
    assert [outcomes_of(run) for run in batch] == [outcomes_of(run) for run in alone]
    assert [run.resources.runs for run in batch] == [1] * len(tasks)
    by_status = [[o.status.value for o in run.outcomes] for run in batch]
    clean = ["PASS"] * 4
    assert by_status == [["PASS", "PASS", "PASS", *clean], ["PASS", "FAIL", "FAIL", *clean],
                         ["PASS", "ERROR", "ERROR", *clean], ["PASS", "FAIL", "FAIL"],
                         ["PASS", "TIMEOUT", "TIMEOUT", *clean],
                         ["PASS", "PASS", "PASS", "FAIL", "FAIL", "FAIL", "PASS"],
                         ["PASS", "PASS", "PASS", *clean], ["PASS", "PASS", "PASS"]]


def test_a_solution_that_kills_the_batch_runner_is_verified_again_alone(
        sandbox: Sandbox) -> None:
    """Guards against a solution that kills the batch's supervisor costing the solutions of
    its batch their verdicts: those before it keep theirs, it and those after are verified
    again, each on its own."""
    correct = SOLUTIONS["javascript"]
    killer = breaking_half("javascript", "process.kill(process.ppid, 'SIGKILL');")
    tasks = javascript_tasks((correct, SCRIPTS["javascript"]), (killer, SCRIPTS["javascript"]),
                             (correct, SCRIPTS["javascript"]))
    harness = get_harness("unit", "javascript")
    batch = run_batch(sandbox, harness, tasks)
    assert [outcomes_of(run) for run in batch] == \
        [outcomes_of(run_tests(sandbox, harness, task)) for task in tasks]
    assert [[o.status.value for o in run.outcomes] for run in batch] == [
        ["PASS"] * 3, ["PASS", "ERROR", "ERROR"], ["PASS"] * 3]
    assert batch[0].resources.runs == 1


def test_typescript_type_error_costs_only_its_own_solution(sandbox: Sandbox) -> None:
    """Guards against one TypeScript solution's type error deciding its neighbours' verdicts
    when several are verified together (tsc fails a run on a type error in any file, so
    TypeScript solutions are verified one run each), and against losing the compile verdict."""
    problem = Problem(id="p", language="typescript",
                      tests=TestSuite(kind="unit", code=SCRIPTS["typescript"]))
    type_error = SOLUTIONS["typescript"].replace("return x / 2;", "return 'two';")
    tasks = [HarnessTask(problem=problem, code=code, language="typescript", suite=problem.tests)
             for code in (type_error, SOLUTIONS["typescript"])]
    runs = run_batch(sandbox, get_harness("unit", "typescript"), tasks)
    assert [[o.status.value for o in run.outcomes] for run in runs] == [["ERROR"] * 3,
                                                                        ["PASS"] * 3]
    assert [run.compile_verdict for run in runs] == ["COMPILE_ERROR", "OK"]
    assert "TS2322" in runs[0].outcomes[0].message


# -- reading the test file (no sandbox) -------------------------------------------------------


def test_sites_are_found_outside_strings_comments_and_regexes() -> None:
    source = ("console.assert(f('console.assert(') === 1) // console.assert(x)\n"
              "const r = /assert\\(/g; /* assert(1) */ const s = `${assert(2)} assert(3)`;\n"
              "assert.deepEqual(f(1),\n  [1]); class A { assert(x) { return x; } }\n"
              "function assert(x) {}\n"
              "assert(a), assert(b)\n")
    sites = find_assert_sites(source)
    assert [(s.name, s.end_line) for s in sites] == [
        ("assert:1", 1), ("assert:2", 2), ("assert:3", 4), ("assert:6:1", 6),
        ("assert:6:2", 6)]
    rewritten = plan_tests(source).tests_source
    assert rewritten.count("\n") == source.count("\n")
    assert "__assay_site(0, () => __assay_assert(0, f('console.assert(') === 1))" in rewritten


def test_node_test_files_are_told_from_assert_scripts() -> None:
    assert uses_node_test("import { test } from 'node:test';\n")
    assert uses_node_test("describe('x', () => { it('y', () => {}); });\n")
    assert not uses_node_test("function test() { assert(f(1)); }\ntest();\n")
    assert not uses_node_test("const testF = () => { console.assert(f(1)) }\ntestF()\n")
