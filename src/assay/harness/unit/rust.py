"""Rust unit tests: ``#[test] fn`` items, at the top of the test file or in its modules
(``#[cfg(test)] mod tests { use super::*; ... }``), with ``#[should_panic]`` honoured. A
test file without them whose ``fn main`` asserts (MultiPL-E's) is one test, ``main``.

``main.rs`` includes the solution at the crate root and the test file in a module below
it, and calls the runner (``runners/rust_unit.rs``) with a table of the tests, found here
by reading the source. rustc builds it once as a normal program: ``#[cfg(test)]`` of the
test file is made unconditional, the test attributes are removed and each test function
(and the modules holding it) made visible to the crate. A test is named by its path in
the test file: ``it_adds``, ``tests::it_adds``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec

_TOKEN = re.compile(r"#!?\s*\[|[A-Za-z_][A-Za-z0-9_]*|\S")
_IDENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
# Words that may stand between an item's attributes and its `fn` or `mod`.
_QUALIFIERS = {"pub", "crate", "super", "self", "in", "(", ")", "async", "unsafe", "const",
               "default"}
_RAW_STRING = re.compile(r"(?<![A-Za-z0-9_])[bc]?r(#*)\"")
_EXPECTED = re.compile(r'expected\s*=\s*"((?:[^"\\]|\\.)*)"', re.S)
_TESTS_MODULE = "__assay_tests"
_RENAMED_MAIN = "__assay_solution_main"


@register_harness
class RustUnitHarness(Harness):
    """Runs a Rust test file's ``#[test]`` functions against a solution, one build each."""

    kind = "unit"
    languages = ("rust",)

    def test_names(self, task: HarnessTask) -> list[str] | None:
        listed = super().test_names(task)
        if listed:
            return listed
        return rust_program(task.code, task.test_file).test_names or None

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        program = rust_program(task.code, task.test_file)
        files = {"main.rs": program.main, "solution.rs": program.solution,
                 "tests.rs": program.tests, "assay_runner.rs": runner_source("rust_unit.rs")}
        tests = len(only) or len(program.test_names) or 1
        return RunSpec(language="rust", files=files, entry="main.rs", argv=tuple(only),
                       env=self.runner_env(task), report=True,
                       limits=self.limits(task, tests))


@dataclass
class RustTest:
    """A ``#[test] fn`` found in the test file, and what must change for it to be called."""

    name: str  # its path in the test file: tests::it_adds
    fn_at: int  # offset of its `fn` keyword, or of the visibility before it
    public: bool
    attributes: list[tuple[int, int]]  # spans of its test attributes, to remove
    should_panic: bool = False
    expected: str | None = None  # the text #[should_panic(expected = ...)] asks for


@dataclass
class RustScan:
    """What the harness needs to know of a Rust file."""

    tests: list[RustTest] = field(default_factory=list)
    inner_attributes: list[tuple[int, int]] = field(default_factory=list)  # file level #![..]
    cfg_test: list[tuple[int, int]] = field(default_factory=list)  # #[cfg(test)] spans
    private_modules: list[int] = field(default_factory=list)  # `mod` offsets holding tests
    main_fn: int | None = None  # offset of the name of a top-level `fn main`
    main_item: RustTest | None = None  # that `fn main` as a test (test files without tests)
    inner_doc_comments: list[int] = field(default_factory=list)  # offsets of their `!`


@dataclass(frozen=True)
class RustProgram:
    """The files of the test program, made from the solution and the test file."""

    main: str
    solution: str
    tests: str
    test_names: list[str]


