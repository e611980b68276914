"""The Go ecosystem for real: a module with one dependency from the Go proxy, set up in the
bwrap sandbox with network, its tests run without."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assay.sandbox import Sandbox
from assay.swe.env.base import copy_tree
from assay.swe.env.cache import Environment, Environments
from assay.swe.env.go import Go
from assay.swe.reports import TestStatus
from assay.swe.runs import TestRun, run_tests

pytestmark = pytest.mark.slow

GO_MOD = """module example.com/calc

go 1.21

require github.com/google/go-cmp v0.6.0
"""
GO_SUM = """github.com/google/go-cmp v0.6.0 h1:ofyhxvXcZhMsU5ulbFiLKl/XBFqE1GSq7atu8tAmTRI=
github.com/google/go-cmp v0.6.0/go.mod h1:17dUlkBOakJ0+DkrSSNjCkIjxS6bF9zb3elmeNGIjoY=
"""
CALC = "package calc\n\nfunc Add(a, b int) int { return a + b }\n"
CALC_TEST = """package calc

import (
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAdd(t *testing.T) {
	if d := cmp.Diff(3, Add(1, 2)); d != "" {
		t.Fatal(d)
	}
}

func TestWrong(t *testing.T) {
	if d := cmp.Diff(5, Add(1, 2)); d != "" {
		t.Fatal(d)
	}
}

// The setup stage reached the proxy; the test stage must not.
func TestDial(t *testing.T) {
	c, err := net.DialTimeout("tcp", "proxy.golang.org:443", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
"""
PACKAGE = "example.com/calc"


def write(tree: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    return tree


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("go-project"), {
        "go.mod": GO_MOD, "go.sum": GO_SUM, "calc.go": CALC, "calc_test.go": CALC_TEST})


@pytest.fixture(scope="module")
def environments(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Environments:
    return Environments(sandbox, root=tmp_path_factory.mktemp("go") / "envs")


@pytest.fixture(scope="module")
def environment(environments: Environments, project: Path) -> Environment:
    return environments.ensure(Go(), project)


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, environment: Environment, project: Path) -> TestRun:
    assert environment.ready, environment.log
    return run_tests(sandbox, Go(), environment, project)


def test_detects_a_module_at_the_root(project: Path, tmp_path: Path) -> None:
    assert Go().detect(project)
    assert not Go().detect(write(tmp_path, {"sub/go.mod": GO_MOD}))
    assert Go().definition_files(project) == ["go.mod", "go.sum"]


def test_setup_is_ready_then_reused(environments: Environments, environment: Environment,
                                    project: Path) -> None:
    assert environment.ready and not environment.reused, environment.log
    assert (environment.path / "gocache").is_dir()
    again = environments.ensure(Go(), project)
    assert again.ready and again.reused and again.seconds == 0.0
    assert again.path == environment.path


def test_run_reports_each_test(run: TestRun) -> None:
    statuses = {test_id: r.status for test_id, r in run.report.tests.items()}
    assert statuses == {f"{PACKAGE}/TestAdd": TestStatus.PASSED,
                        f"{PACKAGE}/TestWrong": TestStatus.FAILED,
                        f"{PACKAGE}/TestDial": TestStatus.FAILED}
    assert run.exit_code == 1  # go test: a test failed
    assert run.disagreement is None
    assert not run.report.unit_failures
    assert "go.json" in run.raw_report


def test_run_has_no_network(run: TestRun) -> None:
    message = run.report.tests[f"{PACKAGE}/TestDial"].message or ""
    assert "dial tcp" in message


def test_a_passing_suite_exits_zero(sandbox: Sandbox, environment: Environment,
                                    tmp_path: Path) -> None:
    # Another state of the same module (same go.mod: same environment): only TestAdd.
    passing = CALC_TEST.split("func TestWrong")[0].replace('\t"net"\n', "").replace(
        '\t"time"\n', "")
    tree = write(tmp_path, {"go.mod": GO_MOD, "go.sum": GO_SUM, "calc.go": CALC,
                            "calc_test.go": passing})
    run = run_tests(sandbox, Go(), environment, tree)
    assert {i: r.status for i, r in run.report.tests.items()} == {
        f"{PACKAGE}/TestAdd": TestStatus.PASSED}
    assert run.exit_code == 0 and run.disagreement is None


def test_a_missing_dependency_fails_setup(environments: Environments, tmp_path: Path) -> None:
    tree = write(tmp_path, {
        "go.mod": "module example.com/bad\n\ngo 1.21\n\n"
                  "require github.com/assay-nonexistent/nope v1.2.3\n",
        "bad.go": "package bad\n"})
    environment = environments.ensure(Go(), tree)
    assert not environment.ready and not environment.reused
    assert "github.com/assay-nonexistent/nope" in environment.log
    assert not environment.path.exists()


def test_copy_tree_never_follows_links(tmp_path: Path) -> None:
    source = tmp_path / "env" / "gocache"
    source.mkdir(parents=True)
    (source / "entry").write_text("x")
    (source / "link").symlink_to("/etc/passwd")
    os.mkfifo(source / "fifo")  # would block a copy that opened it
    copy_tree(source, tmp_path / "copy")
    assert (tmp_path / "copy" / "entry").read_text() == "x"
    assert os.readlink(tmp_path / "copy" / "link") == "/etc/passwd"
    assert not os.path.lexists(tmp_path / "copy" / "fifo")
    # A cache that is itself a link (to anywhere on the host) is not copied at all.
    (tmp_path / "env2").mkdir()
    (tmp_path / "env2" / "gocache").symlink_to(source)
    copy_tree(tmp_path / "env2" / "gocache", tmp_path / "copy2")
    assert not os.path.lexists(tmp_path / "copy2")
