"""One warm executor: a long-lived bwrap sandbox whose Python interpreter forks per job.

The interpreter (``launchers/warm.py``) starts once, with the modules programs commonly use
already imported; each job costs a fork instead of a sandbox and an interpreter start. The
host keeps every guarantee of the cold path: the job's process is held at a gate until it is
in a cgroup of its own with the job's limits, its stdin, stdout, stderr and side channels are
pipes the host reads with the same caps and deadlines (``supervisor.watch``), and the
executor reports the job's exact wait status.
"""

from __future__ import annotations

import array
import contextlib
import functools
import hashlib
import importlib.resources
import json
import os
import resource
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from assay.sandbox.base import SANDBOXED_VARIABLE, Step
from assay.sandbox.cgroups import RunGroup
from assay.sandbox.languages.base import LAUNCHER_DIR, Toolchain
from assay.sandbox.processes import children
from assay.sandbox.spec import Limits
from assay.sandbox.supervisor import (
    RawExit,
    Streams,
    hold_and_limit,
    read_group_usage,
    rlimits_for,
    watch,
)

if TYPE_CHECKING:
    from assay.sandbox.bwrap import BwrapSandbox

ZYGOTE = f"{LAUNCHER_DIR}/warm.py"
START_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 10.0  # a fork, or a clean-up of /work and /tmp
GATE_OPEN = b"x"
# The executor itself: the interpreter and bwrap. Jobs run in cgroups of their own.
EXECUTOR_LIMITS = Limits(memory_mb=1024, processes=16, open_files=1024)


Spawn = Callable[..., "subprocess.Popen[bytes]"]


class ExecutorBroken(Exception):
    """The executor stopped answering as it should; the job must run elsewhere."""


