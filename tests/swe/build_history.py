"""A history for building tasks, in four languages: every kind of candidate the build must
tell apart, as real commits whose tests really pass and fail.

The project has ``add``, ``sub``, ``mul`` and ``rem``; at ``init`` three are wrong and only
``mul`` is tested. Then:

* ``fix``: ``add`` fixed, its test added. A task: FAIL_TO_PASS ``add``, PASS_TO_PASS ``mul``.
* ``docs``: README only: no test change, not even a candidate.
* ``breaking``: ``sub`` fixed and tested, but ``mul`` broken: rejected, ``pass_to_fail``.
* ``flaky``: ``rem`` fixed, ``mul`` repaired, and a test that passes, fails or skips itself
  at random (Rust's libtest cannot skip at run time: passes or fails). A task: FAIL_TO_PASS
  ``mul`` and ``rem``, PASS_TO_PASS ``add`` and ``sub``; the random test is in no list but in
  ``flaky_tests``, unless chance made it agree with itself in every repeat of both states:
  probability (k ** (1 - repeats)) ** 2 with k outcomes (1 in 59,049 for 3 outcomes and 6
  repeats; 1 in 4,096 for 2 outcomes and 7 repeats).

Plus two explicit candidates (``explicit_rows``): a fix that does not apply, and the same fix
as ``fix`` again (a duplicate).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .conftest import GitRepoBuilder

CORRECT = {"add": "a + b", "sub": "a - b", "mul": "a * b", "rem": "a % b"}
WRONG = {"add": "a - b", "sub": "a + b", "mul": "a * b + 1", "rem": "a - b"}
CASES = {"add": (2, 3, 5), "sub": (7, 3, 4), "mul": (2, 3, 6), "rem": (7, 3, 1)}
FUNCS = ("add", "sub", "mul", "rem")


def _exprs(wrong: set[str]) -> dict[str, str]:
    return {f: WRONG[f] if f in wrong else CORRECT[f] for f in FUNCS}


def _py_source(wrong: set[str]) -> str:
    return "".join(f"def {f}(a, b):\n    return {e}\n\n\n" for f, e in _exprs(wrong).items())


def _py_tests(tests: list[str]) -> str:
    body = "import random\n\nimport pytest\n\nimport calc\n"
    for t in tests:
        if t == "flaky":
            body += ("\n\ndef test_flaky():\n    coin = random.random()\n    if coin < 1 / 3:\n"
                     "        pytest.skip('unlucky')\n    assert coin < 2 / 3\n")
        else:
            a, b, want = CASES[t]
            body += f"\n\ndef test_{t}():\n    assert calc.{t}({a}, {b}) == {want}\n"
    return body


def _go_source(wrong: set[str]) -> str:
    return "package calc\n" + "".join(
        f"\nfunc {f.title()}(a, b int) int {{\n\treturn {e}\n}}\n"
        for f, e in _exprs(wrong).items())


def _go_tests(tests: list[str]) -> str:
    body = 'package calc\n\nimport (\n\t"math/rand"\n\t"testing"\n)\n\nvar _ = rand.Intn\n'
    for t in tests:
        if t == "flaky":
            body += ("\nfunc TestFlaky(t *testing.T) {\n\tswitch rand.Intn(3) {\n"
                     '\tcase 0:\n\t\tt.Skip("unlucky")\n\tcase 1:\n\t\tt.Fatal("unlucky")\n'
                     "\t}\n}\n")
        else:
            a, b, want = CASES[t]
            body += (f"\nfunc Test{t.title()}(t *testing.T) {{\n"
                     f"\tif got := {t.title()}({a}, {b}); got != {want} {{\n"
                     f'\t\tt.Fatalf("got %d, want {want}", got)\n\t}}\n}}\n')
    return body


def _js_source(wrong: set[str]) -> str:
    return "".join(f"function {f}(a, b) {{\n  return {e};\n}}\n\n"
                   for f, e in _exprs(wrong).items()) + \
        f"module.exports = {{ {', '.join(FUNCS)} }};\n"


def _js_tests(tests: list[str]) -> str:
    body = ('const test = require("node:test");\nconst assert = require("node:assert");\n'
            'const calc = require("../src/calc");\n')
    for t in tests:
        if t == "flaky":
            body += ('\ntest("flaky", (t) => {\n  const coin = Math.random();\n'
                     '  if (coin < 1 / 3) {\n    t.skip("unlucky");\n    return;\n  }\n'
                     "  assert.ok(coin < 2 / 3);\n});\n")
        else:
            a, b, want = CASES[t]
            body += (f'\ntest("{t}", () => {{\n  assert.strictEqual(calc.{t}({a}, {b}), '
                     f"{want});\n}});\n")
    return body


def _rust_source(wrong: set[str]) -> str:
    return "".join(f"pub fn {f}(a: i64, b: i64) -> i64 {{\n    {e}\n}}\n\n"
                   for f, e in _exprs(wrong).items())


def _rust_tests(tests: list[str]) -> str:
    body = ("use std::collections::hash_map::RandomState;\n"
            "use std::hash::{BuildHasher, Hasher};\n")
    for t in tests:
        if t == "flaky":
            # RandomState is seeded from the OS per process: a coin toss per run.
            body += ("\n#[test]\nfn flaky() {\n    let coin = RandomState::new()"
                     ".build_hasher().finish() % 2;\n    assert_eq!(coin, 0);\n}\n")
        else:
            a, b, want = CASES[t]
            body += (f"\n#[test]\nfn {t}_works() {{\n    assert_eq!(calc::{t}({a}, {b}), "
                     f"{want});\n}}\n")
    return body


@dataclass(frozen=True)
class Project:
    """One language's layout of the project and the ids its runner gives the tests."""

    name: str
    files: dict[str, str]
    source: str
    test: str
    render_source: Callable[[set[str]], str]
    render_tests: Callable[[list[str]], str]
    test_id: Callable[[str], str]


