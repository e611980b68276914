"""Compiled artefacts kept under a content hash of everything that decides them.

The key covers language, toolchain version, compile command (flags) and sources, so a hit is
always the artefact a fresh compile would make. Entries are written to a staging dir and
renamed into place, so concurrent workers never see half an entry; readers hold a shared
lock on the entry while they use it and eviction skips entries that are locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from assay.sandbox.processes import pid_alive
from assay.sandbox.spec import file_bytes

DEFAULT_MAX_BYTES = 2 * 1024**3
META = "assay-entry.json"
FAILURE = "assay-compile-error.json"  # in an entry whose sources do not compile


def default_cache_root() -> Path:
    if os.environ.get("ASSAY_CACHE_DIR"):
        return Path(os.environ["ASSAY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assay"


def compile_key(language: str, toolchain_version: str, compile_argv: Sequence[str],
                files: Mapping[str, str | bytes]) -> str:
    digest = hashlib.sha256()
    header = {"language": language, "toolchain": toolchain_version, "argv": list(compile_argv)}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in sorted(files):
        content = file_bytes(files[name])
        digest.update(f"\0{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def _tree_size(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


class CompileCache:
    """A size-bounded directory of compiled artefacts, safe under concurrent workers."""

    def __init__(self, root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = (root or default_cache_root()) / "compile"
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".staging").mkdir(exist_ok=True)
        self._commits = 0
        self._remove_stale_staging()

    def _remove_stale_staging(self) -> None:
        """Staging dirs of processes that died mid-compile (named after their pid)."""
        for path in (self.root / ".staging").iterdir():
            owner = path.name.split("-")[0]
            if owner.isdigit() and not pid_alive(int(owner)):
                shutil.rmtree(path, ignore_errors=True)

    def staging_dirs_of_this_process(self) -> list[Path]:
        return list((self.root / ".staging").glob(f"{os.getpid()}-*"))

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    @contextlib.contextmanager
    def lookup(self, key: str) -> Iterator[Path | None]:
        """Yield the entry dir, locked against eviction while in use, or None on a miss."""
        path = self._entry(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            yield None
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            # Evicted between open and lock: the path is gone or is another dir now.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same or not (path / META).exists():
                yield None
                return
            with contextlib.suppress(OSError):
                os.utime(path)  # recency for eviction
            yield path
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def compile_lock(self, key: str) -> Iterator[None]:
        """Held while compiling ``key``, so that workers given the same source compile it once.

        Lock files are shared by keys with the same 3-hex-digit prefix, which keeps their
        number bounded (4096) at the cost of rarely serialising two unrelated compiles.
        """
        locks = self.root / ".locks"
        locks.mkdir(exist_ok=True)
        fd = os.open(locks / key[:3], os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def new_staging_dir(self) -> Path:
        path = self.root / ".staging" / f"{os.getpid()}-{time.monotonic_ns()}-{os.urandom(4).hex()}"
        path.mkdir()
        return path

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def commit(self, key: str, staging: Path, meta: Mapping[str, object]) -> None:
        """Move a finished staging dir into place; a concurrent commit of the same key wins."""
        size = _tree_size(staging)
        (staging / META).write_text(json.dumps({**meta, "key": key, "size": size}))
        target = self._entry(key)
        target.parent.mkdir(exist_ok=True)
        try:
            os.rename(staging, target)
        except OSError:
            self.discard(staging)  # same key already committed by another worker
            return
        self._commits += 1
        if self._commits % 8 == 1:
            self.evict()

    def commit_failure(self, key: str, result: Mapping[str, object]) -> None:
        """Keep the compiler's rejection of ``key``'s sources (its result's fields) in place
        of an artefact."""
        staging = self.new_staging_dir()
        (staging / FAILURE).write_text(json.dumps(dict(result), default=str))
        self.commit(key, staging, {"failed": True})

    @staticmethod
    def failure(entry: Path) -> dict[str, object] | None:
        """The compile result kept in an entry of sources that do not compile, else None."""
        try:
            value = json.loads((entry / FAILURE).read_text())
        except FileNotFoundError:
            return None
        return value if isinstance(value, dict) else None

    def entries(self) -> list[tuple[float, int, Path]]:
        found = []
        for shard in self.root.iterdir():
            if shard.name.startswith(".") or not shard.is_dir():
                continue
            for entry in shard.iterdir():
                try:
                    size = json.loads((entry / META).read_text())["size"]
                    found.append((entry.stat().st_mtime, int(size), entry))
                except (OSError, ValueError, KeyError):
                    continue
        return found

    def evict(self) -> int:
        """Remove least recently used entries until the cache fits; returns bytes freed."""
        entries = sorted(self.entries())
        total = sum(size for _, size, _ in entries)
        freed = 0
        for _, size, path in entries:
            if total - freed <= self.max_bytes:
                break
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # in use by a run
            try:
                trash = self.root / ".staging" / f"evicted-{path.name}-{os.urandom(4).hex()}"
                os.rename(path, trash)
                shutil.rmtree(trash, ignore_errors=True)
                freed += size
            finally:
                os.close(fd)
        return freed

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".staging").mkdir(exist_ok=True)
