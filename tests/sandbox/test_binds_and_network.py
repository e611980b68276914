"""RunSpec.binds and RunSpec.network: what a dependency set-up stage and a repository's test
run need, and nothing more by default."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.sandbox import Bind, RunSpec, Sandbox, Verdict


def test_a_read_only_bind_is_visible_and_not_writable(sandbox: Sandbox, tmp_path: Path
                                                      ) -> None:
    (tmp_path / "data.txt").write_text("from the host\n")
    tmp_path.chmod(0o755)  # the sandbox's user reads it like any other user would
    code = ("print(open('/data/data.txt').read(), end='')\n"
            "try:\n    open('/data/new.txt', 'w')\nexcept OSError as exc:\n"
            "    print(type(exc).__name__)\n")
    result = sandbox.run(RunSpec.single("python", code, binds=(Bind(str(tmp_path), "/data"),)))
    assert result.verdict is Verdict.OK, result.stderr
    assert result.stdout == "from the host\nOSError\n"
    assert not (tmp_path / "new.txt").exists()


def test_a_writable_bind_keeps_what_the_program_wrote(sandbox: Sandbox, tmp_path: Path
                                                      ) -> None:
    out = tmp_path / "env"
    out.mkdir()
    code = "open('/env/installed.txt', 'w').write('ok')\n"
    result = sandbox.run(RunSpec.single("python", code,
                                        binds=(Bind(str(out), "/env", writable=True),)))
    assert result.verdict is Verdict.OK, result.stderr
    assert (out / "installed.txt").read_text() == "ok"


@pytest.mark.parametrize("dest", ["/work/x", "/usr/local/thing", "/tmp", "relative", "/a/../b",
                                  "/"])
def test_binds_cannot_go_where_the_sandbox_mounts_its_own(dest: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bind destination"):
        RunSpec.single("python", "pass", binds=(Bind(str(tmp_path), dest),))


def test_a_bind_of_a_missing_host_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        RunSpec.single("python", "pass", binds=(Bind(str(tmp_path / "nope"), "/repo"),))


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP listener on the host's loopback that answers 'hello' to whoever connects."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = server.accept()
            conn.sendall(b"hello")
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


CONNECT = """
import socket
try:
    print(socket.create_connection(("127.0.0.1", {port}), timeout=3).recv(5).decode())
except OSError as exc:
    print("refused:", type(exc).__name__)
"""


def test_no_network_unless_asked(sandbox: Sandbox, host_listener: int) -> None:
    result = sandbox.run(RunSpec.single("python", CONNECT.format(port=host_listener)))
    assert result.stdout.startswith("refused:"), result.stdout


def test_network_true_shares_the_hosts_network(sandbox: Sandbox, host_listener: int) -> None:
    result = sandbox.run(RunSpec.single("python", CONNECT.format(port=host_listener),
                                        network=True))
    assert result.verdict is Verdict.OK, result.stderr
    assert result.stdout == "hello\n"
