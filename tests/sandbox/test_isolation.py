"""The bwrap backend isolates for real: namespaces, filesystem, network, identity."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assay.sandbox import Limits, RunSpec, Sandbox, Verdict, get_sandbox
from assay.sandbox.languages.base import Language, Toolchain


def test_runs_as_an_unprivileged_user_in_fresh_namespaces(sandbox: Sandbox) -> None:
    result = sandbox.run(RunSpec.single("python", textwrap.dedent("""
        import os, socket
        processes = [p for p in os.listdir('/proc') if p.isdigit()]
        print(os.getuid(), os.getgid(), socket.gethostname(), len(processes))
        net = '/sys/class/net'
        print(sorted(os.listdir(net)) if os.path.exists(net) else 'no-sys')
        print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])
        print(os.listdir('/proc/self/fd'))
    """)))
    assert result.verdict is Verdict.OK, result.stderr
    ids, net, caps, fds = result.stdout.splitlines()
    uid, gid, host, processes = ids.split()
    assert uid != "0" and gid != "0"
    assert host == "sandbox"
    assert int(processes) <= 3  # a new pid namespace: its init (and a warm executor), us
    assert net == "no-sys"
    assert int(caps, 16) == 0
    assert sorted(eval(fds)) == ["0", "1", "2", "3"]  # 3: the listdir itself


def test_host_network_is_unreachable(sandbox: Sandbox) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    result = sandbox.run(RunSpec.single(
        "python", f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"))
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    assert result.verdict is Verdict.RUNTIME_ERROR
    assert "ConnectionRefusedError" in result.stderr or "unreachable" in result.stderr


def test_host_filesystem_is_read_only_and_partial(sandbox: Sandbox, tmp_path: Path) -> None:
    secret_dir = Path("/root") / f".assay-test-{os.getpid()}"
    secret_dir.mkdir()
    (secret_dir / "secret").write_text("do not read")
    try:
        result = sandbox.run(RunSpec.single("python", textwrap.dedent(f"""
            import os
            for path in ['/usr/bin/assay-x', '/etc/assay-x', '/assay-x']:
                try:
                    open(path, 'w')
                    print('WROTE', path)
                except OSError as exc:
                    print(type(exc).__name__)
            print(os.path.exists({str(secret_dir)!r}), os.path.exists('/home'))
            open('/tmp/scratch', 'w').write('ok')
            open('work-file', 'w').write('ok')
            print(os.getcwd())
        """)))
    finally:
        (secret_dir / "secret").unlink()
        secret_dir.rmdir()
    assert result.verdict is Verdict.OK, result.stderr
    assert "WROTE" not in result.stdout
    assert result.stdout.splitlines()[-2:] == ["False False", "/work"]


def test_each_run_gets_a_fresh_work_dir(sandbox: Sandbox) -> None:
    first = sandbox.run(RunSpec.single("bash", "echo leftover > /work/state; echo x > /tmp/t"))
    second = sandbox.run(RunSpec.single("bash", "ls -A /work; ls -A /tmp"))
    assert first.verdict is Verdict.OK
    assert second.stdout.split() == ["main.sh"]


def test_parent_environment_is_not_visible(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("ASSAY_TEST_SECRET", "s3cret-value")
    result = sandbox.run(RunSpec.single(
        "bash", "env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'", env={"MINE": "1"}))
    assert "s3cret-value" not in result.stdout
    assert "MINE=1" in result.stdout
    assert "ASSAY_STATUS_FD" not in result.stdout


def test_every_process_is_gone_when_run_returns(sandbox: Sandbox) -> None:
    token = f"assay-daemon-{os.getpid()}-{time.monotonic_ns()}"
    code = (f"(setsid sleep 300 {token} &) ; nohup sleep 301 {token} >/dev/null 2>&1 & "
            "disown; echo started")
    result = sandbox.run(RunSpec.single("bash", code))
    assert result.verdict is Verdict.OK
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                 and token.encode() in _cmdline(p)]
    assert leftovers == []


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_sandbox_dies_with_its_parent(tmp_path: Path) -> None:
    """Killing the process that runs the sandbox must kill the sandboxed program too."""
    token = f"assay-orphan-{os.getpid()}-{time.monotonic_ns()}"
    script = textwrap.dedent(f"""
        from assay.sandbox import RunSpec, Limits, get_sandbox
        box = get_sandbox()
        print("running", flush=True)
        box.run(RunSpec.single("bash", "sleep 300 {token}", limits=Limits(wall_s=600, cpu_s=600)))
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    assert parent.stdout.readline() == b"running\n"
    deadline = time.monotonic() + 30
    while not any(token.encode() in _cmdline(p) for p in Path("/proc").iterdir()
                  if p.name.isdigit()):
        assert time.monotonic() < deadline, "sandboxed sleep never started"
        time.sleep(0.05)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(token.encode() in _cmdline(p) for p in Path("/proc").iterdir() if p.name.isdigit()):
        assert time.monotonic() < deadline, "sandboxed program survived its parent"
        time.sleep(0.05)


