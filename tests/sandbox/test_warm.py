"""Warm executors: a Python run forked from an interpreter already started in its sandbox
gets the cold path's verdict and outcome, and nothing one job leaves reaches the next."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.sandbox import Limits, RunResult, RunSpec, Verdict, get_sandbox
from assay.sandbox.bwrap import BwrapSandbox
from assay.sandbox.warm import WarmPool

QUICK = Limits(wall_s=5, cpu_s=5)


@pytest.fixture(scope="module")
def warm(cache_root: Path) -> Iterator[BwrapSandbox]:
    from assay.sandbox import CompileCache

    with get_sandbox("bwrap", cache=CompileCache(cache_root)) as box:
        assert isinstance(box, BwrapSandbox) and box.warm_pool is not None, \
            box.warm_unavailable
        yield box


def pool(box: BwrapSandbox) -> WarmPool:
    assert box.warm_pool is not None
    return box.warm_pool


def run(box: BwrapSandbox, code: str, **kwargs: object) -> RunResult:
    kwargs.setdefault("limits", QUICK)
    return box.run(RunSpec.single("python", textwrap.dedent(code), **kwargs))  # type: ignore[arg-type]


# Programs whose every observable outcome must be the same warm and cold.
SAME = {
    "hello": "print('hello')",
    "stdin": "import sys\nprint(sys.stdin.read()[::-1])",
    "empty stdin": "import sys\nprint(repr(sys.stdin.read()))",
    "argv and main": "import sys, os\nprint(sys.argv, __name__, __file__, sys.path[0], "
                     "os.getcwd(), sorted(os.listdir('.')))",
    "files and modes": "import os\nfor root, dirs, files in sorted(os.walk('.')):\n"
                       "    for name in sorted(dirs + files):\n"
                       "        path = os.path.join(root, name)\n"
                       "        print(path, oct(os.stat(path).st_mode), open(path).read() "
                       "if os.path.isfile(path) else '')",
    "environment": "import os\nprint(sorted(os.environ.items()))",
    "identity": "import os\nprint(os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), "
                "oct(os.umask(0)))",
    "capabilities": "print([line for line in open('/proc/self/status') "
                    "if line.startswith(('Cap', 'NoNewPrivs', 'Sig'))])",
    "limits": "import resource\nprint({n: resource.getrlimit(getattr(resource, n)) for n in "
              "dir(resource) if n.startswith('RLIMIT_')})",
    "descriptors": "import os\nprint(sorted(os.listdir('/proc/self/fd')))",
    "exit code": "import sys\nsys.exit(3)",
    "exit message": "import sys\nsys.exit('bad input')",
    "exit 256": "raise SystemExit(256)",
    "os._exit": "import os\nprint('lost?', flush=True)\nos._exit(7)",
    "exception": "def f():\n    raise ValueError('boom')\nf()",
    "keyboard interrupt": "raise KeyboardInterrupt",
    "syntax error": "def f(:\n    pass",
    "segfault": "import ctypes\nctypes.string_at(0)",
    "abort": "import os\nos.abort()",
    "killed": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "late thread": "import threading, time\n"
                   "threading.Thread(target=lambda: (time.sleep(0.2), print('late'))).start()\n"
                   "print('main done')",
    "atexit": "import atexit\natexit.register(print, 'bye')\nprint('hi')",
    "finalizer": "class A:\n    def __del__(self):\n        print('finalized')\n"
                 "a = A()\nprint('end')",
    "unterminated line": "import sys\nsys.stdout.write('no newline')",
    "pickle from main": "import pickle\nclass A:\n    pass\n"
                        "print(type(pickle.loads(pickle.dumps(A()))).__name__)",
    "subprocess": "import subprocess\nprint(subprocess.run(['echo', 'child'], "
                  "capture_output=True, text=True).stdout)",
    "multiprocessing": "import multiprocessing as mp\n"
                       "if __name__ == '__main__':\n"
                       "    with mp.get_context('fork').Pool(2) as p:\n"
                       "        print(p.map(abs, [-1, -2]))",
    "nested user namespace": "import ctypes\nprint(ctypes.CDLL(None).unshare(0x10000000))",
    "memory hog": "x = []\nwhile True:\n    x.append(bytearray(1 << 20))",
    "busy loop": "while True:\n    pass",
    "sleep": "import time\ntime.sleep(30)",
    "stdout flood": "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)",
    "fork bomb": "import os\nwhile True:\n    os.fork()",
}
LIMITS = {
    "memory hog": Limits(memory_mb=128, wall_s=20, cpu_s=20),
    "busy loop": Limits(cpu_s=0.5, wall_s=5),
    "sleep": Limits(wall_s=0.5),
    "stdout flood": Limits(output_bytes=1 << 20),
    "fork bomb": Limits(processes=16, wall_s=3, cpu_s=3),
}
# Fields that say nothing of the program: where and how fast it ran.
NOT_COMPARED = {"wall_s", "cpu_s", "peak_memory_mb", "backend", "compile"}
# Programs whose output is a race (many processes writing, or cut off by a kill): only their
# verdict and the limit they hit are compared.
RACY = {"killed", "fork bomb", "stdout flood", "memory hog"}


@pytest.mark.parametrize("name", sorted(SAME))
def test_warm_and_cold_give_the_same_outcome(warm: BwrapSandbox, sandbox_cold: BwrapSandbox,
                                             name: str) -> None:
    files = {"data/deep/input.txt": "some data"} if name == "files and modes" else {}
    spec = RunSpec(language="python", files={"main.py": SAME[name], **files}, entry="main.py",
                   stdin=b"abc\n" if name == "stdin" else b"",
                   argv=("x", "y") if name == "argv and main" else (),
                   limits=LIMITS.get(name, QUICK))
    jobs, replaced = pool(warm).jobs, pool(warm).replaced
    hot, cold = warm.run(spec), sandbox_cold.run(spec)
    assert (pool(warm).jobs, pool(warm).replaced) == (jobs + 1, replaced)  # it ran warm
    keep = {"verdict", "limit_exceeded"} if name in RACY else None
    assert hot.model_dump(include=keep, exclude=NOT_COMPARED) == \
        cold.model_dump(include=keep, exclude=NOT_COMPARED)
    assert (hot.compile is None) == (cold.compile is None)
    if hot.compile is not None and cold.compile is not None:
        assert (hot.compile.verdict, hot.compile.stderr) == \
            (cold.compile.verdict, cold.compile.stderr)


def test_every_outcome_kind_is_covered() -> None:
    """The corpus above reaches every verdict a Python program can get."""
    assert {"syntax error", "exception", "memory hog", "busy loop", "stdout flood"} <= set(SAME)


def test_executors_outlive_the_worker_threads_that_started_them(cache_root: Path) -> None:
    """Guards against bwrap's --die-with-parent, which fires when the parent *thread* ends:
    executors started from run_many's worker threads were killed when the threads ended."""
    from assay.sandbox import CompileCache

    with get_sandbox("bwrap", cache=CompileCache(cache_root)) as box:
        assert isinstance(box, BwrapSandbox)
        specs = [RunSpec.single("python", f"print({i})") for i in range(4)]
        assert [r.stdout for r in box.run_many(specs, workers=2)] == ["0\n", "1\n", "2\n", "3\n"]
        started = pool(box).started
        time.sleep(0.2)  # the worker threads are gone
        assert [r.stdout for r in box.run_many(specs, workers=2)] == ["0\n", "1\n", "2\n", "3\n"]
        assert (pool(box).started, pool(box).replaced) == (started, 0)


