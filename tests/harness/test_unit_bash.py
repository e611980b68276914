from __future__ import annotations

import pytest

from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = "add() { echo $(( $1 + $2 )); }\n\nhalf() {\n    echo $(( $1 / 2 ))\n}\n"
TESTS = """test_add() {
    [[ $(add 2 3) == 5 ]]
}

test_half() {
    [ "$(half 4)" = 2 ]
}

function test_both {
    local r
    r=$(add "$(half 2)" 1)
    [[ $r == 2 ]]
}
"""
NAMES = ["test_add", "test_half", "test_both"]


def run(sandbox: Sandbox, code: str, tests: str = TESTS, timeout_s: float = 1.0
        ) -> dict[str, tuple[str, str]]:
    return run_suite(sandbox, "bash", code, tests, timeout_s=timeout_s)


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION)
    assert list(outcomes) == NAMES
    assert set(statuses(outcomes).values()) == {"PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION.replace("$1 / 2", "$1 / 3"))
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "FAIL", "test_both": "FAIL"}
    assert outcomes["test_half"][1] == ('test_half returned 1; last failed command: '
                                        'tests.sh:6: [ "$(half 4)" = 2 ]')


@pytest.mark.parametrize("crash", ["kill -SEGV $$", "kill -KILL $$"])
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox,
                                                              crash: str) -> None:
    tests = TESTS.replace("test_half() {\n", f"test_half() {{\n    {crash}\n")
    outcomes = run(sandbox, SOLUTION, tests)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "ERROR", "test_both": "PASS"}
    assert "killed by SIG" in outcomes["test_half"][1]


def test_exit_inside_a_test_is_not_a_pass(sandbox: Sandbox) -> None:
    tests = "test_zero() { exit 0; }\ntest_two() { exit 2; }\ntest_ok() { true; }\n"
    assert statuses(run(sandbox, SOLUTION, tests)) == {"test_zero": "ERROR", "test_two": "FAIL",
                                                       "test_ok": "PASS"}


@pytest.mark.parametrize("hang", ["while :; do :; done", "sleep 100"])
def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox, hang: str) -> None:
    code = SOLUTION.replace("    echo $(( $1 / 2 ))", f"    {hang}")
    outcomes = run(sandbox, code, timeout_s=0.5)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "TIMEOUT",
                                  "test_both": "TIMEOUT"}


def test_solution_that_does_not_parse_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, "add() { echo $(( $1 + $2 ));\n")
    assert statuses(outcomes) == dict.fromkeys(NAMES, "ERROR")
    assert "the solution does not parse: solution.sh: line 2" in outcomes["test_add"][1]


def test_solution_that_exits_while_sourced_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION + 'echo "args: $#"\nexit 3\n')
    assert statuses(outcomes) == dict.fromkeys(NAMES, "ERROR")
    assert "exited with status 3 while being sourced" in outcomes["test_add"][1]


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION, "# helpers only\nhelper() {\n    echo 1\n}\nX=1\n")
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests found" in outcomes["<collection>"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, SOLUTION, "test_a() {\n    [[ 1 == 1\n}\n")
    assert list(statuses(outcomes).values()) == ["ERROR"]
    assert "the test file does not parse" in next(iter(outcomes.values()))[1]


def test_multipl_e_script_is_one_test(sandbox: Sandbox) -> None:
    """MultiPL-E: `set -e`, a run_test function of checks, and a call of it at the end."""
    tests = """#!/bin/bash
candidate() {
    add "$@"
}

set -e
run_test() {
    [[ $(candidate "2" "3") = "5" ]]
    [[ $(half 4) = "2" ]]
}

run_test
"""
    assert statuses(run(sandbox, SOLUTION, tests)) == {"tests.sh": "PASS"}
    outcomes = run(sandbox, SOLUTION.replace("$1 / 2", "$1 / 3"), tests)
    assert statuses(outcomes) == {"tests.sh": "FAIL"}
    assert 'tests.sh:9: [[ $(half 4) = "2" ]]' in outcomes["tests.sh"][1]


def test_the_files_own_calls_of_its_tests_are_skipped(sandbox: Sandbox) -> None:
    """Each test runs alone, under the options the file sets (here `set -e`)."""
    tests = """set -e
test_ok() { [[ $(add 1 1) == 2 ]]; }
test_first_check_fails() {
    [[ $(half 4) == 3 ]]
    true
}
test_ok
test_first_check_fails
exit 1
"""
    assert statuses(run(sandbox, SOLUTION, tests)) == {"test_ok": "PASS",
                                                       "test_first_check_fails": "FAIL"}


def test_each_test_gets_fresh_processes_and_files(sandbox: Sandbox) -> None:
    tests = """test_a() {
    (sleep 30 &)
    LEAK=1
    echo x > /tmp/leak
}

test_b() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) != sleep ]] || return 1
    done
    [[ -z ${LEAK-} && ! -e /tmp/leak ]]
}
"""
    assert statuses(run(sandbox, SOLUTION, tests)) == {"test_a": "PASS", "test_b": "PASS"}


def test_writing_a_fake_report_does_not_forge_results(sandbox: Sandbox) -> None:
    """The report channel is closed in the test's process; stdout is not a channel."""
    fake = '{"result": "test_half", "status": "PASS"}'
    code = SOLUTION.replace("$1 / 2", "$1 / 3") + (
        f"echo '{fake}'\nfor fd in $(seq 3 63); do\n"
        f"    {{ echo '{fake}' >&$fd; }} 2>/dev/null\ndone\n")
    assert statuses(run(sandbox, code))["test_half"] == "FAIL"
