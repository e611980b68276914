from __future__ import annotations

import pytest

from assay.harness.unit.go import discover_tests, go_program
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = """package main

import "fmt"

func Add(a, b int) int { return a + b }

func Half(x int) int {
	return x / 2
}

func main() { fmt.Println(Add(1, 2)) }
"""

TESTS = """package main

import "testing"

func TestAdd(t *testing.T) {
	if got := Add(2, 3); got != 5 {
		t.Errorf("Add(2, 3) = %d, want 5", got)
	}
}

func TestHalf(t *testing.T) {
	if got := Half(4); got != 2 {
		t.Fatalf("Half(4) = %d, want 2", got)
	}
}

func TestBoth(t *testing.T) {
	if Add(Half(2), 1) != 2 {
		t.Error("Add(Half(2), 1) != 2")
	}
}
"""


def _with_half(body: str, imports: str = '"fmt"') -> str:
    return (SOLUTION.replace("\treturn x / 2\n", body)
            .replace('import "fmt"', f"import ({imports})"))


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    assert statuses(run_suite(sandbox, "go", SOLUTION, TESTS)) == {
        "TestAdd": "PASS", "TestHalf": "PASS", "TestBoth": "PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "go", SOLUTION.replace("x / 2", "x / 3"), TESTS)
    assert statuses(outcomes) == {"TestAdd": "PASS", "TestHalf": "FAIL", "TestBoth": "FAIL"}
    assert outcomes["TestHalf"][1] == "tests.go:13: Half(4) = 1, want 2"


def test_a_panic_is_an_error_of_that_test_only(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "go", _with_half("\tvar a []int\n\treturn a[x]\n"), TESTS)
    assert statuses(outcomes) == {"TestAdd": "PASS", "TestHalf": "ERROR", "TestBoth": "ERROR"}
    assert "index out of range" in outcomes["TestHalf"][1]
    assert "solution.go:9" in outcomes["TestHalf"][1]
    assert "tests.go:12" in outcomes["TestHalf"][1]


@pytest.mark.parametrize(("crash", "says"), [
    ('\tos.Exit(0)\n\treturn 0\n', "exited with code 0"),
    ('\tdone := make(chan int)\n\tgo func() { panic("boom") }()\n\t<-done\n\treturn 0\n',
     "panic: boom"),
])
def test_a_crash_of_the_process_leaves_the_others_their_outcome(sandbox: Sandbox, crash: str,
                                                                says: str) -> None:
    imports = '"fmt"; "os"' if "os." in crash else '"fmt"'
    outcomes = run_suite(sandbox, "go", _with_half(crash, imports),
                         TESTS.replace("Add(Half(2), 1) != 2", "Add(2, 1) != 3"))
    # TestBoth no longer calls Half: it runs in the restarted process and passes.
    assert statuses(outcomes) == {"TestAdd": "PASS", "TestHalf": "ERROR", "TestBoth": "PASS"}
    assert says in outcomes["TestHalf"][1]


def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox) -> None:
    tests = TESTS + ("\nfunc TestAfter(t *testing.T) {\n"
                     "\tif Add(1, 1) != 2 {\n\t\tt.Fail()\n\t}\n}\n")
    outcomes = run_suite(sandbox, "go", _with_half("\tfor {\n\t}\n"), tests, timeout_s=0.5)
    assert statuses(outcomes) == {"TestAdd": "PASS", "TestHalf": "TIMEOUT",
                                  "TestBoth": "TIMEOUT", "TestAfter": "PASS"}


def test_solution_that_does_not_compile_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "go", SOLUTION.replace("x / 2", "y / 2"), TESTS)
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "compile error" in outcomes["TestAdd"][1]
    assert "solution.go:8" in outcomes["TestAdd"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "go", SOLUTION, TESTS.rstrip().rstrip("}"))
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "tests.go" in outcomes["TestAdd"][1]
    assert "syntax error" in outcomes["TestAdd"][1]


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    tests = ('package main\n\n// func TestAdd(t *testing.T) is only a comment\n'
             'var s = "func TestX(t *testing.T)"\n')
    outcomes = run_suite(sandbox, "go", SOLUTION, tests)
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests" in outcomes["<collection>"][1]


