"""Per-run control groups: memory, process count and CPU accounting for a whole process tree.

cgroup v1 (separate memory / pids / cpuacct hierarchies) and v2 (one unified hierarchy) are
both supported. Run groups are created under the cgroup assay itself runs in, so any limit
the machine puts on assay still applies. Where no hierarchy is writable, ``CgroupManager``
says why and the sandbox falls back to rlimits.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from assay.sandbox.processes import pid_alive
from assay.sandbox.spec import MIB, Limits

log = logging.getLogger(__name__)

V1_CONTROLLERS = ("memory", "pids", "cpuacct")
V2_CONTROLLERS = ("memory", "pids", "cpu")
GROUP_PREFIX = "assay-"


def _read(path: Path) -> str:
    return path.read_text().strip()


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _keyed(text: str) -> dict[str, int]:
    """Parse 'key value' lines (memory.stat, memory.events, cpu.stat, memory.oom_control)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) for every cgroup mount."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(rfields) >= 3 and rfields[0] in ("cgroup", "cgroup2"):
                found.append((fields[4], rfields[0], set(rfields[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Controller (or '' for v2) -> this process's cgroup path."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


@dataclass
class RunGroup:
    """One run's cgroup(s). Created before the run, removed after it."""

    version: int
    dirs: dict[str, Path]  # controller -> directory (v2: one dir under key "")

    def attach(self, pid: int) -> None:
        for directory in self.dirs.values():
            _write(directory / "cgroup.procs", str(pid))

    def _dir(self, controller: str) -> Path | None:
        return self.dirs.get("" if self.version == 2 else controller)

    def cpu_seconds(self) -> float | None:
        if self.version == 1:
            directory = self._dir("cpuacct")
            return int(_read(directory / "cpuacct.usage")) / 1e9 if directory else None
        directory = self._dir("")
        assert directory is not None
        return _keyed(_read(directory / "cpu.stat")).get("usage_usec", 0) / 1e6

    def peak_memory_bytes(self) -> int | None:
        directory = self._dir("memory")
        if directory is None:
            return None
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int(_read(directory / name))
        except (OSError, ValueError):
            return None

    def oom_killed(self) -> bool:
        directory = self._dir("memory")
        if directory is None:
            return False
        if self.version == 1:
            return _keyed(_read(directory / "memory.oom_control")).get("oom_kill", 0) > 0
        return _keyed(_read(directory / "memory.events")).get("oom_kill", 0) > 0

    def pids_limit_hit(self) -> bool:
        directory = self._dir("pids")
        if directory is None:
            return False
        with contextlib.suppress(OSError):
            return _keyed(_read(directory / "pids.events")).get("max", 0) > 0
        return False

    def pids(self) -> list[int]:
        seen: set[int] = set()
        for directory in self.dirs.values():
            with contextlib.suppress(OSError):
                seen.update(int(p) for p in _read(directory / "cgroup.procs").split())
        return sorted(seen)

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process left in the group and wait until it is empty."""
        v2_dir = self._dir("")
        if self.version == 2 and v2_dir is not None and (v2_dir / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(v2_dir / "cgroup.kill", "1")
        deadline = time.monotonic() + timeout
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def remove(self) -> None:
        """Kill what is left and remove the group. A group that cannot be removed is logged,
        not raised: the run's result is already known, and selfcheck reports leftovers."""
        self.kill_all()
        for directory in self.dirs.values():
            for _ in range(500):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        log.warning("cannot remove cgroup %s: %s", directory, exc)
                        break
                    time.sleep(0.002)
            else:
                log.warning("cgroup %s still busy after 1 s; left in place", directory)


class CgroupManager:
    """Finds a writable cgroup hierarchy once and makes run groups in it."""

    def __init__(self) -> None:
        self.version = 0
        self.parents: dict[str, Path] = {}
        self.unavailable_reason: str | None = None
        self._counter = itertools.count()
        try:
            self._setup()
        except OSError as exc:
            self.version, self.parents = 0, {}
            self.unavailable_reason = f"cgroups not writable: {exc}"

    @property
    def available(self) -> bool:
        return self.version != 0

    def _setup(self) -> None:
        mounts = _mounts()
        own = _own_paths()
        v1 = {c: Path(m) for m, fs, opts in mounts if fs == "cgroup" for c in V1_CONTROLLERS
              if c in opts}
        if all(c in v1 for c in V1_CONTROLLERS) and all(c in own for c in V1_CONTROLLERS):
            for controller in V1_CONTROLLERS:
                parent = v1[controller] / own[controller].lstrip("/") / "assay"
                parent.mkdir(exist_ok=True)
                self.parents[controller] = parent
            self.version = 1
        else:
            v2 = [Path(m) for m, fs, _ in mounts if fs == "cgroup2"]
            if not v2 or "" not in own:
                raise OSError(errno.ENOENT,
                              "no cgroup v1 memory/pids/cpuacct nor a cgroup v2 mount")
            self._setup_v2(v2[0] / own[""].lstrip("/"))
        self._remove_stale()

    def _setup_v2(self, own_dir: Path) -> None:
        available = set(_read(own_dir / "cgroup.controllers").split())
        missing = [c for c in V2_CONTROLLERS if c not in available]
        if missing:
            raise OSError(errno.ENOTSUP, f"cgroup v2 controllers {missing} not delegated to "
                                         f"{own_dir}")
        parent = own_dir / "assay"
        parent.mkdir(exist_ok=True)
        enable = " ".join(f"+{c}" for c in V2_CONTROLLERS)
        try:
            _write(own_dir / "cgroup.subtree_control", enable)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            # "No internal processes": move assay itself into a leaf, then enable.
            leaf = own_dir / "assay-main"
            leaf.mkdir(exist_ok=True)
            _write(leaf / "cgroup.procs", str(os.getpid()))
            _write(own_dir / "cgroup.subtree_control", enable)
        _write(parent / "cgroup.subtree_control", enable)
        self.parents[""] = parent
        self.version = 2

    def _remove_stale(self) -> None:
        """Remove run groups left by assay processes that died before cleaning up."""
        for parent in self.parents.values():
            for child in parent.glob(f"{GROUP_PREFIX}*"):
                owner = child.name[len(GROUP_PREFIX):].split("-")[0]
                if owner.isdigit() and not pid_alive(int(owner)):
                    with contextlib.suppress(OSError):
                        RunGroup(self.version, {"": child}).remove()

    def create(self, limits: Limits) -> RunGroup:
        name = f"{GROUP_PREFIX}{os.getpid()}-{next(self._counter)}-{os.urandom(3).hex()}"
        dirs = {key: parent / name for key, parent in self.parents.items()}
        group = RunGroup(self.version, dirs)
        try:
            for directory in dirs.values():
                directory.mkdir()
            memory_bytes = limits.memory_mb * MIB
            if self.version == 1:
                _write(dirs["memory"] / "memory.limit_in_bytes", str(memory_bytes))
                memsw = dirs["memory"] / "memory.memsw.limit_in_bytes"
                if memsw.exists():
                    _write(memsw, str(memory_bytes))  # no swapping around the limit
                _write(dirs["pids"] / "pids.max", str(limits.processes))
            else:
                _write(dirs[""] / "memory.max", str(memory_bytes))
                with contextlib.suppress(OSError):
                    _write(dirs[""] / "memory.swap.max", "0")
                _write(dirs[""] / "pids.max", str(limits.processes))
        except OSError:
            group.remove()
            raise
        return group