def test_exit_status_is_exact(warm: BwrapSandbox) -> None:
    """The cold path reads a death by signal N as exit code 128 + N through bwrap's init; the
    warm executor waits for the job itself, so a real exit(137) stays an exit code."""
    result = run(warm, "import os\nos._exit(137)")
    assert (result.verdict, result.exit_code, result.signal) == \
        (Verdict.RUNTIME_ERROR, 137, None)


def test_random_state_differs_between_jobs(warm: BwrapSandbox) -> None:
    values = {run(warm, "import random\nprint(random.random())").stdout for _ in range(3)}
    assert len(values) == 3


def test_nothing_one_job_leaves_reaches_the_next(warm: BwrapSandbox) -> None:
    leave = """
        import atexit, ctypes, json, math, os, signal, sys, threading, time
        open('/work/leak', 'w').write('x')
        open('/tmp/leak', 'w').write('x')
        os.makedirs('/tmp/locked/inner')
        open('/tmp/locked/inner/f', 'w').write('x')
        os.chmod('/tmp/locked/inner', 0)
        os.chmod('/tmp/locked', 0)
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.shmget(0, 4096, 0o1600) >= 0   # IPC_PRIVATE | IPC_CREAT | 0600
        assert libc.semget(0, 1, 0o1600) >= 0
        assert libc.msgget(0, 0o1600) >= 0
        rt = ctypes.CDLL('librt.so.1', use_errno=True)
        assert rt.mq_open(b'/leak', os.O_RDWR | os.O_CREAT, 0o600, None) >= 0
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
        json.dumps = None
        math.pi = 3
        sys.modules['leaked_module'] = sys
        signal.signal(signal.SIGTERM, lambda *_: None)
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
        os.environ['LEAK'] = '1'
        os.umask(0o777)
        print('left things behind')
    """
    check = """
        import json, math, os, signal, sys, threading
        found = []
        found += [name for name in os.listdir('/work') if name != 'main.py']
        found += os.listdir('/tmp')
        for kind in ('shm', 'sem', 'msg'):
            found += open(f'/proc/sysvipc/{kind}').read().splitlines()[1:]
        found += os.listdir('/dev/mqueue')
        me = str(os.getpid())
        found += [p for p in os.listdir('/proc') if p.isdigit()
                  and os.stat(f'/proc/{p}').st_uid == os.getuid() and p != me]
        found += ['json'] if json.dumps is None else []
        found += ['math'] if math.pi != 3.141592653589793 else []
        found += ['module'] if 'leaked_module' in sys.modules else []
        found += ['signal'] if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL else []
        found += ['thread'] if threading.active_count() != 1 else []
        found += ['env'] if 'LEAK' in os.environ else []
        found += ['umask'] if os.umask(0o022) != 0o022 else []
        print(found or 'clean')
    """
    started = pool(warm).started
    first = run(warm, leave)
    assert (first.verdict, first.stdout) == (Verdict.OK, "left things behind\n"), first.stderr
    second = run(warm, check)
    assert (second.verdict, second.stdout) == (Verdict.OK, "clean\n"), second.stderr
    assert pool(warm).started - started <= 1  # the same executor ran both (or one started)