PROJECTS: dict[str, Project] = {
    "python": Project(
        "python", {"pyproject.toml": '[project]\nname = "calc"\nversion = "0.1.0"\n'},
        "calc.py", "tests/test_calc.py", _py_source, _py_tests,
        lambda t: f"tests/test_calc.py::test_{t}"),
    "go": Project(
        "go", {"go.mod": "module example.com/calc\n\ngo 1.20\n"}, "calc.go", "calc_test.go",
        _go_source, _go_tests, lambda t: f"example.com/calc/Test{t.title()}"),
    "javascript": Project(
        "javascript", {"package.json": json.dumps(
            {"name": "calc", "version": "1.0.0", "private": True,
             "scripts": {"test": "node --test"}}, indent=2) + "\n"},
        "src/calc.js", "test/calc.test.js", _js_source, _js_tests,
        lambda t: f"test/calc.test.js::{t}"),
    "rust": Project(
        "rust", {"Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
                 "Cargo.lock": "# This file is automatically @generated by Cargo.\n"
                               "# It is not intended for manual editing.\nversion = 3\n\n"
                               '[[package]]\nname = "calc"\nversion = "0.1.0"\n'},
        "src/lib.rs", "tests/calc.rs", _rust_source, _rust_tests,
        lambda t: "flaky" if t == "flaky" else f"{t}_works"),
}


def build_task_history(repo: GitRepoBuilder, project: Project) -> dict[str, str]:
    """Commit the history of the module docstring; returns the commits by name."""
    p = project
    c: dict[str, str] = {}
    c["init"] = repo.commit("Initial version of calc", {
        **p.files, "README.md": "# calc\n", p.source: p.render_source({"add", "sub", "rem"}),
        p.test: p.render_tests(["mul"])})
    c["fix"] = repo.commit("Fix add: it subtracted\n\nadd(2, 3) returned -1 instead of 5.", {
        p.source: p.render_source({"sub", "rem"}), p.test: p.render_tests(["mul", "add"])})
    c["docs"] = repo.commit("Document the functions", {"README.md": "# calc\n\nArithmetic.\n"})
    c["breaking"] = repo.commit("Fix sub, and speed up mul\n\nsub added its arguments.", {
        p.source: p.render_source({"rem", "mul"}),
        p.test: p.render_tests(["mul", "add", "sub"])})
    c["flaky"] = repo.commit("Fix rem and mul\n\nrem subtracted; mul was off by one.", {
        p.source: p.render_source(set()),
        p.test: p.render_tests(["mul", "add", "sub", "rem", "flaky"])})
    return c


def explicit_rows(repo: GitRepoBuilder, commits: dict[str, str], project: Project
                  ) -> list[dict[str, str]]:
    """A fix that does not apply to its base, and the ``fix`` commit's change again."""
    fix_patch = repo.git("diff", f"{commits['init']}..{commits['fix']}", "--", project.source)
    test_patch = repo.git("diff", f"{commits['init']}..{commits['fix']}", "--", project.test)
    stale = fix_patch.replace(CORRECT["add"], "a + b + 0").replace(WRONG["add"], "a * 2")
    return [
        {"id": "stale-fix", "base_commit": commits["init"], "fix_patch": stale + "\n",
         "test_patch": test_patch + "\n", "problem_statement": "Fix add (a stale patch)."},
        {"id": "same-fix-again", "base_commit": commits["init"], "fix_patch": fix_patch + "\n",
         "test_patch": test_patch + "\n", "problem_statement": "Fix add, once more."},
    ]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
