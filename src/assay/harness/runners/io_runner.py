"""assay's stdin -> stdout case runner, run inside the sandbox by python3.

Its arguments are the program's own run command (the compiled binary, ``java Main``,
``python3 /assay/launch.py main.py``...), and its stdin is the job (JSON): the cases to run
with their input, the size and digest of each expected output, and the custom checker (with
every case's answer) if the suite has one. It runs the program once per case with the case's
input on stdin, a per-case time limit (the whole process group is killed) and an output cap,
and reports each case's raw result; the outcome is decided outside the sandbox, by the
harness's ``grade``. A custom (Python) checker runs here after each case, once every
process the program left behind has been killed.

Two ways to start the program:

- For most languages the runner is the sandbox run's wrapper (``python3 -I -S``) and starts
  the run command once per case (``subprocess``).
- For Python (``ASSAY_IO_PROGRAM_SERVER=1``) the runner is itself the Python program the
  sandbox runs, through the launcher (so in a warm executor when there is one), and each
  case is a fork of a clean interpreter instead of a new one: the *program server*. See
  ``start_program_server``.

The program never sees the report fd, the status fd or this runner's memory (the runner and
the program server are not dumpable, so the program cannot ptrace them or read
/proc/<pid>/mem).
"""

import array
import contextlib
import ctypes
import fcntl
import gc
import hashlib
import importlib.util
import json
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types

REPORT_FD = int(os.environ.pop("ASSAY_REPORT_FD"))
os.set_inheritable(REPORT_FD, False)
# Present when the language's launcher checks the syntax first (interpreted languages).
STATUS_FD = int(os.environ.pop("ASSAY_STATUS_FD", "-1"))
if STATUS_FD >= 0:
    os.set_inheritable(STATUS_FD, False)
TIMEOUT = float(os.environ.pop("ASSAY_TEST_TIMEOUT", "5"))
os.environ.pop("ASSAY_ENTRY_POINT", None)
# Set by the io harness for Python programs: cases are forked from a program server.
FORK_PROGRAMS = os.environ.pop("ASSAY_IO_PROGRAM_SERVER", "") == "1"

RAW_PREFIX = "assay-raw:"  # the harness's grade() reads the JSON after it
STDERR_KEEP = 2000
CHECKER_OUTPUT_KEEP = 2000
CHECKER_OUTPUT_CAP = 1 << 20
READ_CHUNK = 65536
WORK_DIR = os.getcwd()
PR_SET_DUMPABLE = 4
SETUP_FAILED = 125  # the exit status of a program whose process could not be set up
SERVER_REPLY_S = 10.0  # a fork, or a wait for a process already dead
MAX_FDS = 4  # stdin, stdout, stderr, the syntax status pipe
# Set by the bwrap sandbox (cold and warm runs alike): every process of our uid in this pid
# namespace, and everything in /tmp, belongs to this run, so killing them and wiping /tmp
# touch nothing else. Never set by the local backend, which runs on the host itself.
SANDBOXED = os.environ.pop("ASSAY_SANDBOXED", "") == "1" and os.getuid() != 0
SERVER_PID = None  # the program server's pid once it runs; spared by kill_strays


def emit(event):
    os.write(REPORT_FD, (json.dumps(event, ensure_ascii=False) + "\n").encode())


