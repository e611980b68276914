"""The contract every language module fulfils: find its toolchain, say how to compile and run."""

from __future__ import annotations

import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Paths as the program sees them inside the sandbox.
WORK_DIR = "/work"
BUILD_DIR = "/build"
LAUNCHER_DIR = "/assay"

# Host directories every sandbox sees read-only; toolchains outside them add their own.
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class LanguageError(Exception):
    """Base of the errors raised when a language cannot be used."""


class UnknownLanguage(LanguageError):
    pass


class ToolchainMissing(LanguageError):
    """The language is known but its toolchain is not installed or does not work."""


@dataclass(frozen=True)
class Toolchain:
    """A working toolchain found on the host.

    Attributes:
        version: What the toolchain says of its version; part of every compile-cache key.
        executables: Name -> absolute host path of each program the language runs.
        mounts: Host directories outside SYSTEM_DIRS the sandbox must see (read-only).
        path_dirs: Directories put in front of PATH inside the sandbox.
        env: Environment variables the toolchain needs inside the sandbox.
    """

    version: str
    executables: Mapping[str, str]
    mounts: tuple[str, ...] = ()
    path_dirs: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def exe(self, name: str) -> str:
        return self.executables[name]


def host_search_path() -> str:
    """PATH used to find toolchains on the host: the caller's, plus the usual install places."""
    extra = [str(Path.home() / ".cargo" / "bin"), "/usr/local/go/bin", SYSTEM_PATH]
    return os.pathsep.join([os.environ.get("PATH", ""), *extra])


def find_executable(name: str, override_env: str | None = None, system_first: bool = False
                    ) -> str:
    """Absolute path of a toolchain program, or ToolchainMissing naming what was looked for.

    ``system_first`` prefers the system dirs over the caller's PATH, so that version-manager
    shims (pyenv, asdf) that need the caller's home are not picked up.
    """
    if override_env and os.environ.get(override_env):
        candidate = os.environ[override_env]
        if not os.access(candidate, os.X_OK):
            raise ToolchainMissing(f"{override_env}={candidate} is not an executable file")
        return os.path.abspath(candidate)
    search = host_search_path()
    found = shutil.which(name, path=SYSTEM_PATH + os.pathsep + search if system_first else search)
    if found is None:
        raise ToolchainMissing(f"'{name}' not found on PATH")
    return found


def probe(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """Run a trusted toolchain command on the host and return its output (stdout + stderr)."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=60,
            env={**os.environ, **(env or {})}, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainMissing(f"'{' '.join(argv)}' failed: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ToolchainMissing(f"'{' '.join(argv)}' exited {done.returncode}: "
                               f"{detail[-1] if detail else 'no output'}")
    return (done.stdout + done.stderr).strip()


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def outside_system_dirs(path: str) -> bool:
    real = os.path.realpath(path)
    return not any(real == d or real.startswith(d + "/") for d in SYSTEM_DIRS)


def install_root(executable: str, levels: int = 2) -> tuple[str, ...]:
    """The install prefix of an executable when it lives outside the system dirs (else none)."""
    real = os.path.realpath(executable)
    if not outside_system_dirs(real):
        return ()
    root = real
    for _ in range(levels):
        root = os.path.dirname(root)
    return (root,)


class Language(ABC):
    """How one language is compiled and run inside the sandbox.

    A compiled language writes its artefacts to BUILD_DIR in ``compile_argv`` and runs them
    from there in ``run_argv``. An interpreted language may instead name a launcher (a file
    in ``assay/sandbox/launchers``) that checks the syntax of the entry file first and
    reports a syntax error on a status fd, so that it becomes a COMPILE_ERROR.
    """

    name: str
    extensions: tuple[str, ...]
    default_entry: str
    compiled: bool = False
    launcher: str | None = None
    # Lines a runtime prints when it ran out of memory on its own (not killed by a limit).
    out_of_memory_markers: tuple[str, ...] = ()
    # Where a persistent, writable build cache is mounted during compiles (Go's GOCACHE).
    build_cache_dir: str | None = None
    # True when a warm executor (``sandbox/warm``) can run the launcher's command line in an
    # already started interpreter.
    warm: bool = False

    def __init__(self) -> None:
        self._toolchain: Toolchain | None = None
        self._missing: ToolchainMissing | None = None

    def toolchain(self) -> Toolchain:
        """The host toolchain, discovered once; raises ToolchainMissing with the reason."""
        if self._toolchain is None and self._missing is None:
            try:
                self._toolchain = self.discover()
            except ToolchainMissing as exc:
                self._missing = exc
        if self._missing is not None:
            raise ToolchainMissing(f"{self.name}: {self._missing}")
        assert self._toolchain is not None
        return self._toolchain

    @abstractmethod
    def discover(self) -> Toolchain:
        """Find the toolchain on the host and read its version."""

    def compile_argv(self, tc: Toolchain, entry: str, sources: Sequence[str]) -> list[str] | None:
        """The compile command (run in WORK_DIR, writing to BUILD_DIR), or None."""
        return None

    @abstractmethod
    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        """The command that runs the program, before the user's arguments."""

    def sandbox_env(self, tc: Toolchain) -> dict[str, str]:
        """Environment for both steps inside the sandbox."""
        return dict(tc.env)
