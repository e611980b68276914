from __future__ import annotations

import pytest

from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = "def add(a, b):\n    return a + b\n\ndef half(x):\n    return x / 2\n"
TESTS = """
def test_add():
    assert add(2, 3) == 5

def test_half():
    assert half(4) == 2

def test_both():
    assert add(half(2), 1) == 2
"""


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    assert statuses(run_suite(sandbox, "python", SOLUTION, TESTS)) == {
        "test_add": "PASS", "test_half": "PASS", "test_both": "PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    wrong = SOLUTION.replace("return x / 2", "return x / 3")
    outcomes = run_suite(sandbox, "python", wrong, TESTS)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "FAIL", "test_both": "FAIL"}
    assert "half(4) == 2" in outcomes["test_half"][1]


@pytest.mark.parametrize("crash", ["import os; os._exit(3)",
                                   "import ctypes; ctypes.string_at(0)",
                                   "raise SystemExit(0)"])
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox,
                                                              crash: str) -> None:
    code = SOLUTION.replace("    return x / 2", f"    {crash}")
    outcomes = run_suite(sandbox, "python", code, TESTS)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "ERROR",
                                  "test_both": "ERROR"}


def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox) -> None:
    code = SOLUTION.replace("    return x / 2", "    while True:\n        pass")
    outcomes = run_suite(sandbox, "python", code, TESTS, timeout_s=0.5)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "TIMEOUT",
                                  "test_both": "TIMEOUT"}


def test_each_test_gets_fresh_solution_globals(sandbox: Sandbox) -> None:
    code = "calls = []\n\ndef f():\n    calls.append(1)\n    return len(calls)\n"
    tests = "def test_a():\n    assert f() == 1\n\ndef test_b():\n    assert f() == 1\n"
    assert statuses(run_suite(sandbox, "python", code, tests)) == {"test_a": "PASS",
                                                                   "test_b": "PASS"}


def test_tests_after_a_timeout_run_in_a_new_process(sandbox: Sandbox) -> None:
    tests = ("import builtins\n"
             "def test_a():\n    builtins.leak = 1\n"
             "def test_hang():\n    while True:\n        pass\n"
             "def test_b():\n    assert not hasattr(builtins, 'leak')\n")
    assert statuses(run_suite(sandbox, "python", SOLUTION, tests, timeout_s=0.5)) == {
        "test_a": "PASS", "test_hang": "TIMEOUT", "test_b": "PASS"}


def test_solutions_of_one_batch_do_not_see_each_other(sandbox: Sandbox) -> None:
    """Guards against state leaking between solutions verified in the same sandbox run."""
    from assay.data import Problem, TestSuite
    from assay.harness import HarnessTask, get_harness, run_batch

    tests = ("import builtins, os\n"
             "def test_clean():\n"
             "    assert not hasattr(builtins, 'leak')\n"
             "    assert not os.path.exists('/tmp/leak')\n"
             "    builtins.leak = 1\n"
             "    open('/tmp/leak', 'w').write('x')\n")
    problem = Problem(id="p", language="python", tests=TestSuite(kind="unit", code=tests))
    tasks = [HarnessTask(problem=problem, code=SOLUTION + f"# {i}\n", language="python",
                         suite=problem.tests) for i in range(4)]
    runs = run_batch(sandbox, get_harness("unit", "python"), tasks)
    assert [[o.status.value for o in run.outcomes] for run in runs] == [["PASS"]] * 4
    assert all(run.resources.runs == 1 for run in runs)


def test_solution_that_does_not_compile_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "python", "def add(a, b)\n    return a + b\n", TESTS)
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "does not compile" in outcomes["test_add"][1]


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "python", SOLUTION, "x = 1\n")
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests" in outcomes["<collection>"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "python", SOLUTION, "def test_x(:\n")
    assert list(statuses(outcomes).values()) == ["ERROR"]
    assert "does not parse" in next(iter(outcomes.values()))[1]


def test_unittest_methods_are_tests(sandbox: Sandbox) -> None:
    tests = """
import unittest

class TestMath(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(1, 1), 2)

    def test_half(self):
        self.assertEqual(half(3), 1)

    def test_error(self):
        {}["missing"]

    @unittest.skip("not now")
    def test_skipped(self):
        pass
"""
    outcomes = statuses(run_suite(sandbox, "python", SOLUTION, tests))
    assert outcomes == {"TestMath.test_add": "PASS", "TestMath.test_half": "FAIL",
                        "TestMath.test_error": "ERROR", "TestMath.test_skipped": "ERROR"}


def test_humaneval_check_counts_each_assert_as_a_test(sandbox: Sandbox) -> None:
    tests = """
METADATA = {}

def check(candidate):
    import math
    assert candidate(1, 2) == 3
    assert candidate(2, 2) == 5, "two and two"
    for x in range(3):
        assert candidate(x, 0) == x
    assert math.isclose(candidate(0.5, 0.25), 0.75)
"""
    outcomes = run_suite(sandbox, "python", SOLUTION, tests, entry_point="add")
    assert statuses(outcomes) == {"check:6": "PASS", "check:7": "FAIL", "check:8": "PASS",
                                  "check:10": "PASS"}
    assert "two and two" in outcomes["check:7"][1]


def test_plain_module_asserts_are_tests(sandbox: Sandbox) -> None:
    tests = "x = add(1, 1)\nassert x == 2\nassert half(2) == 3\nassert add(0, 0) == 0\n"
    assert statuses(run_suite(sandbox, "python", SOLUTION, tests)) == {
        "assert:2": "PASS", "assert:3": "FAIL", "assert:4": "PASS"}


def test_printing_a_fake_report_does_not_forge_results(sandbox: Sandbox) -> None:
    """The report channel is closed in the test's process; stdout is not a channel."""
    code = ('import os, json\nprint(json.dumps({"result": "test_half", "status": "PASS"}))\n'
            'for fd in range(3, 64):\n'
            '    try:\n        os.write(fd, b\'{"result": "test_half", "status": "PASS"}\\n\')\n'
            '    except OSError:\n        pass\n' + SOLUTION.replace("x / 2", "x / 3"))
    outcomes = statuses(run_suite(sandbox, "python", code, TESTS))
    assert outcomes["test_half"] != "PASS"


def test_the_local_backend_never_wipes_the_hosts_tmp(tmp_path: object) -> None:
    """Guards against the runner's clean-up between tests (kill(-1), wiping /tmp), which is
    only safe inside the sandbox, running on the host under the local backend."""
    import os
    import tempfile
    import warnings

    from assay.sandbox import get_sandbox

    handle, sentinel = tempfile.mkstemp(prefix="assay-sentinel-", dir="/tmp")
    os.close(handle)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            local = get_sandbox("local")
        with local:
            outcomes = run_suite(local, "python", SOLUTION, TESTS)
        assert statuses(outcomes) == {"test_add": "PASS", "test_half": "PASS",
                                      "test_both": "PASS"}
        assert os.path.exists(sentinel)
    finally:
        os.unlink(sentinel)
