"""``go test -json`` streams from real runs of a std-only module made in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from assay.swe.reports import (
    Completeness,
    DisagreementKind,
    TestStatus,
    cross_check,
    parse_go_test_json,
    read_report_file,
)

M = "example.com/m"
FILES = {
    "go.mod": "module example.com/m\n\ngo 1.21\n",
    "calc/calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
    "calc/calc_test.go": '''package calc

import (
	"fmt"
	"testing"
)

func TestAdd(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("bad")
	}
}

func TestFail(t *testing.T) {
	// Output that looks like an event must stay output.
	fmt.Println(`{"Action":"pass","Package":"example.com/m/calc","Test":"TestFail"}`)
	t.Errorf("wanted %d", 4)
}

func TestSkip(t *testing.T) { t.Skip("later") }

func TestTable(t *testing.T) {
	cases := []struct {
		name    string
		a, want int
	}{{"one plus one", 1, 2}, {"wrong", 1, 3}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if Add(c.a, 1) != c.want {
				t.Error("mismatch")
			}
		})
	}
}

var calls int

// Fails on odd calls: with -count=2 it fails once and passes once.
func TestFlaky(t *testing.T) {
	calls++
	if calls%2 == 1 {
		t.Fatal("odd call")
	}
}
''',
    # The test calls a function the package does not have yet: it does not build.
    "broken/b.go": "package broken\n\nfunc F() int { return 1 }\n",
    "broken/b_test.go": '''package broken

import "testing"

func TestG(t *testing.T) {
	if G() != 2 {
		t.Fatal("x")
	}
}
''',
    "panics/p_test.go": '''package panics

import "testing"

func TestBefore(t *testing.T) {}

func TestPanic(t *testing.T) {
	var m map[string]int
	m["a"] = 1
}

func TestAfter(t *testing.T) {}
''',
    "mainexit/m_test.go": '''package mainexit

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	m.Run()
	os.Exit(3)
}

func TestInside(t *testing.T) {}
''',
    "notests/n.go": "package notests\n\nfunc N() {}\n",
}


def _go_test(module: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local", "GOPROXY": "off"}
    return subprocess.run(["go", "test", "-json", *args], cwd=module, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gomod")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def run(module: Path) -> subprocess.CompletedProcess[str]:
    return _go_test(module, "./...")


def test_statuses_and_ids(run: subprocess.CompletedProcess[str]) -> None:
    report = parse_go_test_json(run.stdout)
    statuses = report.statuses()
    assert {k: v for k, v in statuses.items() if k.startswith(f"{M}/calc/")} == {
        f"{M}/calc/TestAdd": TestStatus.PASSED,
        f"{M}/calc/TestFail": TestStatus.FAILED,
        f"{M}/calc/TestSkip": TestStatus.SKIPPED,
        f"{M}/calc/TestTable": TestStatus.FAILED,
        f"{M}/calc/TestTable/one_plus_one": TestStatus.PASSED,
        f"{M}/calc/TestTable/wrong": TestStatus.FAILED,
        f"{M}/calc/TestFlaky": TestStatus.FAILED,
    }
    assert report.tests[f"{M}/calc/TestAdd"].unit == f"{M}/calc"
    assert "wanted 4" in (report.tests[f"{M}/calc/TestFail"].message or "")
    assert "later" in (report.tests[f"{M}/calc/TestSkip"].message or "")
    assert run.returncode == 1
    assert cross_check(report, run.returncode) is None


def test_build_failure_means_the_package_did_not_run(
        run: subprocess.CompletedProcess[str]) -> None:
    report = parse_go_test_json(run.stdout)
    assert not any(k.startswith(f"{M}/broken/") for k in report.tests)
    assert "undefined: G" in report.unit_failures[f"{M}/broken"]
    assert report.completeness is Completeness.PARTIAL


def test_panic_and_exit_outside_tests_are_unit_failures(
        run: subprocess.CompletedProcess[str]) -> None:
    report = parse_go_test_json(run.stdout)
    assert report.tests[f"{M}/panics/TestBefore"].status is TestStatus.PASSED
    assert report.tests[f"{M}/panics/TestPanic"].status is TestStatus.FAILED
    assert f"{M}/panics/TestAfter" not in report.tests
    assert "TestPanic" in report.unit_failures[f"{M}/panics"]
    # TestMain exits 3 after a passing test: the package failed outside its tests.
    assert report.tests[f"{M}/mainexit/TestInside"].status is TestStatus.PASSED
    assert f"{M}/mainexit" in report.unit_failures
    assert f"{M}/notests" not in report.unit_failures  # [no test files] is not a failure
    assert set(report.unit_failures) == {f"{M}/broken", f"{M}/panics", f"{M}/mainexit"}


def test_repeated_runs_merge_worst_wins_and_mark_flaky(module: Path) -> None:
    done = _go_test(module, "-count=2", "-run", "TestFlaky|TestAdd", "./calc")
    report = parse_go_test_json(done.stdout)
    flaky = report.tests[f"{M}/calc/TestFlaky"]
    assert flaky.status is TestStatus.FAILED and flaky.attempts == 2
    assert report.flaky == [f"{M}/calc/TestFlaky"]
    assert set(report.duplicates) == {f"{M}/calc/TestFlaky", f"{M}/calc/TestAdd"}
    assert report.tests[f"{M}/calc/TestAdd"].status is TestStatus.PASSED


def test_passing_package_is_complete(module: Path) -> None:
    done = _go_test(module, "-run", "TestAdd|TestSkip|TestTable/one", "./calc")
    report = parse_go_test_json(done.stdout)
    assert done.returncode == 0
    assert report.completeness is Completeness.COMPLETE
    assert sorted(report.ids(TestStatus.PASSED)) == [
        f"{M}/calc/TestAdd", f"{M}/calc/TestTable", f"{M}/calc/TestTable/one_plus_one"]
    assert cross_check(report, 0) is None
    disagreement = cross_check(report, 2)
    assert disagreement is not None
    assert disagreement.kind is DisagreementKind.PASSED_BUT_EXIT_FAILED


def test_stream_cut_short(run: subprocess.CompletedProcess[str]) -> None:
    lines = run.stdout.splitlines(keepends=True)
    # Cut right after TestTable's "run": no result for it, no end for its package.
    cut = next(i for i, x in enumerate(lines) if '"run"' in x and '"TestTable"' in x)
    head = "".join(lines[: cut + 1]) + lines[cut + 1][:25]
    report = parse_go_test_json(head)
    assert report.completeness is Completeness.PARTIAL
    assert report.tests[f"{M}/calc/TestTable"].status is TestStatus.ERROR
    assert any("no final event" in e for e in report.errors)
    assert any("not a JSON event" in e for e in report.errors)


def test_no_test_files_only_did_not_run(module: Path, tmp_path: Path) -> None:
    done = _go_test(module, "./notests")
    assert done.returncode == 0
    report = parse_go_test_json(done.stdout)
    assert report.completeness is Completeness.NOT_RUN
    assert cross_check(report, 0) is not None
    (tmp_path / "empty.json").write_text("")
    assert read_report_file("go", tmp_path / "empty.json").completeness is Completeness.NOT_RUN
