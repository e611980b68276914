"""Call suites in Python and JavaScript: the entry point called once per case."""

from __future__ import annotations

import math
from typing import Any

import pytest

from assay.data import Checker, TestCase
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

ADD = {"python": "def add(a, b):\n    return a + b\n",
       "javascript": "function add(a, b) {\n  return a + b;\n}\n"}
# Each misbehaves on its own case: a == 5 crashes the call, a == 0 hangs it.
CRASHING = {
    "python": "import os\ndef add(a, b):\n    if a == 5:\n        os._exit(3)\n"
              "    return a + b\n",
    "javascript": "function add(a, b) {\n  if (a === 5) process.exit(3);\n  return a + b;\n}\n",
}
RAISING = {"python": "def add(a, b):\n    if a == 5:\n        raise ValueError('boom')\n"
                     "    return a + b\n",
           "javascript": "function add(a, b) {\n  if (a === 5) throw new RangeError('boom');\n"
                         "  return a + b;\n}\n"}
HANGING = {"python": "def add(a, b):\n    while a == 0:\n        pass\n    return a + b\n",
           "javascript": "function add(a, b) {\n  while (a === 0) {}\n  return a + b;\n}\n"}
BROKEN = {"python": "def add(a, b)\n    return a + b\n",
          "javascript": "function add(a, b {\n  return a + b;\n}\n"}
LANGUAGES = ["python", "javascript"]
SUMS = [TestCase(name="one", args=[1, 2], expected=3),
        TestCase(name="two", args=[2, 2], expected=4),
        TestCase(name="three", args=[3, 4], expected=7)]
MISBEHAVING = [TestCase(name="before", args=[1, 2], expected=3),
               TestCase(name="bad", args=[5, 1], expected=6),
               TestCase(name="hang", args=[0, 1], expected=1),
               TestCase(name="after", args=[3, 4], expected=7)]


def run(sandbox: Sandbox, language: str, code: str, cases: list[TestCase],
        entry_point: str = "add", **suite: Any) -> dict[str, tuple[str, str]]:
    return run_suite(sandbox, language, code, kind="call", entry_point=entry_point,
                     cases=cases, timeout_s=suite.pop("timeout_s", 1.0), **suite)


