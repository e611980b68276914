"""assay's warm Python executor, run inside a long-lived sandbox by the system python3.

It imports the modules programs commonly use once, then forks one process per job. The
executor itself stays uid 0 of the sandbox's user namespace (with only CAP_SETUID and
CAP_SETGID) and never runs untrusted code; each job's process drops to the unprivileged
sandbox uid before anything of the job runs, so a job can neither signal nor trace the
executor. Per job:

1. The host sends the job on the control socket (a SOCK_SEQPACKET fd given as argv[1]): the
   fds of a payload (a header and the files), a gate, stdin, stdout, stderr and the side
   channels.
2. The executor forks. The child starts a new session and blocks on the gate; the executor
   answers ``{"pid": N}``; the host puts the child in the job's cgroup and opens the gate.
3. The child drops to the sandbox uid, takes the job's fds as 0, 1, 2, 3..., its rlimits,
   environment and files (in the empty /work), and runs the program through ``launch.py``,
   as the cold path would: a fresh ``__main__``, a syntax error on the status fd, and the
   interpreter's own shutdown (threads joined, atexit, flush) when it ends.
4. The executor reaps it and answers ``{"status": WAIT_STATUS}`` (exact: no 128 + N), then
   cleans up with the job's uid as its effective uid: kills whatever of the job is left,
   empties /work and /tmp, removes System V IPC objects, and answers ``{"clean": true}``.
   When it cannot, it answers ``{"broken": why}`` and exits, and the host starts a new one.

Nothing a job leaves behind reaches the next: its modules, globals, threads and signal
handlers died with its process; files, processes and IPC objects are removed.
"""

import array
import contextlib
import ctypes
import gc
import json
import os
import resource
import shutil
import signal
import socket
import stat
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import launch  # type: ignore[import-not-found]  # the cold path's launcher, next to this file
from launch import exit_code, shut_down

CONTROL = socket.socket(fileno=int(sys.argv[1]))
os.close(int(sys.argv[2]))  # bwrap leaves the user namespace fd open
SANDBOX_UID = SANDBOX_GID = 65534
WORK_DIR = "/work"
# Emptied after every job: the work dir, /tmp, and the POSIX message queues of the IPC
# namespace the executor's jobs share (bwrap mounts them at /dev/mqueue).
SCRATCH_DIRS = (WORK_DIR, "/tmp", "/dev/mqueue")
MAX_FDS = 16
GATE_OPEN = b"x"
SETUP_FAILED = 125  # the exit status of a job whose process could not be set up
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
IPC_RMID = 0

LIBC = ctypes.CDLL(None, use_errno=True)

# Imported once here, so that no job pays for them: what test runners and typical
# solutions import.
WARM_MODULES = (
    "abc", "argparse", "array", "ast", "base64", "bisect", "collections", "contextlib", "copy",
    "dataclasses", "datetime", "decimal", "enum", "fractions", "functools", "hashlib", "heapq",
    "io", "itertools", "json", "math", "operator", "random", "re", "select", "shutil",
    "statistics", "string", "struct", "tempfile", "textwrap", "traceback", "typing", "unittest",
)


def send(message: dict[str, object]) -> None:
    CONTROL.send(json.dumps(message).encode())


def receive_job() -> tuple[bytes, list[int]] | None:
    """(payload bytes, received fds), or None when the host closed the socket."""
    fds = array.array("i")
    data, ancillary, _, _ = CONTROL.recvmsg(64, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, chunk in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(chunk[:len(chunk) - len(chunk) % fds.itemsize])
    if not data:
        return None
    payload_fd = fds[0]
    with os.fdopen(payload_fd, "rb") as handle:
        payload = handle.read()
    return payload, list(fds[1:])


def parse(payload: bytes) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The job's header, and its files as (name, content)."""
    size = int.from_bytes(payload[:8], "little")
    header = json.loads(payload[8:8 + size])
    files, offset = [], 8 + size
    for name, length in header["files"]:
        files.append((name, payload[offset:offset + length]))
        offset += length
    return header, files


def serve() -> tuple[dict[str, Any], list[tuple[str, bytes]], list[int]]:
    """Answer jobs until the host closes the socket; returns only in a job's process."""
    while True:
        received = receive_job()
        if received is None:
            sys.exit(0)
        payload, fds = received
        try:
            header, files = parse(payload)
            header["compiled"] = compiled_runner(header, files)
            pid = os.fork()
        except Exception as exc:  # a malformed job or no process left: say so, go on
            for fd in fds:
                os.close(fd)
            send({"error": f"{type(exc).__name__}: {exc}"})
            continue
        if pid == 0:
            return header, files, fds
        for fd in fds:
            os.close(fd)
        send({"pid": pid})
        _, status, usage = os.wait4(pid, 0)
        send({"status": status, "cpu_s": usage.ru_utime + usage.ru_stime,
              "maxrss_kb": usage.ru_maxrss})
        try:
            clean_up()
        except Exception as exc:
            send({"broken": f"could not clean up after a job: {type(exc).__name__}: {exc}"})
            sys.exit(1)
        send({"clean": True})


def compiled_runner(header: dict[str, Any], files: list[tuple[str, bytes]]
                    ) -> types.CodeType | None:
    """The code of the job's entry file when the host says it is one of assay's own runners
    (trusted, and the same in many jobs): compiled here once, not in every job."""
    if header.get("runner") is None:
        return None
    name, digest = header["runner"]  # the host hashed the source already
    key = (name, digest)
    if key not in RUNNERS:
        if len(RUNNERS) >= 32:
            RUNNERS.clear()
        RUNNERS[key] = compile(dict(files)[name], name, "exec", dont_inherit=True)
    return RUNNERS[key]


RUNNERS: dict[tuple[str, str], types.CodeType] = {}


# -- after a job -------------------------------------------------------------------------

def clean_up() -> None:
    """Remove what the job left, acting as its uid (the executor keeps uid 0 as its real and
    saved uid, so a leftover process still cannot signal it)."""
    os.setresuid(-1, SANDBOX_UID, -1)
    try:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # every process of the job's uid but this one
        wait_for_no_strays()
        for directory in SCRATCH_DIRS:
            empty(directory)
        remove_ipc_objects()
    finally:
        os.setresuid(-1, 0, -1)


def wait_for_no_strays(timeout: float = 2.0) -> None:
    """Killed processes are reaped by the sandbox's init; wait until they are gone."""
    me = str(os.getpid())
    deadline = time.monotonic() + timeout
    while any(name.isdigit() and name not in ("1", me) for name in os.listdir("/proc")):
        if time.monotonic() > deadline:
            raise RuntimeError("processes of the job survived SIGKILL")
        time.sleep(0.0005)


def empty(directory: str) -> None:
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=allow_and_retry)
        else:
            os.unlink(entry.path)