def set_dumpable(dumpable):
    """The runner and the program server are not dumpable: the program runs as our user, and
    could otherwise ptrace us (or read our memory) and forge the report. A program's process
    forked by the server is dumpable again, as an exec'd program is."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, int(dumpable), 0, 0, 0)


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


class Started:
    """A program that runs: its pid, a pidfd, our ends of its stdin, stdout and stderr, and
    how to get its exact wait status once it has exited."""

    def __init__(self, pid, pidfd, stdin, stdout, stderr, wait_status):
        self.pid = pid
        self.pidfd = pidfd
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.wait_status = wait_status


def kill_group(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def kill_running(program):
    """The process itself too, should it have left its group (through its pidfd: never
    another process, even once it has been reaped)."""
    with contextlib.suppress(OSError):
        signal.pidfd_send_signal(program.pidfd, signal.SIGKILL)
    kill_group(program.pid)


def kill_strays():
    """Kill every process of ours but this one and the program server: what a case left
    behind, even outside its process group (only in the sandbox: see SANDBOXED)."""
    if not SANDBOXED:
        return
    if SERVER_PID is None:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        return
    # kill(-1) would take the program server too: every other process by pid instead, pass
    # after pass, until a pass finds none it has not killed (a process cannot fork once
    # killed, so only those forked during a pass are left for the next).
    spared = {os.getpid(), SERVER_PID}
    killed = set()
    while True:
        found = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        found -= spared | killed
        if not found:
            return
        for pid in found:
            with contextlib.suppress(OSError):  # not ours (the sandbox's init), or gone
                os.kill(pid, signal.SIGKILL)
        killed |= found


def pipes():
    """(stdin read, stdin write, stdout read, stdout write, stderr read, stderr write)."""
    return (*os.pipe(), *os.pipe(), *os.pipe())


def close_all(fds):
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def start_with_popen(argv, env, pass_fds=(), cwd=WORK_DIR):
    """A starter of ``argv`` as a new process (a new interpreter, for Python)."""
    def start():
        stdin_r, stdin_w, out_r, out_w, err_r, err_w = pipes()
        try:
            proc = subprocess.Popen(argv, stdin=stdin_r, stdout=out_w, stderr=err_w, cwd=cwd,
                                    env=env, close_fds=True, pass_fds=pass_fds,
                                    start_new_session=True)
        except BaseException:
            close_all((stdin_w, out_r, err_r))
            raise
        finally:
            close_all((stdin_r, out_w, err_w))

        def wait_status():
            _, status, _ = os.wait4(proc.pid, 0)
            proc.returncode = status  # reaped here; keep Popen from waiting again
            return status

        return Started(proc.pid, os.pidfd_open(proc.pid), stdin_w, out_r, err_r, wait_status)

    return start


def run_program(start, data, timeout, cap):
    """Run what ``start`` starts with ``data`` on stdin, at most ``timeout`` seconds and
    ``cap`` bytes of stdout; the process group is killed when it ends, whatever it left
    behind."""
    run = Run()
    begin = time.monotonic()
    program = start()
    selector = selectors.DefaultSelector()
    selector.register(program.pidfd, selectors.EVENT_READ, "exit")
    for fd, kind in ((program.stdout, "out"), (program.stderr, "err")):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, kind)
    pending = memoryview(data)
    stdin_open = True
    if pending:
        os.set_blocking(program.stdin, False)
        selector.register(program.stdin, selectors.EVENT_WRITE, "in")
    else:
        os.close(program.stdin)
        stdin_open = False
    deadline = begin + timeout
    exited = False
    try:
        while not exited:
            left = deadline - time.monotonic()
            if left <= 0:
                run.timed_out = True
                kill_running(program)
                break
            for key, _ in selector.select(left):
                if key.data == "exit":
                    exited = True
                elif key.data == "in":
                    pending = feed(program.stdin, pending)
                    if not pending:
                        selector.unregister(key.fd)
                        os.close(program.stdin)
                        stdin_open = False
                elif not drain(key.fd, run, key.data, cap):
                    selector.unregister(key.fd)
            if len(run.stdout) > cap and not run.over_cap:
                run.over_cap = True
                kill_running(program)
        run.seconds = time.monotonic() - begin
        kill_group(program.pid)
        kill_strays()
        status = program.wait_status()
        # What is left in the pipes; writers that escaped the group are dead (kill_strays)
        # or get half a second.
        finish_reading(selector, run, cap, time.monotonic() + 0.5)
    finally:
        selector.close()
        close_all((program.pidfd, program.stdout, program.stderr,
                   *((program.stdin,) if stdin_open else ())))
    run.over_cap = run.over_cap or len(run.stdout) > cap
    if os.WIFSIGNALED(status):
        run.signal = os.WTERMSIG(status)
    else:
        run.exit_code = os.WEXITSTATUS(status)
    return run


def feed(fd, pending):
    try:
        return pending[os.write(fd, pending[:READ_CHUNK]):]
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
        run = run_program(start_with_popen(argv, env, cwd=directory), b"", timeout,
                          CHECKER_OUTPUT_CAP)
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


def run_case(program, server, case, env, first_run, checker, checker_timeout):
    """The raw result of one case (None when the program does not compile)."""
    status_read = status_write = -1
    case_env = dict(env)
    if first_run and STATUS_FD >= 0:
        status_read, status_write = syntax_pipe()
        case_env["ASSAY_STATUS_FD"] = str(status_write)
    if server is not None:
        start = server.starter(status_write)
    else:
        start = start_with_popen(program, case_env,
                                 pass_fds=(status_write,) if status_write >= 0 else ())
    try:
        run = run_program(start, case["input"].encode(), TIMEOUT, case["cap"])
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


# -- the program server (Python programs) ------------------------------------------------------
#
# Forked at the runner's start, before the job is read: a copy of a clean interpreter that
# never holds any case data. Each case's process is forked from it, so a program finds in
# its own memory nothing but what a new interpreter would hold: not the other cases' inputs,
# and not the expected outputs' digests (with its own case's digest it could try candidate
# answers until one matches, and print that). Forking from the runner itself, which has read
# the job, would hand all of that to every case.
#
# The runner sends a case's fds (stdin, stdout, stderr, and for the first case the syntax
# status pipe) over a SOCK_SEQPACKET socketpair with SCM_RIGHTS; the server forks the
# program's process and answers {"pid": N} with a pidfd of it, then {"status": WAIT_STATUS}
# once it has reaped it. The program's process starts a new session, takes the fds as 0, 1,
# 2 (3), closes everything else (the socket too), gets exactly the environment a new
# interpreter started by the runner would get, becomes dumpable again as an exec'd program
# is, and runs ``launch.py``'s ``launch`` and ``shut_down``, as the warm executor does. The
# server, like the runner, stays not dumpable, and keeps no fd of the job or the report.


class ServerLost(Exception):
    """The program server died or stopped answering: the program killed it (it runs as our
    uid, as the runner does)."""


class ProgramServer:
    """The runner's side of the program server."""

    def __init__(self, pid, control):
        self.pid = pid
        self.control = control

    def starter(self, status_write):
        """A starter (see ``run_program``) of the program in a process forked by the server."""
        def start():
            stdin_r, stdin_w, out_r, out_w, err_r, err_w = pipes()
            fds = [stdin_r, out_w, err_w] + ([status_write] if status_write >= 0 else [])
            try:
                pid, pidfd = self.fork(fds)
            except BaseException:
                close_all((stdin_w, out_r, err_r))
                raise
            finally:
                close_all((stdin_r, out_w, err_w))
            return Started(pid, pidfd, stdin_w, out_r, err_r, self.wait_status)

        return start

    def fork(self, fds):
        try:
            self.control.sendmsg([b"run"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                             array.array("i", fds))])
        except OSError as exc:
            raise ServerLost(f"cannot reach the program server: {exc}") from exc
        reply, received = self.receive()
        if "error" in reply:
            close_all(received)
            raise OSError(reply["error"])  # as Popen would: no process could be started
        return reply["pid"], received[0]

    def wait_status(self):
        # Whatever the program did to the server (SIGSTOP), it is dead now: resume it.
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGCONT)
        reply, received = self.receive()
        close_all(received)
        return reply["status"]

    def receive(self):
        ready, _, _ = select.select([self.control], [], [], SERVER_REPLY_S)
        if not ready:
            raise ServerLost("the program server did not answer")
        try:
            data, received = receive_with_fds(self.control)
        except OSError as exc:
            raise ServerLost(f"the program server failed: {exc}") from exc
        if not data:
            raise ServerLost("the program server exited")
        return json.loads(data), received

    def end_as_it_ended(self):
        """End this runner as the lost server ended. The program killed it, with a signal of
        its choosing, or stopped it (then it is killed here): on the old path that process
        was this runner, and the run ended that way."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)  # still there (stopped): it goes now
        _, status = os.waitpid(self.pid, 0)
        number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else signal.SIGKILL
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        os.kill(os.getpid(), signal.SIGKILL)  # a signal that does not end a process

    def close(self):
        self.control.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)


def receive_with_fds(control):
    fds = array.array("i")
    data, ancillary, _, _ = control.recvmsg(4096, socket.CMSG_SPACE(MAX_FDS * fds.itemsize),
                                            socket.MSG_CMSG_CLOEXEC)
    for level, kind, chunk in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(chunk[:len(chunk) - len(chunk) % fds.itemsize])
    return data, list(fds)


def start_program_server():
    """Fork the program server: (ProgramServer, None) in the runner; (None, True) in a
    program's process, forked by the server, which then runs the program."""
    runner_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    env = dict(os.environ)  # what the runner passes to a program it starts itself
    pid = os.fork()
    if pid:
        server_end.close()
        return ProgramServer(pid, runner_end), None
    runner_end.close()
    serve(server_end, env)  # returns only in a program's process
    return None, True