def rust_program(solution: str, tests: str) -> RustProgram:
    """main.rs, and the solution and test files rewritten to build as one program."""
    solution_scan = scan_rust(solution)
    tests_scan = scan_rust(tests)
    if not tests_scan.tests and tests_scan.main_item is not None:
        # A test file that is a program (MultiPL-E's: asserts in `fn main`) is one test.
        tests_scan.tests.append(tests_scan.main_item)
    edits: list[tuple[int, int, str]] = []
    for test in tests_scan.tests:
        edits += [(start, end, "") for start, end in test.attributes]
        if not test.public:
            edits.append((test.fn_at, test.fn_at, "pub(crate) "))
    edits += [(at, at, "pub(crate) ") for at in tests_scan.private_modules]
    edits += [(start, end, "#[cfg(all())]") for start, end in tests_scan.cfg_test]
    edits += [(start, end, "") for start, end in tests_scan.inner_attributes]
    edits += [(at, at + 1, " ") for at in tests_scan.inner_doc_comments]
    solution_edits = [(start, end, "") for start, end in solution_scan.inner_attributes]
    solution_edits += [(at, at + 1, " ") for at in solution_scan.inner_doc_comments]
    if solution_scan.main_fn is not None:
        at = solution_scan.main_fn
        solution_edits.append((at, at + len("main"), _RENAMED_MAIN))
    crate_attributes = "\n".join(solution[s:e] for s, e in solution_scan.inner_attributes)
    # Moved to the module the test file is included in; a #![cfg(test)] is left out.
    module_attributes = "\n".join(
        tests[s:e] for s, e in tests_scan.inner_attributes
        if re.sub(r"\s", "", tests[s:e]) != "#![cfg(test)]")
    table = "".join(_table_entry(test) for test in tests_scan.tests)
    main = (
        "#![allow(warnings)]\n"
        f"{crate_attributes}\n"
        'include!("solution.rs");\n\n'
        f"mod {_TESTS_MODULE} {{\n{module_attributes}\n"
        "    use super::*;\n"
        '    include!("tests.rs");\n'
        "}\n\n"
        '#[path = "assay_runner.rs"]\n'
        "mod __assay_runner;\n\n"
        "fn main() {\n"
        "    use __assay_runner::{Expect, Test, TestReturn};\n"
        f"    __assay_runner::run(&[\n{table}    ]);\n"
        "}\n"
    )
    return RustProgram(main=main, solution=_apply(solution, solution_edits),
                       tests=_apply(tests, edits), test_names=[t.name for t in tests_scan.tests])


def _table_entry(test: RustTest) -> str:
    if not test.should_panic:
        expect = "Expect::Return"
    elif test.expected is None:
        expect = "Expect::Panic(None)"
    else:
        expect = f"Expect::Panic(Some({_rust_string(test.expected)}))"
    return (f"        Test {{ name: {_rust_string(test.name)}, expect: {expect}, "
            f"run: || TestReturn::into_result({_TESTS_MODULE}::{test.name}()) }},\n")


