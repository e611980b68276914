"""JavaScript and TypeScript: npm installs the dependencies into the environment, and the
project's own test runner (jest, vitest, mocha, else ``node --test``) runs the checkout.

Setup: the root ``package.json`` (without its ``scripts``), its lock (``npm-shrinkwrap.json``
or ``package-lock.json``) and ``.npmrc`` are copied into ``/env/node``, where ``npm ci`` (with
a lock) or ``npm install`` fills ``node_modules``. Only the root package is installed:
workspaces and ``file:`` dependencies, whose sources are not copied, are not supported.
Projects locked by yarn or pnpm are installed by npm from ``package.json`` alone.

Lifecycle scripts: those of the dependencies run (native addons build in them, and they run
in the sandbox like everything else); the project's own (``prepare``, ``postinstall``: a
build, git hooks, patch-package) do not, because they need the sources, which are not in
``/env``, and belong to the project at one state while the environment serves every state
with the same definition files. ``npm ci`` falls back to ``npm install`` when it fails (a
lock out of sync with ``package.json``), and npm's peer-dependency conflicts (ERESOLVE) get
one more try with ``--legacy-peer-deps``, as a developer would.

Test: ``<checkout>/node_modules`` becomes a link to ``/env/node/node_modules`` (absolute: it
resolves in the sandbox only). The runner is the one the ``test`` script runs (followed
through ``npm run``, ``run-s``), else the first of jest, vitest, mocha among the
dependencies, else ``node --test`` with node's default file discovery. The script's own
arguments for that runner are kept (spec globs, ``--config``, ``-r ts-node/register``),
minus the ones assay sets: the machine-readable report into ``/report``, no watch mode, no
coverage, and an exit once the tests are done (jest ``--forceExit``, mocha ``--exit``).
Other steps of the script (a build, a lint) are not run. Test ids are those of
:mod:`assay.swe.reports.jsjson` and :mod:`assay.swe.reports.nodetest`, their files relative
to ``/repo``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.sandbox.languages.base import WORK_DIR
from assay.swe.env.base import ENV, REPO, REPORT, SCRIPT_HEAD, SRC, Ecosystem, TestCommand
from assay.swe.reports import NODE_TEST_REPORTER, TestReport, read_report_file
from assay.swe.reports.base import not_run
from assay.swe.reports.formats import ReportFormat

NODE_DIR = f"{ENV}/node"
NODE_MODULES = f"{NODE_DIR}/node_modules"
LOCKS = ("npm-shrinkwrap.json", "package-lock.json")  # npm's order: shrinkwrap wins
REPORTER = "node_reporter.mjs"  # NODE_TEST_REPORTER's name in the sandbox's work dir
# Report files per runner, the first present wins (old mocha prints its JSON on stdout).
REPORTS: dict[ReportFormat, tuple[str, ...]] = {
    "jest": ("jest.json",), "vitest": ("vitest.json",),
    "mocha": ("mocha.json", "mocha-stdout.json"), "node": ("node.jsonl",)}
_MAX_PACKAGE_BYTES = 4 * 1024 * 1024

# package.json without "scripts", so that npm runs none of the project's own.
_STRIP_SCRIPTS = (
    "const fs = require('fs');"
    f"const p = JSON.parse(fs.readFileSync('{SRC}/package.json', 'utf8'));"
    "delete p.scripts;"
    "fs.writeFileSync('package.json', JSON.stringify(p, null, 2) + '\\n');")

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


class JavaScript(Ecosystem):
    name = "javascript"
    toolchains = ("javascript",)
    definition_globs = ("package.json", *LOCKS, ".npmrc")

    def detect(self, tree: Path) -> bool:
        return _regular(tree / "package.json")

    def setup_script(self, tree: Path) -> str:
        lock = next((name for name in LOCKS if _regular(tree / name)), None)
        lines = [SCRIPT_HEAD.rstrip(),
                 f"mkdir -p {NODE_DIR} && cd {NODE_DIR} || exit 1",
                 f"node -e {shlex.quote(_STRIP_SCRIPTS)} || exit 1"]
        if lock is not None:
            lines.append(f"cp {SRC}/{lock} . || exit 1")
        if _regular(tree / ".npmrc"):
            # Its settings (legacy-peer-deps, a registry) but not its credentials: lines
            # like //registry/:_authToken=${NPM_TOKEN} fail without the variable.
            lines.append(f"grep -v '^[[:space:]]*//' {SRC}/.npmrc > .npmrc || true")
        lines += ["export npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false "
                  # npm 11.16+ asks for an allowScripts list, and npm 12 will skip the
                  # scripts of dependencies not on it: run them all, as at the commit's time.
                  "npm_config_dangerously_allow_all_scripts=true",
                  # Every line of npm's output in the log, and in a file to look for ERESOLVE.
                  'npm_() { echo "+ npm $*"; npm --no-audit --no-fund --include=dev "$@" 2>&1'
                  " | tee -a /tmp/npm.log; }",
                  "retry_peers() { grep -q ERESOLVE /tmp/npm.log && npm_ install "
                  "--legacy-peer-deps; }"]
        if lock is not None:
            lines.append("npm_ ci || npm_ install || retry_peers || exit 1")
        else:
            lines.append("npm_ install || retry_peers || exit 1")
        # Even with no dependency the link prepare_checkout makes must resolve.
        lines.append("mkdir -p node_modules")
        return "\n".join(lines) + "\n"

    def prepare_checkout(self, env_dir: Path, checkout: Path, scratch: Path) -> None:
        link = checkout / "node_modules"
        # A committed node_modules (file, directory or link) goes; nothing is followed: a
        # link is removed itself, a directory's links are unlinked, not descended.
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        elif os.path.lexists(link):
            link.unlink()  # a fifo, a socket
        link.symlink_to(NODE_MODULES)

    def test_command(self, tree: Path) -> TestCommand:
        runner = choose_runner(_read_package(tree))
        script = (SCRIPT_HEAD + f'export PATH="{REPO}/node_modules/.bin:$PATH"\n'
                  + _runner_line(runner) + "\n")
        files: dict[str, str | bytes] = {}
        if runner.name == "node":
            files[REPORTER] = NODE_TEST_REPORTER.read_bytes()
        # CI=true: what the project's CI sees; no watch mode, no prompts (react-scripts).
        # Every runner exits 1 (mocha: the number of failures) when a test failed.
        return TestCommand(script=script, env={"CI": "true"}, files=files, ok_codes=(0,))

    def read_report(self, report_dir: Path, output: str, checkout: Path) -> TestReport:
        present: dict[ReportFormat, Path] = {}
        for fmt, names in REPORTS.items():
            found = [report_dir / n for n in names if (report_dir / n).is_file()]
            if found:
                present[fmt] = found[0]
        if len(present) != 1:
            why = "several" if present else "no"
            return not_run("javascript", f"{why} runner reports in {REPORT}: "
                           + ", ".join(n for names in REPORTS.values() for n in names))
        [(fmt, path)] = present.items()
        # The runners write sandbox paths (/repo/test/x.test.js): ids relative to /repo.
        return read_report_file(fmt, path, root=Path(REPO))


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


def _runner_line(runner: Runner) -> str:
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


# ---- reading the tree without following links ------------------------------------------------


def _regular(path: Path) -> bool:
    """A regular file, not a link to one (a link could name any host file)."""
    return path.is_file() and not path.is_symlink()


def _read_package(tree: Path) -> dict[str, Any]:
    """The root package.json, {} when it is missing, a link, not a regular file or not JSON."""
    try:
        fd = os.open(tree / "package.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        data = handle.read(_MAX_PACKAGE_BYTES + 1)
    try:
        doc = json.loads(data.decode("utf-8-sig")) if len(data) <= _MAX_PACKAGE_BYTES else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


__all__ = ["JavaScript", "Runner", "choose_runner"]