def case(args: list[Any], expected: Any, name: str = "c", **fields: Any) -> list[TestCase]:
    return [TestCase(name=name, args=args, expected=expected, **fields)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_correct_solution_passes_every_case(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, ADD[language], SUMS)
    assert statuses(outcomes) == {"one": "PASS", "two": "PASS", "three": "PASS"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_partly_wrong_solution_fails_only_the_right_cases(sandbox: Sandbox,
                                                          language: str) -> None:
    outcomes = run(sandbox, language, ADD[language].replace("a + b", "a * b"), SUMS)
    assert statuses(outcomes) == {"one": "FAIL", "two": "PASS", "three": "FAIL"}
    assert outcomes["three"][1] == "expected 7, got 12"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_crash_errors_its_case_only(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, CRASHING[language], MISBEHAVING[:2] + MISBEHAVING[3:])
    assert statuses(outcomes) == {"before": "PASS", "bad": "ERROR", "after": "PASS"}
    assert "3" in outcomes["bad"][1]  # the exit status


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_that_kills_the_whole_runner_errors_its_case_only(sandbox: Sandbox,
                                                                 language: str) -> None:
    # The runner is the grandparent of the process running the call (runner > loader > call).
    runner = "int(open(f'/proc/{os.getppid()}/stat').read().split()[3])"
    kill = {"python": f"import os, signal; os.kill({runner}, signal.SIGKILL)",
            "javascript": "process.kill(process.pid, 'SIGKILL')"}[language]
    code = CRASHING[language].replace("os._exit(3)", kill).replace("process.exit(3)", kill)
    outcomes = run(sandbox, language, code, MISBEHAVING[:2] + MISBEHAVING[3:])
    assert statuses(outcomes) == {"before": "PASS", "bad": "ERROR", "after": "PASS"}
    assert "signal 9" in outcomes["bad"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_exception_errors_its_case_and_says_where(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, RAISING[language], MISBEHAVING[:2] + MISBEHAVING[3:])
    assert statuses(outcomes) == {"before": "PASS", "bad": "ERROR", "after": "PASS"}
    line = {"python": "(solution.py:3)", "javascript": "(solution.js:2)"}[language]
    assert "boom" in outcomes["bad"][1] and line in outcomes["bad"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_hang_is_a_timeout_of_its_case_only(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, HANGING[language], MISBEHAVING, timeout_s=0.5)
    assert statuses(outcomes) == {"before": "PASS", "bad": "PASS", "hang": "TIMEOUT",
                                  "after": "PASS"}
    assert "time limit" in outcomes["hang"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_solution_that_does_not_compile_errors_every_case(sandbox: Sandbox,
                                                          language: str) -> None:
    outcomes = run(sandbox, language, BROKEN[language], SUMS)
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "does not compile" in outcomes["one"][1] and "SyntaxError" in outcomes["one"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_suite_without_cases_is_an_error(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, ADD[language], [])
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no test cases" in outcomes["<collection>"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_entry_point_errors_every_case(sandbox: Sandbox, language: str) -> None:
    outcomes = run(sandbox, language, ADD[language], SUMS, entry_point="plus")
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "does not define" in outcomes["one"][1] and "plus" in outcomes["one"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_top_level_error_errors_every_case(sandbox: Sandbox, language: str) -> None:
    code = {"python": "1 / 0\n", "javascript": "null.x;\n"}[language] + ADD[language]
    outcomes = run(sandbox, language, code, SUMS)
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "failed to load" in outcomes["two"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_case_starts_from_fresh_solution_state(sandbox: Sandbox, language: str) -> None:
    code = {"python": "calls = []\ndef add(a, b):\n    calls.append(1)\n"
                      "    return a + b + len(calls) - 1\n",
            "javascript": "let calls = 0;\nfunction add(a, b) { calls += 1; "
                          "return a + b + calls - 1; }\n"}[language]
    assert set(statuses(run(sandbox, language, code, SUMS)).values()) == {"PASS"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_solution_is_imported_not_run_as_a_script(sandbox: Sandbox, language: str) -> None:
    main = {"python": "if __name__ == '__main__':\n    print(add(int(input()), 1))\n",
            "javascript": "if (require.main === module) {\n"
                          "  console.log(add(Number(require('fs').readFileSync(0)), 1));\n"
                          "}\n"}[language]
    outcomes = run(sandbox, language, ADD[language] + main, SUMS)
    assert set(statuses(outcomes).values()) == {"PASS"}, outcomes


@pytest.mark.parametrize("language", LANGUAGES)
def test_leetcode_solution_class(sandbox: Sandbox, language: str) -> None:
    code = {"python": "class Solution:\n    def add(self, a, b):\n        return a + b\n",
            "javascript": "class Solution {\n  add(a, b) { return a + b; }\n}\n"}[language]
    assert set(statuses(run(sandbox, language, code, SUMS)).values()) == {"PASS"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_floats_are_equal_within_tolerance_at_any_depth(sandbox: Sandbox,
                                                        language: str) -> None:
    code = {"python": "def f(a, b):\n    return {'sum': [a + b], 'ok': True}\n",
            "javascript": "function f(a, b) { return {sum: [a + b], ok: true}; }\n"}[language]
    cases = case([0.1, 0.2], {"sum": [0.3], "ok": True})
    assert statuses(run(sandbox, language, code, cases, "f")) == {"c": "PASS"}
    exact = run(sandbox, language, code, cases, "f", checker=Checker(kind="exact"))
    assert exact["c"][0] == "FAIL" and '["sum"][0]' in exact["c"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_sets_match_lists_in_any_order(sandbox: Sandbox, language: str) -> None:
    code = {"python": "def f(xs):\n    return set(xs)\n",
            "javascript": "function f(xs) { return new Set(xs); }\n"}[language]
    outcomes = run(sandbox, language, code, case([[3, 1, 2, 3]], [1, 2, 3])
                   + case([[1]], [1, 2], name="d"), "f")
    assert statuses(outcomes) == {"c": "PASS", "d": "FAIL"}
    assert outcomes["d"][1] == "expected [1, 2], got {1}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_nan_and_infinity_round_trip(sandbox: Sandbox, language: str) -> None:
    code = {"python": "def f(x):\n    return [float('nan'), float('-inf'), x]\n",
            "javascript": "function f(x) { return [NaN, -Infinity, x]; }\n"}[language]
    outcomes = run(sandbox, language, code, case([1], [math.nan, -math.inf, 1]), "f")
    assert statuses(outcomes) == {"c": "PASS"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bool_is_not_a_number(sandbox: Sandbox, language: str) -> None:
    code = {"python": "def f():\n    return 1\n",
            "javascript": "function f() { return 1; }\n"}[language]
    outcomes = run(sandbox, language, code, case([], True), "f")
    assert outcomes == {"c": ("FAIL", "expected true, got 1")}


def test_python_values_take_their_canonical_form(sandbox: Sandbox) -> None:
    code = ("def f(**kwargs):\n"
            "    return (kwargs['n'], {1: 'one'}, b'hi', 10 ** 4000)\n")
    cases = case([], [7, {"1": "one"}, {"$bytes": "aGk="}, 10 ** 4000], kwargs={"n": 7})
    assert statuses(run(sandbox, "python", code, cases, "f")) == {"c": "PASS"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_huge_or_circular_return_values_are_refused(sandbox: Sandbox, language: str) -> None:
    code = {"python": "def f(n):\n    x = []\n    for _ in range(n):\n        x = [x, x]\n"
                      "    return x\n",
            "javascript": "function f(n) {\n  let x = [];\n  for (let i = 0; i < n; i++) "
                          "x = [x, x];\n  return x;\n}\n"}[language]
    # Walking a million values to find the value too large takes most of a second here: the
    # time limit is not what this test is about.
    outcomes = run(sandbox, language, code, case([60], None), "f", timeout_s=10.0)
    assert outcomes["c"][0] == "ERROR" and "too large" in outcomes["c"][1]
    cyclic = {"python": "def f():\n    x = []\n    x.append(x)\n    return x\n",
              "javascript": "function f() { const x = []; x.push(x); return x; }\n"}[language]
    outcomes = run(sandbox, language, cyclic, case([], None), "f")
    assert outcomes["c"][0] == "FAIL" and "[[[[" in outcomes["c"][1]


def test_python_object_results_are_shown_by_repr(sandbox: Sandbox) -> None:
    code = "class Node:\n    def __repr__(self):\n        return 'Node()'\n" \
           "def f():\n    return Node()\n"
    assert run(sandbox, "python", code, case([], None), "f") == {
        "c": ("FAIL", "expected null, got Node()")}


def test_javascript_values_take_their_canonical_form(sandbox: Sandbox) -> None:
    code = ("function f() {\n"
            "  return [undefined, 2n ** 70n, new Map([[1, 'one']]), new Int8Array([1, -1]),\n"
            "          {date: new Date(0)}];\n}\n")
    expected = [None, 2 ** 70, {"1": "one"}, [1, -1], {"date": "1970-01-01T00:00:00.000Z"}]
    assert statuses(run(sandbox, "javascript", code, case([], expected), "f")) == {"c": "PASS"}


def test_javascript_async_functions_are_awaited_and_timed(sandbox: Sandbox) -> None:
    code = ("async function f(x) {\n  await new Promise((r) => setTimeout(r, 5));\n"
            "  if (x === 0) { await null; for (;;) {} }\n"
            "  if (x === 1) await new Promise(() => {});\n  return x;\n}\n")
    cases = case([0], 0, "spin") + case([1], 1, "never") + case([2], 2, "fine")
    outcomes = run(sandbox, "javascript", code, cases, "f", timeout_s=0.5)
    assert statuses(outcomes) == {"spin": "TIMEOUT", "never": "TIMEOUT", "fine": "PASS"}


def test_javascript_kwargs_are_refused(sandbox: Sandbox) -> None:
    outcomes = run(sandbox, "javascript", ADD["javascript"],
                   case([1, 2], 3, kwargs={"c": 1}))
    assert outcomes["c"][0] == "ERROR" and "kwargs" in outcomes["c"][1]


def test_javascript_arguments_are_arrays_of_the_solution_realm(sandbox: Sandbox) -> None:
    code = "function f(xs) { return xs instanceof Array && Array.isArray(xs); }\n"
    assert statuses(run(sandbox, "javascript", code, case([[1]], True), "f")) == {"c": "PASS"}


def test_expected_values_never_enter_the_sandbox(sandbox: Sandbox) -> None:
    code = "def f():\n    return open('/work/cases.json').read()\n"
    outcomes = run(sandbox, "python", code, case([], "secret-answer"), "f")
    assert outcomes["c"][0] == "FAIL"
    assert "secret" not in outcomes["c"][1].split(", got ", 1)[1]


def test_custom_checkers_are_not_run_for_call_suites(sandbox: Sandbox) -> None:
    checker = Checker(kind="custom", program="import sys\nsys.exit(0)\n")
    outcomes = run(sandbox, "python", ADD["python"], SUMS[:1], checker=checker)
    assert outcomes["one"][0] == "INFRA"
