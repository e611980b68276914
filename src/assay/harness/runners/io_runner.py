"""assay's stdin -> stdout case runner, run inside the sandbox by the system python3.

It is the sandbox run's wrapper: its arguments are the program's own run command (the
compiled binary, ``java Main``, ``python3 launch.py main.py``...), and its stdin is the job
(JSON): the cases to run with their input, the size and digest of each expected output, and
the custom checker if the suite has one. It runs the program once per case with the case's
input on stdin, a per-case time limit (the whole process group is killed) and an output cap,
and reports each case's raw result; the outcome is decided outside the sandbox, by the
harness's ``grade``. A custom (Python) checker runs here after each case, once every
process the program left behind has been killed.

The program never sees the report fd, the status fd or this runner's memory (the runner is
not dumpable, so the program cannot ptrace it or read /proc/<pid>/mem).
"""

import contextlib
import ctypes
import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPORT_FD = int(os.environ.pop("ASSAY_REPORT_FD"))
os.set_inheritable(REPORT_FD, False)
# Present when the language's launcher checks the syntax first (interpreted languages).
STATUS_FD = int(os.environ.pop("ASSAY_STATUS_FD", "-1"))
if STATUS_FD >= 0:
    os.set_inheritable(STATUS_FD, False)
TIMEOUT = float(os.environ.pop("ASSAY_TEST_TIMEOUT", "5"))
os.environ.pop("ASSAY_ENTRY_POINT", None)

RAW_PREFIX = "assay-raw:"  # the harness's grade() reads the JSON after it
STDERR_KEEP = 2000
CHECKER_OUTPUT_KEEP = 2000
CHECKER_OUTPUT_CAP = 1 << 20
READ_CHUNK = 65536
WORK_DIR = os.getcwd()
PR_SET_DUMPABLE = 4
# Set by the bwrap sandbox (cold and warm runs alike): every process of our uid in this pid
# namespace, and everything in /tmp, belongs to this run, so kill(-1) and wiping /tmp touch
# nothing else. Never set by the local backend, which runs on the host itself.
SANDBOXED = os.environ.pop("ASSAY_SANDBOXED", "") == "1" and os.getuid() != 0


def emit(event):
    os.write(REPORT_FD, (json.dumps(event, ensure_ascii=False) + "\n").encode())


def make_undumpable():
    """The program runs as our user: without this it could ptrace us and forge the report."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


class Run:
    """What one run of a program did."""

    def __init__(self):
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.exit_code = None
        self.signal = None
        self.timed_out = False
        self.over_cap = False
        self.seconds = 0.0


def kill_group(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def kill_running(pid):
    """Before it is reaped: the process itself too, should it have left its group."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    kill_group(pid)


def kill_strays():
    """Kill every process of ours but this one (only in the sandbox: see SANDBOXED)."""
    if SANDBOXED:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)


def run_program(argv, data, timeout, cap, env, pass_fds=(), cwd=WORK_DIR):
    """Run argv with ``data`` on stdin, at most ``timeout`` seconds and ``cap`` bytes of
    stdout; the process group is killed when it ends, whatever it left behind."""
    run = Run()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd, env=env, close_fds=True,
                            pass_fds=pass_fds, start_new_session=True)
    pidfd = os.pidfd_open(proc.pid)
    selector = selectors.DefaultSelector()
    selector.register(pidfd, selectors.EVENT_READ, "exit")
    for stream, kind in ((proc.stdout, "out"), (proc.stderr, "err")):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream.fileno(), selectors.EVENT_READ, kind)
    pending = memoryview(data)
    if pending:
        os.set_blocking(proc.stdin.fileno(), False)
        selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "in")
    else:
        proc.stdin.close()
    deadline = start + timeout
    exited = False
    while not exited:
        left = deadline - time.monotonic()
        if left <= 0:
            run.timed_out = True
            kill_running(proc.pid)
            break
        for key, _ in selector.select(left):
            if key.data == "exit":
                exited = True
            elif key.data == "in":
                pending = feed(proc, pending)
                if not pending:
                    selector.unregister(key.fd)
                    with contextlib.suppress(OSError):
                        proc.stdin.close()
            elif not drain(key.fd, run, key.data, cap):
                selector.unregister(key.fd)
        if len(run.stdout) > cap and not run.over_cap:
            run.over_cap = True
            kill_running(proc.pid)
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = status  # reaped here; keep Popen from waiting again
    run.seconds = time.monotonic() - start
    kill_group(proc.pid)
    kill_strays()
    # What is left in the pipes; writers that escaped the group are dead (kill_strays) or
    # get half a second.
    finish_reading(selector, run, cap, time.monotonic() + 0.5)
    run.over_cap = run.over_cap or len(run.stdout) > cap
    selector.close()
    os.close(pidfd)
    with contextlib.suppress(OSError):
        proc.stdin.close()
    proc.stdout.close()
    proc.stderr.close()
    if os.WIFSIGNALED(status):
        run.signal = os.WTERMSIG(status)
    else:
        run.exit_code = os.WEXITSTATUS(status)
    return run


def feed(proc, pending):
    try:
        return pending[os.write(proc.stdin.fileno(), pending[:READ_CHUNK]):]
    except BlockingIOError:
        return pending
    except OSError:  # the program closed its stdin: the rest is not wanted
        return pending[:0]


