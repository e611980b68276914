"""``cargo test`` output from real runs of std-only crates made in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from assay.swe.reports import (
    Completeness,
    TestStatus,
    cross_check,
    parse_cargo_test,
)

LIB = '''
/// Adds.
///
/// ```
/// assert_eq!(calc::add(1, 2), 3);
/// ```
///
/// ```should_panic
/// panic!("doc panics");
/// ```
pub fn add(a: i32, b: i32) -> i32 { a + b }

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn adds() { assert_eq!(add(1, 2), 3); }

    #[test]
    fn fails() {
        // Captured output that looks like libtest's own lines.
        println!("test tests::adds ... FAILED");
        println!("test result: ok. 9 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out;");
        assert_eq!(add(1, 2), 4, "one plus two");
    }

    #[test]
    #[ignore]
    fn ignored() {}

    #[test]
    #[ignore = "slow"]
    fn ignored_with_reason() {}

    #[test]
    #[should_panic(expected = "boom")]
    fn panics() { panic!("boom") }

    #[test]
    fn noisy() {
        // Not captured by libtest: lands in front of a result line.
        let mut out = std::io::stdout();
        write!(out, "raw output without newline ").unwrap();
        out.flush().unwrap();
    }

    mod inner {
        #[test]
        fn deep() {}
    }
}
'''

INTEGRATION = '''
#[test]
fn it_adds() { assert_eq!(calc::add(2, 2), 4); }

#[test]
fn it_fails() { panic!("integration boom"); }

mod tests {
    // The same name as a unit test in the library: one id, two binaries.
    #[test]
    fn adds() { assert_eq!(calc::add(1, 1), 2); }
}
'''

CRASH = '''
#[test]
fn a_first() {}

#[test]
fn b_aborts() { std::process::abort(); }
'''


def _crate(root: Path, files: dict[str, str]) -> Path:
    (root / "Cargo.toml").write_text(
        '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n')
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _cargo_test(crate: Path, target: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARGO_TARGET_DIR": str(target), "CARGO_TERM_COLOR": "never",
           "RUST_BACKTRACE": "0", "CARGO_NET_OFFLINE": "true"}
    # stderr merged into stdout, as the parser wants: cargo's Running lines are on stderr.
    return subprocess.run(["cargo", "test", "--no-fail-fast", *args], cwd=crate, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cargo-target")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory,
        target: Path) -> subprocess.CompletedProcess[str]:
    crate = _crate(tmp_path_factory.mktemp("crate"),
                   {"src/lib.rs": LIB, "tests/integration.rs": INTEGRATION})
    return _cargo_test(crate, target)


def test_statuses_ids_and_units(run: subprocess.CompletedProcess[str]) -> None:
    report = parse_cargo_test(run.stdout)
    assert report.statuses() == {
        "tests::adds": TestStatus.PASSED,
        "tests::fails": TestStatus.FAILED,
        "tests::ignored": TestStatus.SKIPPED,
        "tests::ignored_with_reason": TestStatus.SKIPPED,
        "tests::panics": TestStatus.PASSED,
        "tests::noisy": TestStatus.PASSED,
        "tests::inner::deep": TestStatus.PASSED,
        "it_adds": TestStatus.PASSED,
        "it_fails": TestStatus.FAILED,
        "src/lib.rs - add (line 4)": TestStatus.PASSED,
        "src/lib.rs - add (line 8)": TestStatus.PASSED,
    }
    assert report.errors == []
    units = {result.unit for result in report.tests.values()}
    assert units == {"unittests src/lib.rs [calc]", "tests/integration.rs [integration]",
                     "Doc-tests calc"}
    assert run.returncode == 101
    assert cross_check(report, run.returncode) is None


def test_captured_output_is_a_message_not_results(run: subprocess.CompletedProcess[str]) -> None:
    report = parse_cargo_test(run.stdout)
    message = report.tests["tests::fails"].message or ""
    assert "one plus two" in message
    assert "test tests::adds ... FAILED" in message
    assert "integration boom" in (report.tests["it_fails"].message or "")
    # tests::adds is in two binaries; both passed.
    assert report.duplicates == ["tests::adds"]
    assert report.tests["tests::adds"].attempts == 2
    assert report.flaky == []
    assert report.completeness is Completeness.COMPLETE


def test_single_thread_nocapture_interleaving(tmp_path: Path, target: Path) -> None:
    crate = _crate(tmp_path, {"src/lib.rs": LIB})
    done = _cargo_test(crate, target, "--lib", "--", "--test-threads=1", "--nocapture")
    report = parse_cargo_test(done.stdout)
    assert report.tests["tests::noisy"].status is TestStatus.PASSED
    assert report.tests["tests::fails"].status is TestStatus.FAILED
    assert report.tests["tests::adds"].status is TestStatus.PASSED
    assert report.completeness is Completeness.COMPLETE, report.errors


def test_crashing_binary_is_a_unit_failure(tmp_path: Path, target: Path) -> None:
    crate = _crate(tmp_path, {"src/lib.rs": "pub fn f() {}\n", "tests/crash.rs": CRASH})
    done = _cargo_test(crate, target, "--test", "crash", "--", "--test-threads=1")
    report = parse_cargo_test(done.stdout)
    assert report.tests["a_first"].status is TestStatus.PASSED
    assert report.tests["b_aborts"].status is TestStatus.ERROR
    assert "SIGABRT" in report.unit_failures["tests/crash.rs [crash]"]
    assert report.completeness is Completeness.PARTIAL
    assert cross_check(report, done.returncode) is None
    assert cross_check(report, 0) is not None


def test_compile_error_did_not_run(tmp_path: Path, target: Path) -> None:
    crate = _crate(tmp_path, {"src/lib.rs": "pub fn add(a: i32, b: i32) -> i32 { a + b }\n",
                              "tests/uses_sub.rs": "#[test]\nfn s() { calc::sub(1, 1); }\n"})
    done = _cargo_test(crate, target)
    report = parse_cargo_test(done.stdout)
    assert done.returncode != 0
    assert report.completeness is Completeness.NOT_RUN
    [(unit, reason)] = report.unit_failures.items()
    assert unit == 'build `calc` (test "uses_sub")'
    assert "cannot find function `sub`" in reason
    assert cross_check(report, done.returncode) is None


def test_quiet_output_is_not_trusted(tmp_path: Path, target: Path) -> None:
    crate = _crate(tmp_path, {"src/lib.rs": LIB})
    done = _cargo_test(crate, target, "-q", "--lib")
    report = parse_cargo_test(done.stdout)
    assert report.completeness is Completeness.PARTIAL
    assert any("terse" in e or "summary says" in e for e in report.errors)
