"""JavaScript unit tests: ``node:test`` tests, and scripts of ``console.assert`` / ``assert``
calls (HumanEval-X, MultiPL-E), where each call site is its own test.

The runner (``runners/js_unit.js``) is shared with TypeScript. Here, outside the sandbox, the
test file is read with a small tokenizer: it tells the two styles apart and, for scripts,
finds every assertion call site and wraps it in a thunk (``__assay_site(id, () => call)``),
so that inside the sandbox a site that throws, hangs or kills the process costs only itself.
The rewrite keeps every line where it was, so line numbers stay those of the test file.

Many solutions can share one sandbox run (``build_batch``): one supervisor node for the whole
batch, which reads every input first, then per solution writes its files into the work dir,
runs its tests exactly as a run of its own would (a child node, a new child after a crash or
a timeout), and clears away what it left (processes, files in the work dir and ``/tmp``).
node cannot fork, so each solution still costs a child node start; a batch saves the sandbox
start and the supervisor's start of every solution but the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assay.harness.base import Harness, HarnessTask, register_harness, runner_source
from assay.sandbox import RunSpec
from assay.sandbox.languages.base import WORK_DIR

RUNNER = "js_unit.js"
PLAN_FILE = "assay_plan.json"
# A batch: its inputs, and the variable that tells the runner where they are (an argument
# could be mistaken for a test named "--batch").
BATCH_FILE = "assay_batch.json"
BATCH_VARIABLE = "ASSAY_JS_BATCH"
# Used when the runner must find the tests itself (node:test); it only sizes the time limit.
GUESSED_TEST_COUNT = 50

_IDENT = re.compile(r"#?[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*")
_NUMBER = re.compile(r"(?:\d|\.\d)[\w.]*")
_PUNCT = ("...", "=>", "?.", "${")
_SPACE = " \t\r\n\f\v\ufeff\u00a0\u2028\u2029"
# After these a "/" starts a regular expression, after anything else it divides.
_BEFORE_REGEX_WORDS = frozenset({"return", "typeof", "case", "do", "else", "in", "of", "new",
                                 "delete", "void", "throw", "instanceof", "yield", "await"})
_OPENERS = {"(": ")", "[": "]", "{": "}", "${": "}"}
_NODE_TEST_CALLS = frozenset({"test", "it", "describe", "suite"})


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text and where it starts in the source."""

    kind: str  # id | num | str | tpl | re | p (punctuator)
    text: str
    start: int


@dataclass(frozen=True)
class AssertSite:
    """One assertion call of a test file: ``console.assert(...)``, ``assert(...)`` or
    ``assert.method(...)``, spanning ``source[start:end]``."""

    name: str
    line: int
    end_line: int
    start: int
    callee_end: int  # where the "(" of the call is
    end: int
    console: bool
    awaits: bool


def tokenize(source: str) -> list[Token]:
    """The tokens of JavaScript (or TypeScript) source, comments dropped. Good enough to
    match brackets and find calls; not a validating parser."""
    tokens: list[Token] = []
    template_depths: list[int] = []  # brace depth at which each open `${` closes
    depth = 0
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char in _SPACE:
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif char in "\"'":
            end = _string_end(source, i + 1, char)
            tokens.append(Token("str", source[i:end], i))
            i = end
        elif char == "`" or (char == "}" and template_depths and template_depths[-1] == depth):
            if char == "}":
                template_depths.pop()
                tokens.append(Token("p", "}", i))
            end, opens_expression = _template_end(source, i + 1)
            tokens.append(Token("p", "${", end - 2) if opens_expression
                          else Token("tpl", source[i:end], i))
            if opens_expression:
                template_depths.append(depth)
            i = end
        elif char == "/" and _regex_allowed(tokens):
            regex_end = _regex_end(source, i + 1) or i + 1  # a lone "/" when not a regex
            tokens.append(Token("re" if regex_end > i + 1 else "p", source[i:regex_end], i))
            i = regex_end
        elif match := _IDENT.match(source, i):
            tokens.append(Token("id", match.group(), i))
            i = match.end()
        elif match := _NUMBER.match(source, i):
            tokens.append(Token("num", match.group(), i))
            i = match.end()
        else:
            text = next((p for p in _PUNCT if source.startswith(p, i)), char)
            depth += {"{": 1, "}": -1}.get(text, 0)
            tokens.append(Token("p", text, i))
            i += len(text)
    return tokens


def _string_end(source: str, i: int, quote: str) -> int:
    while i < len(source) and source[i] not in (quote, "\n"):
        i += 2 if source[i] == "\\" else 1
    return min(i + 1, len(source))


def _template_end(source: str, i: int) -> tuple[int, bool]:
    """End of a template chunk starting at i: after the closing backtick, or after `${`."""
    while i < len(source):
        if source[i] == "\\":
            i += 2
        elif source[i] == "`":
            return i + 1, False
        elif source.startswith("${", i):
            return i + 2, True
        else:
            i += 1
    return len(source), False


def _regex_allowed(tokens: list[Token]) -> bool:
    if not tokens:
        return True
    last = tokens[-1]
    if last.kind == "id":
        return last.text in _BEFORE_REGEX_WORDS
    return last.kind == "p" and last.text not in (")", "]")


