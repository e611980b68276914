"""C and C++ unit tests: ``void test_*()`` functions, or a test ``main`` full of asserts
(HumanEval-X), where each assert line is its own test named ``assert:LINE``.

The solution, the tests and a table of the tests go into ONE translation unit
(``assay_tests.c``/``.cpp``), compiled with the runner (``runners/c_unit_runner.c``) in the
one gcc/g++ call of the language module, so the solution's declarations and includes are
in scope for the tests, as HumanEval-X expects. Three textual changes make that work:

* The solution's own ``main`` is renamed by ``#define main assay_solution_main`` around it
  (it is never called; gcc has no per-file ``-D``, and a ``#define`` needs no parsing).
* The tests' ``main`` definition is renamed ``assay_tests_main`` in place (the runner calls
  it) and gets a ``return 0;`` before its closing brace: falling off the end of a function
  that is no longer ``main`` would be undefined behaviour, which g++ -O2 exploits.
* ``assert`` is redefined as the runner's recording assert after the solution and after
  every ``#include`` of the tests (``<assert.h>`` redefines it each time it is included);
  ``#line`` keeps the tests' line numbers, so ``__LINE__`` names the assert's line.

Tests are found statically from the test file, with comments and literals blanked first.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec

TESTS_MAIN = "assay_tests_main"
_ASSERT_DEFINITION = "#undef assert\n#define assert(...) ASSAY_ASSERT(__VA_ARGS__)"
_TEST_FUNCTION = re.compile(r"\bvoid\s+(test\w*)\s*\(\s*(?:void)?\s*\)\s*\{")
_MAIN = re.compile(r"\bmain\s*\(")
_DEFINE = re.compile(r"#\s*define\s+(\w+)\s*\(")
_INCLUDE = re.compile(r"\s*#\s*include\b")
_RAW_PREFIX = re.compile(r"(?<![\w])(?:u8|[uUL])?R$")


class TestFileError(ValueError):
    """The test file cannot be read as C: an unterminated comment or literal."""

    __test__ = False


@dataclass
class TestPlan:
    """What the runner will run, found statically in the test file.

    Attributes:
        names: The tests, in file order.
        by_line: True when each assert line of the tests' main is a test.
        functions: The function run for each entry of the runner's table.
        site_lines: The assert lines (``by_line``).
        source: The test file rewritten (main renamed, assert redefined after includes).
        main_call: The C expression calling the renamed main, when there is one.
        fatal: Why nothing can run, when nothing can.
    """

    __test__ = False

    names: list[str] = field(default_factory=list)
    by_line: bool = False
    functions: list[str] = field(default_factory=list)
    site_lines: list[int] = field(default_factory=list)
    source: str = ""
    main_call: str | None = None
    fatal: str | None = None


@register_harness
class CFamilyUnitHarness(Harness):
    """Unit tests in C and C++, one forked child per test function or per run of main."""

    kind = "unit"
    languages = ("c", "cpp")

    def test_names(self, task: HarnessTask) -> list[str] | None:
        if task.suite.cases:
            return [case.name for case in task.suite.cases]
        return plan_tests(task.suite.code).names or None

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        ext = "cpp" if task.language == "cpp" else "c"
        plan = plan_tests(task.suite.code, f"tests.{ext}")
        files = {f"assay_runner.{ext}": runner_source("c_unit_runner.c"),
                 "assay_unit.h": runner_source("c_unit.h"),
                 f"assay_tests.{ext}": translation_unit(task, plan, ext)}
        return RunSpec(language=task.language, files=files, entry=f"assay_runner.{ext}",
                       argv=tuple(only), env=self.runner_env(task), report=True,
                       limits=self.limits(task, len(only) or len(plan.names) or 1))


def plan_tests(source: str, file_name: str = "tests.c") -> TestPlan:
    """Find the tests of a C/C++ test file and rewrite it for the runner."""
    try:
        masked = mask_source(source)
    except TestFileError as exc:
        return TestPlan(fatal=f"the test file does not parse: {exc}")
    directives = _directive_spans(masked)
    code = _without(masked, directives)
    depth = _BraceDepth(code)
    edits: list[tuple[int, int, str]] = []
    main_call = _rewrite_main(code, depth, edits)
    for start, end in directives:
        if _INCLUDE.match(masked, start):
            next_line = source.count("\n", 0, end) + 2
            edits.append((end, 0, f"\n{_ASSERT_DEFINITION}\n#line {next_line} \"{file_name}\""))
    rewritten = _apply(source, edits)
    functions = [m.group(1) for m in _TEST_FUNCTION.finditer(code) if depth.at(m.start()) == 0]
    if functions:
        return TestPlan(names=functions, functions=functions, source=rewritten,
                        main_call=main_call)
    if main_call is None:
        return TestPlan(fatal="no tests found: the test file has no `void test_*()` function "
                              "and no main()")
    lines = _assert_lines(masked, code, directives)
    if not lines:  # a main that checks by itself: one test, passing when main returns 0
        return TestPlan(names=["main"], functions=["main"], source=rewritten,
                        main_call=main_call)
    return TestPlan(names=[f"assert:{line}" for line in lines], by_line=True,
                    functions=["main"], site_lines=lines, source=rewritten,
                    main_call=main_call)


def translation_unit(task: HarnessTask, plan: TestPlan, ext: str) -> str:
    """The generated source: solution, prelude, tests, then the runner's tables."""
    parts = ["/* Generated by assay: the solution, its tests and the table of the tests. */",
             '#include "assay_unit.h"']
    if plan.fatal is None:
        parts += ["#define main assay_solution_main", f'#line 1 "solution.{ext}"', task.code,
                  "#undef main"]
        if task.suite.prelude:
            parts += [f'#line 1 "prelude.{ext}"', task.suite.prelude]
        parts += [_ASSERT_DEFINITION, f'#line 1 "tests.{ext}"', plan.source]
    parts += ['#line 1 "assay-generated"', _tables(plan, f"tests.{ext}")]
    return "\n".join(parts) + "\n"


