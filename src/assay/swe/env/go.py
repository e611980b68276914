"""Go: the module cache and a warm build cache in the environment, then ``go test -json``.

The setup stage downloads every module of the build list into ``/env/gomod`` (the
checksum database checks them, with network) and compiles every package and its tests
once, without linking or running anything, so that the standard library and the
dependencies are compiled into ``/env/gocache``. The repository's own packages may fail to
build at that state: the setup still succeeds, since what matters is what they depend on.

Test runs have no network. Their proxy is the module cache itself (its download dir has
the proxy's layout), so nothing but what setup downloaded can be had, and ``GOSUMDB=off``
(every module in the cache was checked when it was downloaded). ``GOFLAGS=-mod=mod`` lets
Go complete a go.sum or a go.mod that is not tidy from there instead of refusing to build,
as it would with the default ``-mod=readonly``. Go only reads the module cache then, so
it is used read-only where it is; the build cache must be writable, so the warm one is
copied into the run's scratch directory: 0.4 s for the 70 MB of a small module, where an
empty cache costs 15 to 20 s of compiling the standard library again, per run.

cgo is on when the host has gcc (``/usr`` is visible in the sandbox): packages that use it
(sqlite drivers and the like) cannot build without it, and it is what ``go test`` does on a
developer's machine and in CI. The warm build cache holds the cgo builds of the standard
library, so it costs nothing per run.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from assay.sandbox.languages.base import SYSTEM_PATH
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

MOD_CACHE = f"{ENV}/gomod"
BUILD_CACHE = "gocache"  # under /env (warmed by setup), then under /scratch (a copy)
REPORT_FILE = "go.json"
# Directories whose go.mod files are never part of the build (fixtures, copies).
_SKIPPED_DIRS = {"vendor", "testdata", ".git"}


def _environment(tree: Path, build_cache: str) -> dict[str, str]:
    env = {"GOMODCACHE": MOD_CACHE, "GOCACHE": build_cache, "GOPATH": "/tmp/gopath",
           "GOTOOLCHAIN": "local", "GOTELEMETRY": "off",
           # cgo as on a developer's machine (see the module's docstring).
           "CGO_ENABLED": "1" if shutil.which("gcc", path=SYSTEM_PATH) else "0"}
    # -modcacherw: Go makes the module cache read-only, which keeps anyone but root from
    # removing an environment. A workspace (go.work) refuses -mod=mod: there Go's default
    # (readonly) it is.
    flags = ["-modcacherw"] if (tree / "go.work").is_file() else ["-mod=mod", "-modcacherw"]
    return {**env, "GOFLAGS": " ".join(flags)}


class Go(Ecosystem):
    name = "go"
    toolchains = ("go",)
    definition_globs = ("go.mod", "go.sum", "go.work", "go.work.sum")

    def detect(self, tree: Path) -> bool:
        return (tree / "go.mod").is_file()

    def definition_files(self, tree: Path) -> list[str]:
        files = super().definition_files(tree)
        if (tree / "go.work").is_file():
            # A workspace's modules each bring their own requirements.
            files += [str(p.relative_to(tree)) for pattern in ("**/go.mod", "**/go.sum")
                      for p in tree.glob(pattern)
                      if p.is_file() and not p.is_symlink()
                      and not _SKIPPED_DIRS.intersection(p.relative_to(tree).parts)]
        return sorted(set(files))

    def setup_script(self, tree: Path) -> str:
        env = _environment(tree, f"{ENV}/{BUILD_CACHE}")
        lines = [SCRIPT_HEAD + "set -e",
                 *(f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items())),
                 f"cd {SRC}",
                 "go version",
                 # Every module of the build list: a test added later may import a package of
                 # a module no package imported yet. A graph that cannot all be had (a module
                 # gone from the proxy that no package needs) falls back to what the
                 # packages need; a failure then is the setup's.
                 "go mod download all || { echo 'assay: falling back to go mod download';"
                 " go mod download; }",
                 # Compile every package and its tests once, as `go test` would, without
                 # linking or running them (the repository's code has no business with the
                 # network). Failures are the repository's, not setup's; the output is kept
                 # short (too much stops the run).
                 "go list -e -export -test -deps ./... > /dev/null 2> /tmp/build.log "
                 "|| echo 'assay: some packages did not build at this state'",
                 "tail -n 30 /tmp/build.log"]
        return "\n".join(lines) + "\n"

    def test_command(self, tree: Path) -> TestCommand:
        # The module cache's download dir is laid out as a proxy: what setup downloaded
        # can be found again (a go.mod that misses a requirement resolves as it did then),
        # and nothing else. Its modules were checked against the checksum database then.
        env = {**_environment(tree, f"{SCRATCH}/{BUILD_CACHE}"),
               "GOPROXY": f"file://{MOD_CACHE}/cache/download", "GOSUMDB": "off"}
        # -vet=off: vet's checks grow with each Go release; a repository that vetted clean
        # with its own Go would have whole packages fail here, their tests not run.
        script = (SCRIPT_HEAD
                  + f"go test -json -count=1 -vet=off ./... > {REPORT}/{REPORT_FILE}\n")
        # go test exits 1 when a test failed or a package did not build; 0 when all passed.
        return TestCommand(script=script, env=env, files={})

    def prepare_checkout(self, env_dir: Path, checkout: Path, scratch: Path) -> None:
        copy_tree(env_dir / BUILD_CACHE, scratch / BUILD_CACHE)

    def read_report(self, report_dir: Path, output: str, checkout: Path) -> TestReport:
        return read_report_file("go", report_dir / REPORT_FILE)
