"""Output checkers, value comparison and grading: pure functions of what runners report."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from assay.data import Checker, Problem, Status, TestCase, TestOutcome, TestSuite
from assay.harness import HarnessTask, get_harness
from assay.harness.checkers import (
    RAW_PREFIX,
    canonical_value,
    decode_raw,
    output_mismatch,
    show,
    value_mismatch,
)
from assay.harness.io import entry_file, grade_case
from assay.harness.protocol import RunnerReport

EXACT, TOKENS, FLOAT = Checker(kind="exact"), Checker(kind="tokens"), Checker(kind="float")


# -- outputs ------------------------------------------------------------------------------


@pytest.mark.parametrize("got", ["1 2\n3\n", "1 2\r\n3\r\n", "1 2  \n3\t\n\n\n", "1 2\n3"])
def test_exact_ignores_line_ends_trailing_blanks_and_blank_tail(got: str) -> None:
    assert output_mismatch(EXACT, "1 2\n3\n", got) is None


@pytest.mark.parametrize(("got", "message"), [
    ("1  2\n3\n", 'line 1, column 3: expected "1 2", got "1  2"'),
    (" 1 2\n3\n", 'line 1, column 1: expected "1 2", got " 1 2"'),
    ("1 2\n\n3\n", 'line 2, column 1: expected "3", got ""'),
    ("1 2\n", 'the output ended after 1 line; expected 2, next: "3"'),
    ("1 2\n3\n4\n", 'extra output after 2 lines: "4"'),
    ("", 'the output ended after 0 lines; expected 2, next: "1 2"'),
])
def test_exact_says_where_the_first_difference_is(got: str, message: str) -> None:
    assert output_mismatch(EXACT, "1 2\n3\n", got) == message


def test_exact_shows_a_window_around_a_difference_in_a_long_line() -> None:
    line = "x" * 100
    message = output_mismatch(EXACT, line + "a" + line, line + "b" + line)
    assert message is not None and message.startswith("line 1, column 101: expected ...")
    assert len(message) < 200 and 'xxxa' in message and 'xxxb' in message


@pytest.mark.parametrize("got", ["1 2 3", "1\n2\n3\n", "  1\t2 \r\n 3  "])
def test_tokens_ignore_all_whitespace(got: str) -> None:
    assert output_mismatch(TOKENS, "1 2\n3\n", got) is None


@pytest.mark.parametrize(("got", "message"), [
    ("1 2\n4", 'token 3 (line 2): expected "3", got "4"'),
    ("1 2", 'the output ended after 2 tokens; expected 3, next: "3"'),
    ("1 2 3\nYES", 'extra output after 3 tokens: "YES" (line 2)'),
    ("1 2 3.0", 'token 3 (line 1): expected "3", got "3.0"'),
])
def test_tokens_say_which_token_differs(got: str, message: str) -> None:
    assert output_mismatch(TOKENS, "1 2\n3\n", got) == message


@pytest.mark.parametrize("got", ["0.3333336 YES 2", "0.333333 YES 2.0000000001",
                                 ".3333333 YES 2e0", "3.333333e-1 YES 2"])
def test_float_accepts_numbers_within_tolerance(got: str) -> None:
    assert output_mismatch(FLOAT, "0.333333 YES 2", got) is None


def test_float_tolerance_is_absolute_or_relative_to_the_expected_value() -> None:
    loose = Checker(kind="float", abs_tol=1e-9, rel_tol=1e-3)
    assert output_mismatch(loose, "1000000", "1000999") is None
    assert output_mismatch(loose, "1000000", "1001001") is not None
    assert output_mismatch(loose, "0", "1e-10") is None


@pytest.mark.parametrize(("got", "message"), [
    ("0.34 YES", "token 1 (line 1): expected 0.333333, got 0.34 (off by 0.00667; "
                 "tolerance abs 1e-06, rel 1e-06)"),
    ("0.333333 yes", 'token 2 (line 1): expected "YES", got "yes"'),
    ("abc YES", 'token 1 (line 1): expected "0.333333", got "abc"'),
    ("nan YES", 'token 1 (line 1): expected "0.333333", got "nan"'),
])
def test_float_messages(got: str, message: str) -> None:
    assert output_mismatch(FLOAT, "0.333333 YES", got) == message


def test_float_compares_words_as_words() -> None:
    assert output_mismatch(FLOAT, "nan inf -", "nan inf -") is None
    assert output_mismatch(FLOAT, "1_000", "1000") is not None  # not a decimal number


# -- values -------------------------------------------------------------------------------


def test_canonical_value_of_python_values() -> None:
    assert canonical_value((1, (2.5, None))) == [1, [2.5, None]]
    assert canonical_value([math.nan, math.inf, -math.inf]) == [
        {"$float": "nan"}, {"$float": "inf"}, {"$float": "-inf"}]
    assert canonical_value({1: b"hi", None: {2}}) == {"1": {"$bytes": "aGk="},
                                                      "null": {"$set": [2]}}
    assert canonical_value({"$int": hex(-(10 ** 40))}) == -(10 ** 40)


@pytest.mark.parametrize(("expected", "got"), [
    (3, 3), (2, 2.0), (0.3, 0.1 + 0.2), ([1, [2, {"a": 0.5}]], [1, [2, {"a": 0.5000001}]]),
    ([1, 2, 3], {"$set": [3, 2, 1]}), ({"$set": [1.0, 2.0]}, {"$set": [2, 1]}),
    (math.nan, {"$float": "nan"}), (None, None), ("x", "x"), (10 ** 30, 10 ** 30),
])
def test_equal_values(expected: Any, got: Any) -> None:
    assert value_mismatch(TOKENS, expected, got) is None


@pytest.mark.parametrize(("expected", "got", "message"), [
    (True, 1, "expected true, got 1"),
    (1, True, "expected 1, got true"),
    (0.3, 0.31, "expected 0.3, got 0.31"),
    ("1", 1, 'expected "1", got 1'),
    ([1, 2], [1, 2, 3], "expected [1, 2], got [1, 2, 3]"),
    ([1, [2, 3]], [1, [2, 4]], "expected [1, [2, 3]], got [1, [2, 4]] "
                               "(at [1][1]: expected 3, got 4)"),
    ({"a": 1}, {"b": 1}, 'expected {"a": 1}, got {"b": 1}'),
    ([1, 1], {"$set": [1]}, "expected [1, 1], got {1}"),
    (None, {"$repr": "<Node>", "$type": "Node"}, "expected null, got <Node>"),
    (10 ** 30, 10 ** 30 + 1, f"expected {10 ** 30}, got {10 ** 30 + 1}"),
])
def test_different_values(expected: Any, got: Any, message: str) -> None:
    assert value_mismatch(TOKENS, expected, got) == message


def test_exact_checker_compares_floats_exactly() -> None:
    assert value_mismatch(EXACT, 0.3, 0.1 + 0.2) == "expected 0.3, got 0.30000000000000004"
    assert value_mismatch(EXACT, 2, 2.0) is None


def test_shown_values_are_short() -> None:
    assert len(show(list(range(10_000)))) <= 120
    assert show(2 ** 5000) == "<int of 5001 bits>"


# -- grading io runs ----------------------------------------------------------------------


def io_task(checker: Checker | None = None, language: str = "python") -> HarnessTask:
    suite = TestSuite(kind="io", timeout_s=2, checker=checker or Checker(),
                      cases=[TestCase(name="a", input="1 2\n", expected="3\n"),
                             TestCase(name="b", input="", expected=None)])
    problem = Problem(id="p", language=language, tests=suite)
    return HarnessTask(problem=problem, code="print(3)", language=language, suite=suite)


def ran(**fields: Any) -> dict[str, Any]:
    return {"exit": 0, "signal": None, "timeout": False, "over_cap": False, "stderr": "",
            **fields}


CASE = TestCase(name="a", input="1 2\n", expected="3\n")


@pytest.mark.parametrize(("raw", "outcome"), [
    (ran(same=True), (Status.PASS, "")),
    (ran(stdout="3"), (Status.PASS, "")),
    (ran(stdout="4\n"), (Status.FAIL, 'token 1 (line 1): expected "3", got "4"')),
    (ran(timeout=True, exit=None, signal=9), (Status.TIMEOUT, "exceeded the 2 s time limit")),
    (ran(exit=None, signal=11), (Status.ERROR, "killed by SIGSEGV")),
    (ran(exit=None, signal=9), (Status.ERROR, "killed by SIGKILL (out of memory?)")),
    (ran(exit=1, stderr='Traceback (most recent call last):\n  File "/assay/launch.py", '
                        'line 1, in <module>\n    run()\n  File "main.py", line 1\n'
                        'ValueError: boom\n'),
     (Status.ERROR, 'exited with code 1: Traceback (most recent call last):\n'
                    '  File "main.py", line 1\nValueError: boom')),
    (ran(over_cap=True, stdout_bytes=70000),
     (Status.FAIL, "printed more than 70000 bytes; the expected output has 2")),
])
def test_grade_io_case(raw: dict[str, Any], outcome: tuple[Status, str]) -> None:
    assert grade_case(io_task(), CASE, raw) == outcome


def test_a_case_without_expected_output_is_not_judged() -> None:
    case = TestCase(name="b", input="", expected=None)
    assert grade_case(io_task(), case, ran(stdout="")) == (
        Status.INFRA, "the case has no expected output")


@pytest.mark.parametrize(("verdict", "outcome"), [
    ({"exit": 0, "message": "ok"}, (Status.PASS, "ok")),
    ({"exit": 1, "message": "wrong: 4"}, (Status.FAIL, "wrong: 4")),
    ({"exit": 2, "message": ""}, (Status.FAIL, "rejected by the checker (exit 2)")),
    ({"exit": None, "timeout": True}, (Status.ERROR, "the checker did not finish in 10 s")),
    (None, (Status.INFRA, "the checker did not run")),
])
def test_grade_custom_checker_verdicts(verdict: dict[str, Any] | None,
                                       outcome: tuple[Status, str]) -> None:
    task = io_task(Checker(kind="custom", program="import sys"))
    raw = ran(checker=verdict) if verdict is not None else ran()
    assert grade_case(task, CASE, raw) == outcome


def test_custom_checker_in_another_language_cannot_run() -> None:
    task = io_task(Checker(kind="custom", program="int main(){}", language="c"))
    status, message = grade_case(task, CASE, ran())
    assert status is Status.INFRA and "only Python checkers" in message


def report(**results: TestOutcome) -> RunnerReport:
    return RunnerReport(results=dict(results), done=True)


def raw_outcome(name: str, raw: dict[str, Any]) -> TestOutcome:
    return TestOutcome(name=name, status=Status.ERROR, message=RAW_PREFIX + json.dumps(raw),
                       time_s=0.5)


def test_io_grade_is_a_pure_function_of_the_report() -> None:
    task = io_task()
    harness = get_harness("io", "python")
    runner = report(a=raw_outcome("a", ran(stdout="3\n")),
                    b=TestOutcome(name="b", status=Status.PASS, message="forged"))
    first = harness.grade(task, runner)
    assert first == harness.grade(task, runner)
    assert first["a"] == TestOutcome(name="a", status=Status.PASS, time_s=0.5)
    assert first["b"].status is Status.ERROR  # a pass the runner claims is no pass


def test_call_grade_compares_returned_values() -> None:
    suite = TestSuite(kind="call", cases=[TestCase(name="a", args=[1], expected=[0.5]),
                                          TestCase(name="b", args=[2], expected=[1.0])])
    problem = Problem(id="p", language="python", entry_point="f", tests=suite)
    task = HarnessTask(problem=problem, code="", language="python", suite=suite)
    runner = report(a=raw_outcome("a", {"returned": [0.5000000001]}),
                    b=raw_outcome("b", {"returned": [2.0]}),
                    c=TestOutcome(name="c", status=Status.TIMEOUT, message="slow"))
    graded = get_harness("call", "python").grade(task, runner)
    assert {name: (o.status, o.message) for name, o in graded.items()} == {
        "a": (Status.PASS, ""), "b": (Status.FAIL, "expected [1.0], got [2.0] "
                                                   "(at [0]: expected 1.0, got 2.0)"),
        "c": (Status.TIMEOUT, "slow")}


def test_decode_raw() -> None:
    assert decode_raw(RAW_PREFIX + '{"x": 1}') == {"x": 1}
    assert decode_raw(RAW_PREFIX + "[1]") is None
    assert decode_raw(RAW_PREFIX + "{") is None
    assert decode_raw("plain message") is None


# -- building io runs ---------------------------------------------------------------------


def test_io_run_files_hold_no_case_data() -> None:
    """The compile cache keys on the files: the same program is compiled once for every
    suite and subset of cases; the expected outputs are never sent in full."""
    suite = TestSuite(kind="io", cases=[TestCase(name="a", input="in-a", expected="out-a"),
                                        TestCase(name="b", input="in-b", expected="out-b")])
    problem = Problem(id="p", language="c", tests=suite)
    task = HarnessTask(problem=problem, code="int main(){}", language="c", suite=suite)
    spec = get_harness("io", "c").build(task, ["b"])
    assert set(spec.files) == {"main.c", "assay_io_runner.py"}
    job = json.loads(spec.stdin)
    assert [case["name"] for case in job["cases"]] == ["b"]
    assert b"in-b" in spec.stdin and b"out-b" not in spec.stdin and b"in-a" not in spec.stdin


@pytest.mark.parametrize(("code", "name"), [
    ("public class Main {}", "Main.java"),
    ("import x;\npublic final class Solver {\n}\nclass Helper {}", "Solver.java"),
    ("class Helper {}", "Main.java"),
])
def test_java_entry_file_is_named_after_its_public_class(code: str, name: str) -> None:
    assert entry_file("java", code) == name
