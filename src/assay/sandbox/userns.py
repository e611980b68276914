"""A user namespace in which sandboxed code runs as an unprivileged host uid.

When assay runs as root, bwrap's own --unshare-user would map the sandbox user to host
uid 0: the program would own every root-owned file it can see. Instead assay (root) makes a
user namespace whose map holds uid 0 (so bwrap can still set up mounts of toolchains under
0700 dirs such as /root) and the unprivileged SANDBOX_UID; the command then drops to
SANDBOX_UID with setpriv before anything untrusted runs. The namespace is made once and its
fd reused by every run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534


def make_user_namespace(uid: int = SANDBOX_UID, gid: int = SANDBOX_GID) -> int:
    """Return an fd of a new user namespace mapping 0->0 and uid->uid (needs root)."""
    # The helper waits for its maps, then forbids nested user namespaces (so sandboxed code
    # cannot gain capabilities in one of its own) and sleeps until we hold the fd. The sysctl
    # is written by a process exec'd after the maps exist; the first shell may not write it.
    limit = "echo 0 > /proc/sys/user/max_user_namespaces && exec sleep 600"
    helper = subprocess.Popen(
        ["unshare", "--user", "--", "sh", "-c", f"read _ && exec sh -c '{limit}'"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    assert helper.stdin is not None
    try:
        own = os.readlink("/proc/self/ns/user")
        _wait_for(helper, lambda: os.readlink(f"/proc/{helper.pid}/ns/user") != own)
        for name, inner in (("uid_map", uid), ("gid_map", gid)):
            with open(f"/proc/{helper.pid}/{name}", "w") as handle:
                handle.write(f"0 0 1\n{inner} {inner} 1\n")
        helper.stdin.write(b"go\n")
        helper.stdin.flush()
        _wait_for(helper, lambda: os.path.basename(
            os.readlink(f"/proc/{helper.pid}/exe")) == "sleep")
        return os.open(f"/proc/{helper.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        with contextlib.suppress(ProcessLookupError):
            helper.kill()
        helper.wait()
        helper.stdin.close()
        if helper.stderr:
            helper.stderr.close()


def _wait_for(helper: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError):
            if ready():
                return
        if helper.poll() is not None:
            err = helper.stderr.read().decode() if helper.stderr else ""
            raise OSError(f"could not create a user namespace: {err.strip()}")
        if time.monotonic() > deadline:
            raise OSError("timed out creating a user namespace")
        time.sleep(0.001)


def drop_privileges_argv(setpriv: str, uid: int = SANDBOX_UID, gid: int = SANDBOX_GID
                         ) -> list[str]:
    return [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
            "--inh-caps=-all", "--no-new-privs", "--"]
