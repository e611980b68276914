"""Start a process tree held at a gate, put it under limits, let it go and watch it.

The tree is started blocked (bwrap's --block-fd, or a shell reading a pipe for the local
backend) so that its cgroup and rlimits are in place before any untrusted code runs. While it
runs, the supervisor feeds stdin, keeps at most ``output_bytes`` of each output stream, and
kills the whole tree on the wall-clock, CPU or output limit.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from assay.sandbox.cgroups import RunGroup
from assay.sandbox.processes import children
from assay.sandbox.spec import MIB, Limits

POLL_S = 0.02  # how often limits are checked while the program is quiet
READ_CHUNK = 65536


@dataclass
class RawExit:
    """What the supervisor saw; turned into a verdict by ``verdicts.classify``."""

    exit_code: int | None = None
    signal: int | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_bytes: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    killed_for: str | None = None  # "wall_time" | "cpu_time" | "output"
    oom_killed: bool = False
    pids_limit_hit: bool = False
    side_channels: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    # True when the exit code came through an init that reports death by signal N as
    # 128 + N (bwrap's), so that ``verdicts.classify`` decodes it back.
    signal_in_exit_code: bool = False


def rlimits_for(limits: Limits, memory_by_rlimit: bool, processes_by_rlimit: bool
                ) -> dict[int, tuple[int, int]]:
    """The rlimits of a run. Memory and process count only where no cgroup enforces them:
    an address-space limit makes the JVM, Go and V8 fail at start-up, not at the limit."""
    cpu = math.ceil(limits.cpu_s)
    rl = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_NOFILE: (limits.open_files, limits.open_files),
        resource.RLIMIT_FSIZE: (limits.file_size_mb * MIB, limits.file_size_mb * MIB),
        resource.RLIMIT_CORE: (0, 0),
    }
    if memory_by_rlimit:
        rl[resource.RLIMIT_AS] = (limits.memory_mb * MIB, limits.memory_mb * MIB)
    if processes_by_rlimit:
        rl[resource.RLIMIT_NPROC] = (limits.processes, limits.processes)
    return rl


class _Stream:
    """Keeps at most ``cap`` bytes of a stream; past that, data is counted as truncated."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buffer = bytearray()
        self.truncated = False

    def add(self, data: bytes) -> bool:
        """Keep data up to the cap; return False once the cap is exceeded."""
        room = self.cap - len(self.buffer)
        if len(data) > room:
            self.buffer += data[:room]
            self.truncated = True
            return False
        self.buffer += data
        return True

    def take(self) -> bytes:
        value, self.buffer = bytes(self.buffer), bytearray()
        return value


def supervise(
    argv: Sequence[str],
    *,
    limits: Limits,
    stdin: bytes,
    env: Mapping[str, str],
    pass_fds: Sequence[int],
    gate_write_fd: int,
    gate_holds_child: bool,
    group: RunGroup | None,
    rlimits: Mapping[int, tuple[int, int]],
    side_channels: Mapping[str, int],
) -> RawExit:
    """Run ``argv`` (which blocks until ``gate_write_fd`` is written) under the limits.

    Args:
        gate_holds_child: True when the gate blocks in a child the first process forks
            (bwrap), so that child must exist before limits are applied.
        side_channels: name -> read end of a pipe whose writer is inside the tree; what
            arrives is returned in ``RawExit.side_channels``.
    """
    raw = RawExit()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=tuple(pass_fds), env=dict(env), start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        os.close(gate_write_fd)
        raw.error = f"could not start {argv[0]}: {exc}"
        return raw
    try:
        hold_and_limit(proc, gate_holds_child, group, rlimits)
    except OSError as exc:
        _kill(proc, group)
        raw.error = f"could not apply limits: {exc}"
    finally:
        with contextlib.suppress(OSError):
            if raw.error is None:
                os.write(gate_write_fd, b"x")
        os.close(gate_write_fd)
    _watch(proc, raw, limits, stdin, group, side_channels, start)
    return raw


def hold_and_limit(proc: subprocess.Popen[bytes], gate_holds_child: bool,
                    group: RunGroup | None, rlimits: Mapping[int, tuple[int, int]]) -> None:
    targets = [proc.pid]
    if gate_holds_child:
        deadline = time.monotonic() + 5.0
        while not (kids := children(proc.pid)):
            if _has_exited(proc.pid):
                return  # it failed before the gate; _watch collects its exit
            if time.monotonic() > deadline:
                raise OSError("sandbox child did not appear within 5 s")
            time.sleep(0.0002)
        targets += kids
    for pid in targets:
        try:
            if group is not None:
                group.attach(pid)
            for which, value in rlimits.items():
                resource.prlimit(pid, which, value)
        except OSError as exc:
            # Gone already: it failed before reaching the gate, so nothing untrusted ran;
            # its exit status tells why.
            if exc.errno != errno.ESRCH:
                raise


def _has_exited(pid: int) -> bool:
    """True once the process has exited, without reaping it (WNOWAIT): _watch reaps it."""
    found = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return found is not None


