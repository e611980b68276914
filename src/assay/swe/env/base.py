"""What an ecosystem must say to set up a repository's environment and run its tests.

Two stages, both in the sandbox:

* **setup** (network on): a copy of the repository's tree at the state being tested is
  writable at ``/src``; the script installs the dependencies into ``/env``, a directory of
  its own in the environment cache (the only writable place besides ``/tmp``).
* **test** (network off): a fresh copy of the tree is writable at ``/repo``, the environment
  is read-only at ``/env``, and the runner writes its report into ``/report``, a fresh
  directory outside the tree. Nothing of a run outlives it except what is read back from
  ``/report`` and the output.

An ecosystem is a small class: which files define its environment (their hash names the
environment), the two scripts, how to prepare a checkout before a test run (a link to the
installed ``node_modules``, a copy of a warm build cache) and how to read the report.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from assay.swe.patches import behind_symlink
from assay.swe.reports import TestReport

SRC = "/src"
ENV = "/env"
REPO = "/repo"
REPORT = "/report"
SCRATCH = "/scratch"  # writable per-run dir outside the tree (copied build caches)


@dataclass(frozen=True)
class TestCommand:
    """How to run a checkout's tests.

    Attributes:
        script: Bash run in ``/repo`` with no network; its exit code is the runner's.
        env: Environment variables of the run.
        files: Extra files put in the sandbox's work dir (``/work``), such as a reporter.
        ok_codes: Exit codes that mean every test passed.
        tests: Test ids the command was narrowed to (empty: the whole suite).
    """

    __test__ = False

    script: str
    env: dict[str, str]
    files: dict[str, str | bytes]
    ok_codes: tuple[int, ...] = (0,)
    tests: tuple[str, ...] = ()


class Ecosystem(ABC):
    """One ecosystem's way of installing dependencies and running tests."""

    name: ClassVar[str]
    # Languages whose toolchains both stages need (see RunSpec.toolchains).
    toolchains: ClassVar[tuple[str, ...]]
    # Globs (relative to the tree's root) of the files that define the environment.
    definition_globs: ClassVar[tuple[str, ...]]

    @abstractmethod
    def detect(self, tree: Path) -> bool:
        """Whether the tree looks like a project of this ecosystem."""

    def definition_files(self, tree: Path) -> list[str]:
        """The files (relative, sorted) whose content names the environment."""
        found = {str(p.relative_to(tree)) for pattern in self.definition_globs
                 for p in tree.glob(pattern) if p.is_file() and not p.is_symlink()}
        # A glob walks into a linked directory (requirements -> /etc): never the tree's file.
        return sorted(f for f in found if not behind_symlink(tree, f))

    @abstractmethod
    def setup_script(self, tree: Path) -> str:
        """Bash that installs the dependencies of the tree at ``/src`` into ``/env``."""

    @abstractmethod
    def test_command(self, tree: Path) -> TestCommand:
        """How to run the tests of the checkout (``tree`` is its host path)."""

    def prepare_checkout(self, env_dir: Path, checkout: Path, scratch: Path) -> None:
        """Ready a checkout for a test run (host side, before the sandbox starts): link the
        installed dependencies into it, copy a build cache into ``scratch``."""

    @abstractmethod
    def read_report(self, report_dir: Path, output: str, checkout: Path) -> TestReport:
        """The run's report. ``output`` is its stdout and stderr together; ``checkout`` is the
        host path of the tree (to resolve the runner's file paths)."""


def quote(words: Sequence[str]) -> str:
    """A shell command line of ``words``."""
    return " ".join(shlex.quote(w) for w in words)


SCRIPT_HEAD = "set -uo pipefail\n"


def copy_tree(source: Path, target: Path) -> None:
    """Copy a directory that a sandboxed run wrote (it may hold anything): symlinks are
    copied as links, never followed, and what is neither a file, a directory nor a link
    (a FIFO would block the copy) is left out. Nothing is copied if ``source`` is not a
    plain directory."""
    if source.is_symlink() or not source.is_dir():
        return
    shutil.copytree(source, target, symlinks=True, ignore=_special_files)


def _special_files(directory: str, names: list[str]) -> set[str]:
    skipped = set()
    for name in names:
        mode = os.lstat(os.path.join(directory, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)
    return skipped