def allow_and_retry(function: object, path: str, _: object) -> None:
    """rmtree met a directory the job made unreadable or unwritable: it is the job's own
    (our effective uid), so give it back its owner's permissions and retry."""
    parent = os.path.dirname(path)
    for target in (parent, path):
        if os.path.isdir(target) and not os.path.islink(target):
            os.chmod(target, stat.S_IRWXU)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def remove_ipc_objects() -> None:
    """System V shared memory, semaphores and message queues outlive their processes."""
    removers: dict[str, Callable[[int], int]] = {
        "shm": lambda ipc_id: LIBC.shmctl(ipc_id, IPC_RMID, None),
        "sem": lambda ipc_id: LIBC.semctl(ipc_id, 0, IPC_RMID),
        "msg": lambda ipc_id: LIBC.msgctl(ipc_id, IPC_RMID, None)}
    for kind, remove in removers.items():
        with open(f"/proc/sysvipc/{kind}") as handle:
            rows = handle.read().splitlines()[1:]
        for row in rows:
            if remove(int(row.split()[1])) != 0:
                raise OSError(ctypes.get_errno(), f"cannot remove System V {kind} object")


# -- in the job's process ----------------------------------------------------------------

def become_job(header: dict[str, Any], files: list[tuple[str, bytes]], fds: list[int]
               ) -> None:
    """Turn this forked process into the job's, then run its program."""
    gate, stdin, stdout, stderr, *channels = fds
    os.setsid()
    if os.read(gate, 1) != GATE_OPEN:  # the host could not put us in the job's cgroup
        os._exit(SETUP_FAILED)
    CONTROL.close()
    drop_privileges()
    take_fds([stdin, stdout, stderr, *channels])
    for resource_id, soft, hard in header["rlimits"]:
        resource.setrlimit(resource_id, (soft, hard))
    os.chdir(WORK_DIR)
    os.umask(0)  # the files' modes exactly as the cold path makes them
    write_files(files)
    os.umask(header["umask"])
    set_environment(header["env"])
    sys.modules.pop("launch", None)  # as on the cold path, where it is __main__
    argv = header["argv"]
    if argv[1:2] != [launch.LAUNCHER_FILE]:
        sys.stderr.write(f"assay warm executor: cannot run {argv[:2]}\n")
        os._exit(SETUP_FAILED)
    main = types.ModuleType("__main__")
    try:
        launch.launch(argv[2:], main, header["compiled"])
        code = 0
    except SystemExit as exc:
        code = exit_code(exc)
    shut_down(main, code)


def set_environment(env: dict[str, str]) -> None:
    """Exactly the job's environment; only what differs from the executor's is touched."""
    for name in [name for name in os.environ if name not in env]:
        del os.environ[name]
    for name, value in env.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


class CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapabilitySet(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


CAPABILITY_VERSION_3 = 0x20080522


def drop_privileges() -> None:
    """What setpriv does on the cold path: the sandbox uid and gid, no groups, no
    capability in any set, no new privileges."""
    os.setgroups([])
    os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)  # clears effective and permitted
    no_capabilities = (CapabilitySet * 2)()  # inheritable too (bwrap filled it)
    header = CapabilityHeader(CAPABILITY_VERSION_3, 0)
    if LIBC.capset(ctypes.byref(header), no_capabilities) != 0 \
            or LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(SETUP_FAILED)
    LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # as a freshly exec'd program is


def take_fds(fds: list[int]) -> None:
    """The job's fds as 0, 1, 2, then its side channels from 3 up; nothing else open."""
    high = [os.dup2(fd, 200 + i) for i, fd in enumerate(fds)]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(len(fds), 1 << 16)


def write_files(files: list[tuple[str, bytes]]) -> None:
    """The job's files in /work: directories 0777 and files 0666, as bwrap makes them on the
    cold path (the caller has set the umask to 0)."""
    for name, content in files:
        path = os.path.join(WORK_DIR, name)
        os.makedirs(os.path.dirname(path), mode=0o777, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def warm_up() -> None:
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            __import__(name)
    LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    gc.collect()
    gc.freeze()  # forked jobs then do not copy the executor's objects when collecting


warm_up()
send({"ready": True})
become_job(*serve())