def serve(control, env):
    """Start programs until the runner closes the socket; returns only in a program's
    process, set up to run it."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # not the job's stdin
        close_all((null, REPORT_FD, *((STATUS_FD,) if STATUS_FD >= 0 else ())))
        gc.collect()
        gc.freeze()  # forked programs then do not copy our objects when collecting
        while True:
            data, fds = receive_with_fds(control)
            if not data:
                os._exit(0)
            try:
                pid = os.fork()
            except OSError as exc:
                close_all(fds)
                control.send(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
                continue
            if pid == 0:
                try:
                    become_program(fds, env)
                except BaseException:
                    os._exit(SETUP_FAILED)
                return
            close_all(fds)
            pidfd = os.pidfd_open(pid)
            try:
                control.sendmsg([json.dumps({"pid": pid}).encode()],
                                [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                  array.array("i", [pidfd]))])
            finally:
                os.close(pidfd)
            _, status = os.waitpid(pid, 0)
            control.send(json.dumps({"status": status}).encode())
    except BaseException:
        os._exit(1)  # the runner lost us (it sees the socket close): nothing else to do


def become_program(fds, env):
    """This forked process as a new interpreter started by the runner would be: its own
    session, the case's fds, the same environment and directory, dumpable."""
    os.setsid()
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, len(fds)) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(len(fds), 1 << 16)  # the socket and our pipes too
    program_env = dict(env)
    if len(fds) > 3:
        program_env["ASSAY_STATUS_FD"] = "3"
    for name in [name for name in os.environ if name not in program_env]:
        del os.environ[name]
    for name, value in program_env.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
    os.chdir(WORK_DIR)
    set_dumpable(True)