def _tables(plan: TestPlan, file_name: str) -> str:
    lines = []
    entries = []
    for function in plan.functions:
        runs = function
        if function == "main":
            assert plan.main_call is not None
            if "assay_argv" in plan.main_call:
                lines.append('static char *assay_argv[] = {(char *)"tests", 0};')
            lines.append(f"static void assay_run_main(void) {{ {plan.main_call} }}")
            runs = "assay_run_main"
        entries.append(f"{{{_c_string(function)}, {runs}}}")
    fatal = _c_string(plan.fatal) if plan.fatal is not None else "0"
    sites = [*map(str, plan.site_lines), "0"]
    lines += [f"const char *const assay_fatal = {fatal};",
              f"const int assay_style = {2 if plan.by_line else 1};",
              f"const struct assay_test assay_tests[] = {{{', '.join([*entries, '{0, 0}'])}}};",
              f"const int assay_test_count = {len(entries)};",
              f"const int assay_site_lines[] = {{{', '.join(sites)}}};",
              f"const int assay_site_count = {len(plan.site_lines)};",
              f"const char *const assay_tests_file = {_c_string(file_name)};"]
    return "\n".join(lines)


def _c_string(text: str) -> str:
    """A C string literal of the text (octal escapes for everything unusual)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in '"\\' or not 0x20 <= byte < 0x7f or char == "?":
            out.append(f"\\{byte:03o}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


# -- scanning C source -----------------------------------------------------------------


def mask_source(source: str) -> str:
    """The source with comments and the insides of string and character literals blanked
    (line breaks kept, so offsets and line numbers stay those of the source)."""
    pieces: list[str] = []
    done = i = 0
    length = len(source)
    while i < length:
        char = source[i]
        if source.startswith("//", i):
            end = _line_comment_end(source, i)
            pieces += [source[done:i], _blank(source[i:end])]
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise TestFileError(f"unterminated comment at line {_line_of(source, i)}")
            end += 2
            pieces += [source[done:i], _blank(source[i:end])]
        elif char in "\"'" and not (char == "'" and _is_digit_separator(source, i)):
            end = _literal_end(source, i)
            pieces += [source[done:i + 1], _blank(source[i + 1:end - 1]), source[end - 1]]
        else:
            i += 1
            continue
        done = i = end
    pieces.append(source[done:])
    return "".join(pieces)


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _line_of(source: str, pos: int) -> int:
    return source.count("\n", 0, pos) + 1


def _line_comment_end(source: str, start: int) -> int:
    end = start
    while True:
        end = source.find("\n", end)
        if end < 0:
            return len(source)
        if source[end - 1] != "\\":  # a backslash-newline continues the comment
            return end
        end += 1


def _is_digit_separator(source: str, pos: int) -> bool:
    """A quote inside a number (C++14 ``1'000'000``) rather than a character literal."""
    start = pos
    while start > 0 and (source[start - 1].isalnum() or source[start - 1] in "_.'"):
        start -= 1
    return start < pos and source[start].isdigit()


def _literal_end(source: str, start: int) -> int:
    """The offset just past the string or character literal opening at ``start``."""
    quote = source[start]
    if quote == '"' and _RAW_PREFIX.search(source, max(0, start - 3), start):
        opening = source.find("(", start)
        delimiter = source[start + 1:opening] if opening >= 0 else ""
        closing = source.find(f'){delimiter}"', opening) if opening >= 0 else -1
        if closing < 0 or len(delimiter) > 16:
            raise TestFileError(f"unterminated raw string at line {_line_of(source, start)}")
        return closing + len(delimiter) + 2
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            return i + 1
        if char == "\n":
            break
        i += 1
    kind = "string" if quote == '"' else "character"
    raise TestFileError(f"unterminated {kind} literal at line {_line_of(source, start)}")


def _directive_spans(masked: str) -> list[tuple[int, int]]:
    """(start, end) of each preprocessor directive, continuation lines included; ``end`` is
    the offset of the line break that ends it."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"^[ \t]*#", masked, re.MULTILINE):
        end = match.start()
        while True:
            end = masked.find("\n", end)
            if end < 0:
                end = len(masked)
                break
            last = end - 1
            while last > match.start() and masked[last] in " \t\r":
                last -= 1
            if masked[last] == "\\":
                end += 1
                continue
            break
        if not spans or match.start() >= spans[-1][1]:
            spans.append((match.start(), end))
    return spans


