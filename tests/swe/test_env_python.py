"""The Python ecosystem on real projects: a venv from PyPI in the setup stage, pytest with no
network in the test stage, and what a test run may not do to the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.sandbox import Sandbox
from assay.swe.env import Environment, Environments
from assay.swe.env.python import Python
from assay.swe.reports import Completeness, TestStatus
from assay.swe.runs import run_tests

PYPROJECT = '[project]\nname = "calc"\nversion = "0.1.0"\ndependencies = ["{dep}"]\n'
SOURCE = "def add(a, b):\n    return a - b\n"
TESTS = """import socket

import six

from calc import add


def test_add():
    assert add(2, 3) == 5


def test_dependency():
    assert six.PY3


def test_no_network():
    try:
        socket.create_connection(("pypi.org", 443), timeout=3)
    except OSError:
        return
    raise AssertionError("the test stage reached the network")
"""


def project(root: Path, dep: str = "six", tests: str = TESTS) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(dep=dep))
    (root / "calc.py").write_text(SOURCE)
    (root / "tests" / "test_calc.py").write_text(tests)
    return root


@pytest.fixture(scope="module")
def ready(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Environments, Environment, Path]:
    root = tmp_path_factory.mktemp("py-env")
    tree = project(root / "tree")
    environments = Environments(sandbox, root / "envs")
    return environments, environments.ensure(Python(), tree), tree


def test_setup_installs_the_dependencies_but_not_the_project(
        ready: tuple[Environments, Environment, Path]) -> None:
    environments, environment, tree = ready
    assert environment.ready, environment.log
    assert environment.definition_files == ("pyproject.toml",)
    frozen = (environment.path / "freeze.txt").read_text().lower()
    assert "six==" in frozen and "pytest==" in frozen
    assert "calc" not in frozen
    again = environments.ensure(Python(), tree)
    assert again.reused and again.path == environment.path


def test_tests_run_on_the_checkout_without_network(
        sandbox: Sandbox, ready: tuple[Environments, Environment, Path]) -> None:
    _, environment, tree = ready
    run = run_tests(sandbox, Python(), environment, tree)
    assert run.report.statuses() == {"tests/test_calc.py::test_add": TestStatus.FAILED,
                                     "tests/test_calc.py::test_dependency": TestStatus.PASSED,
                                     "tests/test_calc.py::test_no_network": TestStatus.PASSED}
    assert run.exit_code == 1 and run.disagreement is None
    assert "junit.xml" in run.raw_report


def test_a_changed_dependency_file_is_a_new_environment(
        sandbox: Sandbox, ready: tuple[Environments, Environment, Path], tmp_path: Path
        ) -> None:
    environments, environment, _ = ready
    other = project(tmp_path / "tree", dep="six>=1.0")
    assert environments.ensure(Python(), other).key != environment.key


def test_a_failed_setup_is_reported_with_its_log(
        ready: tuple[Environments, Environment, Path], tmp_path: Path) -> None:
    environments, _, _ = ready
    broken = project(tmp_path / "tree", dep="assay-no-such-package-4f1c")
    environment = environments.ensure(Python(), broken)
    assert not environment.ready
    assert "assay-no-such-package-4f1c" in environment.log
    assert not environment.path.exists()  # a failure is not kept


LINK_REPORT = """import atexit, os


def _swap():
    os.remove("/report/junit.xml")
    os.symlink("/etc/hostname", "/report/junit.xml")


def test_swap():
    atexit.register(_swap)
"""


def test_a_report_replaced_by_a_symlink_is_not_followed(
        sandbox: Sandbox, ready: tuple[Environments, Environment, Path], tmp_path: Path
        ) -> None:
    # The host reads reports as root: a link to a host file must not be read.
    _, environment, _ = ready
    tree = project(tmp_path / "tree", tests=LINK_REPORT)
    run = run_tests(sandbox, Python(), environment, tree)
    assert run.report.completeness is Completeness.NOT_RUN
    assert run.raw_report == {}
    assert run.disagreement is not None  # pytest exited 0 yet left no report


def test_a_run_does_not_change_the_tree_it_was_given(
        sandbox: Sandbox, ready: tuple[Environments, Environment, Path], tmp_path: Path
        ) -> None:
    _, environment, _ = ready
    writes = "def test_write():\n    open('calc.py', 'w').write('oops')\n"
    tree = project(tmp_path / "tree", tests=writes)
    run = run_tests(sandbox, Python(), environment, tree)
    assert run.report.statuses() == {"tests/test_calc.py::test_write": TestStatus.PASSED}
    assert (tree / "calc.py").read_text() == SOURCE
