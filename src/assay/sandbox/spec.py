"""What to run and within which limits: the inputs of a sandbox run."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType


class Verdict(StrEnum):
    """How a run ended. ``SANDBOX_ERROR`` means the machinery failed, not the code."""

    OK = "OK"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    TIME_LIMIT = "TIME_LIMIT"
    MEMORY_LIMIT = "MEMORY_LIMIT"
    OUTPUT_LIMIT = "OUTPUT_LIMIT"
    COMPILE_ERROR = "COMPILE_ERROR"
    SANDBOX_ERROR = "SANDBOX_ERROR"


MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run (or one compile step).

    Attributes:
        wall_s: Wall-clock seconds before the whole process tree is killed.
        cpu_s: CPU seconds summed over every process of the run.
        memory_mb: Memory of the whole run (cgroup) or per process (rlimit fallback).
        processes: Processes and threads alive at once.
        open_files: Open file descriptors per process.
        file_size_mb: Largest file a process may write.
        output_bytes: Bytes of stdout and of stderr kept; more than that stops the run.
        disk_mb: Size of the writable work dir and of /tmp.
    """

    wall_s: float = 10.0
    cpu_s: float = 10.0
    memory_mb: int = 512
    processes: int = 64
    open_files: int = 256
    file_size_mb: int = 64
    output_bytes: int = 8 * MIB
    disk_mb: int = 256

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_mb", "processes", "open_files",
                     "file_size_mb", "output_bytes", "disk_mb"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"limit {name} must be positive, got {value!r}")

    def with_(self, **changes: float | int) -> Limits:
        """Return a copy with some limits changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


# Compilers need more room than the programs they build (javac, rustc, tsc).
DEFAULT_COMPILE_LIMITS = Limits(
    wall_s=60.0, cpu_s=60.0, memory_mb=2048, processes=256, open_files=1024,
    file_size_mb=512, output_bytes=1 * MIB, disk_mb=1024,
)


@dataclass(frozen=True)
class Bind:
    """A host directory (or file) made visible inside the sandbox at ``dest``."""

    host: str
    dest: str
    writable: bool = False


# Where the sandbox puts its own mounts: a bind may not go there, nor over the system dirs.
_RESERVED_DESTS = ("/", "/work", "/build", "/assay", "/tmp", "/proc", "/dev", "/usr", "/etc",
                   "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")


def _check_bind(bind: Bind) -> None:
    dest = posixpath.normpath(bind.dest)
    if not bind.dest.startswith("/") or dest != bind.dest:
        raise ValueError(f"bind destination {bind.dest!r} must be a normalised absolute path")
    for reserved in _RESERVED_DESTS:
        if dest == reserved or (reserved != "/" and dest.startswith(reserved + "/")):
            raise ValueError(f"bind destination {bind.dest!r} is inside {reserved}, which the "
                             f"sandbox mounts itself; use a new top-level dir such as /repo")
    if not os.path.exists(bind.host):
        raise ValueError(f"bind source {bind.host!r} does not exist on the host")


def _check_file_name(name: str) -> None:
    normal = posixpath.normpath(name)
    if not name or name.startswith("/") or normal.startswith("..") or normal != name:
        raise ValueError(f"file name {name!r} must be a plain relative path inside the work dir")


@dataclass(frozen=True)
class RunSpec:
    """One program to run: its language, its files and how to call it.

    Attributes:
        language: A registered language name (see ``assay languages``).
        files: File name (relative to the work dir) -> content.
        entry: The file to compile or run; defaults to the language's usual
            name if present, else the only file.
        argv: Arguments passed to the program.
        stdin: Bytes fed to the program's standard input.
        env: Extra environment variables (the host's are never passed on).
        limits: Limits of the run itself.
        compile_limits: Limits of the compile step of compiled languages.
        wrapper: A command put before the language's run command: the program is then run
            by it (a test runner that starts the compiled program once per test case).
        binds: Host directories made visible inside the sandbox at new top-level paths
            such as ``/repo`` (read-only unless ``writable``; the sandbox's user needs the
            usual permissions to read them): for programs too large to pass as ``files``
            (a repository checkout, an installed environment). A writable bind's directory
            is handed to the sandbox's user (chowned to it when assay runs as root).
        network: Share the host's network (a setup stage that downloads dependencies). Off
            by default: a run then has no network at all.
        report: Give the program a report channel: a pipe whose write end is the fd named
            by ``ASSAY_REPORT_FD``. What it writes there comes back in ``RunResult.report``,
            apart from stdout, so printing cannot forge it (test harnesses use it).
        toolchains: More languages whose toolchains the run needs besides its own (a bash
            script that runs ``go test`` names ``go``): their directories are mounted and
            their ``bin`` dirs put on PATH. Their environment variables are not set.
    """

    language: str
    files: Mapping[str, str | bytes]
    entry: str | None = None
    argv: tuple[str, ...] = ()
    stdin: bytes = b""
    env: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    compile_limits: Limits = DEFAULT_COMPILE_LIMITS
    wrapper: tuple[str, ...] = ()
    binds: tuple[Bind, ...] = ()
    network: bool = False
    report: bool = False
    toolchains: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.files:
            raise ValueError("a RunSpec needs at least one file")
        for name in self.files:
            _check_file_name(name)
        if self.entry is not None and self.entry not in self.files:
            raise ValueError(f"entry {self.entry!r} is not one of the files {sorted(self.files)}")
        if isinstance(self.stdin, str):
            object.__setattr__(self, "stdin", self.stdin.encode())
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        object.__setattr__(self, "argv", tuple(self.argv))
        object.__setattr__(self, "wrapper", tuple(self.wrapper))
        object.__setattr__(self, "binds", tuple(self.binds))
        object.__setattr__(self, "toolchains", tuple(self.toolchains))
        for bind in self.binds:
            _check_bind(bind)

    @classmethod
    def single(cls, language: str, code: str, name: str | None = None, **kwargs: object) -> RunSpec:
        """A spec for one source file, named as the language expects unless told."""
        from assay.sandbox.languages import get_language

        file_name = name or get_language(language).default_entry
        return cls(language=language, files={file_name: code}, entry=file_name, **kwargs)  # type: ignore[arg-type]


def file_bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content
