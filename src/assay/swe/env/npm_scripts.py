"""Which test runner an npm project uses, read from its ``test`` script.

The script is split into shell words without running it; the runner is the one it starts
(followed through ``npm run``, ``yarn``, ``pnpm exec`` and npm-run-all's ``run-s``/``run-p``;
past prefixes such as ``VAR=…``, ``cross-env``, ``npx``, ``nyc``, ``c8`` and ``node
--experimental-vm-modules …/jest.js``), else the first of jest, vitest and mocha among the
dependencies, else node's own. The project's arguments to the runner are kept as written,
minus the options assay sets itself (see :func:`runner_line`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from assay.sandbox.languages.base import WORK_DIR
from assay.swe.env.base import REPORT

REPORTER = "node_reporter.mjs"  # NODE_TEST_REPORTER's name in the sandbox's work dir

# The runner executables a test script names, by file name (``node_modules/.bin/jest``,
# ``node node_modules/jest/bin/jest.js``).
_RUNNER_FILES = {"jest": "jest", "jest.js": "jest", "vitest": "vitest", "vitest.mjs": "vitest",
                 "mocha": "mocha", "_mocha": "mocha", "mocha.js": "mocha"}
# Commands that run the runner that follows them (their own options are dropped).
_WRAPPERS = frozenset({"npx", "nyc", "c8"})
# Node options that take a value as the next word.
_NODE_VALUE_OPTIONS = frozenset({"-r", "--require", "--import", "--loader",
                                 "--experimental-loader", "-C", "--conditions"})
# Options assay sets itself, per runner: (those taking a value, flags).
_OWN_OPTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "jest": (frozenset({"--outputFile", "--reporters", "--changedSince"}),
             frozenset({"--json", "--watch", "--watchAll", "--coverage", "--collectCoverage",
                        "--ci", "--forceExit", "-u", "--updateSnapshot", "-o",
                        "--onlyChanged", "--lastCommit"})),
    "vitest": (frozenset({"--reporter", "--outputFile"}),
               frozenset({"--watch", "-w", "--run", "--ui", "--coverage", "-u", "--update",
                          "--changed"})),
    "mocha": (frozenset({"--reporter", "-R", "--reporter-option", "--reporter-options", "-O",
                         "--watch-files", "--watch-ignore"}),
              frozenset({"--watch", "-w", "--exit"})),
    "node": (frozenset({"--test-reporter", "--test-reporter-destination"}),
             frozenset({"--test", "--watch", "--experimental-test-coverage"})),
}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SCRIPT_RUNNERS = frozenset({"run-s", "run-p", "npm-run-all"})  # npm-run-all's commands
_PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm"})
_OPERATOR = frozenset(";&|<>")
Word = tuple[str, str]  # a shell word: (its value, quotes undone; the word as written)


@dataclass(frozen=True)
class Runner:
    """A test runner and how the project starts it.

    Attributes:
        name: jest, vitest, mocha or node.
        command: Shell words that start it (environment assignments first), as written.
        args: The project's own arguments to it (shell words as written), minus assay's.
    """

    name: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()


def choose_runner(package: dict[str, Any]) -> Runner:
    """The runner of a project: the one its test script runs, else the first of jest,
    vitest and mocha it depends on, else node's."""
    scripts = _mapping(package.get("scripts"))
    found = _script_runner(scripts, "test", set())
    if found is not None:
        return found
    dependencies = {**_mapping(package.get("dependencies")),
                    **_mapping(package.get("devDependencies"))}
    for name in ("jest", "vitest", "mocha"):
        if name in dependencies:
            return Runner(name, (name,))
    return Runner("node", ("node",))


def runner_line(runner: Runner) -> str:
    """The shell line that runs ``runner``, writing its report into /report."""
    command, args = " ".join(runner.command), " ".join(runner.args)
    if runner.name == "jest":
        own = (f"--ci --json --outputFile={REPORT}/jest.json --forceExit --watchAll=false "
               "--coverage=false")
        return f"{command} {own} {args}"
    if runner.name == "vitest":
        return f"{command} run --reporter=json --outputFile={REPORT}/vitest.json {args}"
    if runner.name == "mocha":
        # Mocha before 9.2 ignores the output option and prints the JSON: keep stdout too.
        own = f"--reporter json --reporter-options output={REPORT}/mocha.json --exit"
        return f"{command} {own} {args} | tee {REPORT}/mocha-stdout.json"
    # node: its options go before the file arguments (node reads no option after one).
    own = (f"--test --test-reporter={WORK_DIR}/{REPORTER} "
           f"--test-reporter-destination={REPORT}/node.jsonl")
    return f"{command} {own} {args}"


# ---- the test script -----------------------------------------------------------------------


def _script_runner(scripts: dict[str, Any], name: str, seen: set[str]) -> Runner | None:
    """The runner the npm script ``name`` runs (through ``npm run`` and npm-run-all)."""
    body = scripts.get(name)
    if not isinstance(body, str) or name in seen or len(seen) > 20:
        return None
    seen.add(name)
    for words in _commands(body):
        found = _command_runner(words)
        if found is not None:
            return found
        for called in _called_scripts(words, scripts):
            found = _script_runner(scripts, called, seen)
            if found is not None:
                return found
    return None


