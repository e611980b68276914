"""Hostile programs: each tries to break out or break the host, and must get a verdict."""

from __future__ import annotations

from assay.conformance.host import HostBait

FORK_BOMB_PYTHON = "import os\nwhile True:\n    os.fork()\n"
# The classic bomb, re-lit forever so that the main process never exits on its own.
FORK_BOMB_BASH = "bomb() { bomb | bomb & }\nwhile :; do bomb; done\n"

OUTPUT_FLOOD_PYTHON = 'import sys\nchunk = "x" * 65536\nwhile True:\n    sys.stdout.write(chunk)\n'
OUTPUT_FLOOD_C = (
    "#include <stdio.h>\n#include <string.h>\nint main(void) {\n    static char b[1 << 16];\n"
    "    memset(b, 'e', sizeof b);\n    for (;;) fwrite(b, 1, sizeof b, stderr);\n}\n")
FILE_FLOOD_C = (
    "#include <stdio.h>\n#include <string.h>\nint main(void) {\n    static char b[1 << 16];\n"
    "    memset(b, 'f', sizeof b);\n    FILE *f = fopen(\"big.bin\", \"wb\");\n"
    "    for (;;) { fwrite(b, 1, sizeof b, f); fflush(f); }\n}\n")


def network_python(bait: HostBait) -> str:
    return ("import socket\n"
            f"socket.create_connection(('127.0.0.1', {bait.port}), timeout=2)\n"
            "print('CONNECTED')\n")


def network_bash(bait: HostBait) -> str:
    return f"exec 3<>/dev/tcp/127.0.0.1/{bait.port} && echo CONNECTED\n"


def write_outside(bait: HostBait) -> str:
    return f"""import os
token = {bait.token!r}
written = []
for directory in ["/usr/lib", "/etc", "/", "/root", "/var/tmp", "/dev/shm", "/home"]:
    try:
        with open(os.path.join(directory, token), "w") as handle:
            handle.write("escaped")
        written.append(directory)
    except OSError as exc:
        print(directory, type(exc).__name__)
# The sandbox's own /tmp is writable; the host's /tmp must not see this file.
with open("/tmp/" + token, "w") as handle:
    handle.write("sandbox tmp")
print("written inside the sandbox:", written)
"""


def read_secrets(bait: HostBait) -> str:
    return f"""import glob, os
for path in [{str(bait.secret_file)!r}, "/root", "/etc/shadow"]:
    try:
        print(path, os.listdir(path) if os.path.isdir(path) else open(path).read())
    except OSError as exc:
        print(path, type(exc).__name__)
print("env:", os.environ.get({bait.env_var!r}), sorted(os.environ))
for path in glob.glob("/proc/*/environ"):
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    if {bait.env_var!r}.encode() in data:
        print(path, data)
"""


def daemon_child(bait: HostBait) -> str:
    return f"""import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)",
                                  {bait.token!r}])
    os._exit(0)
print("parent exits, daemon left running")
"""


KILL_PARENT_GROUP = """import os, signal
for action in (lambda: os.kill(-1, signal.SIGKILL),
               lambda: os.kill(os.getppid(), signal.SIGKILL),
               lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)):
    try:
        action()
    except OSError as exc:
        print(type(exc).__name__, flush=True)
os.killpg(0, signal.SIGKILL)
"""