def test_a_job_cannot_signal_or_trace_its_executor(warm: BwrapSandbox) -> None:
    result = run(warm, """
        import ctypes, os, signal
        parent = os.getppid()
        found = []
        try:
            os.kill(-1, signal.SIGKILL)  # reaches no one: nothing else runs as this uid
        except OSError:
            pass
        for action in (lambda: os.kill(parent, signal.SIGKILL),
                       lambda: open(f'/proc/{parent}/mem', 'rb').read(1),
                       lambda: open(f'/proc/{parent}/environ', 'rb').read(1)):
            try:
                action()
                found.append('allowed')
            except OSError as exc:
                found.append(type(exc).__name__)
        found.append(ctypes.CDLL(None).ptrace(16, parent, 0, 0))  # PTRACE_ATTACH
        print(found)
    """)
    assert result.stdout == "['PermissionError', 'PermissionError', 'PermissionError', -1]\n", \
        result.stderr
    started, replaced = pool(warm).started, pool(warm).replaced
    assert run(warm, "print('still here')").stdout == "still here\n"
    assert (pool(warm).started, pool(warm).replaced) == (started, replaced)


@pytest.mark.parametrize("crash", ["import ctypes\nctypes.string_at(0)", "import os\nos._exit(9)",
                                   "import os\nos.abort()",
                                   "x = bytearray(1 << 30)",
                                   "import os\nwhile True:\n    os.fork()"])
