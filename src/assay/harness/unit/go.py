"""Go unit tests: ``func TestXxx(t *testing.T)`` functions, as ``go test`` runs them.

The solution and the test file are compiled into one program of package main with the
runner (``runners/go_unit.go``) and a generated table of the tests; each test is named by
its function. ``go test`` files that use testify's ``assert``/``require`` (HumanEval-X)
get a small stand-in for those packages, since the sandbox has no module download.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec

_TEST_FUNC = re.compile(r"\bfunc\s+(Test(?![a-z])\w*)\s*\(\s*\w+\s+\*\s*(?:\w+\s*\.\s*)?T\s*\)")
_MAIN_FUNC = re.compile(r"\bfunc(\s+)main(\s*\()")
_PACKAGE = re.compile(r"package\s+\w+")
_IMPORT_SPEC = re.compile(r'(?:(?P<alias>[\w.]+)[ \t]+)?"(?P<path>[^"\n]*)"')
_TESTIFY_IMPORTS = {"github.com/stretchr/testify/assert": "assert",
                    "github.com/stretchr/testify/require": "require"}
_RENAMED_MAIN = "assay__solutionMain"


@register_harness
class GoUnitHarness(Harness):
    """Runs a Go test file's ``TestXxx`` functions against a solution, one build each."""

    kind = "unit"
    languages = ("go",)

    def test_names(self, task: HarnessTask) -> list[str] | None:
        listed = super().test_names(task)
        return listed if listed else (discover_tests(task.test_file) or None)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        program = go_program(task.code, task.test_file)
        files = {"assay_runner.go": runner_source("go_unit.go"),
                 "assay_tests.go": program.table, "solution.go": program.solution,
                 "tests.go": program.tests}
        if program.testify:
            files["assay_testify.go"] = _testify_file(program.testify)
        tests = len(only) or len(program.test_names) or 1
        # GOTRACEBACK=none: when a panic takes the process down, its stderr is the panic's
        # message rather than a goroutine dump (the driver reports the tail of stderr).
        # (Runaway recursion grows the stack until the run is out of memory: a stack
        # overflow would be a fatal error, whose stderr is a dump of every goroutine.)
        env = {**self.runner_env(task), "GOTRACEBACK": "none"}
        return RunSpec(language="go", files=files, entry="assay_runner.go", argv=tuple(only),
                       env=env, report=True, limits=self.limits(task, tests))


@dataclass(frozen=True)
class GoProgram:
    """The files of the test program, made from the solution and the test file."""

    solution: str
    tests: str
    table: str
    test_names: list[str]
    testify: dict[str, str]  # name -> testify package the tests import (a stand-in's)


def go_program(solution: str, tests: str) -> GoProgram:
    """Put both files in package main, rename their ``main``, list the tests."""
    names = discover_tests(tests)
    tests, testify = _drop_testify_imports(_as_package_main(tests))
    entries = "".join(f"\t{{Name: {_go_string(name)}, F: {name}}},\n" for name in names)
    table = ('package main\n\nimport "testing"\n\n'
             f"var assay__tests = []testing.InternalTest{{\n{entries}}}\n")
    return GoProgram(solution=_as_package_main(solution), tests=tests, table=table,
                     test_names=names, testify=testify)


def discover_tests(source: str) -> list[str]:
    """The ``func TestXxx(t *testing.T)`` of a Go file, in order (comments and strings
    are not looked at)."""
    names: list[str] = []
    for match in _TEST_FUNC.finditer(mask_go(source)):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def mask_go(source: str) -> str:
    """The source with the insides of comments, strings and runes blanked (newlines kept),
    so that patterns only match code; offsets are the same as in ``source``."""
    out = list(source)
    i, n = 0, len(source)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        char = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif char == "`":
            end = source.find("`", i + 1)
            end = n if end < 0 else end + 1
        elif char in "\"'":
            end = i + 1
            while end < n and source[end] not in (char, "\n"):
                end += 2 if source[end] == "\\" else 1
            end = min(end + 1, n)
            blank(i + 1, end - 1)
            i = end
            continue
        else:
            i += 1
            continue
        blank(i, end)
        i = end
    return "".join(out)


def _as_package_main(source: str) -> str:
    """Declare package main (whatever package the file named, or none) and rename a
    ``func main`` so that the runner's main is the program's."""
    masked = mask_go(source)
    source = _MAIN_FUNC.sub(lambda m: f"func{m.group(1)}{_RENAMED_MAIN}{m.group(2)}"
                            if masked[m.start():m.end()] == m.group(0) else m.group(0),
                            source)
    clause = _PACKAGE.search(masked)
    if clause is not None and not masked[:clause.start()].strip():
        return source[:clause.start()] + "package main" + source[clause.end():]
    # No package clause: add one on the first line, so that line numbers stay the same.
    return "package main; " + source


def _drop_testify_imports(source: str) -> tuple[str, dict[str, str]]:
    """Blank the import specs of testify's packages (line numbers kept) and say which
    names the tests use for them (name -> package), for the stand-in to declare."""
    masked = mask_go(source)
    names: dict[str, str] = {}
    edits: list[tuple[int, int]] = []
    for keyword in re.finditer(r"\bimport\b", masked):
        rest = masked[keyword.end():]
        after = keyword.end() + len(rest) - len(rest.lstrip())
        grouped = masked.startswith("(", after)
        end = masked.find(")", after) if grouped else masked.find("\n", after)
        end = len(source) if end < 0 else end
        specs = list(_IMPORT_SPEC.finditer(source, after + grouped, end))
        for spec in specs:
            package = _TESTIFY_IMPORTS.get(spec.group("path"))
            if package is None or spec.group("alias") in ("_", "."):
                continue
            names[spec.group("alias") or package] = package
            edits.append((spec.start(), spec.end()))
            if not grouped:
                edits.append((keyword.start(), keyword.end()))
    for start, stop in sorted(edits, reverse=True):
        source = source[:start] + " " * (stop - start) + source[stop:]
    return source, names


def _testify_file(names: dict[str, str]) -> str:
    """The stand-in for testify: its package-level functions are methods of a variable
    named as the tests imported the package (``assert.Equal(t, ...)``, ``assert.New(t)``)."""
    declared = "".join(f"var {name} = assay__{package}Package\n"
                       for name, package in sorted(names.items()))
    return runner_source("go_testify.go") + "\n" + declared


def _go_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

