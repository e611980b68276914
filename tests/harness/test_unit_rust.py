from __future__ import annotations

import pytest

from assay.harness.unit.rust import rust_program, scan_rust
from assay.sandbox import Sandbox

from .helpers import run_suite, statuses

SOLUTION = """use std::collections::HashMap;

fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn half(x: i64) -> i64 {
    x / 2
}

fn main() {
    println!("{}", add(1, 2));
}
"""

TESTS = """#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_adds() {
        assert_eq!(add(2, 3), 5);
    }

    #[test]
    fn it_halves() {
        assert_eq!(half(4), 2, "half of {}", 4);
    }

    #[test]
    fn both() {
        assert!(add(half(2), 1) == 2);
    }

    #[test]
    fn after() {
        assert_eq!(add(1, 1), 2);
    }
}
"""


def _with_half(body: str) -> str:
    return SOLUTION.replace("    x / 2\n", body)


def test_correct_solution_passes_every_test(sandbox: Sandbox) -> None:
    # Inner attributes and doc comments, which the included files cannot keep as they are.
    solution = "//! Adds and halves.\n#![allow(clippy::all)]\n" + SOLUTION
    tests = "//! The tests.\n#![cfg(test)]\n#![allow(unused_imports)]\n" + TESTS
    assert statuses(run_suite(sandbox, "rust", solution, tests)) == {
        "tests::it_adds": "PASS", "tests::it_halves": "PASS", "tests::both": "PASS",
        "tests::after": "PASS"}


def test_partly_wrong_solution_fails_only_the_right_tests(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "rust", SOLUTION.replace("x / 2", "x / 3"), TESTS)
    assert statuses(outcomes) == {"tests::it_adds": "PASS", "tests::it_halves": "FAIL",
                                  "tests::both": "FAIL", "tests::after": "PASS"}
    assert outcomes["tests::it_halves"][1] == (
        "tests.rs:12:9: assertion `left == right` failed: half of 4\n  left: 1\n right: 2")
    assert outcomes["tests::both"][1] == "tests.rs:17:9: assertion failed: add(half(2), 1) == 2"


def test_a_panic_in_the_solution_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "rust", _with_half("    let v: Vec<i64> = vec![];\n"
                                                     "    v[x as usize]\n"), TESTS)
    assert statuses(outcomes) == {"tests::it_adds": "PASS", "tests::it_halves": "ERROR",
                                  "tests::both": "ERROR", "tests::after": "PASS"}
    message = outcomes["tests::it_halves"][1]
    assert message.startswith("panicked at solution.rs:9:")
    assert message.endswith("index out of bounds: the len is 0 but the index is 4")


@pytest.mark.parametrize(("crash", "says"), [
    ("    std::process::abort()\n", "signal 6"),
    ("    std::process::exit(0)\n", "exited with code 0"),
    # Recursion the optimiser cannot turn into a loop: the stack overflows.
    ("    let a = std::hint::black_box([x; 64]);\n"
     "    a[3] + half(std::hint::black_box(x + 1)) + a[5]\n", "overflowed its stack"),
])
def test_a_crash_of_the_process_leaves_the_others_their_outcome(sandbox: Sandbox, crash: str,
                                                                says: str) -> None:
    outcomes = run_suite(sandbox, "rust", _with_half(crash), TESTS)
    assert statuses(outcomes) == {"tests::it_adds": "PASS", "tests::it_halves": "ERROR",
                                  "tests::both": "ERROR", "tests::after": "PASS"}
    assert says in outcomes["tests::it_halves"][1]


def test_a_hang_is_a_timeout_of_that_test_only(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "rust", _with_half("    loop {}\n"), TESTS, timeout_s=0.5)
    assert statuses(outcomes) == {"tests::it_adds": "PASS", "tests::it_halves": "TIMEOUT",
                                  "tests::both": "TIMEOUT", "tests::after": "PASS"}
    assert "time limit" in outcomes["tests::it_halves"][1]


def test_solution_that_does_not_compile_errors_every_test(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "rust", SOLUTION.replace("x / 2", "y / 2"), TESTS)
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "compile error" in outcomes["tests::it_adds"][1]
    assert "solution.rs:8" in outcomes["tests::it_adds"][1]