def _regex_end(source: str, i: int) -> int | None:
    """End of a regular expression literal whose body starts at i, or None if there is none
    on this line (then the "/" was a division after all)."""
    in_class = False
    while i < len(source) and source[i] != "\n":
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            match = _IDENT.match(source, i + 1)
            return match.end() if match else i + 1
        i += 1
    return None


def _closing(tokens: list[Token], open_index: int) -> int | None:
    """Index of the token closing the bracket at open_index."""
    stack: list[str] = []
    for index in range(open_index, len(tokens)):
        token = tokens[index]
        if token.kind != "p":
            continue
        if token.text in _OPENERS:
            stack.append(_OPENERS[token.text])
        elif token.text in (")", "]", "}"):
            if not stack or stack.pop() != token.text:
                return None
            if not stack:
                return index
    return None


def _text(tokens: list[Token], index: int) -> str:
    return tokens[index].text if 0 <= index < len(tokens) else ""


def _callee_length(tokens: list[Token], index: int) -> tuple[int, bool] | None:
    """(tokens in the callee, is console.assert) when an assertion call starts at index."""
    token = tokens[index]
    if token.kind != "id" or _text(tokens, index - 1) in (".", "?.", "function"):
        return None
    if token.text == "console" and [_text(tokens, index + k) for k in (1, 2, 3)] == \
            [".", "assert", "("]:
        return 3, True
    if token.text != "assert":
        return None
    if _text(tokens, index + 1) == "(":
        return 1, False
    if _text(tokens, index + 1) == "." and tokens[index + 2:index + 3] and \
            tokens[index + 2].kind == "id" and _text(tokens, index + 3) == "(":
        return 3, False
    return None


def find_assert_sites(source: str) -> list[AssertSite]:
    """Every outermost assertion call of a test file, in source order, named
    ``assert:LINE`` (``assert:LINE:N`` when a line holds several)."""
    tokens = tokenize(source)
    found: list[tuple[int, int, int, bool, bool]] = []
    covered_until = -1
    for index, token in enumerate(tokens):
        callee = _callee_length(tokens, index)
        if callee is None or token.start < covered_until:
            continue
        length, console = callee
        close = _closing(tokens, index + length)
        if close is None or _text(tokens, close + 1) == "{":  # a method definition
            continue
        inside = {t.text for t in tokens[index:close] if t.kind == "id"}
        # Await in the call needs an async thunk, unless it belongs to a nested async function.
        awaits = "await" in inside and "async" not in inside
        end = tokens[close].start + 1
        found.append((token.start, tokens[index + length].start, end, console, awaits))
        covered_until = end
    lines = [source.count("\n", 0, start) + 1 for start, *_ in found]
    sites = []
    for position, (start, callee_end, end, console, awaits) in enumerate(found):
        line = lines[position]
        same_line = [k for k, other in enumerate(lines) if other == line]
        name = f"assert:{line}" if len(same_line) == 1 else \
            f"assert:{line}:{same_line.index(position) + 1}"
        sites.append(AssertSite(name=name, line=line, end_line=line + source.count(
            "\n", start, end), start=start, callee_end=callee_end, end=end, console=console,
            awaits=awaits))
    return sites


def rewrite_sites(source: str, sites: Sequence[AssertSite]) -> str:
    """The test file with each site run through the runner's ``__assay_site``; every line
    stays where it was (only text within lines is added)."""
    pieces = []
    done = 0
    for site_id, site in enumerate(sites):
        callee = source[site.start:site.callee_end]
        if site.console:  # the runner's console.assert, which records a false condition
            callee = f"__assay_assert({site_id}, " + "\n" * callee.count("\n")
            call = callee + source[site.callee_end + 1:site.end]
        else:
            call = source[site.start:site.end]
        thunk = f"__assay_site({site_id}, () => {call})"
        if site.awaits:
            thunk = f"(await __assay_site_async({site_id}, async () => {call}))"
        pieces += [source[done:site.start], thunk]
        done = site.end
    pieces.append(source[done:])
    return "".join(pieces)


def uses_node_test(source: str) -> bool:
    """True when the file's tests are ``node:test`` tests: it imports ``node:test``, or calls
    test/it/describe with a title as the mocha-style globals (without declaring them)."""
    tokens = tokenize(source)
    declared = {tokens[k + 1].text for k, token in enumerate(tokens[:-1])
                if token.text in ("function", "const", "let", "var", "class")}
    for index, token in enumerate(tokens):
        if token.kind == "str" and token.text[1:-1] in ("node:test", "test") and \
                _text(tokens, index - 1) in ("(", "from", "import"):
            return True
        if token.kind == "id" and token.text in _NODE_TEST_CALLS and \
                token.text not in declared and _text(tokens, index - 1) not in (".", "?.") \
                and _text(tokens, index + 1) == "(" and _is_title(tokens, index + 2):
            return True
    return False


