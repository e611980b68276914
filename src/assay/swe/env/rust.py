"""Rust: the crates in a Cargo home and the dependencies built in the environment, then
``cargo test``.

The setup stage fetches the crates the lock file names into ``/env/cargo`` (a Cargo home
of the environment's own; a dependency that cannot be fetched fails the setup) and builds
the test targets once with ``CARGO_TARGET_DIR=/env/target``, so that the dependencies are
compiled there. The workspace's own crates may fail to build at that state: the setup
still succeeds, since only their dependencies are kept. A repository without a Cargo.lock
gets the one the setup resolved (``/env/Cargo.lock``), so its tests build against the very
versions that were fetched and compiled.

Test runs have no network (``--offline``). Cargo only reads the Cargo home then, so it is
used read-only where it is; the target dir must be writable, so the warm one is copied into
the run's scratch directory (a fraction of a second for 120 MB, where building serde,
serde_json and regex again takes 20 s): the dependencies are fresh there (their
fingerprints hold versions, not paths) and only the workspace's crates are compiled.

Those must be compiled from the checkout's sources, always: Cargo deems a path crate fresh
when its sources are older than its last build, whatever they hold, and a tree written
before the setup ran (the pipeline writes the trees before and after a fix, then sets up
from one) would be tested with the other's build. So setup removes the workspace's own
artifacts from ``/env/target``, and every file of a checkout is made newer than the setup
before a run. Incremental compilation is off in both stages: it only serves the
workspace's crates, which are built once per run, and its files would be copied for
nothing.

The toolchain is the host's (the rustup sysroot, its ``bin`` on PATH): rustup is not in
the sandbox, so a ``rust-toolchain.toml`` is not obeyed; it is still a definition file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import time
from pathlib import Path

from assay.swe.env.base import (
    ENV,
    REPORT,
    SCRATCH,
    SCRIPT_HEAD,
    SRC,
    Ecosystem,
    TestCommand,
    copy_tree,
)
from assay.swe.reports import TestReport, read_report_file

CARGO_HOME = f"{ENV}/cargo"
TARGET = "target"  # under /env (dependencies built by setup), then under /scratch (a copy)
LOCK_FILE = "Cargo.lock"
REPORT_FILE = "cargo.txt"
_COMMON_ENV = {"CARGO_HOME": CARGO_HOME, "CARGO_INCREMENTAL": "0",
               "CARGO_TERM_COLOR": "never", "CARGO_TERM_PROGRESS_WHEN": "never"}

# `cargo clean -p` of every workspace member, by id (read without jq: the host may lack it).
_CLEAN_MEMBERS = r"""members=$(cargo metadata --offline --no-deps --format-version 1 \
  | grep -o '"workspace_members":\[[^]]*\]' | grep -o '"[^"]*"' | sed 1d | tr -d '"') || true
set --
for id in $members; do set -- "$@" -p "$id"; done
if [ $# -gt 0 ]; then cargo clean --offline -q "$@" || true; fi"""


class Rust(Ecosystem):
    name = "rust"
    toolchains = ("rust",)
    definition_globs = ("**/Cargo.toml", LOCK_FILE, "rust-toolchain", "rust-toolchain.toml",
                        ".cargo/config.toml", ".cargo/config")

    def detect(self, tree: Path) -> bool:
        return (tree / "Cargo.toml").is_file()

    def definition_files(self, tree: Path) -> list[str]:
        # A build's output (a committed or left-over target dir) holds copies of manifests.
        return [f for f in super().definition_files(tree) if TARGET not in Path(f).parts[:-1]]

    def setup_script(self, tree: Path) -> str:
        env = {**_COMMON_ENV, "CARGO_TARGET_DIR": f"{ENV}/{TARGET}"}
        lines = [SCRIPT_HEAD + "set -e",
                 *(f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items())),
                 f"cd {SRC}",
                 "cargo --version",
                 # The crates of the host's platform only (a Windows crate is never built).
                 "cargo fetch --target \"$(rustc -vV | sed -n 's/^host: //p')\"",
                 f"cp {LOCK_FILE} {ENV}/{LOCK_FILE}",
                 # --no-fail-fast keeps building the other crates when one fails. Failures
                 # are the repository's, not setup's; the output (warnings of the workspace's
                 # crates) is kept short: too much stops the run.
                 "cargo test --workspace --offline --no-run --no-fail-fast > /tmp/build.log 2>&1"
                 " || echo 'assay: some crates did not build at this state'",
                 "tail -n 30 /tmp/build.log",
                 # The workspace's own crates are rebuilt by every run (see prepare_checkout):
                 # copying their artifacts would be for nothing.
                 _CLEAN_MEMBERS]
        return "\n".join(lines) + "\n"

    def test_command(self, tree: Path) -> TestCommand:
        env = {**_COMMON_ENV, "CARGO_TARGET_DIR": f"{SCRATCH}/{TARGET}"}
        # Without -q, stdout and stderr together: what the cargo report parser reads.
        script = (SCRIPT_HEAD + "cargo test --workspace --offline --no-fail-fast "
                  f"> {REPORT}/{REPORT_FILE} 2>&1\n")
        # cargo test exits 101 when a test failed or a crate did not build; 0 when all passed.
        return TestCommand(script=script, env=env, files={})

    def prepare_checkout(self, env_dir: Path, checkout: Path, scratch: Path) -> None:
        copy_tree(env_dir / TARGET, scratch / TARGET)
        if not os.path.lexists(checkout / LOCK_FILE):
            _copy_file(env_dir / LOCK_FILE, checkout / LOCK_FILE)
        _touch_files(checkout)

    def read_report(self, report_dir: Path, output: str, checkout: Path) -> TestReport:
        return read_report_file("cargo", report_dir / REPORT_FILE)


def _touch_files(tree: Path) -> None:
    """Make every file of the tree newer than anything in the target dir (see the module's
    docstring), links themselves rather than what they point to."""
    now = time.time_ns()
    for parent, _, files in os.walk(tree):
        for name in files:
            os.utime(os.path.join(parent, name), ns=(now, now), follow_symlinks=False)


def _copy_file(source: Path, target: Path) -> None:
    """Copy a plain file a sandboxed run wrote into a new file: neither end may be a link
    (the host would read or write where it points), nor the source a FIFO (it would block);
    a source that is not a plain file is not copied."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(fd, "rb") as data:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(out, "wb") as copy:
            shutil.copyfileobj(data, copy)
