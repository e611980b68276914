"""TypeScript unit tests: the JavaScript styles (``node:test`` tests, scripts of
``console.assert`` / ``assert`` calls), type-checked and compiled once by tsc.

tsc compiles every ``.ts`` file of the run (a type error anywhere is a compile error) into
BUILD_DIR. The runner is the JavaScript one, kept out of the compile as a ``.js`` file; the
entry ``runner.ts`` only starts it, and it evaluates the compiled solution and tests. Sites
of scripts are rewritten in the TypeScript source, before tsc, so that they are named by
the lines as written; the functions the rewrite calls are declared at the end of the file.

Tests may call the solution's functions as globals (MultiPL-E), which type-checks only while
the solution is a script. When it exports them instead, the tests get an import of them, on
their first line (tsc's CommonJS output requires modules where the import is), so that the
same tests work either way.

TypeScript solutions are not batched (``batchable`` stays False, unlike JavaScript): the
compile step type-checks every ``.ts`` file of a run as one program, so in a shared run one
solution's type error would fail the compile of all (``--noEmitOnError``), and solutions
written as scripts would clash in the one global scope they share. Each solution needs a
tsc run of its own anyway, and tsc (about 0.3 s here, bare) costs several times the sandbox
start and the node start that a batch of runs would save.
"""

from __future__ import annotations

from collections.abc import Sequence

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.harness.unit.javascript import (
    GUESSED_TEST_COUNT,
    PLAN_FILE,
    RUNNER,
    Token,
    plan_json,
    plan_tests,
    tokenize,
    unit_test_names,
)
from assay.sandbox import RunSpec
from assay.sandbox.languages.base import BUILD_DIR, WORK_DIR

RUNNER_FILE = "assay_runner.js"
ENTRY_STUB = (
    "// Starts assay's test runner, plain JavaScript that tsc does not compile.\n"
    f'require("{WORK_DIR}/{RUNNER_FILE}");\n'
    "export {};\n"
)
SITE_DECLARATIONS = (
    "declare function __assay_site<T>(id: number, thunk: () => T): T;\n"
    "declare function __assay_site_async<T>(id: number, thunk: () => Promise<T>): Promise<T>;\n"
    "declare function __assay_assert(id: number, condition?: unknown, ...data: unknown[]): void;\n"
)

_DECLARATION_WORDS = frozenset({"function", "class", "const", "let", "var", "enum", "interface",
                                "type", "namespace"})
_MODIFIERS = frozenset({"declare", "async", "abstract", "*"})


def top_level_names(tokens: list[Token], exported_only: bool) -> list[str]:
    """Names declared at the top level (brace depth 0), only the exported ones if asked."""
    names = []
    depth = 0
    for index, token in enumerate(tokens):
        if token.kind == "p" and token.text in ("{", "${", "}"):
            depth += -1 if token.text == "}" else 1
        if depth or token.kind != "id" or token.text not in _DECLARATION_WORDS:
            continue
        before = index - 1
        while before >= 0 and tokens[before].text in _MODIFIERS:
            before -= 1
        exported = before >= 0 and tokens[before].text == "export"
        after = index + 1
        while after < len(tokens) and tokens[after].text == "*":
            after += 1
        if after < len(tokens) and tokens[after].kind == "id" and (exported or not exported_only):
            names.append(tokens[after].text)
    return names


def solution_imports(solution: str, tests: str) -> str:
    """``import { ... } from './solution';`` of what the solution exports, for tests that
    use it as globals; empty when the tests import the solution themselves."""
    test_tokens = tokenize(tests)
    if any(t.kind == "str" and t.text[1:-1].split("/")[-1].split(".")[0] == "solution"
           for t in test_tokens):
        return ""
    declared = set(top_level_names(test_tokens, exported_only=False))
    names = [n for n in dict.fromkeys(top_level_names(tokenize(solution), exported_only=True))
             if n not in declared]
    return f"import {{ {', '.join(names)} }} from './solution'; " if names else ""


@register_harness
class TypeScriptUnitHarness(Harness):
    """Compiles ``solution.ts`` and ``tests.ts`` with tsc and runs the JavaScript runner."""

    kind = "unit"
    languages = ("typescript",)

    def test_names(self, task: HarnessTask) -> list[str] | None:
        return unit_test_names(task)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        original = task.test_file
        plan = plan_tests(original)
        # Added within the first line and after the last one, so that no line moves.
        tests = solution_imports(task.code, original) + plan.tests_source
        if plan.sites:
            tests += "\n" + SITE_DECLARATIONS
        compiled = {name: f"{BUILD_DIR}/{name}.js" for name in ("solution", "tests")}
        files = {
            "runner.ts": ENTRY_STUB,
            RUNNER_FILE: runner_source(RUNNER),
            "solution.ts": task.code,
            "tests.ts": tests,
            PLAN_FILE: plan_json(
                plan, original, language="typescript", solution=compiled["solution"],
                tests=compiled["tests"], fallback=None,
                display={path: f"compiled {name}.js" for name, path in compiled.items()}),
        }
        count = len(only) or len(plan.sites) or GUESSED_TEST_COUNT
        return RunSpec(language="typescript", files=files, entry="runner.ts", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=self.limits(task, count))
