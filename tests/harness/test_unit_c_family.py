from __future__ import annotations

import pytest

from assay.harness.unit.c_family import plan_tests
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

LANGUAGES = ["c", "cpp"]

SOLUTION = """#include <stdlib.h>
int add(int a, int b) { return a + b; }
int half(int x) { return x / 2; }
int main(void) { return 7; }
"""
CRASH = "{ volatile int *p = 0; return *p + x; }"
HANG = "{ volatile int spin = 1; while (spin) {} return x; }"
ABORT = "{ abort(); }"

# Test functions: each one a test.
FUNCTIONS = """#include <assert.h>
/* void test_commented_out(void) {} */
void test_add(VOID) { assert(add(2, 3) == 5); }
void test_half(VOID) { assert(half(4) == 2); }
void test_both(VOID) { assert(add(1, 1) == 2); }
"""
# HumanEval-X: a main full of asserts, each line a test.
MAIN = """#undef NDEBUG
#include <assert.h>
int main() {
    assert(add(2, 3) == 5);
    assert(half(4) == 2);
    assert(add(1, 1) == 2);
}
"""
ALL_PASS_MAIN = {"assert:4": "PASS", "assert:5": "PASS", "assert:6": "PASS"}


def functions(language: str) -> str:
    return FUNCTIONS.replace("VOID", "void" if language == "c" else "")


