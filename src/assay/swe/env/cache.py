"""Environments on disk, one per (ecosystem, toolchain versions, definition files' content).

``Environments.ensure`` returns the environment of a tree, setting it up once: a directory
``<root>/<ecosystem>-<key>`` that the setup stage filled with network access, marked ready by
an ``environment.json`` written last (a setup killed midway leaves no marker, and its
directory is replaced on the next attempt). Tasks of one repository whose dependency files
did not change share it. A lock file keeps two workers from setting up the same one at once.
A failed setup is returned with its log, not raised, and is not kept: the next attempt tries
again (a registry may have been down).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assay.sandbox import Bind, Limits, RunSpec, Sandbox, Verdict, get_language
from assay.sandbox.compile_cache import default_cache_root
from assay.swe.env.base import ENV, SRC, Ecosystem

# Installing dependencies: compilers, many processes, large downloads.
# Output is kept up to 16 MiB (a verbose install is not a failed one); the log keeps its tail.
SETUP_LIMITS = Limits(wall_s=1800.0, cpu_s=3600.0, memory_mb=4096, processes=512,
                      open_files=4096, file_size_mb=2048, output_bytes=16 * 1024 * 1024,
                      disk_mb=4096)
MARKER = "environment.json"
LOG_TAIL = 20_000


@dataclass(frozen=True)
class Environment:
    """An environment, ready or failed.

    Attributes:
        ecosystem: Its ecosystem's name.
        key: Hash of what defines it (ecosystem, toolchain versions, definition files).
        path: Its directory (bound read-only at ``/env`` in test runs).
        ready: Whether setup succeeded.
        log: The setup's output (its tail); for a reused environment, the first setup's.
        seconds: How long the setup took (0 when reused).
        reused: Taken from the cache.
        definition_files: The files that define it.
    """

    ecosystem: str
    key: str
    path: Path
    ready: bool
    log: str
    seconds: float
    reused: bool
    definition_files: tuple[str, ...]


def environment_key(ecosystem: Ecosystem, tree: Path) -> tuple[str, list[str]]:
    """(key, definition files) of the environment ``tree`` needs."""
    files = ecosystem.definition_files(tree)
    digest = hashlib.sha256(f"assay-swe-env/1\0{ecosystem.name}\0".encode())
    for language in ecosystem.toolchains:
        digest.update(get_language(language).toolchain().version.encode() + b"\0")
    for name in files:
        content = (tree / name).read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()[:24], files


class Environments:
    """The environment cache (``<cache root>/swe-env`` by default)."""

    def __init__(self, sandbox: Sandbox, root: str | Path | None = None,
                 limits: Limits = SETUP_LIMITS) -> None:
        self.sandbox = sandbox
        self.root = Path(root) if root is not None else default_cache_root() / "swe-env"
        self.limits = limits

    def ensure(self, ecosystem: Ecosystem, tree: Path) -> Environment:
        """The environment of ``tree`` (a host directory holding the project's files),
        set up now unless a ready one is cached."""
        key, files = environment_key(ecosystem, tree)
        path = self.root / f"{ecosystem.name}-{key}"
        with self._locked(path):
            marker = path / MARKER
            if marker.is_file():
                meta = json.loads(marker.read_text())
                return Environment(ecosystem.name, key, path, True, meta.get("log", ""), 0.0,
                                   True, tuple(files))
            if path.exists():
                remove_tree(path)  # a setup that was killed midway
            path.mkdir(parents=True)
            self.sandbox.prepare_writable_dir(path)
            started = time.monotonic()
            ready, log = self._set_up(ecosystem, tree, path)
            seconds = time.monotonic() - started
            if not ready:
                remove_tree(path)
                return Environment(ecosystem.name, key, path, False, log, seconds, False,
                                   tuple(files))
            marker.write_text(json.dumps({"ecosystem": ecosystem.name, "key": key,
                                          "definition_files": files, "seconds": seconds,
                                          "log": log}, indent=1))
            return Environment(ecosystem.name, key, path, True, log, seconds, False,
                               tuple(files))

    def _set_up(self, ecosystem: Ecosystem, tree: Path, path: Path) -> tuple[bool, str]:
        with tempfile.TemporaryDirectory(prefix="assay-setup-") as scratch:
            # A copy of the tree, writable: builds write metadata next to the sources.
            source = Path(scratch) / "src"
            shutil.copytree(tree, source, symlinks=True)
            Path(scratch).chmod(0o755)
            self.sandbox.prepare_writable_tree(source)
            spec = RunSpec(language="bash", files={"setup.sh": ecosystem.setup_script(tree)},
                           entry="setup.sh", binds=(Bind(str(source), SRC, writable=True),
                                                    Bind(str(path), ENV, writable=True)),
                           network=True, limits=self.limits, toolchains=ecosystem.toolchains)
            result = self.sandbox.run(spec)
        log = (result.stdout + result.stderr)[-LOG_TAIL:]
        if result.verdict is not Verdict.OK:
            why = result.error or f"exit code {result.exit_code}"
            return False, f"setup {result.verdict.value} ({why})\n{log}"
        return True, log

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def remove_tree(path: Path) -> None:
    """Remove a directory a sandboxed run filled, read-only subdirectories included (Go's
    module cache makes its directories read-only, which stops a non-root owner)."""

    def writable_then_retry(function: Callable[..., object], name: str, _: object) -> None:
        os.chmod(os.path.dirname(name), 0o700)
        function(name)

    shutil.rmtree(path, onerror=writable_then_retry)