def test_a_crashing_job_gets_its_verdict_and_the_executor_lives_on(warm: BwrapSandbox,
                                                                   crash: str) -> None:
    run(warm, "pass")  # an executor is idle
    started, replaced = pool(warm).started, pool(warm).replaced
    result = run(warm, crash, limits=Limits(memory_mb=256, processes=16, wall_s=5, cpu_s=5))
    assert result.verdict in (Verdict.RUNTIME_ERROR, Verdict.MEMORY_LIMIT)
    assert run(warm, "print('next')").stdout == "next\n"
    assert (pool(warm).started, pool(warm).replaced) == (started, replaced)


def test_an_executor_that_dies_is_replaced_and_the_job_still_gets_its_verdict(
        cache_root: Path) -> None:
    """No job can kill its executor (they run as another uid), so its death is injected
    from the host: the executor's interpreter is killed while a job runs."""
    from assay.sandbox import CompileCache

    with get_sandbox("bwrap", cache=CompileCache(cache_root)) as box:
        assert isinstance(box, BwrapSandbox)
        assert run(box, "print('warm')").stdout == "warm\n"
        executor = pool(box)._idle[0][1]
        killer = threading.Timer(0.5, os.kill, (executor.pid, signal.SIGKILL))
        killer.start()
        result = run(box, "import time\ntime.sleep(1)\nprint('done')")
        killer.join()
        assert (result.verdict, result.stdout) == (Verdict.OK, "done\n")
        assert pool(box).replaced == 1
        assert run(box, "print('again')").stdout == "again\n"
        assert pool(box).started == 2


def test_a_job_that_defeats_clean_up_costs_its_executor_not_the_next_job(
        warm: BwrapSandbox) -> None:
    """A tree too deep to remove breaks the executor's clean-up: the executor is replaced
    before the next job, which sees none of it."""
    deep = run(warm, "import os\nfor _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')")
    assert deep.verdict is Verdict.OK, deep.stderr
    after = run(warm, "import os\nprint(os.listdir('/work'), os.listdir('/tmp'))")
    assert (after.verdict, after.stdout) == (Verdict.OK, "['main.py'] []\n")


def test_warm_jobs_die_with_the_process_that_runs_the_sandbox() -> None:
    token = f"assay-warm-orphan-{os.getpid()}-{time.monotonic_ns()}"
    script = textwrap.dedent(f"""
        from assay.sandbox import RunSpec, Limits, get_sandbox
        box = get_sandbox()
        print("running", flush=True)
        box.run(RunSpec.single("python", "import os\\nos.execv('/bin/sleep', "
                               "['sleep', '300', {token!r}])",
                               limits=Limits(wall_s=600, cpu_s=600)))
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    assert parent.stdout.readline() == b"running\n"

    def alive() -> bool:
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and token.encode() in (proc / "cmdline").read_bytes():
                    return True
            except OSError:
                continue
        return False

    deadline = time.monotonic() + 30
    while not alive():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while alive():
        assert time.monotonic() < deadline, "the warm job survived its parent"
        time.sleep(0.05)


def test_without_root_or_when_disabled_runs_are_cold(cache_root: Path) -> None:
    from assay.sandbox import CompileCache

    with get_sandbox("bwrap", cache=CompileCache(cache_root), warm=False) as box:
        assert isinstance(box, BwrapSandbox) and box.warm_pool is None
        assert "no warm executors (disabled)" in box.isolation_notes
        assert run(box, "print('cold')").stdout == "cold\n"