def _is_title(tokens: list[Token], index: int) -> bool:
    """A string or template literal starts at index (a template with `${` starts with it)."""
    return index < len(tokens) and (tokens[index].kind in ("str", "tpl") or
                                    tokens[index].text == "${")


@dataclass(frozen=True)
class TestPlan:
    """How the runner runs one test file: what it evaluates and the sites it expects."""

    node_test: bool
    tests_source: str  # the file to evaluate (sites rewritten)
    sites: list[AssertSite]

    @property
    def site_names(self) -> list[str]:
        return [site.name for site in self.sites]


def plan_tests(source: str) -> TestPlan:
    """Which style the test file is in and, for a script, its sites and rewritten text."""
    if uses_node_test(source):
        return TestPlan(node_test=True, tests_source=source, sites=[])
    sites = find_assert_sites(source)
    return TestPlan(node_test=False, tests_source=rewrite_sites(source, sites), sites=sites)


def plan_json(plan: TestPlan, original: str, *, language: str, solution: str, tests: str,
              display: dict[str, str], fallback: str | None) -> str:
    """The runner's instructions (``assay_plan.json``): paths as seen in the sandbox, the
    names to show in messages, and the sites with their source text."""
    sites = [{"name": s.name, "line": s.line, "end_line": s.end_line,
              "text": _one_line(original[s.start:s.end])} for s in plan.sites]
    # Messages quote the test file as written; compiled code (TypeScript) is quoted as run.
    lines = original.split("\n") if language == "javascript" else None
    return json.dumps({"language": language, "mode": "node_test" if plan.node_test else "sites",
                       "solution": solution, "tests": tests, "display": display,
                       "fallback_tests": fallback, "tests_lines": lines, "sites": sites})


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."



def unit_test_names(task: HarnessTask) -> list[str] | None:
    """The suite's named cases, else the assertion sites of a script; None for node:test
    files, whose tests only the runner can find (by loading the file)."""
    if task.suite.cases:
        return [case.name for case in task.suite.cases]
    plan = plan_tests(task.test_file)
    return None if plan.node_test or not plan.sites else plan.site_names


def javascript_test_files(plan: TestPlan, original: str) -> dict[str, str]:
    """The work-dir files of one test file: the tests as run, the original (a fallback for
    scripts), and the runner's plan. The same for every solution of a problem."""
    files = {"tests.js": plan.tests_source}
    fallback = None
    if not plan.node_test:
        # Run as written when the rewritten file does not parse (a site the tokenizer
        # misread); the runner then tells the sites apart by their line.
        files["tests.orig.js"] = original
        fallback = f"{WORK_DIR}/tests.orig.js"
    files[PLAN_FILE] = plan_json(
        plan, original, language="javascript", solution=f"{WORK_DIR}/solution.js",
        tests=f"{WORK_DIR}/tests.js", display={}, fallback=fallback)
    return files


def expected_test_count(plan: TestPlan, only: Sequence[str] = ()) -> int:
    """Tests a run is sized for (its time limit)."""
    return len(only) or len(plan.sites) or GUESSED_TEST_COUNT


@register_harness
class JavaScriptUnitHarness(Harness):
    """Runs ``solution.js`` against ``tests.js`` with ``runners/js_unit.js`` under node."""

    kind = "unit"
    languages = ("javascript",)
    batchable = True

    def test_names(self, task: HarnessTask) -> list[str] | None:
        return unit_test_names(task)

    def build(self, task: HarnessTask, only: Sequence[str]) -> RunSpec:
        original = task.test_file
        plan = plan_tests(original)
        files = {"runner.js": runner_source(RUNNER), "solution.js": task.code,
                 **javascript_test_files(plan, original)}
        return RunSpec(language="javascript", files=files, entry="runner.js",
                       argv=tuple(only), env=self.runner_env(task), report=True,
                       limits=self.limits(task, expected_test_count(plan, only)))

    def build_batch(self, tasks: Sequence[HarnessTask]) -> RunSpec:
        # Solutions of one problem share their test file, which is planned and sent once.
        plans: dict[str, TestPlan] = {}
        for task in tasks:
            if task.test_file not in plans:
                plans[task.test_file] = plan_tests(task.test_file)
        suite_index = {test_file: index for index, test_file in enumerate(plans)}
        jobs = [{"tests": suite_index[task.test_file], "files": {"solution.js": task.code},
                 "env": self.runner_env(task)} for task in tasks]
        batch = json.dumps({"tests": [javascript_test_files(plan, test_file)
                                      for test_file, plan in plans.items()], "jobs": jobs})
        # The solutions run one after another, each with the whole memory of the run (the
        # most any of them asks for: the solutions of a verify run all ask the same).
        wall_s = sum(self.limits(task, expected_test_count(plans[task.test_file])).wall_s
                     for task in tasks)
        limits = self.limits(tasks[0], 1).with_(
            wall_s=wall_s, cpu_s=wall_s, memory_mb=max(task.memory_mb for task in tasks))
        return RunSpec(language="javascript",
                       files={"runner.js": runner_source(RUNNER), BATCH_FILE: batch},
                       entry="runner.js", env={BATCH_VARIABLE: BATCH_FILE}, report=True,
                       limits=limits)