def test_test_file_that_does_not_parse_is_an_error(sandbox: Sandbox) -> None:
    outcomes = run_suite(sandbox, "rust", SOLUTION, TESTS.rstrip().rstrip("}"))
    assert set(statuses(outcomes).values()) == {"ERROR"}
    assert "unclosed delimiter" in outcomes["tests::it_adds"][1]


def test_no_tests_collected_is_an_error(sandbox: Sandbox) -> None:
    tests = ('// #[test] fn commented_out() {}\nconst S: &str = "#[test] fn in_a_string() {}";\n'
             "fn helper() {}\n")
    outcomes = run_suite(sandbox, "rust", SOLUTION, tests)
    assert statuses(outcomes) == {"<collection>": "ERROR"}
    assert "no tests" in outcomes["<collection>"][1]


def test_test_attributes_and_styles(sandbox: Sandbox) -> None:
    tests = """use std::collections::HashMap; // the solution imports it too

#[test]
fn top_level() {
    let _m: HashMap<i64, i64> = HashMap::new();
    assert_eq!(add(1, 1), 2);
}

#[test]
#[should_panic(expected = "divide by zero")]
fn panics_as_expected() {
    half(1 / (add(1, -1)));
}

#[should_panic]
#[test]
fn does_not_panic() {}

#[test]
fn returns_err() -> Result<(), String> {
    Err(format!("got {}", add(1, 1)))
}

#[test]
fn thread_panics() {
    std::thread::spawn(|| panic!("in a thread")).join().unwrap();
}

mod outer {
    mod inner {
        use crate::*;

        #[test]
        #[ignore]
        fn deep() {
            assert_eq!(half(8), 4);
        }
    }
}
"""
    outcomes = run_suite(sandbox, "rust", SOLUTION, tests)
    assert statuses(outcomes) == {
        "top_level": "PASS", "panics_as_expected": "PASS", "does_not_panic": "FAIL",
        "returns_err": "FAIL", "thread_panics": "FAIL", "outer::inner::deep": "PASS"}
    assert outcomes["returns_err"][1] == 'the test returned Err("got 2")'
    assert outcomes["thread_panics"][1].startswith("tests.rs:26:")
    assert outcomes["thread_panics"][1].endswith("(first panic: tests.rs:26:27: in a thread)")


def test_a_test_program_asserting_in_main_is_one_test(sandbox: Sandbox) -> None:
    """MultiPL-E's style: the test file is a `fn main` full of asserts."""
    tests = ("\nfn main() {\n    let candidate = half;\n    assert_eq!(candidate(4), 2);\n"
             "    assert_eq!(candidate(9), 5);\n}\n")
    outcomes = run_suite(sandbox, "rust", SOLUTION, tests)
    assert statuses(outcomes) == {"main": "FAIL"}
    assert outcomes["main"][1].startswith("tests.rs:5:5: assertion `left == right` failed")


def test_printing_does_not_forge_results(sandbox: Sandbox) -> None:
    code = SOLUTION.replace(
        "    x / 2\n",
        '    println!("{}", r#"{"result": "tests::it_halves", "status": "PASS"}"#);\n    x / 3\n')
    assert statuses(run_suite(sandbox, "rust", code, TESTS))["tests::it_halves"] == "FAIL"


def test_scan_reads_code_only() -> None:
    source = r"""
// #[test] fn in_comment() {}
/* nested /* #[test] fn in_block() {} */ still a comment */
const RAW: &str = r#"#[test] fn in_raw() {}"#;
fn lifetime<'a>(s: &'a str) -> char { '"' }
#[test]
fn real() {}
#[test] pub fn public() {}
fn main() {}
"""
    scan = scan_rust(source)
    assert [(t.name, t.public) for t in scan.tests] == [("real", False), ("public", True)]
    assert scan.main_fn == source.index("main()")


def test_program_keeps_line_numbers() -> None:
    solution = "#![allow(dead_code)]\nfn main() {}\n"
    tests = "#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() {}\n}\n"
    program = rust_program(solution, tests)
    assert program.solution.count("\n") == 2
    assert "fn __assay_solution_main() {}" in program.solution
    assert "#![allow(dead_code)]" in program.main
    assert [line.rstrip() for line in program.tests.splitlines()] == [
        "#[cfg(all())]", "pub(crate) mod tests {", "", "    pub(crate) fn one() {}", "}"]
    assert program.test_names == ["tests::one"]