def load_launcher(path):
    """``launch.py`` as a module of its own (not in sys.modules, as on the cold path where
    it is ``__main__``)."""
    spec = importlib.util.spec_from_file_location("launch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(program, server):
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
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
        try:
            raw = run_case(program, server, case, env, index == 0, checker, checker_timeout)
        except ServerLost:
            # The program killed (or stopped) the process that started it. That was this
            # runner before there was a server, and the run ended: end it the same way, and
            # the harness starts a new runner, with a new server, for the cases left.
            server.end_as_it_ended()
            raise  # not reached
        if raw is None:
            sys.exit(1)
        clean_up(work_entries)
        emit({"result": case["name"], "status": "ERROR", "time": raw["time"],
              "message": RAW_PREFIX + json.dumps(raw, ensure_ascii=False)})
    emit({"done": True})


PROGRAM = sys.argv[1:]
SERVER = None
set_dumpable(False)
if FORK_PROGRAMS:
    # Run through the launcher, this runner has /work first on sys.path, where a program
    # could leave modules for our later imports: put back the launcher's own (read-only)
    # dir, as the interpreter had it. A program's launch sets /work again for itself.
    sys.path[0] = os.path.dirname(PROGRAM[1])
    LAUNCHER = load_launcher(PROGRAM[1])
    SERVER, IN_PROGRAM = start_program_server()
    if IN_PROGRAM:
        # A case's process, forked by the server. The program runs from this module-level
        # frame, the shallowest one left, so that it starts as few frames deep as it can.
        PROGRAM_MAIN = types.ModuleType("__main__")
        try:
            LAUNCHER.launch(PROGRAM[2:], PROGRAM_MAIN)
            EXIT_CODE = 0
        except SystemExit as exc:
            EXIT_CODE = LAUNCHER.exit_code(exc)
        except BaseException as exc:  # the launcher itself failed (the file is gone)
            exc.__traceback__ = exc.__traceback__.tb_next  # from the launcher's frames on
            sys.excepthook(type(exc), exc, exc.__traceback__)
            EXIT_CODE = 1
        LAUNCHER.shut_down(PROGRAM_MAIN, EXIT_CODE)
    SERVER_PID = SERVER.pid
try:
    main(PROGRAM, SERVER)
finally:
    if SERVER is not None:
        SERVER.close()