def _rust_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace spans (start, end, text); a removed span keeps its newlines."""
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        replaced = text or re.sub(r"[^\n]", " ", source[start:end])
        source = source[:start] + replaced + source[end:]
    return source


def mask_rust(source: str, comments: list[int] | None = None) -> str:
    """The source with the insides of comments, strings and char literals blanked (newlines
    kept), so that patterns only match code; offsets are the same as in ``source``. The
    offset where each comment starts is added to ``comments`` when given."""
    out = list(source)
    i, n = 0, len(source)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        char = source[i]
        raw = _RAW_STRING.match(source, i) if char in "bcr" else None
        if raw is not None:
            end = source.find('"' + raw.group(1), raw.end())
            end = n if end < 0 else end + 1 + len(raw.group(1))
            blank(raw.end(), end - 1 - len(raw.group(1)))
        elif source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            if comments is not None:
                comments.append(i)
        elif source.startswith("/*", i):
            if comments is not None:
                comments.append(i)
            end, depth = i + 2, 1
            while end < n and depth:
                if source.startswith("/*", end):
                    depth, end = depth + 1, end + 2
                elif source.startswith("*/", end):
                    depth, end = depth - 1, end + 2
                else:
                    end += 1
            blank(i, end)
        elif char == '"' or (char == "'" and (source[i + 1:i + 2] == "\\"
                                              or source[i + 2:i + 3] == "'")):
            end = i + 1
            while end < n and source[end] != char:
                end += 2 if source[end] == "\\" else 1
            end = min(end + 1, n)
            blank(i + 1, end - 1)
        else:
            i += 1  # a lifetime's or a label's quote is code
            continue
        i = end
    return "".join(out)


def _attribute_end(masked: str, open_at: int) -> int:
    """The offset after the `]` closing the attribute whose `[` is at ``open_at``."""
    depth = 0
    for k in range(open_at, len(masked)):
        if masked[k] == "[":
            depth += 1
        elif masked[k] == "]":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(masked)


def scan_rust(source: str) -> RustScan:
    """Find the tests, the modules holding them, the file's inner attributes, the
    ``#[cfg(test)]`` attributes and a top-level ``fn main``, by reading the tokens."""
    comments: list[int] = []
    masked = mask_rust(source, comments)
    scan = RustScan()
    # Inner doc comments (//! and /*!) are inner attributes, which include! refuses.
    scan.inner_doc_comments = [at + 2 for at in comments if source.startswith("!", at + 2)]
    modules: list[tuple[str, int, int, bool]] = []  # (name, body depth, `mod` at, public)
    attributes: list[tuple[int, int]] = []  # the pending item's outer attributes
    item_at: int | None = None  # where the pending item's words start (after attributes)
    public = False
    holding_tests: set[int] = set()
    depth, pos = 0, 0
    while (match := _TOKEN.search(masked, pos)) is not None:
        token, pos = match.group(), match.end()
        if token.startswith("#") and token.endswith("["):
            end = _attribute_end(masked, match.end() - 1)
            if token.startswith("#!"):
                if depth == 0:
                    scan.inner_attributes.append((match.start(), end))
            else:
                attributes.append((match.start(), end))
                if re.sub(r"\s", "", masked[match.start():end]) == "#[cfg(test)]":
                    scan.cfg_test.append((match.start(), end))
                item_at, public = None, False
            pos = end
            continue
        if token in _QUALIFIERS:
            item_at = match.start() if item_at is None else item_at
            public = public or token == "pub"
            continue
        module_depth = modules[-1][1] if modules else 0
        if token in ("fn", "mod") and (name := _IDENT.match(masked, pos)) is not None:
            pos = name.end()
            at = match.start() if item_at is None else item_at
            if token == "fn" and depth == module_depth:
                test = _as_test(source, masked, attributes, name.group(1), modules, at, public)
                if test is not None:
                    scan.tests.append(test)
                    holding_tests.update(m[2] for m in modules if not m[3])
                elif not modules and depth == 0 and name.group(1) == "main":
                    scan.main_fn = name.start(1)
                    scan.main_item = RustTest(name="main", fn_at=at, public=public,
                                              attributes=[])
            elif token == "mod" and masked[pos:].lstrip().startswith("{"):
                pos = masked.index("{", pos) + 1
                depth += 1
                modules.append((name.group(1), depth, at, public))
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if modules and modules[-1][1] > depth:
                modules.pop()
        attributes, item_at, public = [], None, False
    scan.private_modules = sorted(holding_tests)
    return scan


def _as_test(source: str, masked: str, attributes: list[tuple[int, int]], name: str,
             modules: list[tuple[str, int, int, bool]], fn_at: int, public: bool
             ) -> RustTest | None:
    kinds = {span: re.sub(r"\s", "", masked[span[0]:span[1]])[2:-1] for span in attributes}
    if not any(kind == "test" for kind in kinds.values()):
        return None
    test = RustTest(name="::".join([*(m[0] for m in modules), name]), fn_at=fn_at,
                    public=public, attributes=[])
    for span, kind in kinds.items():
        word = re.match(r"\w+", kind)
        if word is None or word.group() not in ("test", "should_panic", "ignore"):
            continue
        test.attributes.append(span)
        if word.group() == "should_panic":
            test.should_panic = True
            expected = _EXPECTED.search(source, span[0], span[1])
            if expected is not None:
                test.expected = _unescape(expected.group(1))
    return test


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(
        m.group(1), m.group(1)), text)

