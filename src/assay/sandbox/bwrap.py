"""The default backend: bubblewrap namespaces, cgroup limits, a tmpfs work dir per run."""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterable
from pathlib import Path

from assay.sandbox import seccomp
from assay.sandbox.base import (
    SANDBOXED_VARIABLE,
    Sandbox,
    SandboxError,
    Step,
    register_sandbox,
    which_or_raise,
)
from assay.sandbox.cgroups import CgroupManager, RunGroup
from assay.sandbox.compile_cache import CompileCache
from assay.sandbox.languages.base import LAUNCHER_DIR, SYSTEM_DIRS, WORK_DIR
from assay.sandbox.spec import MIB
from assay.sandbox.supervisor import RawExit, rlimits_for, supervise
from assay.sandbox.userns import (
    SANDBOX_GID,
    SANDBOX_UID,
    drop_privileges_argv,
    make_user_namespace,
)
from assay.sandbox.warm import WarmPool

LAUNCHERS = Path(__file__).parent / "launchers"
HOSTNAME = "sandbox"


@register_sandbox("bwrap")
class BwrapSandbox(Sandbox):
    """Isolation with bubblewrap: new user, pid, net, ipc, uts, mount and cgroup namespaces;
    the host filesystem read-only and only in part; no network; a fresh tmpfs work dir.

    Memory, process count and CPU time are enforced per run with a cgroup where one is
    writable, else with rlimits (see ``cgroups.py``).

    Python programs run in warm executors (``sandbox/warm``) when ``warm`` is true (the
    default), assay runs as root and a cgroup is writable: each run is then a fork of an
    interpreter already started in its sandbox, with the same limits and verdicts.
    """

    def __init__(self, cache: CompileCache | None = None, use_cgroups: bool = True,
                 warm: bool = True) -> None:
        super().__init__(cache)
        self.bwrap = which_or_raise("bwrap", "install bubblewrap (apt-get install bubblewrap)")
        self.cgroups = CgroupManager() if use_cgroups else None
        self.as_root = os.geteuid() == 0
        self.system_mounts = _system_mounts()
        self.userns_fd: int | None = None
        # What runs between bwrap and the program (root only: drop to the sandbox user).
        self.command_prefix: list[str] = []
        if self.as_root:
            try:
                self.userns_fd = make_user_namespace()
            except OSError as exc:
                raise SandboxError(f"cannot create the sandbox user namespace: {exc}") from exc
            setpriv = which_or_raise("setpriv", "install util-linux")
            bash = which_or_raise("bash", "install bash")
            # bwrap leaves the --userns fd open; bash closes it before the program starts
            # (dash cannot name fds above 9). bash exports PWD and SHLVL to what it execs:
            # env takes them back, so the program's environment is exactly the run's.
            env = which_or_raise("env", "install coreutils")
            self.command_prefix = [*drop_privileges_argv(setpriv), bash, "-c",
                                   f'exec {self.userns_fd}<&-; exec {env} -u PWD -u SHLVL '
                                   '-- "$@"', "bash"]
        self.warm_pool: WarmPool | None = None
        self.warm_unavailable = _warm_unavailable(warm, self.as_root, self.cgroups)
        if self.warm_unavailable is None:
            self.warm_pool = WarmPool(self)

    @property
    def isolation_notes(self) -> list[str]:
        notes = []
        if self.cgroups is None or not self.cgroups.available:
            reason = self.cgroups.unavailable_reason if self.cgroups else "disabled"
            notes.append(f"no cgroup ({reason}); memory and processes limited by rlimits")
        else:
            notes.append(f"cgroup v{self.cgroups.version} limits memory, processes, CPU")
        notes.append("warm Python executors" if self.warm_pool is not None
                     else f"no warm executors ({self.warm_unavailable})")
        return notes

    def release_idle(self) -> None:
        if self.warm_pool is not None:
            self.warm_pool.close()

    def close(self) -> None:
        self.release_idle()
        if self.userns_fd is not None:
            os.close(self.userns_fd)
            self.userns_fd = None

    def prepare_writable_dir(self, path: Path) -> None:
        if self.as_root:
            os.chown(path, SANDBOX_UID, SANDBOX_GID)

    def prepare_writable_tree(self, path: Path) -> None:
        if not self.as_root:
            return
        os.chown(path, SANDBOX_UID, SANDBOX_GID, follow_symlinks=False)
        for parent, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(parent, name), SANDBOX_UID, SANDBOX_GID,
                         follow_symlinks=False)

    def execute(self, step: Step) -> RawExit:
        if step.warm and self.warm_pool is not None and not step.binds and not step.network:
            raw = self.warm_pool.execute(step)
            if raw is not None:
                return raw
        group = self._new_group(step)
        try:
            with Pipes() as pipes:
                argv, pass_fds = self.command(step, pipes, self.command_prefix)
                raw = supervise(
                    argv, limits=step.limits, stdin=step.stdin, env={"PATH": "/usr/bin:/bin"},
                    pass_fds=pass_fds, gate_write_fd=pipes.take_gate_writer(),
                    gate_holds_child=True, group=group,
                    rlimits=rlimits_for(step.limits, memory_by_rlimit=group is None,
                                        processes_by_rlimit=group is None),
                    side_channels=pipes.side_channels(),
                )
        finally:
            if group is not None:
                group.remove()
        raw.signal_in_exit_code = True
        _detect_setup_failure(raw)
        return raw

    def _new_group(self, step: Step) -> RunGroup | None:
        if self.cgroups is None or not self.cgroups.available:
            return None
        return self.cgroups.create(step.limits)

    def command(self, step: Step, pipes: Pipes, prefix: list[str]
                ) -> tuple[list[str], list[int]]:
        """bwrap's command line for the step, and the fds it must inherit. ``prefix`` runs
        before the step's argv (``command_prefix``: drop to the sandbox user)."""
        if self.userns_fd is not None:
            # Mounts are made as uid 0 of our namespace; setpriv drops to SANDBOX_UID.
            identity = ["--userns", str(self.userns_fd), "--uid", "0", "--gid", "0",
                        "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            pass_fds = [self.userns_fd]
        else:
            identity = ["--unshare-user", "--disable-userns",
                        "--uid", str(os.getuid()), "--gid", str(os.getgid())]
            pass_fds = []
        args = [self.bwrap, *identity,
                "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                "--hostname", HOSTNAME, "--clearenv"]
        if not step.network:
            args.append("--unshare-net")
        args += self.system_mounts
        # Parents of toolchain mounts (such as /root, mode 0700 on the host) are made
        # traversable, and hold nothing but the mounts.
        for directory in _parent_dirs(step.toolchain.mounts, absolute=True):
            args += ["--perms", "0755", "--dir", directory]
        for mount in step.toolchain.mounts:
            args += ["--ro-bind", mount, mount]
        disk = str(step.limits.disk_mb * MIB)
        # The IPC namespace's POSIX message queues at /dev/mqueue, where a warm executor can
        # list (and remove) what a job left.
        args += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue",
                 "--perms", "1777", "--size", disk, "--tmpfs", "/tmp",
                 "--perms", "0777", "--size", disk, "--tmpfs", WORK_DIR,
                 "--ro-bind", str(LAUNCHERS), LAUNCHER_DIR]
        for directory in _parent_dirs(step.files):
            args += ["--perms", "0777", "--dir", f"{WORK_DIR}/{directory}"]
        for name, content in sorted(step.files.items()):
            fd = pipes.memfd(content)
            pass_fds.append(fd)
            args += ["--perms", "0666", "--file", str(fd), f"{WORK_DIR}/{name}"]
        for bind in step.binds:
            args += ["--bind" if bind.writable else "--ro-bind", bind.host, bind.dest]
        env = {**step.env, SANDBOXED_VARIABLE: "1"}
        if step.status_channel:
            status_fd = pipes.channel_writer("status")
            pass_fds.append(status_fd)
            env["ASSAY_STATUS_FD"] = str(status_fd)
        if step.report_channel:
            report_fd = pipes.channel_writer("report")
            pass_fds.append(report_fd)
            env["ASSAY_REPORT_FD"] = str(report_fd)
        for key, value in env.items():
            args += ["--setenv", key, value]
        if seccomp.supported():  # inherited by every process of the run (warm jobs too)
            rules = pipes.memfd(seccomp.keyring_filter())
            pass_fds.append(rules)
            args += ["--seccomp", str(rules)]
        gate = pipes.gate_reader()
        started = pipes.channel_writer("bwrap-status")
        pass_fds += [gate, started]
        args += ["--remount-ro", "/", "--chdir", WORK_DIR, "--block-fd", str(gate),
                 "--json-status-fd", str(started), "--", *prefix, *step.argv]
        return args, pass_fds


def _warm_unavailable(wanted: bool, as_root: bool, cgroups: CgroupManager | None) -> str | None:
    """Why warm executors cannot be used, or None when they can."""
    if not wanted:
        return "disabled"
    if not as_root:
        # The executor and its jobs must run as two uids, so that a job cannot signal or
        # trace it; without root the sandbox's user namespace maps only one.
        return "they need assay to run as root"
    if cgroups is None or not cgroups.available:
        return "they need a writable cgroup for each job's limits"
    return None


def _detect_setup_failure(raw: RawExit) -> None:
    """bwrap writes an "exit-code" status only when the command really ran; without one, the
    sandbox failed to start (bad mount, missing toolchain) and the exit code is bwrap's own.
    The program cannot forge this: the status fd is closed before it starts."""
    status = raw.side_channels.pop("bwrap-status", b"")
    if raw.error is None and raw.killed_for is None and b'"exit-code"' not in status:
        reason = raw.stderr.decode(errors="replace").strip() or f"bwrap exited {raw.exit_code}"
        raw.error = f"sandbox setup failed: {reason[-500:]}"


def _system_mounts() -> list[str]:
    args: list[str] = []
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    return args


def _parent_dirs(paths: Iterable[str], absolute: bool = False) -> list[str]:
    """Every ancestor directory of the paths, parents first."""
    found: set[str] = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent != "/":
            found.add(parent)
            parent = posixpath.dirname(parent)
    if absolute:
        found = {d for d in found if not any(d == s or d.startswith(s + "/") for s in SYSTEM_DIRS)}
    return sorted(found, key=lambda d: d.count("/"))


class Pipes:
    """File descriptors of one run; everything still open is closed on exit."""

    def __init__(self) -> None:
        self._open: list[int] = []
        self._gate_writer: int | None = None
        self._readers: dict[str, int] = {}  # side channel name -> read end

    def __enter__(self) -> Pipes:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self._open:
            with contextlib.suppress(OSError):
                os.close(fd)

    def memfd(self, content: bytes) -> int:
        fd = os.memfd_create("assay-file", os.MFD_CLOEXEC)
        self._open.append(fd)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def gate_reader(self) -> int:
        """The end bwrap blocks on (--block-fd) until the supervisor writes the other."""
        reader, self._gate_writer = os.pipe2(os.O_CLOEXEC)
        self._open.append(reader)
        return reader

    def take_gate_writer(self) -> int:
        assert self._gate_writer is not None
        writer, self._gate_writer = self._gate_writer, None
        return writer  # supervise() closes it

    def channel_writer(self, name: str) -> int:
        """The write end of a side channel, passed into the sandbox."""
        self._readers[name], writer = os.pipe2(os.O_CLOEXEC)
        self._open.append(writer)
        return writer

    def side_channels(self) -> dict[str, int]:
        """Read ends handed to the supervisor, which closes them."""
        readers, self._readers = self._readers, {}
        return readers