def _commands(script: str) -> list[list[Word]]:
    """The simple commands of a shell script, split at ``&&``, ``||``, ``;``, ``|`` and
    ``&``; a redirection ends its command's words (``2>&1`` takes its fd with it). Quotes
    are undone in the values and kept in the words as written. [] when a quote is open."""
    commands: list[list[Word]] = [[]]
    redirected = False
    i, n = 0, len(script)
    while i < n:
        if script[i].isspace():
            i += 1
        elif script[i] in _OPERATOR:
            j = i
            while j < n and script[j] in _OPERATOR:
                j += 1
            redirected = bool(set(script[i:j]) & set("<>"))
            if not redirected:
                commands.append([])
            i = j
        else:
            start = i
            value, i = _word(script, i)
            if value is None:
                return []
            fd = script[i:i + 1] in ("<", ">") and value.isdigit()
            if not redirected and not fd:
                commands[-1].append((value, script[start:i]))
    return [c for c in commands if c]


def _word(script: str, i: int) -> tuple[str | None, int]:
    """The value of the word starting at ``i`` (sh quoting rules) and where it ends."""
    value: list[str] = []
    n = len(script)
    while i < n and not script[i].isspace() and script[i] not in _OPERATOR:
        c = script[i]
        if c == "'":
            close = script.find("'", i + 1)
            if close < 0:
                return None, n
            value.append(script[i + 1:close])
            i = close + 1
        elif c == '"':
            i += 1
            while i < n and script[i] != '"':
                escaped = script[i] == "\\" and i + 1 < n and script[i + 1] in '"\\$`'
                value.append(script[i + 1] if escaped else script[i])
                i += 2 if escaped else 1
            if i >= n:
                return None, n
            i += 1
        elif c == "\\" and i + 1 < n:
            value.append(script[i + 1])
            i += 2
        else:
            value.append(c)
            i += 1
    return "".join(value), i


def _command_runner(words: list[Word]) -> Runner | None:
    """The runner a simple command starts, with the project's arguments to it."""
    prefix: list[str] = []
    i = 0
    while i < len(words):
        value, raw = words[i]
        base = value.rsplit("/", 1)[-1]
        if _ASSIGNMENT.match(value) or base in ("cross-env", "env"):
            prefix.append(raw)
            i += 1
        elif base in _WRAPPERS:
            # npx / nyc / c8 and their options: on to the next runner-looking word.
            i = next((j for j in range(i + 1, len(words)) if _startable(words[j][0])),
                     len(words))
        elif base in _PACKAGE_MANAGERS and i + 1 < len(words) and (
                words[i + 1][0] == "exec" or _startable(words[i + 1][0])):
            i += 2 if words[i + 1][0] == "exec" else 1  # npm exec jest, yarn jest
        elif value == "--":
            i += 1
        elif base in _RUNNER_FILES:
            name = _RUNNER_FILES[base]
            return Runner(name, (*prefix, raw), _project_args(name, words[i + 1:]))
        elif base == "react-scripts" and i + 1 < len(words) and words[i + 1][0] == "test":
            return Runner("jest", (*prefix, raw, "test"), _project_args("jest", words[i + 2:]))
        elif base == "node":
            return _node_runner(prefix, words[i:])
        else:
            return None
    return None


def _node_runner(prefix: list[str], words: list[Word]) -> Runner | None:
    """``node --test ...``, or node starting a runner's script (``node
    --experimental-vm-modules node_modules/jest/bin/jest.js``)."""
    i = 1
    while i < len(words) and words[i][0].startswith("-"):
        if words[i][0] == "--test":
            return Runner("node", (*prefix, words[0][1]), _project_args("node", words[1:]))
        i += 2 if words[i][0] in _NODE_VALUE_OPTIONS else 1
    if i < len(words):
        name = _RUNNER_FILES.get(words[i][0].rsplit("/", 1)[-1])
        if name is not None:
            command = (*prefix, *(raw for _, raw in words[:i + 1]))
            return Runner(name, command, _project_args(name, words[i + 1:]))
    return None


def _project_args(runner: str, words: list[Word]) -> tuple[str, ...]:
    """The words of a runner's command line, minus the options assay sets."""
    valued, flags = _OWN_OPTIONS[runner]
    kept: list[str] = []
    i = 0
    if runner == "vitest" and words and words[0][0] in ("run", "watch", "dev"):
        i = 1  # the subcommand: assay's is "run"
    while i < len(words):
        value, raw = words[i]
        option = value.split("=", 1)[0]
        if option in valued:
            i += 1 if "=" in value else 2
        elif option in flags or option.startswith("--coverage."):
            i += 1
        else:
            kept.append(raw)
            i += 1
    return tuple(kept)


def _called_scripts(words: list[Word], scripts: dict[str, Any]) -> list[str]:
    """The npm scripts a command runs: ``npm run x``, ``npm test``, ``yarn x``, ``run-s
    'test:*'``."""
    values = [value for value, _ in words]
    head = values[0].rsplit("/", 1)[-1] if values else ""
    rest = [v for v in values[1:] if not v.startswith("-")]
    if head in _PACKAGE_MANAGERS and rest:
        if rest[0] in ("run", "run-script") and len(rest) > 1:
            return [rest[1]]
        if rest[0] in ("test", "t"):
            return ["test"]
        return [rest[0]] if head != "npm" else []  # yarn x / pnpm x: the script x
    if head in _SCRIPT_RUNNERS:
        return [name for pattern in rest for name in scripts
                if fnmatch.fnmatchcase(name, pattern)]
    return []


def _startable(value: str) -> bool:
    base = value.rsplit("/", 1)[-1]
    return base in _RUNNER_FILES or base in ("node", "react-scripts")


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


__all__ = ["Runner", "choose_runner", "runner_line"]