def _kill(proc: subprocess.Popen[bytes], group: RunGroup | None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if group is not None:
        group.kill_all()


def _watch(proc: subprocess.Popen[bytes], raw: RawExit, limits: Limits, stdin: bytes,
           group: RunGroup | None, side_channels: Mapping[str, int], start: float) -> None:
    assert proc.stdin and proc.stdout and proc.stderr
    streams = Streams(proc.stdout.fileno(), proc.stderr.fileno(), side_channels,
                      limits.output_bytes)
    # watch() owns (and closes) its own copy of the stdin pipe.
    stdin_fd = os.dup(proc.stdin.fileno()) if stdin else None
    proc.stdin.close()
    # A pidfd wakes the loop the moment the tree's root exits, instead of at the next poll.
    pidfd = os.pidfd_open(proc.pid)
    try:
        watch(streams, raw, limits, stdin_fd, stdin, pidfd, group, start,
              kill=lambda: _kill(proc, group))
    finally:
        os.close(pidfd)
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = status  # reaped above; keep Popen from waiting again
    # The root has exited: with a pid namespace nothing else is left; without one (local
    # backend) kill what it left behind so its pipes close.
    if group is not None:
        group.kill_all()
    streams.finish(raw)  # closes the side channels; Popen owns stdout and stderr
    proc.stdout.close()
    proc.stderr.close()
    raw.wall_s = time.monotonic() - start
    if os.WIFSIGNALED(status):
        raw.signal = os.WTERMSIG(status)
    else:
        raw.exit_code = os.WEXITSTATUS(status)
    raw.cpu_s = rusage.ru_utime + rusage.ru_stime
    raw.peak_memory_bytes = rusage.ru_maxrss * 1024
    if group is not None:
        read_group_usage(group, raw)


def read_group_usage(group: RunGroup, raw: RawExit) -> None:
    """CPU, peak memory and limit events of a finished run, from its cgroup."""
    raw.cpu_s = group.cpu_seconds() or raw.cpu_s
    raw.peak_memory_bytes = group.peak_memory_bytes() or raw.peak_memory_bytes
    raw.oom_killed = group.oom_killed()
    raw.pids_limit_hit = group.pids_limit_hit()


class Streams:
    """The output pipes of one run: stdout, stderr and named side channels, each kept up to
    ``cap`` bytes. The owner of the fds closes stdout and stderr; ``finish`` closes the side
    channels."""

    def __init__(self, out_fd: int, err_fd: int, side_channels: Mapping[str, int], cap: int
                 ) -> None:
        self.out_fd, self.err_fd = out_fd, err_fd
        self.side_channels = dict(side_channels)
        self.kept = {fd: _Stream(cap) for fd in (out_fd, err_fd, *side_channels.values())}

    def output_truncated(self, fd: int) -> bool:
        return fd in (self.out_fd, self.err_fd) and self.kept[fd].truncated

    def finish(self, raw: RawExit) -> None:
        """Read every pipe to its end (all writers are gone) and fill ``raw``."""
        for fd, stream in self.kept.items():
            _drain(fd, stream, until_eof=True)
        out, err = self.kept[self.out_fd], self.kept[self.err_fd]
        raw.stdout, raw.stdout_truncated = out.take(), out.truncated
        raw.stderr, raw.stderr_truncated = err.take(), err.truncated
        raw.side_channels = {name: self.kept[fd].take()
                             for name, fd in self.side_channels.items()}
        for fd in self.side_channels.values():
            os.close(fd)


def watch(streams: Streams, raw: RawExit, limits: Limits, stdin_fd: int | None, stdin: bytes,
          exit_fd: int, group: RunGroup | None, start: float, kill: Callable[[], None]
          ) -> None:
    """Feed stdin, keep output within its cap and enforce the wall-clock, CPU and output
    limits (through ``kill``) until ``exit_fd`` is readable: the root of the tree exited.
    ``stdin_fd`` (the write end of the program's stdin) is closed here."""
    selector = selectors.DefaultSelector()
    selector.register(exit_fd, selectors.EVENT_READ)
    for fd in streams.kept:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    pending = memoryview(stdin)
    if stdin_fd is not None:
        os.set_blocking(stdin_fd, False)
        selector.register(stdin_fd, selectors.EVENT_WRITE)
    deadline = start + limits.wall_s
    next_cpu_check = start + POLL_S
    exited = False
    while not exited:
        now = time.monotonic()
        if raw.killed_for is None:
            if now >= deadline:
                raw.killed_for = "wall_time"
            elif group is not None and now >= next_cpu_check:
                # Read at most every POLL_S: a busy pipe must not turn into cgroup reads.
                next_cpu_check = now + POLL_S
                if (group.cpu_seconds() or 0.0) > limits.cpu_s:
                    raw.killed_for = "cpu_time"
            if raw.killed_for:
                kill()
        wait = POLL_S if raw.killed_for else min(POLL_S, max(deadline - now, 0.001))
        for key, _ in selector.select(timeout=wait):
            fd = key.fd
            if fd == exit_fd:
                exited = True
            elif fd == stdin_fd:
                pending = _feed(fd, pending)
                if not pending:
                    selector.unregister(fd)
                    os.close(fd)
                    stdin_fd = None
            elif not _drain(fd, streams.kept[fd], until_eof=False):
                selector.unregister(fd)
            if streams.output_truncated(fd) and raw.killed_for is None:
                raw.killed_for = "output"
                kill()
    selector.close()
    if stdin_fd is not None:
        os.close(stdin_fd)


def _feed(fd: int, pending: memoryview) -> memoryview:
    try:
        return pending[os.write(fd, pending[:READ_CHUNK]):]
    except BlockingIOError:
        return pending
    except OSError:  # the program closed its stdin: the rest is not wanted
        return pending[:0]


def _drain(fd: int, stream: _Stream, until_eof: bool) -> bool:
    """Read what is available; False at end of file. Past the cap, data is read and dropped
    so the writer never blocks on a full pipe."""
    while True:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        if not stream.truncated:
            stream.add(data)
        if not until_eof:
            return True
