"""The Rust ecosystem for real: a crate with one crates.io dependency, set up in the bwrap
sandbox with network, its tests run without."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assay.sandbox import Sandbox
from assay.swe.env.cache import Environment, Environments
from assay.swe.env.rust import Rust
from assay.swe.reports import TestStatus
from assay.swe.runs import TestRun, run_tests

pytestmark = pytest.mark.slow

CARGO_TOML = """[package]
name = "calc"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"
"""
LIB = """pub fn show(n: u32) -> String {
    itoa::Buffer::new().format(n).to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows() {
        assert_eq!(super::show(42), "42");
    }

    #[test]
    fn wrong() {
        assert_eq!(super::show(42), "43");
    }

    // The setup stage reached crates.io; the test stage must not.
    #[test]
    fn dials() {
        std::net::TcpStream::connect("index.crates.io:443").unwrap();
    }
}
"""


def write(tree: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    return tree


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # No Cargo.lock: the setup resolves one.
    return write(tmp_path_factory.mktemp("rust-project"),
                 {"Cargo.toml": CARGO_TOML, "src/lib.rs": LIB})


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same crate with ``wrong`` fixed, written before the setup runs (as the pipeline
    writes the trees before and after a fix, then sets up the environment)."""
    return write(tmp_path_factory.mktemp("rust-fixed"), {
        "Cargo.toml": CARGO_TOML, "src/lib.rs": LIB.replace('"43"', '"42"')})


@pytest.fixture(scope="module")
def environments(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Environments:
    return Environments(sandbox, root=tmp_path_factory.mktemp("rust") / "envs")


@pytest.fixture(scope="module")
def environment(environments: Environments, fixed: Path, project: Path) -> Environment:
    # Both trees are written before the setup, which builds from the fixed one.
    return environments.ensure(Rust(), fixed)


@pytest.fixture(scope="module")
def run(sandbox: Sandbox, environment: Environment, project: Path) -> TestRun:
    assert environment.ready, environment.log
    return run_tests(sandbox, Rust(), environment, project)


def test_detects_a_crate_at_the_root(project: Path, tmp_path: Path) -> None:
    assert Rust().detect(project)
    assert not Rust().detect(write(tmp_path / "a", {"sub/Cargo.toml": CARGO_TOML}))
    tree = write(tmp_path / "b", {"Cargo.toml": CARGO_TOML, "member/Cargo.toml": CARGO_TOML,
                                  "target/package/x/Cargo.toml": CARGO_TOML,
                                  ".cargo/config.toml": "", "rust-toolchain.toml": ""})
    assert Rust().definition_files(tree) == [".cargo/config.toml", "Cargo.toml",
                                             "member/Cargo.toml", "rust-toolchain.toml"]


def test_setup_is_ready_then_reused(environments: Environments, environment: Environment,
                                    project: Path) -> None:
    assert environment.ready and not environment.reused, environment.log
    assert "itoa" in environment.log
    # The dependencies are built; the crate's own artifacts are not kept.
    deps = os.listdir(environment.path / "target" / "debug" / "deps")
    assert any(name.startswith("libitoa-") for name in deps)
    assert not any("calc" in name for name in deps)
    again = environments.ensure(Rust(), project)
    assert again.ready and again.reused and again.seconds == 0.0
    assert again.path == environment.path


def test_run_reports_each_test(run: TestRun) -> None:
    statuses = {test_id: r.status for test_id, r in run.report.tests.items()}
    assert statuses == {"tests::shows": TestStatus.PASSED,
                        "tests::wrong": TestStatus.FAILED,
                        "tests::dials": TestStatus.FAILED}
    assert run.exit_code == 101  # cargo test: a test failed
    assert run.disagreement is None
    assert not run.report.unit_failures
    # The dependency came built from the environment: only the crate was compiled.
    report = run.raw_report["cargo.txt"].decode()
    assert "Compiling calc" in report and "Compiling itoa" not in report


def test_run_has_no_network(run: TestRun) -> None:
    message = run.report.tests["tests::dials"].message or ""
    assert "failed to lookup address information" in message


def test_each_state_is_built_from_its_own_sources(sandbox: Sandbox, environment: Environment,
                                                  fixed: Path) -> None:
    # `run` tested the buggy tree through an environment set up from the fixed one; the
    # fixed tree, older than that setup, must not be taken for built either.
    run = run_tests(sandbox, Rust(), environment, fixed)
    assert {i: r.status for i, r in run.report.tests.items()} == {
        "tests::shows": TestStatus.PASSED, "tests::wrong": TestStatus.PASSED,
        "tests::dials": TestStatus.FAILED}


def test_a_passing_suite_exits_zero(sandbox: Sandbox, environment: Environment,
                                    tmp_path: Path) -> None:
    tree = write(tmp_path, {"Cargo.toml": CARGO_TOML,
                            "src/lib.rs": LIB.split("    #[test]\n    fn wrong")[0] + "}\n"})
    run = run_tests(sandbox, Rust(), environment, tree)
    assert {i: r.status for i, r in run.report.tests.items()} == {
        "tests::shows": TestStatus.PASSED}
    assert run.exit_code == 0 and run.disagreement is None


def test_a_missing_dependency_fails_setup(environments: Environments, tmp_path: Path) -> None:
    tree = write(tmp_path, {"Cargo.toml": CARGO_TOML.replace(
        'itoa = "1"', 'assay-nonexistent-crate = "1"'), "src/lib.rs": ""})
    environment = environments.ensure(Rust(), tree)
    assert not environment.ready and not environment.reused
    assert "assay-nonexistent-crate" in environment.log
    assert not environment.path.exists()


def test_prepare_checkout_never_writes_through_a_link(tmp_path: Path) -> None:
    env, checkout, scratch = tmp_path / "env", tmp_path / "repo", tmp_path / "scratch"
    for directory in (env, checkout, scratch):
        directory.mkdir()
    (env / "Cargo.lock").write_text("# lock\n")
    victim = tmp_path / "victim"
    (checkout / "Cargo.lock").symlink_to(victim)  # dangling: a write would create it
    (checkout / "src").mkdir()
    (checkout / "src" / "outside").symlink_to(tmp_path / "host-file")
    (tmp_path / "host-file").write_text("")
    os.utime(tmp_path / "host-file", (0, 0))
    Rust().prepare_checkout(env, checkout, scratch)
    assert not victim.exists()
    assert (tmp_path / "host-file").stat().st_mtime == 0  # a link's target is not touched
    # Without a lock file of its own, the checkout gets the one the setup resolved.
    (checkout / "Cargo.lock").unlink()
    Rust().prepare_checkout(env, checkout, scratch)
    assert (checkout / "Cargo.lock").read_text() == "# lock\n"