class WarmExecutor:
    """A started executor; ``run`` one job at a time, ``close`` when done."""

    def __init__(self, sandbox: BwrapSandbox, toolchain: Toolchain, env: Mapping[str, str],
                 disk_mb: int, spawn: Spawn = subprocess.Popen) -> None:
        """``spawn`` starts bwrap (``subprocess.Popen``'s arguments): bwrap dies with the
        thread that started it (--die-with-parent is a parent-*thread* death signal), so the
        pool starts executors from a thread that lives as long as they should."""
        assert sandbox.cgroups is not None and sandbox.userns_fd is not None
        self.sandbox = sandbox
        self.cgroups = sandbox.cgroups
        self._dirty = False  # the last job's clean-up has not been confirmed yet
        host_end, inner_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = host_end
        python = toolchain.exe("python3")
        step = Step(argv=(python, ZYGOTE, str(inner_end.fileno()), str(sandbox.userns_fd)),
                    files={}, stdin=b"", env=env, toolchain=toolchain,
                    limits=EXECUTOR_LIMITS.with_(disk_mb=disk_mb))
        self.group: RunGroup | None = self.cgroups.create(EXECUTOR_LIMITS)
        from assay.sandbox.bwrap import Pipes

        try:
            with Pipes() as pipes:
                argv, pass_fds = sandbox.command(step, pipes, prefix=[])
                self._status_reader = pipes.side_channels()["bwrap-status"]
                self.process = spawn(
                    argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, pass_fds=(*pass_fds, inner_end.fileno()),
                    env={"PATH": "/usr/bin:/bin"}, start_new_session=True)
                gate = pipes.take_gate_writer()
                try:
                    # No RLIMIT_CPU: the executor lives for many jobs; each job sets its own.
                    rlimits = {k: v for k, v in rlimits_for(
                        EXECUTOR_LIMITS, memory_by_rlimit=False, processes_by_rlimit=False
                    ).items() if k != resource.RLIMIT_CPU}
                    hold_and_limit(self.process, True, self.group, rlimits)
                    os.write(gate, GATE_OPEN)
                finally:
                    os.close(gate)
            inner_end.close()
            self._expect("ready", START_TIMEOUT_S)
            self.pid = self._zygote_pid()
        except BaseException:
            inner_end.close()
            self.close()
            raise

    # -- one job -------------------------------------------------------------------------

    def run(self, step: Step) -> RawExit:
        """Run one job; ExecutorBroken when the executor fails (the job may not have run)."""
        self._settle()
        raw = RawExit()
        group = self.cgroups.create(step.limits)
        try:
            with _JobFds(step) as fds:
                self._send(step, fds)
                self._expect("pid", REPLY_TIMEOUT_S)
                start = time.monotonic()
                self._release(group, fds)
                self._dirty = True
                streams = Streams(fds.stdout, fds.stderr, fds.channel_readers,
                                  step.limits.output_bytes)
                stdin_fd: int | None = fds.take_stdin_writer()
                if not step.stdin and stdin_fd is not None:  # the job reads end-of-file
                    os.close(stdin_fd)
                    stdin_fd = None
                watch(streams, raw, step.limits, stdin_fd, step.stdin, self.control.fileno(),
                      group, start, kill=group.kill_all)
                status = self._expect("status", REPLY_TIMEOUT_S)
                group.kill_all()  # what the job left running, as the cold path's pid 1 does
                streams.finish(raw)
            raw.wall_s = time.monotonic() - start
            code = int(status["status"])
            if os.WIFSIGNALED(code):
                raw.signal = os.WTERMSIG(code)
            else:
                raw.exit_code = os.WEXITSTATUS(code)
            raw.cpu_s = float(status["cpu_s"])
            raw.peak_memory_bytes = int(status["maxrss_kb"]) * 1024
            read_group_usage(group, raw)
            return raw
        finally:
            group.remove()

    def _send(self, step: Step, fds: _JobFds) -> None:
        rlimits = rlimits_for(step.limits, memory_by_rlimit=False, processes_by_rlimit=False)
        env = {**step.env, SANDBOXED_VARIABLE: "1"}
        for position, name in enumerate(fds.channel_names, start=3):
            env[f"ASSAY_{name.upper()}_FD"] = str(position)
        entry = step.argv[2] if len(step.argv) > 2 else ""
        digest = hashlib.sha256(step.files[entry]).hexdigest() if entry in step.files else ""
        # assay's own runner: the executor compiles it once, keyed by this digest.
        runner = [entry, digest] if digest in _runner_digests() else None
        header = json.dumps({
            "argv": list(step.argv), "env": env, "umask": _umask(), "runner": runner,
            "rlimits": [[which, soft, hard] for which, (soft, hard) in rlimits.items()],
            "files": [[name, len(content)] for name, content in step.files.items()],
        }).encode()
        payload = fds.payload(len(header).to_bytes(8, "little") + header, step.files.values())
        try:
            self.control.sendmsg([b"job"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                             array.array("i", [payload, *fds.for_job()]))])
        except OSError as exc:
            raise ExecutorBroken(f"cannot send the job: {exc}") from exc
        fds.close_job_ends()

    def _release(self, group: RunGroup, fds: _JobFds) -> None:
        """Put the job's process in its cgroup, then let it run."""
        forked = children(self.pid)
        if len(forked) != 1:
            raise ExecutorBroken(f"expected one job process, found {forked}")
        try:
            group.attach(forked[0])
        except OSError as exc:
            raise ExecutorBroken(f"cannot put the job in its cgroup: {exc}") from exc
        os.write(fds.gate, GATE_OPEN)

    def _settle(self) -> None:
        """Wait until the previous job is cleaned up (the executor says so)."""
        if self._dirty:
            self._expect("clean", REPLY_TIMEOUT_S)
            self._dirty = False

    # -- talking to the executor ---------------------------------------------------------

    def _expect(self, kind: str, timeout: float) -> dict[str, Any]:
        ready, _, _ = select.select([self.control], [], [], timeout)
        if not ready:
            raise ExecutorBroken(f"no {kind!r} from the executor within {timeout:g} s")
        try:
            data = self.control.recv(65536)
        except OSError as exc:
            raise ExecutorBroken(f"executor connection failed: {exc}") from exc
        if not data:
            raise ExecutorBroken(f"the executor exited: {self._last_words()}")
        message = json.loads(data)
        if kind not in message:
            raise ExecutorBroken(f"expected {kind!r} from the executor, got {message}")
        return dict(message)

    def _zygote_pid(self) -> int:
        """The interpreter's host pid: the child of the sandbox's init, whose pid bwrap
        reports on its status fd."""
        data = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"child-pid" not in data:
            ready, _, _ = select.select([self._status_reader], [], [],
                                        max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._status_reader, 4096) if ready else b""
            if not chunk:
                raise ExecutorBroken("bwrap did not report the sandbox's pid")
            data += chunk
        init = int(json.loads(data.split(b"\n")[0])["child-pid"])
        found = children(init)
        if len(found) != 1:
            raise ExecutorBroken(f"expected the interpreter under the sandbox's init, "
                                 f"found {found}")
        return found[0]

    def _last_words(self) -> str:
        assert self.process.stderr is not None
        if self.process.poll() is None:
            return "still running"
        return self.process.stderr.read().decode(errors="replace").strip()[-500:] or \
            f"exit status {self.process.returncode}"

    def close(self) -> None:
        """Stop the executor and everything in it."""
        with contextlib.suppress(OSError):
            self.control.close()
        process = getattr(self, "process", None)
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            if process.stderr is not None:
                process.stderr.close()
            os.close(self._status_reader)
        if self.group is not None:
            self.group.remove()
            self.group = None