def drain(fd, run, kind, cap):
    """Read what is there; False at end of file. Past the cap, data is read and dropped."""
    try:
        data = os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not data:
        return False
    if kind == "out":
        if len(run.stdout) <= cap:
            run.stdout += data
    else:
        run.stderr += data
        if len(run.stderr) > 4 * STDERR_KEEP:
            del run.stderr[:-STDERR_KEEP]
    return True


def finish_reading(selector, run, cap, deadline):
    for key in list(selector.get_map().values()):
        if key.data not in ("out", "err"):
            selector.unregister(key.fd)
    while True:
        streams = [key for key in selector.get_map().values() if key.data in ("out", "err")]
        left = deadline - time.monotonic()
        if not streams or left <= 0:
            return
        for key, _ in selector.select(left):
            if key.data in ("out", "err") and not drain(key.fd, run, key.data, cap):
                selector.unregister(key.fd)


def clean_up(work_entries):
    """Nothing a case leaves behind reaches the next: files it added to /work or /tmp."""
    scratch = ((WORK_DIR, work_entries), ("/tmp", set())) if SANDBOXED \
        else ((WORK_DIR, work_entries),)
    for directory, keep in scratch:
        with contextlib.suppress(OSError):
            for entry in os.listdir(directory):
                if entry in keep:
                    continue
                path = os.path.join(directory, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)


def tail(data, limit):
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else "..." + text[-limit:]


def run_checker(source, timeout, case, output, env):
    """The problem's checker as ``checker INPUT OUTPUT ANSWER``; runs when nothing of the
    program is alive any more, from a fresh copy of its source."""
    directory = tempfile.mkdtemp(prefix="assay-checker-")
    try:
        paths = []
        for name, content in (("input", case["input"].encode()), ("output", bytes(output)),
                              ("answer", case["answer"].encode()),
                              ("checker.py", source.encode())):
            path = os.path.join(directory, name)
            with open(path, "wb") as handle:
                handle.write(content)
            paths.append(path)
        argv = [sys.executable, "-I", paths[3], *paths[:3]]
        run = run_program(argv, b"", timeout, CHECKER_OUTPUT_CAP, env, cwd=directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    head = run.stdout[:CHECKER_OUTPUT_KEEP].decode("utf-8", "replace")
    message = (head.strip() + "\n"
               + tail(run.stderr, CHECKER_OUTPUT_KEEP).strip()).strip()
    return {"exit": run.exit_code, "signal": run.signal, "timeout": run.timed_out,
            "message": message[:2 * CHECKER_OUTPUT_KEEP]}


def syntax_pipe():
    """A status channel of our own for the launcher of the first run: it reports a syntax
    error there (and closes it before the program starts)."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    return read_fd, write_fd


def read_all(fd):
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(fd, READ_CHUNK):
            chunks.append(chunk)
    return b"".join(chunks)


def run_case(program, case, env, first_run, checker, checker_timeout):
    """The raw result of one case (None when the program does not compile)."""
    status_read = status_write = -1
    case_env = dict(env)
    if first_run and STATUS_FD >= 0:
        status_read, status_write = syntax_pipe()
        case_env["ASSAY_STATUS_FD"] = str(status_write)
    try:
        run = run_program(program, case["input"].encode(), TIMEOUT, case["cap"], case_env,
                          pass_fds=(status_write,) if status_write >= 0 else ())
    finally:
        if status_write >= 0:
            os.close(status_write)
    if status_read >= 0:
        syntax_error = read_all(status_read)
        os.close(status_read)
        if syntax_error and run.exit_code != 0:
            # Handed to the sandbox's own status channel: the run becomes a COMPILE_ERROR.
            os.write(STATUS_FD, syntax_error)
            return None
    raw = {"time": round(run.seconds, 6), "exit": run.exit_code, "signal": run.signal,
           "timeout": run.timed_out, "over_cap": run.over_cap,
           "stdout_bytes": len(run.stdout), "stderr": tail(run.stderr, STDERR_KEEP)}
    ran_clean = run.exit_code == 0 and not run.timed_out and not run.over_cap
    if checker is not None:
        if ran_clean:
            raw["checker"] = run_checker(checker, checker_timeout, case, run.stdout, env)
    elif hashlib.sha256(run.stdout).hexdigest() == case["expected_sha256"]:
        raw["same"] = True  # byte for byte the expected output: no need to send it back
    else:
        raw["stdout"] = run.stdout.decode("utf-8", "replace")
    return raw


def main():
    make_undumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    program = sys.argv[1:]
    job = json.load(sys.stdin)
    cases = job["cases"]
    if not cases:
        emit({"fatal": "the suite has no test cases"})
        return
    emit({"collect": [case["name"] for case in cases]})
    env = dict(os.environ)
    work_entries = set(os.listdir(WORK_DIR))
    checker, checker_timeout = job.get("checker"), float(job.get("checker_timeout", 10))
    for index, case in enumerate(cases):
        emit({"start": case["name"]})
        raw = run_case(program, case, env, index == 0, checker, checker_timeout)
        if raw is None:
            sys.exit(1)
        clean_up(work_entries)
        emit({"result": case["name"], "status": "ERROR", "time": raw["time"],
              "message": RAW_PREFIX + json.dumps(raw, ensure_ascii=False)})
    emit({"done": True})


main()
