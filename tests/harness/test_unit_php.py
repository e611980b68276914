from __future__ import annotations

import pytest

from assay.harness.unit.php import with_open_tag
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = """<?php
function add($a, $b) {
    return $a + $b;
}

function half($x) {
    return intdiv($x, 2);
}
"""
TESTS = """<?php
function test_add() {
    assert(add(2, 3) == 5);
}

function test_half() {
    assert(half(4) == 2);
}

function test_both() {
    assert(add(half(2), 1) == 2);
}
"""
NAMES = ["test_add", "test_half", "test_both"]


def run(sandbox: Sandbox, code: str, tests: str = TESTS, timeout_s: float = 1.0
        ) -> dict[str, tuple[str, str]]:
    return run_suite(sandbox, "php", code, tests, timeout_s=timeout_s)


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION)
    assert list(outcomes) == NAMES
    assert set(statuses(outcomes).values()) == {"PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION.replace("intdiv($x, 2)", "intdiv($x, 3)"))
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "FAIL", "test_both": "FAIL"}
    assert outcomes["test_half"][1] == "assert(half(4) == 2) (tests.php:7)"


@pytest.mark.parametrize("crash", ["posix_kill(posix_getpid(), SIGKILL);", "exit(3);",
                                   "return $x->missing();", "undefined_function();",
                                   "throw new RuntimeException('boom');"])
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox,
                                                              crash: str) -> None:
    tests = TESTS.replace("assert(add(half(2), 1) == 2);", "assert(add(1, 2) == 3);")
    outcomes = run(sandbox, SOLUTION.replace("return intdiv($x, 2);", crash), tests)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "ERROR", "test_both": "PASS"}


def test_a_fatal_error_names_its_cause(sandbox: Sandbox) -> None:
    code = SOLUTION + "function add($a, $b) { return 0; }\n"
    outcomes = run(sandbox, code)
    assert statuses(outcomes) == dict.fromkeys(NAMES, "ERROR")
    assert "Cannot redeclare add()" in outcomes["test_add"][1]


def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox) -> None:
    code = SOLUTION.replace("return intdiv($x, 2);", "while (true) {}")
    outcomes = run(sandbox, code, timeout_s=0.5)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "TIMEOUT",
                                  "test_both": "TIMEOUT"}


def test_solution_that_does_not_parse_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, "<?php\nfunction add($a, $b) {\n    return $a +\n}\n")
    assert statuses(outcomes) == dict.fromkeys(NAMES, "ERROR")
    assert "the solution does not parse" in outcomes["test_add"][1]
    assert "line 4" in outcomes["test_add"][1]


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION, "<?php\nfunction helper() { return 1; }\n$x = helper();\n")
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests found" in outcomes["<collection>"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION, "<?php\nfunction test_a() {\n    assert(1 == 1;\n}\n")
    assert list(statuses(outcomes).values()) == ["ERROR"]
    assert "the test file does not parse" in next(iter(outcomes.values()))[1]


def test_multipl_e_test_function_is_split_into_its_checks(sandbox: Sandbox) -> None:
    """MultiPL-E: `function test()` throws on each failed check and is called at the end."""
    tests = """<?php
function candidate(...$args) {
    return add(...$args);
}

function test(): void {
    if (candidate(2, 3) !== 5) { throw new Exception("Test failed!"); }
    $x = 4;
    if (half($x) !== 2) { throw new Exception("Test failed!"); }
    if (candidate(half(2), 1) !== 2) { throw new Exception("Test failed!"); }
}

test();
"""
    outcomes = run(sandbox, SOLUTION.replace("intdiv($x, 2)", "intdiv($x, 3)"), tests)
    assert statuses(outcomes) == {"test:7": "PASS", "test:9": "FAIL", "test:10": "FAIL"}
    assert "tests.php:9: if (half($x) !== 2)" in outcomes["test:9"][1]


def test_top_level_asserts_are_tests(sandbox: Sandbox) -> None:
    tests = "$n = 4;\nassert(add(2, 3) == 5);\nassert(half($n) == 3); assert(half(2) == 1);\n"
    assert statuses(run(sandbox, SOLUTION, tests)) == {"assert:2": "PASS", "assert:3": "FAIL",
                                                       "assert:3:2": "PASS"}


def test_test_functions_see_globals_and_skip_the_files_own_calls(sandbox: Sandbox) -> None:
    tests = """<?php
require_once 'solution.php';
$data = [1, 2, 3];

function test_globals() {
    global $data;
    assert(array_sum($data) == 6);
}

function testCamelCase() {
    assert(add(1, 1) == 2);
}

test_globals();
exit(1);
"""
    assert statuses(run(sandbox, SOLUTION, tests)) == {"test_globals": "PASS",
                                                       "testCamelCase": "PASS"}


def test_each_test_gets_fresh_state_and_files(sandbox: Sandbox) -> None:
    tests = """<?php
function test_a() {
    $GLOBALS['leak'] = 1;
    file_put_contents('/tmp/leak', 'x');
}

function test_b() {
    assert(!isset($GLOBALS['leak']) && !file_exists('/tmp/leak'));
}
"""
    assert statuses(run(sandbox, SOLUTION, tests)) == {"test_a": "PASS", "test_b": "PASS"}


def test_writing_a_fake_report_does_not_forge_results(sandbox: Sandbox) -> None:
    """The report channel is closed in the test's process; stdout is not a channel."""
    fake = '{"result": "test_half", "status": "PASS"}'
    code = SOLUTION.replace("intdiv($x, 2)", "intdiv($x, 3)") + f"""
echo '{fake}', "\\n";
for ($fd = 3; $fd < 64; $fd++) {{
    $h = @fopen("php://fd/$fd", 'w');
    if ($h) {{ @fwrite($h, '{fake}' . "\\n"); }}
}}
"""
    assert statuses(run(sandbox, code))["test_half"] == "FAIL"


def test_open_tag_is_added_only_when_missing() -> None:
    assert with_open_tag("function f() {}") == "<?php function f() {}"
    assert with_open_tag("<?php\nfunction f() {}") == "<?php\nfunction f() {}"
    assert with_open_tag("#!/usr/bin/env php\n<?php\nf();") == "#!/usr/bin/env php\n<?php\nf();"
