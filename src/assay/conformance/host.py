"""The host side of the hostile cases: bait the sandbox must not reach, and the checks."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import threading
from pathlib import Path


class HostBait:
    """Things on the host that a sandboxed program must not see, reach or leave behind.

    - a secret file in /root and a secret variable in assay's own environment;
    - a TCP listener on 127.0.0.1 that records every connection it accepts;
    - a token that hostile programs put in the name of processes and files they try to
      leave behind, so the host can be searched for them afterwards;
    - a canary process the sandboxed program would kill if it could reach the host.
    """

    def __init__(self) -> None:
        self.token = f"assay-selfcheck-{secrets.token_hex(6)}"
        self.secret = secrets.token_hex(16)
        self.secret_file = Path("/root") / f".{self.token}"
        self.env_var = "ASSAY_SELFCHECK_SECRET"
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.canary: subprocess.Popen[bytes] | None = None
        self._old_env: str | None = None

    def __enter__(self) -> HostBait:
        self._thread.start()
        with contextlib.suppress(OSError):
            self.secret_file.write_text(self.secret)
        self._old_env = os.environ.get(self.env_var)
        os.environ[self.env_var] = self.secret
        self.canary = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()
        with contextlib.suppress(OSError):
            self.secret_file.unlink()
        if self._old_env is None:
            os.environ.pop(self.env_var, None)
        else:
            os.environ[self.env_var] = self._old_env
        if self.canary is not None:
            self.canary.kill()
            self.canary.wait()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def canary_alive(self) -> bool:
        return self.canary is not None and self.canary.poll() is None

    def processes_with_token(self) -> list[str]:
        """Host processes whose command line carries the token (left behind by a run)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if self.token in cmdline:
                    found.append(f"{entry.name}: {cmdline.strip()}")
        return found

    def files_with_token(self) -> list[str]:
        """Host files named after the token outside its own secret file."""
        places = [Path("/tmp"), Path("/"), Path("/usr/lib"), Path("/etc"), Path("/root"),
                  Path("/var/tmp"), Path("/dev/shm")]
        return [str(p / self.token) for p in places if (p / self.token).exists()]


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
