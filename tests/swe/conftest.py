"""Real git repositories for the SWE tests: a builder and one history per language.

``GitRepoBuilder`` writes files and commits them with fixed dates, independent of the
user's git config. ``build_history(builder, FLAVOURS[name])`` makes a small project (Python
with pytest, Go, JavaScript with node:test, Rust with cargo) whose history holds, in order:

* ``init``: the project; ``add`` has a bug (``a - b``) and only ``mul`` is tested;
* ``fix``: ``add`` fixed and tested (a candidate);
* ``docs``: README only (no test change);
* ``tests_only``: one more ``mul`` test (tests only);
* ``feature_code`` / ``feature_tests`` on branch ``feature``: ``sub``, then its test;
  ``changelog`` on main meanwhile; ``merge``: ``--no-ff`` merge of ``feature`` (a
  candidate whose fix and tests came in separate commits);
* ``rename``: the source file moves (and gains ``rem``, with a test) (a candidate);
* ``binary``: a binary data file on each side (a candidate);
* ``dir_conflict``: the plain file ``__tests__`` becomes a directory of test data; its test
  patch does not apply to the parent without the fix patch, which deletes the file.

Every project's tests really fail before ``fix`` and pass after, so that later stages can
run them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# Bytes that are not UTF-8 and hold a NUL: git treats them as binary.
BINARY_A = bytes(range(256)) + b"\x00\xff\xfe"
BINARY_B = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)

FileContent = str | bytes | None


class GitRepoBuilder:
    """A git repository in a temporary directory, built commit by commit.

    Commits get dates one hour apart from 2024-01-01 00:00 UTC (``dates``), and git runs
    without the user's or the system's config.
    """

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.dates: dict[str, datetime] = {}
        self._clock = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def env(self) -> dict[str, str]:
        date = (EPOCH + timedelta(hours=self._clock)).isoformat()
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.path),
                "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C",
                "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
                "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
                "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}

    def git(self, *args: str, input: bytes | None = None) -> str:
        done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false",
                               *args], cwd=self.path, env=self.env(), input=input,
                              capture_output=True, check=False, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {done.stderr.decode()}")
        return done.stdout.decode().strip()

    def write(self, files: Mapping[str, FileContent]) -> None:
        """Write files (str: UTF-8 text, bytes: as is); None deletes a file."""
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def commit(self, message: str, files: Mapping[str, FileContent] | None = None,
               *, allow_empty: bool = False) -> str:
        """Write ``files``, stage everything and commit; returns the commit id."""
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, *(["--allow-empty"] if allow_empty else []))
        return self._stamp()

    def move(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    def checkout(self, branch: str, create: bool = False) -> None:
        self.git("checkout", "-q", *(["-b"] if create else []), branch)

    def merge(self, branch: str, message: str | None = None) -> str:
        """``git merge --no-ff`` (a merge commit even when a fast-forward was possible)."""
        self.git("merge", "-q", "--no-ff", "-m", message or f"Merge branch '{branch}'", branch)
        return self._stamp()

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", rev)

    def tree(self, rev: str) -> str:
        return self.rev(f"{rev}^{{tree}}")

    def _stamp(self) -> str:
        sha = self.rev("HEAD")
        self.dates[sha] = EPOCH + timedelta(hours=self._clock)
        self._clock += 1
        return sha


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepoBuilder:
    """An empty repository (branch main)."""
    return GitRepoBuilder(tmp_path / "repo")


# ---- language flavours -------------------------------------------------------------------

OPS = {"add": "a + b", "sub": "a - b", "mul": "a * b", "rem": "a % b"}
BUGS = {"add": "a - b"}
CASES = {"add": (2, 3, 5), "sub": (7, 3, 4), "mul": (2, 3, 6), "rem": (7, 3, 1)}


def _expr(name: str, buggy: bool) -> str:
    return BUGS[name] if buggy and name in BUGS else OPS[name]


def _python_source(funcs: list[str], buggy: set[str]) -> str:
    return "\n\n".join(f"def {f}(a, b):\n    return {_expr(f, f in buggy)}\n" for f in funcs)


def _python_tests(funcs: list[str], module: str) -> str:
    names = sorted({t.split("_")[0] for t in funcs})
    body = "".join(f"\n\ndef test_{t}():\n    assert {t.split('_')[0]}({_args(t)}) == "
                   f"{_want(t)}\n" for t in funcs)
    return f"from {module} import {', '.join(names)}\n{body}"


def _go_source(funcs: list[str], buggy: set[str]) -> str:
    return "package calc\n" + "".join(
        f"\nfunc {f.title()}(a, b int) int {{\n\treturn {_expr(f, f in buggy)}\n}}\n"
        for f in funcs)


def _go_tests(funcs: list[str], module: str) -> str:
    body = "".join(
        f"\nfunc Test{''.join(p.title() for p in t.split('_'))}(t *testing.T) {{\n"
        f"\tif got := {t.split('_')[0].title()}({_args(t)}); got != {_want(t)} {{\n"
        f"\t\tt.Fatalf(\"got %d, want {_want(t)}\", got)\n\t}}\n}}\n" for t in funcs)
    return f'package calc\n\nimport "testing"\n{body}'


def _js_source(funcs: list[str], buggy: set[str]) -> str:
    return "".join(f"function {f}(a, b) {{\n  return {_expr(f, f in buggy)};\n}}\n\n"
                   for f in funcs) + f"module.exports = {{ {', '.join(funcs)} }};\n"


def _js_tests(funcs: list[str], module: str) -> str:
    names = sorted({t.split("_")[0] for t in funcs})
    body = "".join(f'\ntest("{t}", () => {{\n  assert.strictEqual({t.split("_")[0]}'
                   f"({_args(t)}), {_want(t)});\n}});\n" for t in funcs)
    return (f'const test = require("node:test");\nconst assert = require("node:assert");\n'
            f'const {{ {", ".join(names)} }} = require("../src/{module}");\n{body}')


RUST_UNIT_TESTS = """
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_small() {
        assert_eq!(mul(2, 3), 6);
    }
}
"""


def _rust_source(funcs: list[str], buggy: set[str]) -> str:
    return "".join(f"pub fn {f}(a: i64, b: i64) -> i64 {{\n    {_expr(f, f in buggy)}\n}}\n\n"
                   for f in funcs).rstrip("\n") + "\n" + RUST_UNIT_TESTS


def _rust_tests(funcs: list[str], module: str) -> str:
    names = sorted({t.split("_")[0] for t in funcs})
    body = "".join(f"\n#[test]\nfn {t}_works() {{\n    assert_eq!({t.split('_')[0]}({_args(t)}), "
                   f"{_want(t)});\n}}\n" for t in funcs)
    return f"use calc::{{{', '.join(names)}}};\n{body}"


def _args(test: str) -> str:
    a, b, _ = CASES[test.split("_")[0]]
    return "0, 5" if test.endswith("_zero") else f"{a}, {b}"


def _want(test: str) -> int:
    return 0 if test.endswith("_zero") else CASES[test.split("_")[0]][2]


@dataclass(frozen=True)
class Flavour:
    """How one language lays out the small project of ``build_history``."""

    name: str
    language: str  # what mining should guess
    project: dict[str, str]  # files that never change
    source: str  # module holding the functions
    renamed: str  # where the ``rename`` commit moves it
    test: str  # the test file
    test_data: str  # a test-side directory for the binary commit
    render_source: Callable[[list[str], set[str]], str]
    render_tests: Callable[[list[str], str], str]
    module: Callable[[str], str]  # source path -> how the tests import it
    rename_extra: Callable[[str], dict[str, str]] = lambda module: {}  # non-test files


FLAVOURS: dict[str, Flavour] = {
    "python": Flavour(
        "python", "python",
        {"pyproject.toml": '[project]\nname = "calc"\nversion = "0.1.0"\n\n'
                           '[tool.pytest.ini_options]\npythonpath = ["."]\n'},
        "calc.py", "arith.py", "tests/test_calc.py", "tests/data/",
        _python_source, _python_tests, lambda path: Path(path).stem),
    "go": Flavour(
        "go", "go", {"go.mod": "module example.com/calc\n\ngo 1.20\n"},
        "calc.go", "arith.go", "calc_test.go", "testdata/",
        _go_source, _go_tests, lambda path: Path(path).stem),
    "javascript": Flavour(
        "javascript", "javascript",
        {"package.json": '{\n  "name": "calc",\n  "version": "1.0.0",\n  "private": true,\n'
                         '  "scripts": {\n    "test": "node --test"\n  }\n}\n'},
        "src/calc.js", "src/arith.js", "test/calc.test.js", "test/fixtures/",
        _js_source, _js_tests, lambda path: Path(path).stem),
    "rust": Flavour(
        "rust", "rust",
        {"Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n'},
        "src/ops.rs", "src/arith.rs", "tests/calc.rs", "tests/data/",
        _rust_source, _rust_tests, lambda path: Path(path).stem,
        lambda module: {"src/lib.rs": f"mod {module};\npub use {module}::*;\n"}),
}


@dataclass
class History:
    """A built history: the builder, its flavour and the commits by name."""

    repo: GitRepoBuilder
    flavour: Flavour
    commits: dict[str, str] = field(default_factory=dict)

    # The commits mining must return (first-parent walk), in order.
    CANDIDATES = ("fix", "merge", "rename", "binary", "dir_conflict")


def build_history(repo: GitRepoBuilder, flavour: Flavour) -> History:
    """Build the history described in the module docstring."""
    f = flavour
    module = f.module(f.source)
    history = History(repo, f)
    c = history.commits
    c["init"] = repo.commit("Initial version", {
        **f.project, **f.rename_extra(module), "README.md": "# calc\n",
        "__tests__": "Notes about the tests, for now a plain file.\n",
        f.source: f.render_source(["add", "mul"], {"add"}),
        f.test: f.render_tests(["mul"], module)})
    c["fix"] = repo.commit(
        "Fix add: it subtracted\n\nadd(2, 3) returned -1 instead of 5.", {
            f.source: f.render_source(["add", "mul"], set()),
            f.test: f.render_tests(["mul", "add"], module)})
    c["docs"] = repo.commit("Document the functions", {
        "README.md": "# calc\n\nadd and mul, on integers.\n"})
    c["tests_only"] = repo.commit("Test mul with zero", {
        f.test: f.render_tests(["mul", "add", "mul_zero"], module)})
    repo.checkout("feature", create=True)
    c["feature_code"] = repo.commit("Add sub", {
        f.source: f.render_source(["add", "mul", "sub"], set())})
    c["feature_tests"] = repo.commit("Test sub", {
        f.test: f.render_tests(["mul", "add", "mul_zero", "sub"], module)})
    repo.checkout("main")
    c["changelog"] = repo.commit("Start a changelog", {"CHANGELOG.md": "# Changes\n"})
    c["merge"] = repo.merge("feature")
    renamed_module = f.module(f.renamed)
    repo.move(f.source, f.renamed)
    c["rename"] = repo.commit("Move the functions to arith, add rem", {
        **f.rename_extra(renamed_module),
        f.renamed: f.render_source(["add", "mul", "sub", "rem"], set()),
        f.test: f.render_tests(["mul", "add", "mul_zero", "sub", "rem"], renamed_module)})
    c["binary"] = repo.commit("Ship the lookup table", {
        "data/table.bin": BINARY_A, f"{f.test_data}expected.bin": BINARY_B})
    c["dir_conflict"] = repo.commit("Keep test notes in __tests__/", {
        "__tests__": None, "__tests__/notes.txt": "Notes about the tests.\n",
        "README.md": "# calc\n\nadd, sub, mul and rem, on integers.\n"})
    return history


@pytest.fixture(params=sorted(FLAVOURS))
def history(request: pytest.FixtureRequest, tmp_path: Path) -> History:
    """The history of each language flavour in turn."""
    return build_history(GitRepoBuilder(tmp_path / request.param), FLAVOURS[request.param])