class _BrokenMountLanguage(Language):
    """A toolchain whose mount does not exist: bwrap cannot set the sandbox up."""

    name = "broken"
    extensions = (".broken",)
    default_entry = "main.broken"

    def discover(self) -> Toolchain:
        return Toolchain(version="0", executables={"sh": "/bin/sh"},
                         mounts=("/nonexistent/assay-toolchain",))

    def run_argv(self, tc: Toolchain, entry: str) -> list[str]:
        return ["/bin/sh", entry]


def test_sandbox_setup_failure_is_a_sandbox_error_not_a_wrong_answer(sandbox: Sandbox) -> None:
    from assay.sandbox.languages import _REGISTRY, register_language

    register_language(_BrokenMountLanguage())
    try:
        result = sandbox.run(RunSpec(language="broken", files={"main.broken": "echo hi"}))
    finally:
        _REGISTRY.pop("broken")
    assert result.verdict is Verdict.SANDBOX_ERROR
    assert result.error is not None and "/nonexistent/assay-toolchain" in result.error


def test_program_imitating_bwrap_errors_is_judged_as_itself(sandbox: Sandbox) -> None:
    """Printing what bwrap prints on failure must not turn a wrong answer into SANDBOX_ERROR."""
    result = sandbox.run(RunSpec.single(
        "bash", "echo \"bwrap: Can't find source path /x: No such file\" >&2; exit 1"))
    assert result.verdict is Verdict.RUNTIME_ERROR


def test_backends_by_name() -> None:
    from assay.sandbox import SandboxError, sandbox_names

    assert sandbox_names() == ["bwrap", "local"]
    with pytest.raises(SandboxError, match="known: bwrap, local"):
        get_sandbox("docker")
    with pytest.warns(UserWarning, match="does not isolate"):
        get_sandbox("local").close()


def test_limits_of_one_run_are_its_own(sandbox: Sandbox) -> None:
    slow = sandbox.run(RunSpec.single("bash", "sleep 5", limits=Limits(wall_s=0.5)))
    assert (slow.verdict, slow.limit_exceeded) == (Verdict.TIME_LIMIT, "wall_time")
    assert slow.wall_s < 5
    fast = sandbox.run(RunSpec.single("bash", "sleep 0.1; echo done"))
    assert (fast.verdict, fast.stdout) == (Verdict.OK, "done\n")


def test_nested_user_namespaces_are_refused(sandbox: Sandbox) -> None:
    """A user namespace of its own would give the program capabilities again."""
    result = sandbox.run(RunSpec.single(
        "bash", "unshare --user --map-root-user true && echo NESTED || echo refused"))
    assert result.stdout == "refused\n"


KEYRING_PROGRAM = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] == "leave":  # add_key("user", ..., KEY_SPEC_USER_KEYRING)
    found = libc.syscall(248, b"user", b"assay-note", b"answer is 42", 12, -4)
else:  # request_key("user", ...): searches the user keyring
    found = libc.syscall(249, b"user", b"assay-note", None, 0)
print(found, ctypes.get_errno())
"""


@pytest.mark.parametrize("path", ["warm", "cold"])
def test_no_run_can_leave_a_key_for_the_next(sandbox: Sandbox, sandbox_cold: Sandbox,
                                              path: str) -> None:
    """Guards against the kernel keyring: the user keyring of the sandbox's uid outlives a
    run (it belongs to the user namespace every run shares), so a key one program added was
    there for the next run to read."""
    box = sandbox if path == "warm" else sandbox_cold
    left = box.run(RunSpec.single("python", KEYRING_PROGRAM, argv=("leave",)))
    found = box.run(RunSpec.single("python", KEYRING_PROGRAM, argv=("find",)))
    assert left.stdout.split() == ["-1", "1"], left.stderr  # EPERM
    assert found.stdout.split() == ["-1", "1"], found.stderr