def _without(masked: str, spans: list[tuple[int, int]]) -> str:
    pieces, done = [], 0
    for start, end in spans:
        pieces += [masked[done:start], _blank(masked[start:end])]
        done = end
    pieces.append(masked[done:])
    return "".join(pieces)


class _BraceDepth:
    """How many braces are open at an offset of the code."""

    def __init__(self, code: str) -> None:
        self.positions: list[int] = []
        self.depths: list[int] = []
        depth = 0
        for match in re.finditer(r"[{}]", code):
            depth += 1 if match.group() == "{" else -1
            self.positions.append(match.start())
            self.depths.append(depth)

    def at(self, pos: int) -> int:
        index = bisect.bisect_left(self.positions, pos)
        return self.depths[index - 1] if index else 0

    def closing(self, opening: int) -> int | None:
        """The offset of the brace closing the one at ``opening``."""
        index = bisect.bisect_left(self.positions, opening)
        target = self.depths[index] - 1
        for position, depth in zip(self.positions[index + 1:], self.depths[index + 1:],
                                   strict=True):
            if depth == target:
                return position
        return None


def _rewrite_main(code: str, depth: _BraceDepth, edits: list[tuple[int, int, str]]
                  ) -> str | None:
    """Rename the tests' main definitions and end them with a return; returns the C code
    that calls the renamed main and hands what it returned to the runner."""
    call = None
    for match in _MAIN.finditer(code):
        if depth.at(match.start()) != 0:
            continue
        closing = _closing_paren(code, match.end() - 1)
        body = re.compile(r"\s*\{").match(code, closing + 1) if closing is not None else None
        if closing is None or body is None:
            continue  # a declaration or a call, not the definition
        params = code[match.end():closing].strip()
        before = re.search(r"(\w+)\s*$", code[max(0, match.start() - 100):match.start()])
        returns_void = before is not None and before.group(1) == "void"
        edits.append((match.start(), len("main"), TESTS_MAIN))
        opening = body.end() - 1
        end = depth.closing(opening)
        if end is not None and not returns_void:
            edits.append((end, 0, " return 0; "))
        args = ("" if params in ("", "void") else
                ", ".join(["1", "assay_argv", "assay_argv + 1"][:params.count(",") + 1]))
        call = (f"{TESTS_MAIN}({args}); assay_main_returned(0);" if returns_void
                else f"assay_main_returned({TESTS_MAIN}({args}));")
    return call


def _closing_paren(code: str, opening: int) -> int | None:
    level = 0
    for i in range(opening, len(code)):
        if code[i] == "(":
            level += 1
        elif code[i] == ")":
            level -= 1
            if level == 0:
                return i
        elif code[i] in "{};":
            return None
    return None


def _assert_lines(masked: str, code: str, directives: list[tuple[int, int]]) -> list[int]:
    """Lines of the test file calling assert, or a macro of the test file that asserts."""
    names = {"assert"}
    definitions = []
    for start, end in directives:
        match = _DEFINE.match(masked, start)
        if match:
            definitions.append((match.group(1), masked[match.end():end]))
    while True:  # macros calling macros that assert
        pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(names)))})\s*\(")
        more = {name for name, body in definitions if name not in names and pattern.search(body)}
        if not more:
            break
        names |= more
    breaks = [m.start() for m in re.finditer("\n", code)]
    return sorted({bisect.bisect_left(breaks, m.start()) + 1 for m in pattern.finditer(code)})


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    for pos, length, text in sorted(edits, key=lambda edit: edit[0], reverse=True):
        source = source[:pos] + text + source[pos + length:]
    return source