def with_half(body: str) -> str:
    return SOLUTION.replace("{ return x / 2; }", body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_correct_solution_passes_every_test(sandbox: Sandbox, language: str) -> None:
    assert statuses(run_suite(sandbox, language, SOLUTION, functions(language))) == {
        "test_add": "PASS", "test_half": "PASS", "test_both": "PASS"}
    assert statuses(run_suite(sandbox, language, SOLUTION, MAIN)) == ALL_PASS_MAIN


@pytest.mark.parametrize("language", LANGUAGES)
def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox,
                                                          language: str) -> None:
    wrong = with_half("{ return x / 3; }")
    outcomes = run_suite(sandbox, language, wrong, functions(language))
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "FAIL", "test_both": "PASS"}
    ext = "cpp" if language == "cpp" else "c"
    assert outcomes["test_half"][1] == \
        f"tests.{ext}:4: test_half: Assertion `half(4) == 2' failed."
    outcomes = run_suite(sandbox, language, wrong, MAIN)
    assert statuses(outcomes) == {"assert:4": "PASS", "assert:5": "FAIL", "assert:6": "PASS"}
    assert outcomes["assert:5"][1] == f"tests.{ext}:5: main: Assertion `half(4) == 2' failed."


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_crash_in_one_test_leaves_the_others_their_outcome(sandbox: Sandbox,
                                                             language: str) -> None:
    outcomes = run_suite(sandbox, language, with_half(CRASH), functions(language))
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "ERROR", "test_both": "PASS"}
    assert "SIGSEGV" in outcomes["test_half"][1]
    outcomes = run_suite(sandbox, language, with_half(ABORT), MAIN)
    assert statuses(outcomes) == {"assert:4": "PASS", "assert:5": "ERROR", "assert:6": "PASS"}
    assert "SIGABRT" in outcomes["assert:5"][1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox, language: str) -> None:
    outcomes = run_suite(sandbox, language, with_half(HANG), functions(language), timeout_s=0.3)
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "TIMEOUT",
                                  "test_both": "PASS"}
    outcomes = run_suite(sandbox, language, with_half(HANG), MAIN, timeout_s=0.3)
    assert statuses(outcomes) == {"assert:4": "PASS", "assert:5": "TIMEOUT", "assert:6": "PASS"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_solution_that_does_not_compile_errors_every_test(sandbox: Sandbox,
                                                          language: str) -> None:
    broken = SOLUTION.replace("return a + b;", "return a + ;")
    outcomes = run_suite(sandbox, language, broken, MAIN)
    assert statuses(outcomes) == {name: "ERROR" for name in ALL_PASS_MAIN}
    assert "compile error" in outcomes["assert:4"][1]
    assert "solution." in outcomes["assert:4"][1]  # gcc names the solution's file


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_tests_collected_is_an_error(sandbox: Sandbox, language: str) -> None:
    outcomes = run_suite(sandbox, language, SOLUTION, "// test_add(void) { }\nint x = 1;\n")
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests found" in outcomes["<collection>"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "c", SOLUTION, "void test_a(void) { /* never closed\n")
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "does not parse: unterminated comment at line 1" in outcomes["<collection>"][1]


def test_asserts_after_a_crash_outside_any_assert_are_not_reached(sandbox: Sandbox) -> None:
    tests = ("#include <assert.h>\nint main(void) {\n    assert(add(1, 2) == 3);\n"
             "    half(1);\n    assert(add(2, 2) == 4);\n}\n")
    outcomes = run_suite(sandbox, "c", with_half(CRASH), tests)
    assert statuses(outcomes) == {"assert:3": "PASS", "assert:5": "ERROR"}
    assert outcomes["assert:5"][1].startswith("not reached: the program crashed")


def test_exit_in_a_test_is_an_error(sandbox: Sandbox) -> None:
    tests = ("#include <assert.h>\nvoid test_exit(void) { exit(3); }\n"
             "void test_ok(void) { assert(add(1, 2) == 3); }\n")
    outcomes = run_suite(sandbox, "c", SOLUTION, tests)
    assert statuses(outcomes) == {"test_exit": "ERROR", "test_ok": "PASS"}
    assert outcomes["test_exit"][1] == "the test called exit(3)"


def test_an_assert_in_a_loop_is_one_test(sandbox: Sandbox) -> None:
    tests = ("#include <assert.h>\nint main(void) {\n    for (int i = 0; i < 5; i++)\n"
             "        assert(half(2 * i) == i || i == 3);\n"
             "    for (int i = 0; i < 5; i++)\n        assert(add(i, 0) != 2);\n"
             "    return 0;\n}\n")
    outcomes = run_suite(sandbox, "c", SOLUTION, tests)
    assert statuses(outcomes) == {"assert:4": "PASS", "assert:6": "FAIL"}
    assert outcomes["assert:6"][1].endswith("(failed 1 of 5 times)")


def test_cpp_uncaught_exceptions_are_errors(sandbox: Sandbox) -> None:
    code = "#include <stdexcept>\n" + with_half(
        '{ if (x == 4) throw std::out_of_range("too big"); return x / 2; }')
    outcomes = run_suite(sandbox, "cpp", code, functions("cpp"))
    assert statuses(outcomes) == {"test_add": "PASS", "test_half": "ERROR", "test_both": "PASS"}
    assert outcomes["test_half"][1] == "uncaught exception std::out_of_range: too big"
    outcomes = run_suite(sandbox, "cpp", code, MAIN)
    assert statuses(outcomes) == {"assert:4": "PASS", "assert:5": "ERROR", "assert:6": "PASS"}
    assert "std::out_of_range: too big" in outcomes["assert:5"][1]


def test_humaneval_x_cpp_suite(sandbox: Sandbox) -> None:
    """The shape of HumanEval-X: the declarations come with the solution, the tests use
    <bits/stdc++.h>-style includes, templates with commas and a wrapping macro."""
    code = ("#include<stdio.h>\n#include<vector>\n#include<math.h>\nusing namespace std;\n"
            "bool has_close_elements(vector<float> numbers, float threshold){\n"
            "    for (size_t i=0;i<numbers.size();i++)\n"
            "    for (size_t j=i+1;j<numbers.size();j++)\n"
            "    if (fabs(numbers[i]-numbers[j])<threshold) return true;\n"
            "    return false;\n}\n")
    tests = ("#undef NDEBUG\n#include<assert.h>\n#include <bits/stdc++.h>\n"
             "#define CHECK(x) assert(x)\n"
             "int main(int argc, char* argv[]){\n"
             "    vector<float> a={1.0,2.0,3.9,4.0,5.0,2.2};\n"
             "    assert (has_close_elements(a, 0.3)==true);\n"
             "    CHECK(has_close_elements(a, 0.05) == true);\n"
             "    assert(std::pair<int, int>(1, 2) == std::make_pair(1, 2));\n"
             "    assert(has_close_elements({1.0, 2.0},\n        0.5) == false);\n}\n")
    outcomes = run_suite(sandbox, "cpp", code, tests)
    assert statuses(outcomes) == {"assert:7": "PASS", "assert:8": "FAIL", "assert:9": "PASS",
                                  "assert:10": "PASS"}
    assert "Assertion `has_close_elements(a, 0.05) == true' failed." in outcomes["assert:8"][1]


def test_a_main_without_asserts_is_one_test(sandbox: Sandbox) -> None:
    tests = "int main(void) { return add(2, 2) == 4 ? 0 : 1; }\n"
    assert statuses(run_suite(sandbox, "c", SOLUTION, tests)) == {"main": "PASS"}
    outcomes = run_suite(sandbox, "c", with_half("{ return 0; }"),
                         "int main(void) { return half(4) == 2 ? 0 : 1; }\n")
    assert outcomes == {"main": ("FAIL", "main returned 1")}


def test_the_scan_ignores_comments_strings_and_digit_separators() -> None:
    plan = plan_tests('#include <assert.h>\nint main() {\n  int n = 1\'000; char q = \'"\';\n'
                      '  const char *s = "assert(0); // */";\n  /* assert(0); */\n'
                      '  assert(n == 1000 && q == \'"\');\n  auto r = R"x(assert(0))x";\n}\n')
    assert plan.fatal is None
    assert plan.names == ["assert:6"]
    assert "assay_tests_main() {" in plan.source
    assert "return 0; }" in plan.source


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_restart_runs_only_the_named_tests(sandbox: Sandbox, language: str) -> None:
    from assay.data import Problem, TestSuite
    from assay.harness import HarnessTask, get_harness
    from assay.harness.protocol import parse_report

    for tests, only in ((MAIN, ["assert:5"]), (functions(language), ["test_both"])):
        problem = Problem(id="p", language=language, tests=TestSuite(kind="unit", code=tests))
        task = HarnessTask(problem=problem, code=SOLUTION, language=language,
                           suite=problem.tests)
        report = parse_report(sandbox.run(get_harness("unit", language).build(task, only)).report)
        assert report.done
        assert {name: o.status.value for name, o in report.results.items()} == {only[0]: "PASS"}