@functools.cache
def _runner_digests() -> frozenset[str]:
    """Digests of assay's own Python runners (harness and trace), which a warm executor may
    compile once for many jobs."""
    found = set()
    for package in ("assay.harness", "assay.trace"):
        for entry in (importlib.resources.files(package) / "runners").iterdir():
            if entry.name.endswith(".py"):
                found.add(hashlib.sha256(entry.read_bytes()).hexdigest())
    return frozenset(found)


@functools.cache
def _umask() -> int:
    """assay's umask, which a cold run inherits; read, not set and restored, because the
    umask is the whole process's and another thread may be creating files."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


class _JobFds:
    """The pipes of one job. The job's ends go to the executor and are closed here once
    sent; the host's ends are read by ``watch`` and closed on exit."""

    def __init__(self, step: Step) -> None:
        self._open: list[int] = []
        self.gate_reader, self.gate = self._pipe()
        self.stdin_reader, self._stdin_writer = self._pipe()
        self.stdout, self.stdout_writer = self._pipe()
        self.stderr, self.stderr_writer = self._pipe()
        self.channel_names = [name for name, wanted in (("status", step.status_channel),
                                                        ("report", step.report_channel))
                              if wanted]
        self.channel_readers: dict[str, int] = {}
        self._channel_writers: list[int] = []
        for name in self.channel_names:
            reader, writer = self._pipe()
            self.channel_readers[name] = reader
            self._channel_writers.append(writer)
        self._job_ends = [self.gate_reader, self.stdin_reader, self.stdout_writer,
                          self.stderr_writer, *self._channel_writers]

    def __enter__(self) -> _JobFds:
        return self

    def __exit__(self, *exc: object) -> None:
        closed_by_streams = set(self.channel_readers.values())
        for fd in self._open:
            if fd not in closed_by_streams or exc[0] is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _pipe(self) -> tuple[int, int]:
        reader, writer = os.pipe2(os.O_CLOEXEC)
        self._open += [reader, writer]
        return reader, writer

    def payload(self, header: bytes, files: Any) -> int:
        fd = os.memfd_create("assay-job", os.MFD_CLOEXEC)
        self._open.append(fd)
        for chunk in (header, *files):
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def for_job(self) -> list[int]:
        """In the order the executor takes them: gate, stdin, stdout, stderr, channels."""
        return self._job_ends

    def close_job_ends(self) -> None:
        for fd in self._job_ends:
            os.close(fd)
            self._open.remove(fd)

    def take_stdin_writer(self) -> int:
        """The write end of stdin, handed to ``watch`` (which closes it)."""
        self._open.remove(self._stdin_writer)
        return self._stdin_writer
