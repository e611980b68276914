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

import json
import os
import shlex
import shutil
import stat
from pathlib import Path
from typing import Any

from assay.swe.env.base import ENV, REPO, REPORT, SCRIPT_HEAD, SRC, Ecosystem, TestCommand
from assay.swe.env.npm_scripts import REPORTER, Runner, choose_runner, runner_line
from assay.swe.reports import NODE_TEST_REPORTER, TestReport, read_report_file
from assay.swe.reports.base import not_run
from assay.swe.reports.formats import ReportFormat

NODE_DIR = f"{ENV}/node"
NODE_MODULES = f"{NODE_DIR}/node_modules"
LOCKS = ("npm-shrinkwrap.json", "package-lock.json")  # npm's order: shrinkwrap wins
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
                  + runner_line(runner) + "\n")
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


__all__ = ["NODE_MODULES", "JavaScript", "Runner", "choose_runner"]