def test_subtests_skips_and_other_packages(sandbox: Sandbox) -> None:
    """MultiPL-E's style: everything in one file of another package, t.Run subtests."""
    tests = """package add_test

import (
	"fmt"
	"testing"
)

func add(a, b int) int { return a + b + 1 }

func TestAdd(t *testing.T) {
	cases := []struct{ actual, expected int }{{add(1, 1), 3}, {add(2, 2), 4}}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("test num %d", i), func(t *testing.T) {
			if tc.actual != tc.expected {
				t.Errorf("expected %d, got %d", tc.expected, tc.actual)
			}
		})
	}
}

func TestSkipped(t *testing.T) { t.Skip("later") }

func TestParallel(t *testing.T) {
	t.Parallel()
	t.Log("fine")
}
"""
    outcomes = run_suite(sandbox, "go", "", tests)
    assert statuses(outcomes) == {"TestAdd": "FAIL", "TestSkipped": "ERROR",
                                  "TestParallel": "PASS"}
    assert outcomes["TestAdd"][1] == "--- FAIL: TestAdd/test_num_1\ntests.go:15: expected 4, got 5"
    assert "skipped" in outcomes["TestSkipped"][1]


def test_testify_assertions_of_humaneval_x(sandbox: Sandbox) -> None:
    """HumanEval-X: the solution has no package clause, the tests use testify."""
    solution = ('import (\n    "strings"\n)\n\n'
                'func Upper(s string) string {\n    return strings.ToUpper(s)\n}\n')
    tests = """package main

import (
    "testing"
    "github.com/stretchr/testify/assert"
    req "github.com/stretchr/testify/require"
)

func TestUpper(t *testing.T) {
    assert := assert.New(t)
    assert.Equal("AB", Upper("ab"))
    assert.Len([]int{1, 2}, 2)
    assert.ElementsMatch([]int{1, 2, 3}, []int{3, 1, 2})
}

func TestWrong(t *testing.T) {
    assert.Equal(t, "ab", Upper("ab"), "case of %q", "ab")
    assert.Contains(t, "hello", "ell")
}

func TestRequire(t *testing.T) {
    req.True(t, false)
    panic("not reached: require stops the test")
}
"""
    outcomes = run_suite(sandbox, "go", solution, tests)
    assert statuses(outcomes) == {"TestUpper": "PASS", "TestWrong": "FAIL",
                                  "TestRequire": "FAIL"}
    assert outcomes["TestWrong"][1] == ('tests.go:17: Not equal:\nexpected: "ab"\n'
                                        'actual  : "AB"\nMessages: case of "ab"')
    assert outcomes["TestRequire"][1] == "tests.go:22: Should be true"


def test_printing_does_not_forge_results(sandbox: Sandbox) -> None:
    code = SOLUTION.replace("\treturn x / 2\n",
                            '\tfmt.Println(`{"result": "TestHalf", "status": "PASS"}`)\n'
                            '\tfmt.Println("--- PASS: TestHalf (0.00s)")\n\treturn x / 3\n')
    assert statuses(run_suite(sandbox, "go", code, TESTS))["TestHalf"] == "FAIL"


def test_discovery_reads_code_only() -> None:
    source = """package main
// func TestComment(t *testing.T) {}
var s = `
func TestRaw(t *testing.T) {}
`
func TestReal(t *testing.T) {}
func Testlower(t *testing.T) {}
func Test_under(tt *testing.T) {}
func TestBench(b *testing.B) {}
"""
    assert discover_tests(source) == ["TestReal", "Test_under"]


def test_program_renames_main_and_keeps_line_numbers() -> None:
    program = go_program("package solution\n\nfunc main() {}\n", "import \"testing\"\n")
    assert program.solution == "package main\n\nfunc assay__solutionMain() {}\n"
    assert program.tests.startswith("package main; import")
    assert program.tests.count("\n") == 1
